"""Which events can give an account a position in an Aave v3 market, and who that account is (pure).

A position exists once an account holds aTokens marked as collateral or owes debt. Every way in
emits one of these (``@aave/core-v3`` event signatures):

================================  ==========  ==========================================================
event                             emitted by  account
================================  ==========  ==========================================================
``Supply``                        Pool        ``onBehalfOf`` (topic 2)
``Borrow``                        Pool        ``onBehalfOf`` (topic 2); a flash loan with mode ≠ 0
                                              opens its debt through ``executeBorrow``, which emits
                                              this ``Borrow`` for the debtor
``MintUnbacked``                  Pool        ``onBehalfOf`` (topic 2), portal (bridge) supplies
``ReserveUsedAsCollateralEnabled``  Pool      ``user`` (topic 2)
``LiquidationCall``               Pool        ``liquidator`` (data) when ``receiveAToken``
``BalanceTransfer``               aTokens     ``to`` (topic 2): aToken transfers, and liquidators'
                                              seized aTokens
================================  ==========  ==========================================================

``FlashLoan`` itself names only the initiator, who need not be the debtor, so it is not scanned.
"""

from __future__ import annotations

from collections.abc import Iterable

import eth_abi
from eth_abi.exceptions import DecodingError

from defirisk.chain import Log, event_topic
from defirisk.errors import DataError

SUPPLY = event_topic("Supply(address,address,address,uint256,uint16)")
BORROW = event_topic("Borrow(address,address,address,uint256,uint8,uint256,uint16)")
MINT_UNBACKED = event_topic("MintUnbacked(address,address,address,uint256,uint16)")
COLLATERAL_ENABLED = event_topic("ReserveUsedAsCollateralEnabled(address,address)")
LIQUIDATION_CALL = event_topic("LiquidationCall(address,address,address,uint256,uint256,address,bool)")
BALANCE_TRANSFER = event_topic("BalanceTransfer(address,address,uint256,uint256)")

#: Events whose topic 2 is the account.
_TOPIC2_ACCOUNT = frozenset({SUPPLY, BORROW, MINT_UNBACKED, COLLATERAL_ENABLED, BALANCE_TRANSFER})
POOL_EVENTS = (SUPPLY, BORROW, MINT_UNBACKED, COLLATERAL_ENABLED, LIQUIDATION_CALL)
A_TOKEN_EVENTS = (BALANCE_TRANSFER,)
ALL_EVENTS = POOL_EVENTS + A_TOKEN_EVENTS

ZERO_ADDRESS = "0x" + "00" * 20


def _topic_address(topic: str) -> str:
    return "0x" + topic[-40:]


def account_of(log: Log, pool: str, a_tokens: frozenset[str]) -> str | None:
    """The account ``log`` may have given a position, or None (a log of another kind or emitter).

    Only the Pool's own events and the market's aTokens' ``BalanceTransfer`` count, so a foreign
    contract emitting the same signatures cannot inject accounts.
    """
    if not log.topics:
        return None
    topic0 = log.topics[0]
    if log.address == pool and topic0 in POOL_EVENTS or log.address in a_tokens and topic0 in A_TOKEN_EVENTS:
        if topic0 in _TOPIC2_ACCOUNT:
            account = _topic_address(log.topics[2]) if len(log.topics) > 2 else None
        else:
            try:
                _, _, liquidator, receive_a_token = eth_abi.decode(
                    ["uint256", "uint256", "address", "bool"], log.data
                )
            except DecodingError:
                raise DataError(f"malformed LiquidationCall log in {log.transaction_hash}") from None
            account = liquidator.lower() if receive_a_token else None
        return None if account == ZERO_ADDRESS else account
    return None


def accounts_in_logs(logs: Iterable[Log], pool: str, a_tokens: Iterable[str]) -> dict[str, int]:
    """Every account the logs name (``account_of``) → the first block it appears in."""
    tokens = frozenset(a_tokens)
    first: dict[str, int] = {}
    for log in logs:
        account = account_of(log, pool, tokens)
        if account is not None and (account not in first or log.block_number < first[account]):
            first[account] = log.block_number
    return first
