"""Audit sections read off the snapshot at its own prices, by the engine's kernel: the market and its
assets, the health-factor distribution, liquidation curves, the accounts at risk, concentration.

Amounts are USD (or the base currency, see ``scope.money_basis``): base-currency values × the rate.
Health factors are Σ collateral · liquidation weight ÷ Σ debt, with the family's rounding; a unit is
liquidatable below 1 in every family.

* **Liquidation curves** — for each major collateral and each correlated group with at least two
  feeds in the snapshot, the debt and counted collateral (at the moved prices) of every unit with
  HF < 1 when that feed (the group's feeds together) moves by ``CURVE_MOVES`` (−90 % … +100 % by 5 %),
  everything else unchanged; units already liquidatable today are included.
* **At risk** — borrowers with HF < ``AT_RISK_HF`` (1.1), the ``AT_RISK_LIMIT`` (100) largest by
  debt. The main collateral is the feed with the most weighted collateral in the unit; the liquidation
  price is that feed's price at which the unit's HF first drops below 1, every other price unchanged
  (``engine.liquidation_multipliers``, exact); ``null`` for a unit already below 1 or one no move of
  that price alone liquidates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from defirisk.audit.feeds import Major
from defirisk.audit.scope import unique_labels
from defirisk.engine import ExposureMatrix, health_factors, liquidation_multipliers, threshold_totals
from defirisk.engine.curves import CurveTarget, curve_targets
from defirisk.engine.results import plain
from defirisk.engine.views import concentration, hf_distribution
from defirisk.model import Exposures, MarketState

CURVE_MOVES = np.round(np.arange(-18, 21) * 0.05, 2)
AT_RISK_HF = 1.1
AT_RISK_LIMIT = 100


def _number(value: Any) -> float | None:
    value = float(value) if value is not None else np.nan
    return value if np.isfinite(value) else None


def market_section(state: MarketState, x: Exposures, matrix: ExposureMatrix) -> dict[str, Any]:
    """Accounts, borrowers, counted collateral and debt, and one row per asset (largest first)."""
    rate = matrix.base_usd
    assets = state.assets.reset_index(drop=True)
    held = state.positions.groupby(["market", "asset"], sort=False)[["collateral", "debt"]].sum()
    keys = pd.MultiIndex.from_frame(assets[["market", "asset"]])
    supplied = held["collateral"].reindex(keys).fillna(0.0).to_numpy(dtype=np.float64)
    borrowed = held["debt"].reindex(keys).fillna(0.0).to_numpy(dtype=np.float64)
    price = assets["price"].to_numpy(dtype=np.float64) * rate
    labels = unique_labels(assets["symbol"].astype(str), assets["asset"], assets["market"])
    rows = []
    for i in range(len(assets)):
        rows.append(
            {
                "symbol": labels[i],
                "asset": str(assets.at[i, "asset"]).lower(),
                "price_usd": _number(price[i]),
                "supplied_usd": _number(supplied[i] * price[i]),
                "borrowed_usd": _number(borrowed[i] * price[i]),
                "ltv": _number(assets.at[i, "ltv"]),
                "liquidation_threshold": _number(assets.at[i, "liquidation_threshold"]),
                "liquidation_bonus": _number(assets.at[i, "liquidation_bonus"]),
                "supply_cap": _number(assets.at[i, "supply_cap"]),
                "borrow_cap": _number(assets.at[i, "borrow_cap"]),
                "is_isolated": bool(assets.at[i, "is_isolated"]),
            }
        )
    rows.sort(key=lambda r: -((r["supplied_usd"] or 0.0) + (r["borrowed_usd"] or 0.0)))
    debt = matrix.debt.sum(axis=1)
    return {
        "accounts": int(x.n_units),
        "borrowers": int((debt > 0).sum()),
        "collateral_usd": _number(matrix.collateral.sum() * rate),
        "debt_usd": _number(debt.sum() * rate),
        "assets": rows,
    }


def hf_section(borrowers: ExposureMatrix) -> dict[str, Any]:
    """Borrowers per health-factor bucket (``engine.views.hf_distribution`` at snapshot prices)."""
    frame = hf_distribution(borrowers, np.ones((borrowers.n_feeds, 1)), ["snapshot"])
    return {
        "buckets": [
            {
                "bucket": str(r.bucket),
                "lower": float(r.hf_low),
                "upper": _number(r.hf_high),
                "count": int(r.units),
                "debt_usd": _number(r.debt_usd),
                "collateral_usd": _number(r.collateral_usd),
            }
            for r in frame.itertuples(index=False)
        ]
    }


def curves_section(
    x: Exposures,
    borrowers: ExposureMatrix,
    labels: Sequence[str],
    majors: Sequence[Major],
    groups: Mapping[str, Sequence[str]],
) -> list[dict[str, Any]]:
    """Liquidation curves of the major collaterals and the groups present (module docstring)."""
    chosen = [CurveTarget(m.label, "asset", m.feeds, m.address) for m in majors]
    chosen += [t for t in curve_targets(x, groups, None) if t.kind == "group" and len(t.feeds) >= 2]
    if not chosen:
        return []
    g = len(CURVE_MOVES)
    m = np.ones((borrowers.n_feeds, len(chosen) * g))
    for j, target in enumerate(chosen):
        m[np.ix_(target.feeds, np.arange(j * g, (j + 1) * g))] = 1.0 + CURVE_MOVES[None, :]
    totals = threshold_totals(borrowers, m)
    debt = totals.debt[0] * borrowers.base_usd
    collateral = totals.collateral[0] * borrowers.base_usd
    out = []
    for j, target in enumerate(chosen):
        members = [labels[int(f)] for f in target.feeds]
        out.append(
            {
                "name": target.label,
                "kind": target.kind,
                "members": members,
                "points": [
                    {
                        "change": float(CURVE_MOVES[k]),
                        "liquidatable_debt_usd": _number(debt[j * g + k]),
                        "liquidatable_collateral_usd": _number(collateral[j * g + k]),
                    }
                    for k in range(g)
                ],
            }
        )
    return out


def at_risk_section(x: Exposures, borrowers: ExposureMatrix, labels: Sequence[str]) -> list[dict[str, Any]]:
    """The largest borrowers close to liquidation, with liquidation prices (module docstring)."""
    rate = borrowers.base_usd
    hf = health_factors(borrowers, np.ones(borrowers.n_feeds))[:, 0]
    debt = borrowers.debt.sum(axis=1)
    close = np.flatnonzero((hf < AT_RISK_HF) & (debt > 0))
    rows = close[np.lexsort((close, -debt[close]))][:AT_RISK_LIMIT]
    weighted = borrowers.weighted_collateral[rows]
    main = np.where(weighted.sum(axis=1) > 0, weighted.argmax(axis=1), -1)
    multiplier = np.full(len(rows), np.nan)
    for feed in np.unique(main[main >= 0]):
        mine = np.flatnonzero(main == feed)
        multiplier[mine] = liquidation_multipliers(borrowers.subset(rows[mine]), int(feed))
    out = []
    for k, n in enumerate(rows):
        feed = int(main[k])
        moves = feed >= 0 and hf[n] >= 1 and np.isfinite(multiplier[k])
        out.append(
            {
                "account": str(x.unit_account[n]).lower(),
                "market": str(x.unit_market[n]).lower(),
                "health_factor": _number(hf[n]),
                "collateral_usd": _number(borrowers.collateral[n].sum() * rate),
                "debt_usd": _number(debt[n] * rate),
                "main_collateral": labels[feed] if feed >= 0 else None,
                "liquidation_price_usd": _number(borrowers.price[feed] * multiplier[k] * rate) if moves else None,
                "liquidation_change": _number(multiplier[k] - 1.0) if moves else None,
            }
        )
    return out


def concentration_section(matrix: ExposureMatrix) -> dict[str, Any]:
    """Shares of debt and counted collateral held by the top 1 % of holders and the top 10."""
    frame = concentration(matrix).set_index("measure")
    return plain(
        {
            "top_1pct_debt_share": frame.at["debt", "top_1pct_share"],
            "top_1pct_collateral_share": frame.at["collateral", "top_1pct_share"],
            "top_10_debt_share": frame.at["debt", "top_10_share"],
            "top_10_collateral_share": frame.at["collateral", "top_10_share"],
        }
    )
