"""Liquidation curves: what becomes liquidatable as one asset (or one correlated group) moves.

For each target — every feed that some unit holds, and every group with a member in the snapshot —
and each move ``g`` of a grid (default −90 % … +100 % by 1 %), the target's feeds are multiplied by
``1 + g`` and the other feeds stay at snapshot prices. A curve point counts the units that are
**newly** liquidatable (HF ≥ 1 at the snapshot, HF < 1 after the move) and sums their debt and
collateral, at the moved prices (``*_usd``, what liquidators would face) and at snapshot prices
(``*_usd_snapshot_prices``). Prices of debt assets move upward too: the grid covers both directions.

Each unit's HF is monotone in any single price without the average-weight quantum (linear-fractional
with a fixed sign of its derivative), so the set of newly liquidatable units only grows as ``|g|``
grows on either side of 0: ``units`` and the ``*_snapshot_prices`` columns are monotone on each side.
(With Aave's bps floor of the average threshold, a unit's HF may wobble by up to one bps of the
threshold around that monotone curve.) The moved-price columns need not be monotone: a deeper fall
also shrinks the value of collateral already counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from defirisk.engine.kernel import ExposureMatrix, health_factors, threshold_totals
from defirisk.engine.shocks import GROUP_PREFIX, resolve_target
from defirisk.errors import InvalidScenario
from defirisk.model import Exposures, IntArray

DEFAULT_MOVES = np.round(np.arange(-90, 101) / 100.0, 2)
CURVE_COLUMNS = [
    "target",
    "kind",
    "asset",
    "move",
    "price_usd",
    "units",
    "debt_usd",
    "collateral_usd",
    "debt_usd_snapshot_prices",
    "collateral_usd_snapshot_prices",
]


@dataclass(frozen=True)
class CurveTarget:
    """What a curve moves: one feed (``kind="asset"``) or a group's feeds (``kind="group"``)."""

    label: str
    kind: str
    feeds: IntArray
    asset: str | None = None


def curve_targets(
    exposures: Exposures, groups: Mapping[str, Sequence[str]], targets: Sequence[str] | None = None
) -> list[CurveTarget]:
    """Every held feed and every group present (default), or the named ``targets``."""
    held = (
        np.bincount(
            exposures.pos_feed, weights=exposures.collateral + exposures.debt, minlength=exposures.n_feeds
        )
        > 0
    )
    if targets is None:
        out = [
            CurveTarget(str(exposures.feed_symbol[f]), "asset", np.array([f]), str(exposures.feed_asset[f]))
            for f in np.flatnonzero(held)
        ]
        for name in sorted(groups):
            try:
                feeds = resolve_target(exposures, GROUP_PREFIX + name, groups)
            except InvalidScenario:
                continue
            out.append(CurveTarget(GROUP_PREFIX + name, "group", feeds))
        return out
    out = []
    for target in targets:
        feeds = resolve_target(exposures, target, groups)
        if target.startswith(GROUP_PREFIX):
            out.append(CurveTarget(target, "group", feeds))
        else:
            out.extend(
                CurveTarget(
                    str(exposures.feed_symbol[f]), "asset", np.array([f]), str(exposures.feed_asset[f])
                )
                for f in feeds
            )
    return out


def liquidation_curves(
    matrix: ExposureMatrix,
    targets: Sequence[CurveTarget],
    moves: npt.ArrayLike = DEFAULT_MOVES,
) -> pd.DataFrame:
    """One row per (target, move) with the columns of ``CURVE_COLUMNS`` (see the module docstring)."""
    grid = np.asarray(moves, dtype=np.float64)
    if grid.ndim != 1 or len(grid) == 0 or not np.all(np.isfinite(grid)) or np.any(grid < -1):
        raise InvalidScenario("curve moves must be a non-empty list of fractions ≥ -1 (−100 %)")
    healthy = health_factors(matrix, np.ones(matrix.n_feeds))[:, 0] >= 1
    sub = matrix.subset(healthy)
    m = np.ones((matrix.n_feeds, len(targets) * len(grid)))
    for j, target in enumerate(targets):
        m[np.ix_(target.feeds, np.arange(j * len(grid), (j + 1) * len(grid)))] = 1.0 + grid[None, :]
    totals = threshold_totals(sub, m)
    usd = matrix.base_usd
    frame = pd.DataFrame(
        {
            "target": np.repeat([t.label for t in targets], len(grid)),
            "kind": np.repeat([t.kind for t in targets], len(grid)),
            "asset": np.repeat([t.asset for t in targets], len(grid)),
            "move": np.tile(grid, len(targets)),
            "price_usd": np.concatenate(
                [
                    matrix.price[t.feeds[0]] * (1 + grid) * usd
                    if t.kind == "asset"
                    else np.full(len(grid), np.nan)
                    for t in targets
                ]
            )
            if targets
            else np.zeros(0),
            "units": totals.units[0],
            "debt_usd": totals.debt[0] * usd,
            "collateral_usd": totals.collateral[0] * usd,
            "debt_usd_snapshot_prices": totals.debt_by_feed[0].sum(axis=0) * usd,
            "collateral_usd_snapshot_prices": totals.collateral_by_feed[0].sum(axis=0) * usd,
        }
    )
    return frame[CURVE_COLUMNS]
