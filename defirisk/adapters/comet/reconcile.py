"""Reconciliation: our integer reference against the Comet's own answers at the same block (pure).

For every account of the snapshot, ``reference_view`` recomputes from what the snapshot stores (the
raw ``userBasic`` in ``accounts.extra``, collateral balances, the asset rows' prices, factors, stored
totals and accrued indexes):

* ``borrow_balance`` and ``balance``: the present value of the principal at the indexes accrued to the
  block's timestamp (``borrowBalanceOf``, ``balanceOf``): equal to the base unit;
* ``liquidatable`` and ``borrow_collateralized``: ``isLiquidatable`` and ``isBorrowCollateralized`` at
  the stored indexes, as the view functions compute them.

The market's reserves (ours from the base balance, the totals and the accrued indexes, against
``getReserves()``) are checked too, as field ``reserves`` with no account. An account the chain
answered for but the snapshot lacks (or the reverse) is a mismatch of the field ``presence``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from defirisk.adapters.base import MISMATCH_COLUMNS, Reconciliation
from defirisk.adapters.comet.maths import Indexes, present_value_borrow, present_value_supply
from defirisk.adapters.comet.reference import CometView, is_borrow_collateralized, is_liquidatable
from defirisk.adapters.comet.structs import AssetInfo, TotalsBasic, UserBasic
from defirisk.errors import DataError
from defirisk.model import MarketState

METHOD = ("comet integer reference vs borrowBalanceOf, balanceOf, isLiquidatable, isBorrowCollateralized "
          "and getReserves at the snapshot block")
FIELDS = ("borrow_balance", "balance", "liquidatable", "borrow_collateralized", "reserves")
VIEW_COLUMNS = ("market", "account", "borrow_balance", "balance", "liquidatable", "borrow_collateralized")


@dataclass(frozen=True)
class StoredMarket:
    """One Comet as the snapshot stores it: the view for the account checks, both index sets, reserves."""

    view: CometView
    stored: Indexes
    accrued: Indexes
    reserves: int
    reserves_read: int


def stored_markets(state: MarketState) -> dict[str, StoredMarket]:
    """Per market key, the market rebuilt from its asset rows (``DataError`` when rows are missing)."""
    base: dict[str, tuple[int, dict]] = {}
    collaterals: dict[str, list[tuple[AssetInfo, int]]] = {}
    for row in state.assets.itertuples(index=False):
        extra = row.extra
        if extra["role"] == "base":
            base[row.market] = (int(row.price_raw), extra)
        else:
            fields = {k: extra[k] for k in AssetInfo.__dataclass_fields__}
            collaterals.setdefault(row.market, []).append((AssetInfo(**fields), int(row.price_raw)))
    out = {}
    for market, (base_price, extra) in base.items():
        listed = sorted(collaterals.get(market, []), key=lambda pair: pair[0].offset)
        totals = TotalsBasic(**extra["totals_basic"])
        out[market] = StoredMarket(
            view=CometView(base_price, int(extra["base_scale"]), tuple(a for a, _ in listed),
                           tuple(p for _, p in listed), int(extra["store_front_price_factor"])),
            stored=Indexes(totals.base_supply_index, totals.base_borrow_index),
            accrued=Indexes(**extra["indexes_accrued"]),
            reserves=int(extra["reserves"]),
            reserves_read=int(extra["reserves_read"]),
        )
    missing = set(collaterals) - set(base)
    if missing:
        raise DataError(f"markets {sorted(missing)} have collateral rows but no base row")
    return out


def _balances(state: MarketState) -> dict[tuple[str, str], dict[str, int]]:
    out: dict[tuple[str, str], dict[str, int]] = {}
    for row in state.positions.itertuples(index=False):
        if row.collateral_enabled:
            out.setdefault((row.market, row.account), {})[row.asset] = int(row.collateral_raw)
    return out


def account_view(market: StoredMarket, user: UserBasic, balances: Mapping[str, int]) -> tuple[int, int, bool, bool]:
    """Our ``(borrowBalanceOf, balanceOf, isLiquidatable, isBorrowCollateralized)`` of one account."""
    p = user.principal
    borrowed = present_value_borrow(market.accrued.borrow, -p) if p < 0 else 0
    supplied = present_value_supply(market.accrued.supply, p) if p > 0 else 0
    return (borrowed, supplied, is_liquidatable(market.view, user, balances, market.stored),
            is_borrow_collateralized(market.view, user, balances, market.stored))


def reference_view(state: MarketState) -> pd.DataFrame:
    """``VIEW_COLUMNS`` per (market, account), from the snapshot alone."""
    markets = stored_markets(state)
    balances = _balances(state)
    rows = []
    for row in state.accounts.itertuples(index=False):
        if row.market not in markets:
            raise DataError(f"account {row.account} is in market {row.market}, which has no base row")
        user = UserBasic(**row.extra)
        rows.append((row.market, row.account,
                     *account_view(markets[row.market], user, balances.get((row.market, row.account), {}))))
    return pd.DataFrame(rows, columns=list(VIEW_COLUMNS), dtype=object)


def reconcile(state: MarketState, chain_view: pd.DataFrame) -> Reconciliation:
    """Compare ``reference_view`` (and each market's reserves) with ``chain_view`` (``VIEW_COLUMNS``)."""
    def keyed(frame: pd.DataFrame) -> dict[tuple[str, str], tuple]:
        return {(r[0], r[1]): tuple(r[2:]) for r in frame.itertuples(index=False)}

    ours, chain = keyed(reference_view(state)), keyed(chain_view)
    rows = []
    for key in sorted(ours.keys() | chain.keys()):
        market, account = key
        if key not in ours or key not in chain:
            rows.append((market, account, "presence", "stored" if key in ours else None,
                         "read" if key in chain else None))
            continue
        for field, mine, theirs in zip(VIEW_COLUMNS[2:], ours[key], chain[key], strict=True):
            if int(mine) != int(theirs):
                rows.append((market, account, field, int(mine), int(theirs)))
    for market, stored in sorted(stored_markets(state).items()):
        if stored.reserves != stored.reserves_read:
            rows.append((market, None, "reserves", stored.reserves, stored.reserves_read))
    return Reconciliation(
        method=METHOD,
        accounts_checked=len(ours.keys() & chain.keys()),
        fields=FIELDS,
        mismatches=pd.DataFrame(rows, columns=list(MISMATCH_COLUMNS), dtype=object),
    )
