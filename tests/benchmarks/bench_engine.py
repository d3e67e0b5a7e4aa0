"""Benchmark of the HF engine (``make bench``): throughput, 100k × 10k, scaling 10k → 1M units.

Inputs are synthetic Aave-like exposures (``tests/engine/synthetic.py``: 1–4 positions per unit over
20 feeds, mixed liquidation weights, Aave's bps floor of the average threshold) and log-normal
multipliers. An "evaluation" is one unit under one scenario. The engine's figure is
``threshold_totals`` (per scenario: units with HF < 1 and their debt and collateral per feed), the
work behind the liquidation views; the baseline is the obvious per-unit, per-position Python loop
computing the same HFs, timed in the same run on a sample. Figures are printed, not asserted.
"""

from __future__ import annotations

import resource
import time
import tracemalloc

import numpy as np
import pytest

from defirisk.engine import ExposureMatrix, health_factors, parallel, threshold_totals
from tests.engine.synthetic import loop_health_factors, random_exposures, random_multipliers

FEEDS = 20
QUANTUM = 1e-4


def timed(fn, *args):
    start = time.perf_counter()
    cpu = time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - start, time.process_time() - cpu


def warmed(matrix: ExposureMatrix, m: np.ndarray) -> float:
    """Build the matrix's cached row groups and touch the memory a run uses; returns the seconds.

    On this VM freshly allocated memory is slow on first touch (up to 10x), which is set-up, not
    the kernel's speed.
    """
    start = time.perf_counter()
    threshold_totals(matrix, m[:, :512])
    return time.perf_counter() - start


def test_engine_against_the_python_loop() -> None:
    exposures = random_exposures(2_000, FEEDS, seed=1, weight_quantum=QUANTUM)
    m = random_multipliers(FEEDS, 5)
    slow, loop_s, _ = timed(loop_health_factors, exposures, m, QUANTUM)
    matrix = ExposureMatrix.from_exposures(exposures)
    fast = health_factors(matrix, m)
    finite = np.isfinite(slow)
    np.testing.assert_allclose(fast[finite], slow[finite], rtol=1e-12)
    assert np.array_equal(np.isinf(fast), np.isinf(slow))
    loop_rate = slow.size / loop_s

    big = ExposureMatrix.from_exposures(random_exposures(100_000, FEEDS, seed=2, weight_quantum=QUANTUM))
    many = random_multipliers(FEEDS, 1_000)
    warmed(big, many)
    totals, wall, cpu = timed(threshold_totals, big, many)
    assert totals.units.shape == (1, 1_000)
    rate = big.n_units * many.shape[1] / wall
    hf, hf_wall, _ = timed(health_factors, big, many[:, :200])
    print(
        f"\n[engine] python loop: {loop_rate:,.0f} evaluations/s (2,000 units x 5 scenarios, {loop_s:.2f} s)"
        f"\n[engine] threshold_totals: {rate:,.0f} evaluations/s (100,000 x 1,000 in {wall:.2f} s, cpu {cpu:.2f} s,"
        f" {parallel.workers()} worker threads) = {rate / loop_rate:,.0f}x the loop"
        f"\n[engine] health_factors (full N x S array): {hf.size / hf_wall:,.0f} evaluations/s"
        f" = {hf.size / hf_wall / loop_rate:,.0f}x the loop"
    )


@pytest.mark.parametrize("quantum", [QUANTUM, 0.0])
def test_100k_units_by_10k_scenarios(quantum: float) -> None:
    matrix = ExposureMatrix.from_exposures(random_exposures(100_000, FEEDS, seed=3, weight_quantum=quantum))
    m = random_multipliers(FEEDS, 10_000)
    warm = warmed(matrix, m)
    tracemalloc.start()
    totals, wall, cpu = timed(threshold_totals, matrix, m)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert totals.units.shape == (1, 10_000) and totals.units.max() <= 100_000
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n[engine] 100,000 units x 10,000 scenarios, weight quantum {quantum:g}"
        f" ({matrix.mixed.mean():.0%} units floored): {wall:.2f} s wall, {cpu:.2f} s cpu,"
        f" {1e9 / wall:,.0f} evaluations/s; peak traced memory during the call {peak / 2**20:,.0f} MiB,"
        f" process max RSS so far {maxrss_mb:,.0f} MiB (set-up and warm-up call {warm:.1f} s)"
    )


def test_scaling_10k_to_1m_units() -> None:
    m = random_multipliers(FEEDS, 500)
    lines = []
    for n in (10_000, 100_000, 1_000_000):
        build_start = time.perf_counter()
        matrix = ExposureMatrix.from_exposures(random_exposures(n, FEEDS, seed=4, weight_quantum=QUANTUM))
        build = time.perf_counter() - build_start + warmed(matrix, m)
        totals, wall, _ = timed(threshold_totals, matrix, m)
        assert totals.all_units == n
        lines.append(
            f"[engine] {n:>9,} units x 500 scenarios: {wall:6.2f} s, {n * 500 / wall:,.0f} evaluations/s"
            f" (synthetic data, matrix build and warm-up {build:.1f} s)"
        )
    print("\n" + "\n".join(lines))
