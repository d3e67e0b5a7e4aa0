"""``build_audit`` on a synthetic Aave v3 market: a valid document whose figures are those of direct
calls to the engine and the estimator (on every account, not only the borrowers the audit keeps)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from defirisk.audit import build_audit
from defirisk.audit.estimates import CASCADE_STEPS
from defirisk.audit.feeds import MAJOR_COUNT
from defirisk.audit.sections import AT_RISK_HF
from defirisk.audit.stress_set import SHOCK_MOVES
from defirisk.engine import (
    EpisodeScenario,
    ExposureMatrix,
    exposures_of,
    health_factors,
    simulate_paths,
    stress,
)
from defirisk.engine.history import load_history
from defirisk.engine.views import concentration
from defirisk.liquidation import default_economics, estimate_bad_debt
from defirisk.model import MarketState
from defirisk.report.schema import errors

PATHS, SEED = 30, 5


@pytest.fixture(scope="module")
def document(synthetic: MarketState) -> dict[str, Any]:
    return build_audit(synthetic, paths=PATHS, seed=SEED, generated_at="2026-01-02T03:04:05Z")


def _row(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in document["stress"] if s["name"] == name)


def test_the_document_validates_and_has_every_section(document: dict[str, Any]) -> None:
    assert errors(document) == []
    episodes = sorted(load_history().episodes)
    names = [s["name"] for s in document["stress"]]
    assert names[: len(episodes)] == episodes
    assert len(names) == len(episodes) + MAJOR_COUNT * len(SHOCK_MOVES)
    assert document["risk_metrics"]["paths"] == PATHS and document["risk_metrics"]["seed"] == SEED
    assert document["method"]["seeds"] == {"monte_carlo": SEED, "bootstrap": 0}
    assert document["whatif"] is None and document["gates"] == []


def test_market_and_health_factors_match_the_kernel(synthetic: MarketState, document: dict[str, Any]) -> None:
    x = exposures_of(synthetic)
    matrix = ExposureMatrix.from_exposures(x)
    hf = health_factors(x, np.ones(x.n_feeds))[:, 0]
    debt = matrix.debt.sum(axis=1)
    market = document["market"]
    assert market["accounts"] == x.n_units
    assert market["borrowers"] == int((debt > 0).sum())
    assert market["debt_usd"] == pytest.approx(debt.sum() * x.base_usd, rel=1e-12)
    buckets = document["hf_distribution"]["buckets"]
    assert sum(b["count"] for b in buckets) == market["borrowers"]
    for bucket in buckets:
        upper = np.inf if bucket["upper"] is None else bucket["upper"]
        inside = (debt > 0) & (hf >= bucket["lower"]) & (hf < upper)
        if bucket["lower"] == 0:
            inside |= (debt > 0) & (hf < 0)
        assert bucket["count"] == int(inside.sum()), bucket["bucket"]
        assert bucket["debt_usd"] == pytest.approx(debt[inside].sum() * x.base_usd, rel=1e-9, abs=1e-6)


def test_today_is_the_estimators_on_every_account(synthetic: MarketState, document: dict[str, Any]) -> None:
    direct = estimate_bad_debt(synthetic, np.ones(exposures_of(synthetic).n_feeds), horizon_steps=24)
    today = document["bad_debt"]["today"]
    assert today["liquidatable_debt_usd"] == pytest.approx(direct.initial["liquidatable_debt"], rel=1e-12)
    assert today["bad_debt_usd"] == pytest.approx(direct.initial["bad_debt"], rel=1e-12, abs=1e-9)
    assert today["unliquidatable_debt_usd"] == pytest.approx(
        direct.cascade.steps["unliquidatable"][0, -1], rel=1e-12, abs=1e-9
    )


def test_a_shock_row_is_the_engine_and_the_estimator_on_that_shock(
    synthetic: MarketState, document: dict[str, Any]
) -> None:
    row = _row(document, "WETH -30%")
    assert row["worst_change"] == {"WETH": pytest.approx(-0.3)}
    engine = stress(synthetic, ["WETH=-30%"]).summary.iloc[0]
    assert row["liquidatable_debt_usd"] == pytest.approx(engine["debt_liquidatable_usd"], rel=1e-12)
    assert row["accounts_liquidatable"] == engine["units_liquidatable"]
    direct = estimate_bad_debt(synthetic, "WETH=-30%", default_economics(), horizon_steps=24)
    steps = {k: v[0] for k, v in direct.cascade.steps.items()}
    assert row["liquidated_debt_usd"] == pytest.approx(steps["repaid"].sum(), rel=1e-12)
    assert row["liquidation_cost_usd"] == pytest.approx((steps["seized"] - steps["repaid"]).sum(), rel=1e-9, abs=1e-6)
    assert row["bad_debt_usd"] == pytest.approx(steps["bad_debt"][-1], rel=1e-12, abs=1e-9)
    assert row["unliquidatable_debt_usd"] == pytest.approx(steps["unliquidatable"][-1], rel=1e-12, abs=1e-9)
    assert row["liquidated_debt_usd"] > 0


def test_an_episode_row_is_the_engines_worst_step(synthetic: MarketState, document: dict[str, Any]) -> None:
    row = _row(document, "2022-06_steth_3ac")
    engine = stress(synthetic, [EpisodeScenario("2022-06_steth_3ac")]).summary.iloc[0]
    assert row["kind"] == "episode"
    assert row["liquidatable_debt_usd"] == pytest.approx(engine["debt_liquidatable_usd"], rel=1e-12)
    assert row["accounts_liquidatable"] == engine["units_liquidatable"]
    assert min(row["worst_change"].values()) < -0.05


def test_curves_agree_with_today_and_with_the_shocks(document: dict[str, Any]) -> None:
    weth = next(c for c in document["liquidation_curves"] if c["name"] == "WETH")
    at = {p["change"]: p["liquidatable_debt_usd"] for p in weth["points"]}
    assert at[0.0] == pytest.approx(document["bad_debt"]["today"]["liquidatable_debt_usd"], rel=1e-9, abs=1e-6)
    for move in SHOCK_MOVES:
        assert at[round(move, 2)] == pytest.approx(_row(document, f"WETH {move * 100:+g}%")["liquidatable_debt_usd"],
                                                   rel=1e-9)
    assert at[-0.5] > at[-0.1] >= at[0.0]
    assert any(c["kind"] == "group" and "WETH" in c["members"] for c in document["liquidation_curves"])


def test_at_risk_liquidation_prices_put_the_account_at_hf_one(synthetic: MarketState, document: dict[str, Any]) -> None:
    x = exposures_of(synthetic)
    unit = {a: n for n, a in enumerate(x.unit_account)}
    feed = {s: f for f, s in enumerate(x.feed_symbol)}
    rows = document["at_risk"]
    assert rows and all(r["health_factor"] < AT_RISK_HF for r in rows)
    assert [r["debt_usd"] for r in rows] == sorted((r["debt_usd"] for r in rows), reverse=True)
    checked = 0
    for r in rows:
        if r["liquidation_change"] is None:
            continue
        m = np.ones(x.n_feeds)
        m[feed[r["main_collateral"]]] = 1 + r["liquidation_change"]
        hf = health_factors(x, m)[unit[r["account"]], 0]
        # Aave floors the average threshold to whole bps: exact up to one bps step at the crossing.
        assert hf == pytest.approx(1.0, abs=2e-4)
        assert r["liquidation_price_usd"] == pytest.approx(x.price[feed[r["main_collateral"]]] * (1 + r["liquidation_change"]))
        checked += 1
    assert checked > 0


def test_monte_carlo_is_the_estimator_on_the_same_paths(synthetic: MarketState, document: dict[str, Any]) -> None:
    x = exposures_of(synthetic)
    direct = estimate_bad_debt(synthetic, simulate_paths(x, n_paths=PATHS, seed=SEED))
    measures = direct.metrics.measures
    got = {(m["name"], m["measure"], m["percentile"]): m for m in document["risk_metrics"]["metrics"]}
    for key, name in ((("bad_debt", "VaR", 0.99), "bad_debt_var_99"), (("bad_debt", "ES", 0.95), "bad_debt_es_95"),
                      (("liquidations_at_risk", "VaR", 0.99), "lar_99")):
        assert got[key]["value_usd"] == pytest.approx(measures[name].value, rel=1e-9, abs=1e-6)
        assert got[key]["ci_low_usd"] == pytest.approx(measures[name].ci_low, rel=1e-9, abs=1e-6)
    histogram = document["risk_metrics"]["distribution"]["histogram"]
    assert sum(histogram["counts"]) == PATHS


def test_concentration_and_cascade(synthetic: MarketState, document: dict[str, Any]) -> None:
    frame = concentration(ExposureMatrix.from_exposures(exposures_of(synthetic))).set_index("measure")
    assert document["concentration"]["top_10_debt_share"] == pytest.approx(frame.at["debt", "top_10_share"])
    cascade = document["cascade"]
    most = max(document["stress"], key=lambda s: s["liquidated_debt_usd"])
    assert cascade["scenario"] == most["name"]
    assert 0 < len(cascade["steps"]) <= CASCADE_STEPS
    shown = sum(s["debt_repaid_usd"] for s in cascade["steps"])
    assert shown == pytest.approx(most["liquidated_debt_usd"], rel=1e-9) or len(cascade["steps"]) == CASCADE_STEPS


def test_the_same_seed_gives_the_same_document(synthetic: MarketState, document: dict[str, Any]) -> None:
    again = build_audit(synthetic, paths=PATHS, seed=SEED, generated_at="2026-01-02T03:04:05Z")
    assert again == document
