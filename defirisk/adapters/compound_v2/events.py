"""Account discovery from Compound v2 (and fork) logs (pure).

An account's positions count only in markets it has entered, and entering emits the Comptroller's
``MarketEntered`` (also when ``borrow`` enters the market for the borrower), so that event alone names
every account whose health can change. ``Borrow`` and ``Mint`` of the markets are scanned too: they
catch suppliers that never entered a market (read, found empty, not stored) and cost no extra range.

Event layouts: Compound declares ``MarketEntered(CToken cToken, address account)`` without indexed
arguments, Venus 5.x indexes both; the topic is the same, so the account is taken from topic 2 when
present and from the second data word otherwise. ``Borrow(borrower, …)`` and ``Mint(minter, …)``
(three words in Compound, four in Venus, which also has ``MintBehalf(payer, receiver, …)``) carry the
account in their data. Only logs emitted by the Comptroller (``MarketEntered``) or one of its markets
(the others) count, so a foreign contract emitting the same signatures cannot inject accounts.
"""

from __future__ import annotations

from collections.abc import Iterable

from defirisk.chain import Log, event_topic
from defirisk.errors import DataError

MARKET_ENTERED = event_topic("MarketEntered(address,address)")
BORROW = event_topic("Borrow(address,uint256,uint256,uint256)")
MINT = event_topic("Mint(address,uint256,uint256)")
MINT_VENUS = event_topic("Mint(address,uint256,uint256,uint256)")
MINT_BEHALF = event_topic("MintBehalf(address,address,uint256,uint256,uint256)")

COMPTROLLER_EVENTS = (MARKET_ENTERED,)
#: Market event → index of the data word holding the account.
MARKET_EVENTS = {BORROW: 0, MINT: 0, MINT_VENUS: 0, MINT_BEHALF: 1}
ALL_EVENTS = (*COMPTROLLER_EVENTS, *MARKET_EVENTS)
ZERO_ADDRESS = "0x" + "00" * 20


def _word_address(log: Log, index: int) -> str:
    word = log.data[32 * index : 32 * index + 32]
    if len(word) != 32 or any(word[:12]):
        raise DataError(f"malformed {log.topics[0][:10]} log in {log.transaction_hash}: no address in word {index}")
    return "0x" + word[12:].hex()


def account_of(log: Log, comptroller: str, markets: frozenset[str]) -> str | None:
    """The account ``log`` may have given a position, or None (another event or emitter)."""
    if not log.topics:
        return None
    topic0 = log.topics[0]
    if log.address == comptroller and topic0 == MARKET_ENTERED:
        account = "0x" + log.topics[2][-40:] if len(log.topics) > 2 else _word_address(log, 1)
    elif log.address in markets and topic0 in MARKET_EVENTS:
        account = _word_address(log, MARKET_EVENTS[topic0])
    else:
        return None
    return None if account == ZERO_ADDRESS else account


def accounts_in_logs(logs: Iterable[Log], comptroller: str, markets: Iterable[str]) -> dict[str, int]:
    """Every account the logs name (``account_of``) → the first block it appears in."""
    known = frozenset(markets)
    first: dict[str, int] = {}
    for log in logs:
        account = account_of(log, comptroller, known)
        if account is not None and (account not in first or log.block_number < first[account]):
            first[account] = log.block_number
    return first
