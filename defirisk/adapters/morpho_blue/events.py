"""Which Morpho Blue events create markets and positions, and what they name (pure).

Signatures of ``EventsLib`` (``@morpho-org/morpho-blue`` 1.0.0); topic 1 of each is the market id:

====================  ==================================  ===========================================
event                 indexed (topics 1–3)                account
====================  ==================================  ===========================================
``CreateMarket``      id                                  (data: the ``MarketParams``)
``Supply``            id, caller, onBehalf                ``onBehalf`` (topic 3)
``Borrow``            id, onBehalf, receiver              ``onBehalf`` (topic 2; caller is data)
``SupplyCollateral``  id, caller, onBehalf                ``onBehalf`` (topic 3)
====================  ==================================  ===========================================

Every way into a position emits one of the last three for the position's owner. The fee recipient
also receives supply shares when interest accrues, without an event: it is found only if it ever
supplied. Only logs of the Morpho contract itself and of tracked markets count.
"""

from __future__ import annotations

from collections.abc import Iterable

from defirisk.adapters.morpho_blue.calls import PARAMS_TYPE
from defirisk.adapters.morpho_blue.ids import MarketParams, params_from_tuple
from defirisk.chain import Log, decode, event_topic
from defirisk.chain.abi import ABI_DECODE_ERRORS
from defirisk.errors import DataError

CREATE_MARKET = event_topic(f"CreateMarket(bytes32,{PARAMS_TYPE})")
SUPPLY = event_topic("Supply(bytes32,address,address,uint256,uint256)")
BORROW = event_topic("Borrow(bytes32,address,address,address,uint256,uint256)")
SUPPLY_COLLATERAL = event_topic("SupplyCollateral(bytes32,address,address,uint256)")
ACCOUNT_EVENTS = (SUPPLY, BORROW, SUPPLY_COLLATERAL)

#: Topic index of the account per event.
_ACCOUNT_TOPIC = {SUPPLY: 3, BORROW: 2, SUPPLY_COLLATERAL: 3}
ZERO_ADDRESS = "0x" + "00" * 20


def created_market(log: Log, morpho: str) -> tuple[str, MarketParams] | None:
    """``(id, params)`` of a ``CreateMarket`` log of ``morpho``; None for any other log.

    ``DataError`` when the log is malformed (the contract emits it in one shape only).
    """
    if log.address != morpho or not log.topics or log.topics[0] != CREATE_MARKET:
        return None
    try:
        (values,) = decode([PARAMS_TYPE], log.data)
    except ABI_DECODE_ERRORS:
        raise DataError(f"malformed CreateMarket log in {log.transaction_hash}") from None
    if len(log.topics) < 2:
        raise DataError(f"CreateMarket log without a market id in {log.transaction_hash}")
    return log.topics[1], params_from_tuple(values)


def account_of(log: Log, morpho: str, markets: frozenset[str]) -> str | None:
    """The account ``log`` may have given a position in a tracked market, or None."""
    if log.address != morpho or not log.topics or log.topics[0] not in _ACCOUNT_TOPIC:
        return None
    index = _ACCOUNT_TOPIC[log.topics[0]]
    if len(log.topics) <= index or log.topics[1] not in markets:
        return None
    account = "0x" + log.topics[index][-40:]
    return None if account == ZERO_ADDRESS else account


def accounts_in_logs(logs: Iterable[Log], morpho: str, markets: Iterable[str]) -> dict[str, int]:
    """Every account the logs name (``account_of``) → the first block it appears in."""
    tracked = frozenset(markets)
    first: dict[str, int] = {}
    for log in logs:
        account = account_of(log, morpho, tracked)
        if account is not None and (account not in first or log.block_number < first[account]):
            first[account] = log.block_number
    return first
