"""``estimate_bad_debt``: scenario forms, defaults, the JSON result and the figures it reports."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest

from defirisk.errors import DataError, InvalidParameter, InvalidScenario
from defirisk.liquidation import CascadeSettings, Economics, estimate_bad_debt
from tests.liquidation.factory import make_state

CHEAP = Economics(gas_units=500_000, gas_price_gwei=1.0, builder_share=0.4)


@pytest.fixture(scope="module")
def state():
    return make_state(150, seed=2)


def test_a_shock_string(state):
    r = estimate_bad_debt(state, ["WETH=-45%", "wstETH=-45%"], economics=CHEAP)
    assert r.scenario["kind"] == "shock" and r.scenario["n_steps"] == 24 and r.scenario["n_paths"] == 1
    assert r.scenario["name"] == "WETH=-45%, wstETH=-45%"
    assert r.initial["bad_debt"] == 0.0 and r.initial["liquidatable_units"] == 0
    assert r.per_step["calls"][0] > 0
    assert r.metrics.measures["bad_debt_var_99"].value == pytest.approx(r.per_step["bad_debt"][-1])
    assert r.metrics.measures["lar_95"].value == pytest.approx(sum(r.per_step["seized"]))
    assert r.metrics.measures["bad_debt_var_95"].ci_low is None
    assert {a["symbol"] for a in r.per_asset} <= {"WETH", "wstETH", "WBTC", "USDC", "DAI", "CRV"}
    assert r.rules["version"] == "3.0" and r.economics["gas_price_gwei"] == 1.0
    data = json.loads(json.dumps(r.to_dict()))
    assert data["metrics"]["horizon"] == "24h" and data["meta"]["units"] == 150


def test_a_deeper_shock_costs_more(state):
    mild = estimate_bad_debt(state, "WETH=-20%", economics=CHEAP, horizon_steps=4)
    deep = estimate_bad_debt(state, "WETH=-60%", economics=CHEAP, horizon_steps=4)
    assert deep.per_step["bad_debt"][-1] > mild.per_step["bad_debt"][-1]
    assert sum(deep.per_step["calls"]) > sum(mild.per_step["calls"])


@dataclass
class Paths:
    multipliers: np.ndarray
    seed: int
    step_hours: float


def test_monte_carlo_paths_carry_their_seed(state):
    rng = np.random.default_rng(9)
    f = len(state.assets)
    mult = np.exp(np.cumsum(rng.normal(-0.02, 0.08, size=(200, 6, f)), axis=1))
    r = estimate_bad_debt(state, Paths(mult, seed=9, step_hours=4.0), economics=CHEAP, n_bootstrap=200)
    m = r.metrics
    assert (m.n_paths, m.seed, m.horizon, m.n_bootstrap) == (200, 9, "24h", 200)
    var = m.measures["bad_debt_var_95"]
    assert var.ci_low <= var.value <= var.ci_high
    assert m.measures["bad_debt_es_99"].value >= m.measures["bad_debt_var_99"].value >= var.value
    again = estimate_bad_debt(state, Paths(mult, seed=9, step_hours=4.0), economics=CHEAP, n_bootstrap=200)
    assert again.to_dict() == r.to_dict()
    assert len(r.per_step["bad_debt"]) == 6


def test_episode_and_liquidity_file(state, tmp_path):
    episode = np.ones((5, len(state.assets)))
    episode[:, :2] = np.linspace(1.0, 0.5, 5)[:, None]  # WETH and wstETH fall by half over 5 steps
    path = tmp_path / "thin.toml"
    path.write_text('[default]\nkind = "constant_product"\ndepth_usd = 1e5\n')
    thin = estimate_bad_debt(state, episode, economics=CHEAP, liquidity=path, settings=CascadeSettings(max_calls_per_step=4))
    base = estimate_bad_debt(state, episode, economics=CHEAP, settings=CascadeSettings(max_calls_per_step=4))
    assert thin.scenario["kind"] == "episode" and thin.liquidity["path"] == str(path)
    # Thin markets make large sales unprofitable: less is liquidated, more stays stuck under water.
    assert sum(thin.per_step["repaid"]) < sum(base.per_step["repaid"])
    assert thin.per_step["unliquidatable"][-1] > base.per_step["unliquidatable"][-1]


def test_errors(state):
    with pytest.raises(InvalidScenario):
        estimate_bad_debt(state, "NOPE=-50%", economics=CHEAP)
    with pytest.raises(InvalidScenario):
        estimate_bad_debt(state, np.ones((1, 1, 1, 1)), economics=CHEAP)
    local = make_state(5, seed=1)
    local.assets["asset"] = ["0x" + f"{i:040x}" for i in range(len(local.assets))]
    local.positions["asset"] = local.positions["asset"].map(dict(zip(state.assets["asset"], local.assets["asset"], strict=True)))
    with pytest.raises(InvalidParameter):
        estimate_bad_debt(local, "WETH=-50%", economics=CHEAP)
    assert estimate_bad_debt(local, "WETH=-50%", economics=CHEAP.with_overrides(eth_price_usd=3000.0)).economics["eth_price_usd"] == 3000.0
    with pytest.raises(DataError):
        estimate_bad_debt(make_state(5, rules_version=""), "WETH=-50%", economics=CHEAP)


def test_engine_paths_and_episodes(state):
    from defirisk.engine import EpisodeScenario, simulate_paths
    from defirisk.families import get_family

    x = get_family("aave-v3").exposures(state)
    paths = simulate_paths(x, n_paths=64, horizon="24h", step="4h", seed=3)
    r = estimate_bad_debt(state, paths, economics=CHEAP, n_bootstrap=100)
    assert (r.metrics.n_paths, r.metrics.seed, r.metrics.horizon, r.scenario["kind"]) == (64, 3, "24h", "paths")
    assert r.scenario["n_steps"] == 6
    episode = estimate_bad_debt(state, EpisodeScenario("2022-06_steth_3ac", step="1d"), economics=CHEAP)
    assert episode.scenario["kind"] == "episode" and episode.scenario["step_hours"] == 24.0
    assert episode.metrics.n_paths == 1 and episode.metrics.horizon == f"{24 * episode.scenario['n_steps']}h"
