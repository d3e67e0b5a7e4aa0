"""Read the accounts of a Comptroller at the pinned block, in two Multicall3 passes.

Pass 1, every account: ``getAssetsIn`` (the entered markets, in the Comptroller's order),
``getAccountLiquidity`` (the protocol's own view, for the reconciliation) and, under a VAI controller,
``getVAIRepayAmount``. Pass 2, per entered market: ``getAccountSnapshot(account)`` → (error, cToken
balance, ``borrowBalanceStored``, ``exchangeRateStored``).

Stored, not current, values: ``borrowBalanceStored`` and ``exchangeRateStored`` are as of each
market's last accrual (``accrualBlockNumber``), which is exactly what ``getAccountLiquidity`` and
``liquidateBorrowAllowed`` use at this block; the interest accrued since then is not added (the next
transaction touching a market accrues it). Supplies in markets the account has not entered are not
read: they cannot change its liquidity. An account with nothing in its entered markets (and no VAI)
is counted as empty and not stored.

Calls are grouped so that one ``multicall`` holds about ``batch_size × client.max_batch`` sub-calls
(one HTTP request); progress is reported after each group. Every sub-call is required.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from defirisk.adapters.compound_v2 import calls
from defirisk.adapters.compound_v2.discovery import CompoundMarket
from defirisk.chain import Call, PinnedBlock, RpcClient, multicall
from defirisk.errors import DataError

Progress = Callable[[str, int, int], None]
CHAIN_VIEW_COLUMNS = ("market", "account", *calls.LIQUIDITY_FIELDS)


@dataclass(frozen=True)
class Holding:
    """``getAccountSnapshot`` of one entered market: raw cToken balance, raw borrow balance (underlying
    base units), exchange rate (underlying base units per cToken base unit × 1e18)."""

    ctoken: str
    ctoken_balance: int
    borrow_balance: int
    exchange_rate: int


@dataclass(frozen=True)
class AccountRead:
    """One account at the block: entered markets in order, their snapshots, minted VAI owed
    (``getVAIRepayAmount``, VAI base units; 0 without a VAI controller) and ``getAccountLiquidity``."""

    account: str
    holdings: tuple[Holding, ...]
    vai_repay: int
    liquidity: tuple[int, int, int]

    @property
    def is_empty(self) -> bool:
        return self.vai_repay == 0 and all(h.ctoken_balance == 0 and h.borrow_balance == 0 for h in self.holdings)


@dataclass(frozen=True)
class AccountsRead:
    """The accounts holding something, the chain's ``getAccountLiquidity`` of each (``CHAIN_VIEW_COLUMNS``),
    how many were empty, and HTTP requests of pass 1 (``accounts``) and pass 2 (``positions``)."""

    accounts: list[AccountRead]
    chain_view: pd.DataFrame
    empty: int
    requests: dict[str, int]


def run_grouped(client: RpcClient, items: Sequence[list[Call]], block: PinnedBlock, *, batch_size: int,
                stage: str, on_progress: Progress | None) -> list[list[Any]]:
    """Decoded values of each item's calls, multicalled in groups of about one HTTP request each."""
    capacity = max(1, batch_size * client.max_batch)
    out: list[list[Any]] = []
    start = 0
    while start < len(items):
        end, size = start, 0
        while end < len(items) and (end == start or size + len(items[end]) <= capacity):
            size += len(items[end])
            end += 1
        results = iter(multicall(client, [c for item in items[start:end] for c in item], block, batch_size=batch_size))
        out.extend([next(results).value for _ in item] for item in items[start:end])
        start = end
        if on_progress is not None:
            on_progress(stage, start, len(items))
    return out


def _holding(market: CompoundMarket, account: str, ctoken: str, snapshot: tuple[int, ...]) -> Holding:
    error, balance, borrow, rate = snapshot
    if error != 0:
        raise DataError(f"{ctoken}.getAccountSnapshot({account}) answered error {error}")
    if rate != market.asset(ctoken).exchange_rate:
        raise DataError(f"{ctoken}.getAccountSnapshot({account}) answers exchange rate {rate}, "
                        f"exchangeRateStored() {market.asset(ctoken).exchange_rate} at the same block")
    return Holding(ctoken, balance, borrow, rate)


def read_accounts(client: RpcClient, market: CompoundMarket, accounts: Sequence[str], block: PinnedBlock, *,
                  batch_size: int = 100, on_progress: Progress | None = None) -> AccountsRead:
    """Both passes for ``accounts`` (lower-case addresses, distinct) at ``block``."""
    start = client.http_requests
    first = run_grouped(client, [calls.account_calls(market.comptroller, a, market.vai_controller) for a in accounts],
                        block, batch_size=batch_size, stage="accounts", on_progress=on_progress)
    middle = client.http_requests
    for account, (entered, *_) in zip(accounts, first, strict=True):
        unknown = [m for m in entered if m not in market.ctokens]
        if unknown:
            raise DataError(f"{account} has entered {unknown[0]}, which getAllMarkets does not list")
    second = run_grouped(client, [[calls.snapshot_call(m, a) for m in entered] for a, (entered, *_) in
                                  zip(accounts, first, strict=True)],
                         block, batch_size=batch_size, stage="positions", on_progress=on_progress)
    reads = [
        AccountRead(a, tuple(_holding(market, a, m, s) for m, s in zip(entered, snapshots, strict=True)),
                    int(rest[1]) if rest[1:] else 0, tuple(rest[0]))
        for a, (entered, *rest), snapshots in zip(accounts, first, second, strict=True)
    ]
    holders = [r for r in reads if not r.is_empty]
    chain_view = pd.DataFrame([(market.key, r.account, *r.liquidity) for r in holders],
                              columns=list(CHAIN_VIEW_COLUMNS), dtype=object)
    requests = {"accounts": middle - start, "positions": client.http_requests - middle}
    return AccountsRead(holders, chain_view, len(reads) - len(holders), requests)
