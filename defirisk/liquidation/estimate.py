"""``estimate_bad_debt``: the notebook-level entry point of the bad-debt estimator.

    from defirisk.liquidation import estimate_bad_debt
    from defirisk.engine import EpisodeScenario, simulate_paths
    result = estimate_bad_debt(state, "WETH=-40%")                        # a shock, cascading to a fixed point
    result = estimate_bad_debt(state, ["WETH=-40%", "wstETH=-40%"])      # shocks combined
    result = estimate_bad_debt(state, EpisodeScenario("2022-06_steth_3ac"))  # a replayed episode
    result = estimate_bad_debt(state, simulate_paths(...))              # Monte Carlo PricePaths
    result.metrics.measures["bad_debt_var_99"].value
    result.to_dict()                                                     # JSON-serialisable

A scenario is anything the engine resolves (shock strings, ``ShockScenario``, ``EpisodeScenario``, a
``ResolvedScenario``), the engine's ``PricePaths`` (its ``seed`` and ``step_hours`` are recorded), or
raw feed multipliers relative to the snapshot's prices: (F,) a shock, (T, F) an episode, (S, T, F)
paths. A shock is held for ``horizon_steps`` steps (default 24): the cascade runs until it reaches a
fixed point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from defirisk.engine.kernel import unit_values
from defirisk.engine.scenarios import ResolvedScenario, ScenarioContext, ShockScenario
from defirisk.engine.vocabulary import groups_with, symbol_map_with
from defirisk.errors import InvalidParameter, InvalidScenario
from defirisk.families import get_family
from defirisk.liquidation.cascade import STEP_FIELDS, CascadeResult, CascadeSettings, simulate
from defirisk.liquidation.economics import NATIVE_ETHER, WETH_ADDRESSES, Economics, default_economics
from defirisk.liquidation.liquidity import Liquidity, LiquidityBook, default_liquidity, load_liquidity
from defirisk.liquidation.metrics import RiskMetrics, risk_metrics
from defirisk.liquidation.rules import LiquidationRules
from defirisk.model import Exposures, FloatArray, MarketState

DEFAULT_HORIZON_STEPS = 24


@dataclass
class BadDebtResult:
    """An estimate: the setting, per-step figures (mean over paths) and the risk measures (USD)."""

    meta: dict[str, Any]
    rules: dict[str, Any]
    economics: dict[str, Any]
    liquidity: dict[str, Any]
    scenario: dict[str, Any]
    initial: dict[str, float]
    per_step: dict[str, list[float]]
    per_asset: list[dict[str, Any]]
    metrics: RiskMetrics
    cascade: CascadeResult

    def to_dict(self) -> dict[str, Any]:
        """Everything but the raw per-path arrays, as plain JSON types."""
        return {
            "meta": self.meta,
            "rules": self.rules,
            "economics": self.economics,
            "liquidity": self.liquidity,
            "scenario": self.scenario,
            "initial": self.initial,
            "per_step": self.per_step,
            "per_asset": self.per_asset,
            "metrics": self.metrics.to_dict(),
        }


@dataclass(frozen=True)
class _Scenario:
    multipliers: FloatArray
    kind: str
    name: str
    unmapped: list[dict[str, str]]
    step_hours: float | None
    seed: int | None


def _hours_between(times: tuple[str, ...] | None) -> float | None:
    if not times or len(times) < 2:
        return None
    first, second = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in times[:2])
    return (second - first).total_seconds() / 3600


def _scenario(scenario: Any, x: Exposures, horizon_steps: int | None) -> _Scenario:
    """(S, T, F) multipliers and what they are, from any accepted scenario form."""
    horizon = horizon_steps or DEFAULT_HORIZON_STEPS
    strings = isinstance(scenario, Sequence) and bool(scenario) and all(isinstance(s, str) for s in scenario)
    if isinstance(scenario, str) or strings:
        scenario = ShockScenario.parse(scenario)
    if hasattr(scenario, "resolve"):
        scenario = scenario.resolve(ScenarioContext(x, groups_with(None), symbol_map_with(None)))
    if isinstance(scenario, ResolvedScenario):
        unmapped = [{"symbol": u.symbol, "asset": u.asset, "reason": u.reason} for u in scenario.unmapped]
        m = np.asarray(scenario.multipliers, dtype=np.float64)
        if scenario.kind == "shock":
            held = np.broadcast_to(m[-1], (1, horizon, m.shape[1])).copy()
            return _Scenario(held, "shock", scenario.name, unmapped, None, None)
        return _Scenario(m[None], scenario.kind, scenario.name, unmapped, _hours_between(scenario.times), None)
    mult = np.asarray(getattr(scenario, "multipliers", scenario), dtype=np.float64)
    seed = getattr(scenario, "seed", None)
    hours = getattr(scenario, "step_hours", None)
    if mult.ndim == 1:
        return _Scenario(np.broadcast_to(mult, (1, horizon, len(mult))).copy(), "shock", "", [], hours, seed)
    if mult.ndim == 2:
        return _Scenario(mult[None], "episode", "", [], hours, seed)
    if mult.ndim == 3:
        return _Scenario(mult, "paths" if len(mult) > 1 else "episode", "", [], hours, seed)
    raise InvalidScenario(f"a scenario is (F,), (T, F) or (S, T, F) multipliers; got shape {mult.shape}")


def asset_groups(
    state: MarketState, x: Exposures, liquidity: Liquidity
) -> tuple[np.ndarray, np.ndarray, LiquidityBook, list[str]]:
    """Liquidity groups, one per asset address: ``(pos_group (P,), feed_group (F,), book, addresses)``.

    A position's group prices the sale of its collateral; a feed's group (−1 for feeds that price no
    asset, such as an e-mode price source) says which sales move it. ``book`` holds each group's curve.
    """
    assets = state.assets.reset_index(drop=True)
    addresses = [str(a).lower() for a in assets["asset"]]
    symbols = [str(s) for s in assets["symbol"]]
    unique = list(dict.fromkeys(addresses))
    index = {a: i for i, a in enumerate(unique)}
    pos_group = np.array([index[addresses[i]] for i in x.pos_asset], dtype=np.int64)
    feed_group = np.array([index.get(str(a).lower(), -1) for a in x.feed_asset], dtype=np.int64)
    first_symbol = {a: symbols[addresses.index(a)] for a in unique}
    book = liquidity.book(unique, [first_symbol[a] for a in unique])
    return pos_group, feed_group, book, unique


def _eth(x: Exposures, economics: Economics) -> tuple[int, float] | None:
    """The feed that prices gas: wrapped ether, or native ether (``0xeeee…``, as Compound v2's cETH
    market lists it); ``None`` when ``economics`` fixes the ETH price."""
    if economics.eth_price_usd is not None:
        return None
    for f, asset in enumerate(x.feed_asset):
        if str(asset).lower() in WETH_ADDRESSES | {NATIVE_ETHER}:
            return f, float(x.price[f]) * x.base_usd
    raise InvalidParameter("the snapshot has no WETH feed to price gas: give an ETH price (eth_price_usd)")


def _initial(x: Exposures, rules: LiquidationRules) -> dict[str, float]:
    """Bad debt and liquidatable debt at the snapshot's own prices (before any move), USD."""
    v = unit_values(x, np.ones(x.n_feeds))
    weighted, collateral, debt = v.weighted_collateral[:, 0], v.collateral[:, 0], v.debt[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        liquidatable = rules.liquidatable(weighted / debt) & (debt > 0)
    return {
        "debt": float(debt.sum() * x.base_usd),
        "bad_debt": float(np.maximum(debt - collateral, 0.0).sum() * x.base_usd),
        "liquidatable_debt": float(debt[liquidatable].sum() * x.base_usd),
        "liquidatable_units": int(liquidatable.sum()),
    }


def estimate_bad_debt(
    state: MarketState,
    scenario: Any,
    economics: Economics | None = None,
    liquidity: Liquidity | str | Path | None = None,
    settings: CascadeSettings | None = None,
    *,
    horizon_steps: int | None = None,
    step_hours: float | None = None,
    seed: int | None = None,
    ci: float = 0.95,
    n_bootstrap: int = 1000,
    bootstrap_seed: int = 0,
) -> BadDebtResult:
    """Simulate liquidations and cascades for ``scenario`` on ``state``; measure the bad debt.

    ``economics`` defaults to ``default_economics()``, ``liquidity`` to the bundled curves (a path loads
    a file), ``settings`` to ``CascadeSettings()``. ``seed`` and ``step_hours`` are recorded with the
    measures (taken from the scenario object when it carries them); the horizon is the path length.
    """
    family = get_family(state.meta.family)
    x = family.exposures(state)
    rules = family.liquidation_rules(state)
    economics = economics or default_economics()
    if liquidity is None:
        liquidity = default_liquidity()
    elif not isinstance(liquidity, Liquidity):
        liquidity = load_liquidity(liquidity)
    settings = settings or CascadeSettings()
    resolved = _scenario(scenario, x, horizon_steps)
    mult = resolved.multipliers
    seed = seed if seed is not None else resolved.seed
    step_hours = float(step_hours if step_hours is not None else resolved.step_hours or 1.0)
    pos_group, feed_group, book, group_assets = asset_groups(state, x, liquidity)
    cascade = simulate(x, rules, economics, book, pos_group, feed_group, mult, _eth(x, economics), settings)
    steps = cascade.steps
    metrics = risk_metrics(
        bad_debt=steps["bad_debt"][:, -1],
        liquidated=steps["seized"].sum(axis=1),
        unliquidatable=steps["unliquidatable"][:, -1],
        horizon_steps=mult.shape[1],
        step_hours=step_hours,
        seed=seed,
        ci=ci,
        n_bootstrap=n_bootstrap,
        bootstrap_seed=bootstrap_seed,
    )
    labels = {a: s for a, s in zip(state.assets["asset"].str.lower(), state.assets["symbol"], strict=True)}
    per_asset = [
        {
            "asset": a,
            "symbol": str(labels[a]),
            "volume_sold": cascade.volume[:, :, g].mean(axis=0).tolist(),
            "price_impact": cascade.impact[:, :, g].mean(axis=0).tolist(),
            "price_factor": cascade.price_factor[:, :, g].mean(axis=0).tolist(),
        }
        for g, a in enumerate(group_assets)
        if cascade.volume[:, :, g].any()
    ]
    return BadDebtResult(
        meta={
            "deployment": state.meta.deployment,
            "family": state.meta.family,
            "block_number": state.meta.block_number,
            "timestamp": state.meta.timestamp,
            "snapshot_id": state.meta.snapshot_id,
            "units": x.n_units,
        },
        rules=asdict(rules),
        economics=economics.to_dict(),
        liquidity=liquidity.to_dict(),
        scenario={
            "kind": resolved.kind,
            "name": resolved.name,
            "unmapped": resolved.unmapped,
            "n_paths": int(mult.shape[0]),
            "n_steps": int(mult.shape[1]),
            "step_hours": step_hours,
            "seed": seed,
            "steps_run_max": int(cascade.steps_run.max()),
            "settings": asdict(settings),
        },
        initial=_initial(x, rules),
        per_step={name: steps[name].mean(axis=0).tolist() for name in STEP_FIELDS},
        per_asset=per_asset,
        metrics=metrics,
        cascade=cascade,
    )
