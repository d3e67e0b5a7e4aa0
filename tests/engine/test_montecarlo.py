"""Monte Carlo price paths: calibration, reproducibility, both methods, and their use by the kernel."""

from __future__ import annotations

import json

import numpy as np
import pytest

from defirisk.engine import ExposureMatrix, path_outcomes, simulate_paths, threshold_totals
from defirisk.engine.history import load_history
from defirisk.engine.montecarlo import hourly_returns
from defirisk.engine.vocabulary import symbol_map_with
from defirisk.errors import InvalidParameter
from tests.engine.synthetic import random_exposures

SYMBOLS = ["WETH", "wstETH", "WBTC", "USDC", "GHO"]


@pytest.fixture(scope="module")
def exposures():
    x = random_exposures(300, n_feeds=len(SYMBOLS), seed=41)
    x.feed_symbol = np.array(SYMBOLS, dtype=object)
    return x


def test_shape_horizon_step_and_unmapped(exposures) -> None:
    paths = simulate_paths(exposures, n_paths=50, horizon="1d", step="4h", seed=3)
    assert paths.multipliers.shape == (50, 6, 5)
    assert (paths.horizon, paths.step, paths.step_hours) == ("1d", "4h", 4)
    assert paths.times_hours.tolist() == [4, 8, 12, 16, 20, 24]
    assert [u.symbol for u in paths.unmapped] == ["GHO"]
    np.testing.assert_array_equal(paths.multipliers[:, :, 4], 1.0)
    assert np.all(paths.multipliers[:, :, :4] > 0)
    # 2024-08 has USDC only daily, 2020-03 and 2025-10 nothing hourly: left out.
    assert paths.calibration.episodes == (
        "2022-05_ust_luna",
        "2022-06_steth_3ac",
        "2022-11_ftx_crv",
        "2023-03_usdc_svb",
    )
    assert paths.calibration.rows > 1000
    json.dumps(paths.to_dict(), allow_nan=False)


@pytest.mark.parametrize("method", ["bootstrap", "student-t"])
def test_same_seed_same_paths(exposures, method: str) -> None:
    a = simulate_paths(exposures, n_paths=40, method=method, seed=7)
    b = simulate_paths(exposures, n_paths=40, method=method, seed=7)
    c = simulate_paths(exposures, n_paths=40, method=method, seed=8)
    assert np.array_equal(a.multipliers, b.multipliers)
    assert not np.array_equal(a.multipliers, c.multipliers)


def test_bootstrap_draws_whole_historical_rows(exposures) -> None:
    history = load_history()
    held = np.array([True] * 5)
    returns, _, _, _ = hourly_returns(history, SYMBOLS, held, symbol_map_with())
    returns = returns - returns.mean(axis=0)
    paths = simulate_paths(exposures, n_paths=200, horizon="3h", step="1h", seed=5)
    first = np.log(paths.multipliers[:, 0, :])
    for row in first:
        assert np.isclose(returns, row, rtol=0, atol=1e-12).all(axis=1).any()
    # Paths are cumulative: step 2 = step 1 plus one more historical row.
    second = np.log(paths.multipliers[:, 1, :]) - first
    assert np.isclose(returns[None, :, :], second[:, None, :], atol=1e-12).all(axis=2).any(axis=1).all()


def test_student_t_matches_the_sample_covariance(exposures) -> None:
    paths = simulate_paths(exposures, n_paths=40_000, horizon="1h", step="1h", method="student-t", seed=9)
    draws = np.log(paths.multipliers[:, 0, :4])
    calibration = paths.calibration
    assert 4.1 <= calibration.nu <= 30
    np.testing.assert_allclose(draws.std(axis=0), calibration.hourly_vol[:4], rtol=0.08)
    np.testing.assert_allclose(np.corrcoef(draws, rowvar=False), calibration.correlation[:4, :4], atol=0.05)
    # Heavier tails than a normal with the same variance.
    z = draws[:, 0] / draws[:, 0].std()
    assert np.mean(np.abs(z) > 4) > 1e-3


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"method": "garch"}, "method"),
        ({"n_paths": 0}, "n_paths"),
        ({"horizon": "25h", "step": "2h"}, "whole number"),
        ({"horizon": "1w"}, "step '1w'"),
        ({"nu": 2.0, "method": "student-t"}, "nu"),
    ],
)
def test_bad_options(exposures, kwargs: dict, reason: str) -> None:
    with pytest.raises(InvalidParameter, match=reason):
        simulate_paths(exposures, **kwargs)


def test_path_outcomes_pick_each_paths_worst_step(exposures) -> None:
    paths = simulate_paths(exposures, n_paths=30, horizon="12h", step="2h", seed=11)
    outcomes = path_outcomes(exposures, paths, weight_quantum=0.0)
    matrix = ExposureMatrix.from_exposures(exposures, weight_quantum=0.0)
    for s in range(30):
        debt = threshold_totals(matrix, paths.multipliers[s].T).debt[0]
        assert outcomes.worst_step[s] == int(np.argmax(debt))
        assert outcomes.debt_liquidatable_usd[s] == pytest.approx(debt.max(), rel=1e-12)
        assert outcomes.terminal_debt_liquidatable_usd[s] == pytest.approx(debt[-1], rel=1e-12)


def test_partial_coverage_calibrates_the_largest_jointly_priced_set() -> None:
    """The real Compound v2 portfolio has assets no single episode prices together: the paths are
    calibrated on the jointly priced set holding the most value, and the rest are reported."""
    from defirisk.adapters.compound_v2.importer import import_compound_v2_dataset
    from defirisk.engine import exposures_of

    exposures = exposures_of(import_compound_v2_dataset("2023-05-09"))
    paths = simulate_paths(exposures, n_paths=5, horizon="4h", seed=1)
    reasons = {u.symbol: u.reason for u in paths.unmapped}
    labels = list(exposures.feed_symbol)
    moved = {labels[f] for f in range(len(labels)) if np.ptp(paths.multipliers[:, :, f]) > 0}
    assert "ETH" in moved and "ETH" not in reasons
    assert moved.isdisjoint(reasons), "a reported feed must be held flat, and a moved one not reported"
    assert any("together" in r for r in reasons.values())
