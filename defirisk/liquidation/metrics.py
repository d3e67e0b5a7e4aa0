"""Risk measures over simulated paths: VaR, expected shortfall, liquidations at risk, with bootstrap CIs.

For losses ``x_1 … x_S`` (one per path, USD) and a level ``q`` (0.95, 0.99), with ``k = ⌈(1 − q) · S⌉``:

* ``VaR_q`` — the empirical ``q`` quantile, inverted-CDF form: the ``⌈q · S⌉``-th smallest loss;
* ``ES_q`` — the mean of the ``k`` largest losses (the tail beyond VaR);
* ``LaR_q`` — liquidations at risk: ``VaR_q`` of the collateral value seized by liquidations over the
  horizon.

Each comes with a percentile bootstrap confidence interval: ``n_bootstrap`` resamples of the paths
with replacement (generator seeded with ``bootstrap_seed``), the statistic recomputed on each, and the
``(1 − ci) / 2`` and ``(1 + ci) / 2`` quantiles of those values. A single deterministic path (an
episode or a shock) gives every measure as that path's value, without an interval.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from defirisk.errors import InvalidParameter
from defirisk.model import FloatArray

LEVELS = (0.95, 0.99)
_BLOCK_ELEMENTS = 20_000_000


def _rank(q: float, n: int) -> int:
    """``⌈q · n⌉`` robust to binary fractions (0.99 · 1000 must give 990)."""
    return max(1, min(n, math.ceil(q * n - 1e-9)))


def value_at_risk(losses: FloatArray, q: float) -> float:
    """``⌈q · S⌉``-th smallest of ``losses`` (S,)."""
    x = np.sort(np.asarray(losses, dtype=np.float64))
    return float(x[_rank(q, len(x)) - 1])


def expected_shortfall(losses: FloatArray, q: float) -> float:
    """Mean of the ``⌈(1 − q) · S⌉`` largest of ``losses`` (S,)."""
    x = np.sort(np.asarray(losses, dtype=np.float64))
    k = _rank(1.0 - q, len(x))
    return float(x[len(x) - k :].mean())


def _sorted_stat(name: str, q: float) -> Callable[[FloatArray], FloatArray]:
    """The statistic on rows of an already sorted (B, S) matrix."""

    def var(rows: FloatArray) -> FloatArray:
        return rows[:, _rank(q, rows.shape[1]) - 1]

    def es(rows: FloatArray) -> FloatArray:
        return rows[:, rows.shape[1] - _rank(1.0 - q, rows.shape[1]) :].mean(axis=1)

    return var if name == "var" else es


def bootstrap(
    values: FloatArray,
    stats: dict[str, tuple[str, float]],
    n_bootstrap: int,
    seed: int,
) -> dict[str, FloatArray]:
    """Bootstrap distributions: ``{key: (n_bootstrap,)}`` for ``stats = {key: ("var"|"es", q)}``."""
    values = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    s = len(values)
    block = max(1, _BLOCK_ELEMENTS // s)
    out = {key: np.empty(n_bootstrap) for key in stats}
    for start in range(0, n_bootstrap, block):
        stop = min(n_bootstrap, start + block)
        rows = np.sort(values[rng.integers(0, s, size=(stop - start, s))], axis=1)
        for key, (name, q) in stats.items():
            out[key][start:stop] = _sorted_stat(name, q)(rows)
    return out


@dataclass(frozen=True)
class Measure:
    """One risk measure: its value and, over several paths, a bootstrap interval (USD)."""

    name: str
    quantity: str
    level: float | None
    value: float
    ci_low: float | None = None
    ci_high: float | None = None


@dataclass(frozen=True)
class RiskMetrics:
    """Measures of one estimate, with what they were computed over."""

    horizon_steps: int
    step_hours: float
    n_paths: int
    seed: int | None
    ci: float | None
    n_bootstrap: int
    bootstrap_seed: int | None
    measures: dict[str, Measure] = field(default_factory=dict)

    @property
    def horizon(self) -> str:
        hours = self.horizon_steps * self.step_hours
        return f"{hours:g}h"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["horizon"] = self.horizon
        return data


def risk_metrics(
    bad_debt: FloatArray,
    liquidated: FloatArray,
    unliquidatable: FloatArray,
    horizon_steps: int,
    step_hours: float,
    seed: int | None,
    ci: float = 0.95,
    n_bootstrap: int = 1000,
    bootstrap_seed: int = 0,
) -> RiskMetrics:
    """VaR and ES of bad debt, LaR, and VaR of unliquidatable debt at 95 % and 99 %.

    Inputs are per-path values at the horizon (S,), USD: bad debt, collateral value liquidated over
    the horizon, unliquidatable debt.
    """
    if not 0 < ci < 1:
        raise InvalidParameter(f"confidence level must be in (0, 1), got {ci}")
    if n_bootstrap < 1:
        raise InvalidParameter("n_bootstrap must be ≥ 1")
    quantities = {"bad_debt": bad_debt, "liquidated": liquidated, "unliquidatable": unliquidatable}
    plan: dict[str, tuple[str, str, str, float]] = {}
    for q in LEVELS:
        pct = round(q * 100)
        plan[f"bad_debt_var_{pct}"] = ("VaR", "bad_debt", "var", q)
        plan[f"bad_debt_es_{pct}"] = ("ES", "bad_debt", "es", q)
        plan[f"lar_{pct}"] = ("LaR", "liquidated", "var", q)
        plan[f"unliquidatable_var_{pct}"] = ("VaR", "unliquidatable", "var", q)
    n_paths = len(np.asarray(bad_debt))
    measures: dict[str, Measure] = {}
    deterministic = n_paths == 1
    for quantity, values in quantities.items():
        keys = {k: (stat, q) for k, (_, qty, stat, q) in plan.items() if qty == quantity}
        boot = {} if deterministic else bootstrap(values, keys, n_bootstrap, bootstrap_seed)
        for key, (stat, q) in keys.items():
            value = value_at_risk(values, q) if stat == "var" else expected_shortfall(values, q)
            low = high = None
            if not deterministic:
                low, high = (float(v) for v in np.quantile(boot[key], [(1 - ci) / 2, (1 + ci) / 2]))
            measures[key] = Measure(plan[key][0], quantity, q, value, low, high)
    for quantity, values in quantities.items():
        measures[f"{quantity}_mean"] = Measure("mean", quantity, None, float(np.mean(values)))
    return RiskMetrics(
        horizon_steps=horizon_steps,
        step_hours=step_hours,
        n_paths=n_paths,
        seed=seed,
        ci=None if deterministic else ci,
        n_bootstrap=0 if deterministic else n_bootstrap,
        bootstrap_seed=None if deterministic else bootstrap_seed,
        measures=measures,
    )
