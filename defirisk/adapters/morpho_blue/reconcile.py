"""Reconciliation: our integer ``_isHealthy`` against the contract's own check at the same block (pure).

For every (market, account) of the snapshot, ``reference_health`` recomputes the health check from
what the snapshot stores: the raw shares and collateral (``accounts.extra``), the accrued market
totals, the LLTV and the oracle price (the collateral row's ``extra`` and ``price_raw``). The chain
view holds the protocol's answer (the ``liquidate`` probe, ``accounts.py``); both must agree on
every pair. A pair the chain answered for but the snapshot lacks (or the reverse) is a mismatch of
the field ``presence``.
"""

from __future__ import annotations

import pandas as pd

from defirisk.adapters.base import MISMATCH_COLUMNS, Reconciliation
from defirisk.adapters.morpho_blue.maths import MarketTotals
from defirisk.adapters.morpho_blue.reference import PositionRaw, borrowed_assets, max_borrow
from defirisk.errors import DataError
from defirisk.model import MarketState

METHOD = "morpho-blue integer _isHealthy vs the contract's liquidate health check at the snapshot block"
FIELDS = ("healthy",)
HEALTH_COLUMNS = ("market", "account", "borrowed", "max_borrow", "healthy")


def _markets(state: MarketState) -> dict[str, tuple[MarketTotals, int, int | None]]:
    """Per market id: accrued totals, LLTV (WAD) and the collateral price (None without collateral row)."""
    loan: dict[str, tuple[MarketTotals, int]] = {}
    prices: dict[str, int] = {}
    for row in state.assets.itertuples(index=False):
        if row.extra["role"] == "collateral":
            prices[row.market] = int(row.price_raw)
        else:
            totals = MarketTotals(**{k: int(v) for k, v in row.extra["market_accrued"].items()})
            loan[row.market] = (totals, int(row.extra["market_params"]["lltv"]))
    return {m: (totals, lltv, prices.get(m)) for m, (totals, lltv) in loan.items()}


def reference_health(state: MarketState) -> pd.DataFrame:
    """``HEALTH_COLUMNS`` per (market, account): debt (``toAssetsUp``), ``maxBorrow``, ``healthy``.

    ``max_borrow`` is None in a market without a collateral price (idle), where any debt is unhealthy.
    """
    markets = _markets(state)
    rows = []
    for row in state.accounts.itertuples(index=False):
        if row.market not in markets:
            raise DataError(f"account {row.account} is in market {row.market}, which has no asset rows")
        totals, lltv, price = markets[row.market]
        extra = row.extra
        position = PositionRaw(int(extra["supply_shares"]), int(extra["borrow_shares"]), int(extra["collateral"]))
        borrowed = borrowed_assets(position, totals)
        limit = None if price is None else max_borrow(position.collateral, price, lltv)
        healthy = position.borrow_shares == 0 or (limit is not None and limit >= borrowed)
        rows.append((row.market, row.account, borrowed, limit, healthy))
    return pd.DataFrame(rows, columns=list(HEALTH_COLUMNS), dtype=object)


def reconcile(state: MarketState, chain_view: pd.DataFrame) -> Reconciliation:
    """Compare ``reference_health`` with ``chain_view`` (columns market, account, healthy, probe)."""
    ours = {(r.market, r.account): bool(r.healthy) for r in reference_health(state).itertuples(index=False)}
    chain = {(r.market, r.account): bool(r.healthy) for r in chain_view.itertuples(index=False)}
    rows = []
    for key in sorted(ours.keys() | chain.keys()):
        market, account = key
        if key not in ours or key not in chain:
            rows.append((market, account, "presence", "stored" if key in ours else None,
                         "read" if key in chain else None))
        elif ours[key] != chain[key]:
            rows.append((market, account, "healthy", int(ours[key]), int(chain[key])))
    return Reconciliation(
        method=METHOD,
        accounts_checked=len(ours.keys() & chain.keys()),
        fields=FIELDS,
        mismatches=pd.DataFrame(rows, columns=list(MISMATCH_COLUMNS), dtype=object),
    )
