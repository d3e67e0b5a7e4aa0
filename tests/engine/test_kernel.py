"""The vectorised kernel against the obvious per-position loop, and its chunking and threading."""

from __future__ import annotations

import numpy as np
import pytest

from defirisk.engine import (
    ExposureMatrix,
    health_factors,
    iter_unit_values,
    parallel,
    threshold_totals,
    unit_values,
)
from defirisk.engine import kernel as kernel_module
from defirisk.errors import InvalidScenario
from tests.engine.synthetic import loop_health_factors, random_exposures, random_multipliers


@pytest.mark.parametrize("quantum", [0.0, 1e-4])
def test_health_factors_equal_the_position_loop(quantum: float) -> None:
    exposures = random_exposures(300, n_feeds=7, seed=3, weight_quantum=quantum)
    m = random_multipliers(7, 9)
    fast = health_factors(exposures, m)
    slow = loop_health_factors(exposures, m, quantum)
    assert np.array_equal(np.isinf(fast), np.isinf(slow))
    finite = np.isfinite(slow)
    np.testing.assert_allclose(fast[finite], slow[finite], rtol=1e-12, atol=0)
    if quantum:
        assert ExposureMatrix.from_exposures(exposures).mixed.sum() > 20


def test_unit_values_are_sums_over_positions() -> None:
    exposures = random_exposures(200, n_feeds=5, seed=4)
    m = random_multipliers(5, 3)
    values = unit_values(exposures, m)
    price = exposures.price[exposures.pos_feed][:, None] * m[exposures.pos_feed]
    counted = (exposures.liq_weight > 0)[:, None]
    for name, per_position in (
        ("collateral", exposures.collateral[:, None] * price * counted),
        ("debt", exposures.debt[:, None] * price),
        ("weighted_collateral", (exposures.collateral * exposures.liq_weight)[:, None] * price),
    ):
        expected = np.zeros((exposures.n_units, 3))
        np.add.at(expected, exposures.pos_unit, per_position)
        np.testing.assert_allclose(getattr(values, name), expected, rtol=1e-12, err_msg=name)


def test_no_debt_is_infinite_and_no_collateral_is_zero() -> None:
    exposures = random_exposures(400, n_feeds=6, seed=5)
    values = unit_values(exposures, np.ones(6))
    hf = values.health_factor[:, 0]
    assert np.all(np.isinf(hf[values.debt[:, 0] == 0]))
    assert np.all(hf[(values.debt[:, 0] > 0) & (values.weighted_collateral[:, 0] == 0)] == 0)
    assert (values.debt[:, 0] == 0).any() and (hf == 0).any()


@pytest.mark.parametrize("quantum", [0.0, 1e-4])
@pytest.mark.parametrize("workers", [1, 2])
def test_threshold_totals_equal_brute_force_over_many_blocks(
    monkeypatch: pytest.MonkeyPatch, quantum: float, workers: int
) -> None:
    monkeypatch.setattr(kernel_module, "ROW_BLOCK", 37)
    monkeypatch.setattr(kernel_module, "SCENARIO_BLOCK", 5)
    monkeypatch.setattr(parallel, "workers", lambda: workers)
    exposures = random_exposures(500, n_feeds=6, seed=6, weight_quantum=quantum)
    matrix = ExposureMatrix.from_exposures(exposures)
    m = random_multipliers(6, 23, scale=0.4)
    thresholds = (0.8, 1.0, 1.3)
    totals = threshold_totals(matrix, m, thresholds)
    hf = health_factors(matrix, m)
    for k, level in enumerate(thresholds):
        below = hf < level
        assert np.array_equal(totals.units[k], below.sum(axis=0))
        for s in range(m.shape[1]):
            rows = below[:, s]
            np.testing.assert_allclose(
                totals.debt_by_feed[k, :, s], matrix.debt[rows].sum(axis=0), rtol=1e-12
            )
            np.testing.assert_allclose(
                totals.collateral_by_feed[k, :, s], matrix.collateral[rows].sum(axis=0), rtol=1e-12
            )
        np.testing.assert_allclose(totals.debt[k], (matrix.debt @ m * below).sum(axis=0), rtol=1e-12)
    np.testing.assert_allclose(totals.all_debt, (matrix.debt @ m).sum(axis=0), rtol=1e-12)
    assert totals.all_units == 500


def test_iterated_chunks_cover_every_scenario() -> None:
    exposures = random_exposures(50, n_feeds=4, seed=7)
    m = random_multipliers(4, 11)
    whole = unit_values(exposures, m).health_factor
    pieces = list(iter_unit_values(exposures, m, max_elements=50 * 3))
    assert [p[0] for p in pieces] == [slice(0, 3), slice(3, 6), slice(6, 9), slice(9, 11)]
    assert np.array_equal(np.hstack([v.health_factor for _, v in pieces]), whole)


@pytest.mark.parametrize(
    "bad",
    [np.ones(3), np.ones((5, 2)), np.array([1.0, np.nan, 1, 1]), np.array([1.0, -0.1, 1, 1])],
)
def test_bad_multipliers_are_rejected(bad: np.ndarray) -> None:
    exposures = random_exposures(10, n_feeds=4)
    with pytest.raises(InvalidScenario):
        health_factors(exposures, bad)


def test_thread_workers_use_single_threaded_blas_when_available() -> None:
    setter = parallel._set_threads_local()
    if setter is None:
        assert parallel.workers() == 1
        return
    seen = parallel.map_parts(lambda _: setter(1), [0, 1])
    assert seen == [1, 1]
