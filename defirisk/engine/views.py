"""The risk views users read, computed from the kernel: HF distribution, at-risk units, concentration.

All money columns are USD (base-currency values × ``base_usd``), at the scenario's prices unless a
column says ``snapshot_prices``. "Collateral" is the collateral the protocol counts (see
``defirisk.engine.kernel``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from defirisk.engine.crossing import crossing
from defirisk.engine.kernel import ExposureMatrix, health_factors, threshold_totals
from defirisk.model import Exposures, FloatArray

#: HF bucket edges; a bucket includes its lower edge: [1, 1.05) is "1-1.05"; HF = inf is in ">2".
BUCKET_EDGES = (1.0, 1.05, 1.1, 1.25, 1.5, 2.0)
BUCKET_LABELS = ("<1", "1-1.05", "1.05-1.1", "1.1-1.25", "1.25-1.5", "1.5-2", ">2")


def hf_distribution(matrix: ExposureMatrix, multipliers: FloatArray, names: Sequence[str]) -> pd.DataFrame:
    """Units, debt and collateral per HF bucket for each scenario (column of ``multipliers`` (F, S)).

    Long frame: ``scenario, bucket, hf_low, hf_high, units, debt_usd, collateral_usd``; 7 rows per
    scenario, every unit counted once (units without debt in ">2").
    """
    totals = threshold_totals(matrix, multipliers, BUCKET_EDGES)
    below_units = np.vstack(
        [np.zeros((1, len(names))), totals.units, np.full((1, len(names)), totals.all_units)]
    )
    below_debt = np.vstack([np.zeros((1, len(names))), totals.debt, totals.all_debt[None, :]])
    below_coll = np.vstack([np.zeros((1, len(names))), totals.collateral, totals.all_collateral[None, :]])
    # Buckets are differences of cumulative sums; float noise may leave -1e-16 of a total.
    below_debt = np.maximum.accumulate(below_debt, axis=0)
    below_coll = np.maximum.accumulate(below_coll, axis=0)
    lows = (-math.inf, *BUCKET_EDGES)
    highs = (*BUCKET_EDGES, math.inf)
    rows = []
    for s, name in enumerate(names):
        for b, label in enumerate(BUCKET_LABELS):
            rows.append(
                (
                    name,
                    label,
                    max(lows[b], 0.0),
                    highs[b],
                    int(round(below_units[b + 1, s] - below_units[b, s])),
                    (below_debt[b + 1, s] - below_debt[b, s]) * matrix.base_usd,
                    (below_coll[b + 1, s] - below_coll[b, s]) * matrix.base_usd,
                )
            )
    return pd.DataFrame(
        rows, columns=["scenario", "bucket", "hf_low", "hf_high", "units", "debt_usd", "collateral_usd"]
    )


def at_risk(
    exposures: Exposures, matrix: ExposureMatrix, multipliers: FloatArray, limit: int = 20
) -> pd.DataFrame:
    """The ``limit`` largest units (by debt at scenario prices) with HF < 1 under one scenario (F,).

    Columns: ``market, account, hf_snapshot, hf_scenario, debt_usd, collateral_usd, newly`` (HF ≥ 1
    at the snapshot), ``crossing`` (fraction t* ∈ [0, 1] of the scenario's moves, all scaled alike,
    at which HF first drops below 1; ``defirisk.engine.crossing``), ``driver_symbol``,
    ``driver_asset`` (the moved feed with the largest ``|move| · (weighted collateral + debt)`` in
    the unit) and ``liquidation_price_usd`` (the driver's price at t*; for a single-asset shock the
    unit's exact liquidation price in that asset; ``nan`` for units already below 1).
    """
    m = np.asarray(multipliers, dtype=np.float64)
    both = health_factors(matrix, np.column_stack([np.ones_like(m), m]))
    before, after = both[:, 0], both[:, 1]
    debt = matrix.debt @ m * matrix.base_usd
    candidates = np.flatnonzero(after < 1)
    order = candidates[np.lexsort((candidates, -debt[candidates]))][: max(0, limit)]
    delta = m - 1.0
    t = crossing(matrix, delta, t_max=1.0, rows=order)
    weight = np.abs(delta)[None, :] * (matrix.weighted_collateral[order] + matrix.debt[order])
    driver = weight.argmax(axis=1) if len(order) else np.zeros(0, dtype=int)
    newly = before[order] >= 1
    price = matrix.price[driver] * (1 + t * delta[driver]) * matrix.base_usd
    return pd.DataFrame(
        {
            "market": exposures.unit_market[order],
            "account": exposures.unit_account[order],
            "hf_snapshot": before[order],
            "hf_scenario": after[order],
            "debt_usd": debt[order],
            "collateral_usd": (matrix.collateral[order] @ m) * matrix.base_usd,
            "newly": newly,
            "crossing": np.where(newly, t, 0.0),
            "driver_symbol": exposures.feed_symbol[driver],
            "driver_asset": exposures.feed_asset[driver],
            "liquidation_price_usd": np.where(newly, price, np.nan),
        }
    )


def concentration(matrix: ExposureMatrix) -> pd.DataFrame:
    """Share of debt and of collateral (snapshot prices) held by the largest units.

    One row per measure (``debt``, ``collateral``): ``total_usd``, ``holders`` (units with a non-zero
    value), ``top_1pct_units`` (= ⌈1 % · holders⌉), ``top_1pct_share``, ``top_10_share``,
    ``largest_share``. Shares are ``nan`` when nobody holds anything.
    """
    rows = []
    for measure, values in (("debt", matrix.debt.sum(axis=1)), ("collateral", matrix.collateral.sum(axis=1))):
        held = np.sort(values[values > 0])[::-1]
        total = held.sum()
        top_pct = math.ceil(0.01 * len(held))

        def share(k: int, held: FloatArray = held, total: float = total) -> float:
            return float(held[:k].sum() / total) if total > 0 else math.nan

        rows.append(
            (measure, total * matrix.base_usd, len(held), top_pct, share(top_pct), share(10), share(1))
        )
    return pd.DataFrame(
        rows,
        columns=[
            "measure",
            "total_usd",
            "holders",
            "top_1pct_units",
            "top_1pct_share",
            "top_10_share",
            "largest_share",
        ],
    )
