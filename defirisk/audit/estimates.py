"""Audit figures from the bad-debt estimator (``defirisk.liquidation.estimate_bad_debt``, cascade on):
today, each stress scenario, and the Monte Carlo risk measures.

Definitions (USD, or the base currency; see ``scope.money_basis``):

* **today** — bad debt ``Σ max(D − C, 0)`` and liquidatable debt (units the family's rules let be
  liquidated) at the snapshot's prices; unliquidatable debt: debt of units still liquidatable, with
  collateral left, once prices are held ``horizon`` long and every liquidation that pays has run.
* **stress scenario** — *liquidatable* debt and accounts at the scenario's worst point (the step with
  the most liquidatable debt, before any liquidation; the engine's kernel); *liquidated*: debt
  repaid by the simulated liquidations over the whole scenario; *bad debt* and *unliquidatable*: at
  the scenario's end (a shock held ``horizon`` long; an episode at the end of its replay window);
  *liquidation cost*: what borrowers lose to liquidations, collateral seized − debt repaid (the
  liquidators' bonus plus the protocol's fee), over the whole scenario.
* **Monte Carlo** — per simulated path, bad debt and unliquidatable debt at the horizon and the
  collateral liquidated over it; VaR, ES and liquidations at risk at 95 % and 99 % with bootstrap
  intervals (``defirisk.liquidation.metrics``).
* **cascade** — the stress scenario with the most debt liquidated, step by step: the steps where a
  liquidation ran (at most ``CASCADE_STEPS``), the collateral sold and each asset's price impact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from defirisk.audit.scope import unique_labels
from defirisk.audit.stress_set import StressItem
from defirisk.engine import ExposureMatrix, PricePaths, threshold_totals
from defirisk.liquidation import BadDebtResult, Economics, Liquidity, estimate_bad_debt
from defirisk.liquidation.estimate import asset_groups
from defirisk.model import Exposures, MarketState

CASCADE_STEPS = 48
QUANTILES = ("0.5", "0.9", "0.95", "0.99")
HISTOGRAM_BINS = 20
_MOVED = 1e-12


@dataclass(frozen=True)
class EstimatorSetting:
    """What every estimator run of one audit shares."""

    economics: Economics
    liquidity: Liquidity
    horizon_steps: int
    bootstrap_seed: int = 0

    def run(self, state: MarketState, scenario: Any) -> BadDebtResult:
        return estimate_bad_debt(
            state,
            scenario,
            self.economics,
            self.liquidity,
            horizon_steps=self.horizon_steps,
            bootstrap_seed=self.bootstrap_seed,
        )


def _usd(value: float) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def today_section(state: MarketState, x: Exposures, setting: EstimatorSetting) -> tuple[dict[str, Any], BadDebtResult]:
    """``bad_debt.today`` (see the module docstring) and the run behind it."""
    result = setting.run(state, np.ones(x.n_feeds))
    today = {
        "bad_debt_usd": _usd(result.initial["bad_debt"]),
        "unliquidatable_debt_usd": _usd(result.cascade.steps["unliquidatable"][0, -1]),
        "liquidatable_debt_usd": _usd(result.initial["liquidatable_debt"]),
    }
    return today, result


def stress_row(
    item: StressItem,
    state: MarketState,
    matrix: ExposureMatrix,
    labels: Sequence[str],
    setting: EstimatorSetting,
) -> tuple[dict[str, Any], BadDebtResult]:
    """One ``stress`` entry of the document for ``item`` (module docstring) and its estimator run."""
    m = item.resolved.multipliers
    totals = threshold_totals(matrix, m.T)
    debt = totals.debt[0] * matrix.base_usd
    worst = int(np.argmax(debt))
    held = (matrix.collateral.sum(axis=0) + matrix.debt.sum(axis=0)) > 0
    result = setting.run(state, item.resolved)
    steps = result.cascade.steps
    row = {
        "name": item.name,
        "kind": item.kind,
        "description": item.definition,
        "worst_change": {
            labels[f]: float(m[worst, f] - 1.0) for f in range(m.shape[1]) if held[f] and abs(m[worst, f] - 1.0) > _MOVED
        },
        "liquidatable_debt_usd": _usd(debt[worst]),
        "liquidated_debt_usd": _usd(steps["repaid"][0].sum()),
        "bad_debt_usd": _usd(steps["bad_debt"][0, -1]),
        "unliquidatable_debt_usd": _usd(steps["unliquidatable"][0, -1]),
        "liquidation_cost_usd": _usd((steps["seized"][0] - steps["repaid"][0]).sum()),
        "accounts_liquidatable": int(totals.units[0, worst]),
        "unmapped_assets": [labels[u.feed] for u in item.resolved.unmapped],
    }
    return row, result


def cascade_section(
    rows: Sequence[dict[str, Any]], results: Sequence[BadDebtResult], state: MarketState, x: Exposures, liquidity: Liquidity
) -> dict[str, Any] | None:
    """The cascade of the stress scenario with the most debt liquidated (module docstring)."""
    if not rows:
        return None
    pick = max(range(len(rows)), key=lambda i: (rows[i]["liquidated_debt_usd"] or 0.0, -i))
    cascade = results[pick].cascade
    _, _, _, addresses = asset_groups(state, x, liquidity)
    symbol_of = dict(zip(state.assets["asset"].astype(str).str.lower(), state.assets["symbol"].astype(str), strict=True))
    group_labels = unique_labels([symbol_of[a] for a in addresses], addresses)
    calls = cascade.steps["calls"][0]
    steps = []
    for t in np.flatnonzero(calls > 0)[:CASCADE_STEPS]:
        impact = cascade.impact[0, t]
        steps.append(
            {
                "step": int(t),
                "liquidations": int(round(calls[t])),
                "debt_repaid_usd": _usd(cascade.steps["repaid"][0, t]),
                "volume_sold_usd": _usd(cascade.volume[0, t].sum()),
                "price_impact": {group_labels[g]: -float(impact[g]) for g in np.flatnonzero(impact > 0)},
                "bad_debt_usd": _usd(cascade.steps["bad_debt"][0, t]),
            }
        )
    return {"scenario": rows[pick]["name"], "steps": steps}


def risk_section(result: BadDebtResult, paths: PricePaths) -> dict[str, Any]:
    """``risk_metrics`` of the document from a Monte Carlo estimator run."""
    rm = result.metrics
    wanted = (
        ("bad_debt", ("bad_debt_var_95", "bad_debt_es_95", "bad_debt_var_99", "bad_debt_es_99")),
        ("liquidations_at_risk", ("lar_95", "lar_99")),
        ("unliquidatable_debt", ("unliquidatable_var_95", "unliquidatable_var_99")),
    )
    metrics = []
    for name, keys in wanted:
        for key in keys:
            measure = rm.measures[key]
            metrics.append(
                {
                    "name": name,
                    "measure": "ES" if measure.name == "ES" else "VaR",
                    "percentile": float(measure.level),
                    "value_usd": _usd(measure.value),
                    "ci_low_usd": None if measure.ci_low is None else _usd(measure.ci_low),
                    "ci_high_usd": None if measure.ci_high is None else _usd(measure.ci_high),
                    "ci_level": rm.ci,
                }
            )
    bad = result.cascade.steps["bad_debt"][:, -1]
    quantiles = np.quantile(bad, [float(q) for q in QUANTILES], method="inverted_cdf")
    low, high = float(bad.min()), float(bad.max())
    if high > low:
        counts, edges = np.histogram(bad, bins=HISTOGRAM_BINS, range=(low, high))
    else:
        counts, edges = np.array([len(bad)]), np.array([low, low + 1.0])
    return {
        "horizon": rm.horizon,
        "step": paths.step,
        "paths": int(rm.n_paths),
        "seed": int(paths.seed),
        "method": paths.method,
        "metrics": metrics,
        "distribution": {
            "bad_debt_usd_quantiles": {q: float(v) for q, v in zip(QUANTILES, quantiles, strict=True)},
            "histogram": {"edges_usd": [float(e) for e in edges], "counts": [int(c) for c in counts]},
        },
    }
