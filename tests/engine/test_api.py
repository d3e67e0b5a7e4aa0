"""``stress`` and ``curves`` end to end on an Aave v3 snapshot: frames agree with direct computation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from defirisk.engine import EpisodeScenario, ShockScenario, curves, health_factors, stress
from defirisk.engine.views import BUCKET_EDGES, BUCKET_LABELS
from defirisk.errors import InvalidScenario
from tests.engine.aave_states import demo_state
from tests.engine.test_reference import AAVE_QUANTUM, aave_exposures


@pytest.fixture(scope="module")
def state():
    return demo_state(400, seed=5)


@pytest.fixture(scope="module")
def result(state):
    scenarios = [
        "WETH=-30%",
        ShockScenario.parse(["group:eth=-20%", "USDC=-5%"], name="eth and usdc"),
        EpisodeScenario("2022-06_steth_3ac", name="stETH/3AC"),
        EpisodeScenario("2023-03", step="4h"),
    ]
    return stress(state, scenarios, weight_quantum=AAVE_QUANTUM)


def direct(state, m: np.ndarray):
    exposures = aave_exposures(state)
    hf = health_factors(exposures, m)[:, 0]
    price = exposures.price[exposures.pos_feed] * m[exposures.pos_feed]
    debt = np.bincount(exposures.pos_unit, weights=exposures.debt * price, minlength=exposures.n_units)
    counted = exposures.liq_weight > 0
    collateral = np.bincount(
        exposures.pos_unit, weights=exposures.collateral * price * counted, minlength=exposures.n_units
    )
    return exposures, hf, debt, collateral


def test_summary_and_distribution_match_direct_computation(state, result) -> None:
    exposures = aave_exposures(state)
    m = np.ones(exposures.n_feeds)
    m[list(exposures.feed_symbol).index("WETH")] = 0.7
    _, hf, debt, collateral = direct(state, m)
    row = result.summary.set_index("scenario").loc["WETH=-30%"]
    assert row.units_liquidatable == (hf < 1).sum()
    assert row.debt_liquidatable_usd == pytest.approx(debt[hf < 1].sum(), rel=1e-12)
    assert row.collateral_liquidatable_usd == pytest.approx(collateral[hf < 1].sum(), rel=1e-12)
    hf0 = health_factors(exposures, np.ones(exposures.n_feeds))[:, 0]
    newly = (hf < 1) & (hf0 >= 1)
    assert row.units_newly_liquidatable == newly.sum()
    assert row.debt_newly_liquidatable_usd == pytest.approx(debt[newly].sum(), rel=1e-12)
    buckets = result.distribution[result.distribution.scenario == "WETH=-30%"].set_index("bucket")
    assert list(buckets.index) == list(BUCKET_LABELS)
    which = np.searchsorted(np.array(BUCKET_EDGES), hf, side="right")
    for b, label in enumerate(BUCKET_LABELS):
        assert buckets.units[label] == (which == b).sum(), label
        assert buckets.debt_usd[label] == pytest.approx(debt[which == b].sum(), rel=1e-9, abs=1e-6)
        assert buckets.collateral_usd[label] == pytest.approx(
            collateral[which == b].sum(), rel=1e-9, abs=1e-6
        )
    assert buckets.units.sum() == exposures.n_units
    assert buckets.units[">2"] >= (debt == 0).sum() > 0


def test_at_risk_lists_the_largest_with_exact_liquidation_prices(state, result) -> None:
    table = result.at_risk[result.at_risk.scenario == "WETH=-30%"]
    assert 0 < len(table) <= 20
    assert table["rank"].tolist() == list(range(1, len(table) + 1))
    assert (table.hf_scenario < 1).all()
    assert np.all(np.diff(table.debt_usd.to_numpy()) <= 0)
    exposures = aave_exposures(state)
    weth = list(exposures.feed_symbol).index("WETH")
    newly = table[table.newly]
    assert len(newly) > 3 and (newly.driver_symbol == "WETH").all()
    for account, price in zip(newly.account, newly.liquidation_price_usd, strict=True):
        n = list(exposures.unit_account).index(account)
        assert 0.7 * exposures.price[weth] <= price <= exposures.price[weth]
        m = np.ones((exposures.n_feeds, 3))
        m[weth] = price / exposures.price[weth] * np.array([1 + 1e-9, 1.0, 1 - 1e-9])
        before, at, after = health_factors(exposures, m)[n]
        # Solved on a piece of constant (floored) average threshold: HF = 1 there, or above 1 where
        # the crossing is a jump of the floor itself.
        assert before >= 1 > after
        assert at >= 1 - 1e-9
    assert table[~table.newly].liquidation_price_usd.isna().all()


def test_episode_paths_and_unmapped_assets(result) -> None:
    summary = result.summary.set_index("scenario")
    path = result.path[result.path.scenario == "stETH/3AC"]
    assert len(path) == summary.steps["stETH/3AC"] > 100
    worst = path.debt_liquidatable_usd.idxmax()
    assert path.step[worst] == summary.worst_step["stETH/3AC"]
    assert path.time[worst] == summary.worst_time["stETH/3AC"]
    unmapped = result.unmapped.set_index(["scenario", "symbol"])
    assert ("2023-03", "DAI") in unmapped.index and ("2023-03", "GHO") in unmapped.index
    assert unmapped.loc[("2023-03", "GHO"), "debt_usd"] > 0
    assert summary.unmapped_feeds["2023-03"] == 3
    assert ("stETH/3AC", "CRV") not in unmapped.index
    assert "stETH/3AC" in set(result.distribution.scenario)


def test_results_are_plain_json(result) -> None:
    data = result.to_dict()
    text = json.dumps(data, allow_nan=False)
    back = json.loads(text)
    assert back["summary"][0]["scenario"] == "WETH=-30%"
    assert back["distribution"][6]["hf_high"] is None
    assert back["meta"]["family"] == "aave-v3"
    assert {"summary", "distribution", "at_risk", "path", "unmapped", "concentration", "meta"} == set(back)


def test_concentration(state, result) -> None:
    exposures = aave_exposures(state)
    _, _, debt, _ = direct(state, np.ones(exposures.n_feeds))
    held = np.sort(debt[debt > 0])[::-1]
    row = result.concentration.set_index("measure").loc["debt"]
    assert row.holders == len(held)
    assert row.top_1pct_units == int(np.ceil(0.01 * len(held)))
    assert row.top_10_share == pytest.approx(held[:10].sum() / held.sum())
    assert row.top_1pct_share == pytest.approx(held[: int(row.top_1pct_units)].sum() / held.sum())


def test_duplicate_names_and_empty_scenarios(state) -> None:
    with pytest.raises(InvalidScenario, match="duplicate"):
        stress(state, ["WETH=-30%", "WETH=-30%"])
    empty = stress(state, [], weight_quantum=AAVE_QUANTUM)
    assert empty.summary.empty and list(empty.distribution.scenario.unique()) == ["snapshot"]
    json.dumps(empty.to_dict(), allow_nan=False)


def test_curves_cover_assets_and_groups(state) -> None:
    result = curves(state, moves=[-0.5, -0.1, 0.0, 0.1, 0.5], weight_quantum=AAVE_QUANTUM)
    frame = result.curves
    assert {"WETH", "wstETH", "WBTC", "USDC", "DAI", "CRV", "GHO", "group:eth", "group:stables"} <= set(
        frame.target
    )
    assert "group:btc" in set(frame.target)
    assert (frame[frame.move == 0].units == 0).all()
    exposures = aave_exposures(state)
    weth = list(exposures.feed_symbol).index("WETH")
    m = np.ones(exposures.n_feeds)
    m[weth] = 0.5
    _, hf, debt, _ = direct(state, m)
    hf0 = health_factors(exposures, np.ones(exposures.n_feeds))[:, 0]
    point = frame[(frame.target == "WETH") & (frame.move == -0.5)].iloc[0]
    newly = (hf < 1) & (hf0 >= 1)
    assert point.units == newly.sum()
    assert point.debt_usd == pytest.approx(debt[newly].sum(), rel=1e-12)
    assert point.price_usd == pytest.approx(exposures.price[weth] * 0.5)
    assert result.already["units_liquidatable"] == (hf0 < 1).sum()
    only = curves(state, targets=["group:eth", "USDC"], moves=[-0.2, 0.0], weight_quantum=AAVE_QUANTUM)
    assert set(only.curves.target) == {"group:eth", "USDC"}
    json.dumps(only.to_dict(), allow_nan=False)
