"""Exact HF = 1 crossings against bisection and dense grids of the kernel's own HF."""

from __future__ import annotations

import numpy as np
import pytest

from defirisk.engine import ExposureMatrix, crossing, health_factors, liquidation_multipliers
from defirisk.errors import InvalidScenario
from tests.engine.synthetic import random_exposures


def hf_along(matrix: ExposureMatrix, direction: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Kernel HF (N, len(ts)) at prices p₀ · (1 + t · direction)."""
    return health_factors(matrix, 1.0 + np.outer(direction, ts))


def bisect(matrix: ExposureMatrix, direction: np.ndarray, unit: int, low: float, high: float) -> float:
    """Bisection on one unit whose HF is ≥ 1 at ``low`` and < 1 at ``high``."""
    one = matrix.subset(np.array([unit]))
    for _ in range(100):
        mid = 0.5 * (low + high)
        if hf_along(one, direction, np.array([mid]))[0, 0] < 1:
            high = mid
        else:
            low = mid
    return 0.5 * (low + high)


def test_exact_crossing_equals_bisection() -> None:
    matrix = ExposureMatrix.from_exposures(random_exposures(400, n_feeds=6, seed=11))
    direction = np.random.default_rng(2).uniform(-0.9, 1.5, size=6)
    direction = direction / max(1.0, -direction.min())
    t = crossing(matrix, direction, t_max=1.0)
    ends = hf_along(matrix, direction, np.array([0.0, 1.0]))
    crossing_units = np.flatnonzero((ends[:, 0] >= 1) & (ends[:, 1] < 1))
    assert len(crossing_units) > 20
    for n in crossing_units:
        assert t[n] == pytest.approx(bisect(matrix, direction, n, 0.0, 1.0), rel=1e-9, abs=1e-12)
    assert np.all(t[ends[:, 0] < 1] == 0)
    never = (ends[:, 0] >= 1) & (ends[:, 1] >= 1)
    assert np.all(np.isnan(t[never]))


@pytest.mark.parametrize("quantum", [0.0, 1e-4])
def test_crossing_is_the_first_point_below_one_on_a_dense_grid(quantum: float) -> None:
    exposures = random_exposures(300, n_feeds=5, seed=12, weight_quantum=quantum)
    matrix = ExposureMatrix.from_exposures(exposures)
    rng = np.random.default_rng(3)
    for _ in range(4):
        direction = rng.uniform(-1.0, 2.0, size=5)
        t = crossing(matrix, direction, t_max=1.0)
        grid = np.linspace(0.0, 1.0, 2001)
        hf = hf_along(matrix, direction, grid)
        for n in range(matrix.n_units):
            below = np.flatnonzero(hf[n] < 1)
            if np.isnan(t[n]):
                assert len(below) == 0, n
                continue
            # Nothing on the grid before t* is below 1, and just past t* the unit is below 1.
            assert len(below) == 0 or grid[below[0]] >= t[n] - 1e-12, n
            assert (
                hf_along(matrix.subset(np.array([n])), direction, np.array([min(1.0, t[n] + 1e-9)]))[0, 0] < 1
            )


def test_quantised_units_are_walked_piece_by_piece() -> None:
    exposures = random_exposures(2000, n_feeds=4, seed=13, weight_quantum=1e-4)
    matrix = ExposureMatrix.from_exposures(exposures)
    direction = np.array([-1.0, 0.0, 0.0, 0.0])
    t = crossing(matrix, direction, t_max=1.0)
    exact = crossing(ExposureMatrix.from_exposures(exposures, weight_quantum=0.0), direction, t_max=1.0)
    mixed = matrix.mixed & ~np.isnan(t) & ~np.isnan(exact)
    assert mixed.sum() > 50
    # The floored HF is never above the exact one, so it crosses no later; and the gap is small.
    assert np.all(t[mixed] <= exact[mixed] + 1e-12)
    assert np.any(t[mixed] < exact[mixed])
    assert np.max(exact[mixed] - t[mixed]) < 0.01


def test_single_asset_liquidation_prices() -> None:
    matrix = ExposureMatrix.from_exposures(random_exposures(500, n_feeds=5, seed=14))
    feed = 2
    m = liquidation_multipliers(matrix, feed)
    at_snapshot = health_factors(matrix, np.ones(5))[:, 0]
    assert np.all(m[at_snapshot < 1] == 1.0)
    checked = 0
    for n in np.flatnonzero(~np.isnan(m) & (at_snapshot >= 1)):
        one = matrix.subset(np.array([n]))
        below, above = np.ones(5), np.ones(5)
        below[feed] = m[n] * (1 - 1e-9) if m[n] < 1 else m[n] * (1 + 1e-9)
        above[feed] = m[n] * (1 + 1e-9) if m[n] < 1 else m[n] * (1 - 1e-9)
        assert health_factors(one, below)[0, 0] < 1
        assert health_factors(one, above)[0, 0] >= 1
        checked += 1
    assert checked > 50
    assert np.any(m[~np.isnan(m)] > 1) and np.any(m[~np.isnan(m)] < 1)


def test_negative_prices_are_refused() -> None:
    matrix = ExposureMatrix.from_exposures(random_exposures(5, n_feeds=2))
    with pytest.raises(InvalidScenario):
        crossing(matrix, np.array([-2.0, 0.0]), t_max=1.0)
