"""Bad-debt estimator benchmark: 50,000 accounts × 1,000 paths × 24 steps with cascades.

Run with ``make bench``. Prints the vectorised time, the peak memory, and the ratio to the per-account
loop (``tests/liquidation/naive.py``) timed in the same run on a small sample (per account-path-step).
"""

from __future__ import annotations

import resource
import time

import numpy as np

from defirisk.families import get_family
from defirisk.liquidation.cascade import STEP_FIELDS, CascadeSettings, simulate
from defirisk.liquidation.economics import Economics
from defirisk.liquidation.estimate import asset_groups
from defirisk.liquidation.liquidity import default_liquidity
from tests.liquidation.factory import make_state
from tests.liquidation.naive import naive_simulate

ACCOUNTS, PATHS, STEPS = 50_000, 1_000, 24
SAMPLE_ACCOUNTS, SAMPLE_PATHS = 2_000, 8
ECON = Economics(gas_units=538_130, gas_price_gwei=20.0, builder_share=0.42, eth_price_usd=1_816.85)
SETTINGS = CascadeSettings(max_calls_per_step=8, recovery_per_step=0.5, memory_mb=512)


def _setup(n_accounts: int):
    state = make_state(n_accounts, seed=1)
    family = get_family("aave-v3")
    x = family.exposures(state)
    pos_group, feed_group, book, _ = asset_groups(state, x, default_liquidity())
    return x, family.liquidation_rules(state), pos_group, feed_group, book


def _paths(n_paths: int, n_feeds: int) -> np.ndarray:
    """Hourly log-returns: 3 % volatility, −0.5 % drift, one common factor (correlation ≈ 0.8)."""
    rng = np.random.default_rng(2024)
    common = rng.normal(size=(n_paths, STEPS, 1))
    own = rng.normal(size=(n_paths, STEPS, n_feeds))
    shocks = 0.03 * (0.9 * common + 0.44 * own) - 0.005
    shocks[:, :, 3:5] *= 0.02  # the two stablecoins barely move
    return np.exp(np.cumsum(shocks, axis=1))


def _per_unit_step(seconds: float, units: int, paths: int) -> float:
    return seconds / (units * paths * STEPS)


def test_bad_debt_benchmark():
    x, rules, pg, fg, book = _setup(ACCOUNTS)
    mult = _paths(PATHS, x.n_feeds)
    start = time.perf_counter()
    result = simulate(x, rules, ECON, book, pg, fg, mult, None, SETTINGS)
    fast = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    sx, srules, spg, sfg, sbook = _setup(SAMPLE_ACCOUNTS)
    smult = _paths(SAMPLE_PATHS, sx.n_feeds)
    start = time.perf_counter()
    naive = naive_simulate(sx, srules, ECON, sbook, spg, sfg, smult, None, SETTINGS.max_calls_per_step, SETTINGS.recovery_per_step)
    slow = time.perf_counter() - start
    sample = simulate(sx, srules, ECON, sbook, spg, sfg, smult, None, SETTINGS)
    for name in STEP_FIELDS:
        np.testing.assert_allclose(sample.steps[name], naive[name], rtol=1e-7, atol=1e-6, err_msg=name)

    ratio = _per_unit_step(slow, SAMPLE_ACCOUNTS, SAMPLE_PATHS) / _per_unit_step(fast, ACCOUNTS, PATHS)
    bad = result.steps["bad_debt"][:, -1]
    print(
        f"\nbad-debt cascade: {ACCOUNTS:,} accounts × {PATHS:,} paths × {STEPS} steps in {fast:.1f} s "
        f"({result.chunk_paths} paths per chunk, peak RSS {peak_mib:,.0f} MiB); "
        f"{result.steps['calls'].sum():,.0f} liquidation calls, mean bad debt ${bad.mean():,.0f}, "
        f"p99 ${np.quantile(bad, 0.99):,.0f}\n"
        f"per-account loop: {SAMPLE_ACCOUNTS:,} accounts × {SAMPLE_PATHS} paths × {STEPS} steps in {slow:.1f} s "
        f"({naive['calls'].sum() / (SAMPLE_ACCOUNTS * SAMPLE_PATHS):.2f} calls per account-path here, "
        f"{result.steps['calls'].sum() / (ACCOUNTS * PATHS):.2f} in the full run); "
        f"vectorised is {ratio:,.0f}× faster per account-path-step"
    )
    assert result.steps["calls"].sum() > 0
