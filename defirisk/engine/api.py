"""The engine's notebook-level API: ``stress`` and ``curves`` on a snapshot.

    from defirisk.engine import stress, curves, ShockScenario, EpisodeScenario
    result = stress(state, ["WETH=-30%", ShockScenario.parse(["group:eth=-20%", "USDC=-5%"]),
                            EpisodeScenario("2022-06_steth_3ac")])
    result.summary, result.distribution, result.at_risk      # pandas frames, USD
    json.dumps(result.to_dict())

``state`` is a ``MarketState`` (its family's ``exposures`` are used, so e-modes, disabled collateral
and zero thresholds follow the protocol) or an ``Exposures`` built by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from defirisk.engine.curves import DEFAULT_MOVES, curve_targets, liquidation_curves
from defirisk.engine.history import PriceHistory
from defirisk.engine.kernel import ExposureMatrix, health_factors, threshold_totals
from defirisk.engine.montecarlo import PricePaths
from defirisk.engine.results import CurveResult, StressResult
from defirisk.engine.scenarios import ResolvedScenario, Scenario, ScenarioContext, ShockScenario
from defirisk.engine.views import at_risk, concentration, hf_distribution
from defirisk.engine.vocabulary import groups_with, symbol_map_with
from defirisk.errors import InvalidScenario
from defirisk.families import get_family
from defirisk.model import Exposures, FloatArray, MarketState

SUMMARY_COLUMNS = [
    "scenario",
    "kind",
    "steps",
    "worst_step",
    "worst_time",
    "units_liquidatable",
    "debt_liquidatable_usd",
    "collateral_liquidatable_usd",
    "units_newly_liquidatable",
    "debt_newly_liquidatable_usd",
    "collateral_newly_liquidatable_usd",
    "debt_usd",
    "collateral_usd",
    "unmapped_feeds",
    "description",
]
PATH_COLUMNS = [
    "scenario",
    "step",
    "time",
    "units_liquidatable",
    "debt_liquidatable_usd",
    "collateral_liquidatable_usd",
]
UNMAPPED_COLUMNS = ["scenario", "symbol", "asset", "reason", "collateral_usd", "debt_usd"]


def exposures_of(snapshot: MarketState | Exposures) -> Exposures:
    """The snapshot's exposures through its family, or ``snapshot`` itself if already exposures."""
    if isinstance(snapshot, Exposures):
        return snapshot
    return get_family(snapshot.meta.family).exposures(snapshot)


def _meta(snapshot: MarketState | Exposures, exposures: Exposures, matrix: ExposureMatrix) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if isinstance(snapshot, MarketState):
        keep = ("deployment", "family", "chain_id", "block_number", "block_hash", "timestamp", "snapshot_id")
        meta.update({k: v for k, v in asdict(snapshot.meta).items() if k in keep})
        meta["base_currency"] = snapshot.meta.base_currency
    hf = health_factors(matrix, np.ones(matrix.n_feeds))[:, 0]
    debt = matrix.debt.sum(axis=1)
    meta.update(
        units=exposures.n_units,
        units_with_debt=int((debt > 0).sum()),
        feeds=exposures.n_feeds,
        base_usd=matrix.base_usd,
        weight_quantum=matrix.weight_quantum,
        debt_usd=float(debt.sum() * matrix.base_usd),
        collateral_usd=float(matrix.collateral.sum() * matrix.base_usd),
        units_liquidatable=int((hf < 1).sum()),
        debt_liquidatable_usd=float(debt[hf < 1].sum() * matrix.base_usd),
    )
    return meta


def _as_scenario(item: Scenario | str) -> Scenario:
    return ShockScenario.parse(item) if isinstance(item, str) else item


def stress(
    snapshot: MarketState | Exposures,
    scenarios: Sequence[Scenario | str],
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    symbols: Mapping[str, Sequence[str]] | None = None,
    at_risk_limit: int = 20,
    history: PriceHistory | None = None,
    weight_quantum: float | None = None,
) -> StressResult:
    """Evaluate ``scenarios`` (objects, or shock strings such as ``"WETH=-30%"``) on ``snapshot``.

    ``groups`` and ``symbols`` add to or replace the bundled correlated groups and episode symbol
    mapping (``defirisk.engine.vocabulary``; a scenario file's ``groups``/``symbols`` go here);
    ``weight_quantum`` overrides the family's (testing aid). See ``StressResult`` for the output.
    """
    exposures = exposures_of(snapshot)
    matrix = ExposureMatrix.from_exposures(exposures, weight_quantum)
    context = ScenarioContext(exposures, groups_with(groups), symbol_map_with(symbols), history)
    items = [_as_scenario(s) for s in scenarios]
    names = [s.name for s in items]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidScenario(f"duplicate scenario name(s): {', '.join(map(repr, duplicates))}")
    resolved = [s.resolve(context) for s in items]
    healthy = matrix.subset(health_factors(matrix, np.ones(matrix.n_feeds))[:, 0] >= 1)

    summary, paths, worst = [], [], []
    for r in resolved:
        row, steps, m = _evaluate(r, matrix, healthy)
        summary.append(row)
        paths.extend(steps)
        worst.append(m)

    names = [r.name for r in resolved]
    at_worst = np.column_stack([np.ones(matrix.n_feeds), *worst]) if worst else np.ones((matrix.n_feeds, 1))
    distribution = hf_distribution(matrix, at_worst, ["snapshot", *names])
    risk = [
        at_risk(exposures, matrix, m, at_risk_limit).assign(scenario=r.name).pipe(_ranked)
        for r, m in zip(resolved, worst, strict=True)
    ]
    return StressResult(
        meta=_meta(snapshot, exposures, matrix),
        summary=pd.DataFrame(summary, columns=SUMMARY_COLUMNS),
        distribution=distribution,
        at_risk=pd.concat(risk, ignore_index=True)
        if risk
        else _ranked(at_risk(exposures, matrix, np.ones(matrix.n_feeds), 0).assign(scenario="")),
        path=pd.DataFrame(paths, columns=PATH_COLUMNS),
        unmapped=_unmapped(resolved, matrix),
        concentration=concentration(matrix),
    )


def _evaluate(
    r: ResolvedScenario, matrix: ExposureMatrix, healthy: ExposureMatrix
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], FloatArray]:
    """One scenario's summary row, its path rows (paths only) and its worst step's multipliers (F,)."""
    usd = matrix.base_usd
    everyone = threshold_totals(matrix, r.multipliers.T)
    newly = threshold_totals(healthy, r.multipliers.T)
    debt = everyone.debt[0] * usd
    collateral = everyone.collateral[0] * usd
    w = int(np.argmax(debt))
    row = (
        r.name,
        r.kind,
        len(r.multipliers),
        w,
        r.times[w] if r.times else None,
        int(everyone.units[0, w]),
        debt[w],
        collateral[w],
        int(newly.units[0, w]),
        newly.debt[0, w] * usd,
        newly.collateral[0, w] * usd,
        everyone.all_debt[w] * usd,
        everyone.all_collateral[w] * usd,
        len(r.unmapped),
        r.description,
    )
    steps = [
        (r.name, t, time, int(everyone.units[0, t]), debt[t], collateral[t])
        for t, time in enumerate(r.times or ())
    ]
    return row, steps, r.multipliers[w]


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(rank=np.arange(1, len(frame) + 1))
    first = ["scenario", "rank"]
    return frame[first + [c for c in frame.columns if c not in first]]


def _unmapped(resolved: Sequence[ResolvedScenario], matrix: ExposureMatrix) -> pd.DataFrame:
    collateral = matrix.collateral.sum(axis=0) * matrix.base_usd
    debt = matrix.debt.sum(axis=0) * matrix.base_usd
    rows = [
        (r.name, u.symbol, u.asset, u.reason, collateral[u.feed], debt[u.feed])
        for r in resolved
        for u in r.unmapped
    ]
    return pd.DataFrame(rows, columns=UNMAPPED_COLUMNS)


def curves(
    snapshot: MarketState | Exposures,
    *,
    targets: Sequence[str] | None = None,
    moves: npt.ArrayLike = DEFAULT_MOVES,
    groups: Mapping[str, Sequence[str]] | None = None,
    weight_quantum: float | None = None,
) -> CurveResult:
    """Liquidation curves (``defirisk.engine.curves``) for every held asset and group, or ``targets``.

    ``targets`` are shock targets without a move (``"WETH"``, ``"group:eth"``, an address);
    ``moves`` fractions (default −0.90 … +1.00 by 0.01).
    """
    exposures = exposures_of(snapshot)
    matrix = ExposureMatrix.from_exposures(exposures, weight_quantum)
    chosen = curve_targets(exposures, groups_with(groups), targets)
    meta = _meta(snapshot, exposures, matrix)
    already = {k: meta[k] for k in ("units_liquidatable", "debt_liquidatable_usd")}
    return CurveResult(meta=meta, curves=liquidation_curves(matrix, chosen, moves), already=already)


PATH_OUTCOME_COLUMNS = [
    "path",
    "worst_step",
    "worst_hours",
    "units_liquidatable",
    "debt_liquidatable_usd",
    "collateral_liquidatable_usd",
    "terminal_debt_liquidatable_usd",
]


def path_outcomes(
    snapshot: MarketState | Exposures | ExposureMatrix, paths: PricePaths, weight_quantum: float | None = None
) -> pd.DataFrame:
    """Per simulated path (``PricePaths``), its worst step: the most debt on units with HF < 1.

    Columns ``PATH_OUTCOME_COLUMNS`` (USD; ties go to the earliest step). One kernel pass per step
    over all paths: T · S scenarios in all.
    """
    matrix = (
        snapshot
        if isinstance(snapshot, ExposureMatrix)
        else ExposureMatrix.from_exposures(exposures_of(snapshot), weight_quantum)
    )
    s, t, f = paths.multipliers.shape
    if f != matrix.n_feeds:
        raise InvalidScenario(f"paths have {f} feeds, the snapshot {matrix.n_feeds}")
    units = np.zeros((t, s), dtype=np.int64)
    debt = np.zeros((t, s))
    collateral = np.zeros((t, s))
    for step in range(t):
        totals = threshold_totals(matrix, paths.multipliers[:, step, :].T)
        units[step], debt[step], collateral[step] = totals.units[0], totals.debt[0], totals.collateral[0]
    worst = debt.argmax(axis=0) if t else np.zeros(s, dtype=int)
    every = np.arange(s)
    usd = matrix.base_usd
    return pd.DataFrame(
        {
            "path": every,
            "worst_step": worst,
            "worst_hours": (worst + 1) * paths.step_hours,
            "units_liquidatable": units[worst, every],
            "debt_liquidatable_usd": debt[worst, every] * usd,
            "collateral_liquidatable_usd": collateral[worst, every] * usd,
            "terminal_debt_liquidatable_usd": debt[-1] * usd if t else np.zeros(s),
        }
    )[PATH_OUTCOME_COLUMNS]
