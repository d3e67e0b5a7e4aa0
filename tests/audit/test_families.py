"""Every family audits through ``get_family``: Comet (USD and without a USD rate), Morpho Blue (no USD
rate, one token in two markets); Aave and Compound v2 are covered by the other test modules."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from defirisk.audit import StressSpec, build_audit
from defirisk.audit.method import USD_RATE_CHECK
from defirisk.audit.view import audit_tables, money_formatter
from defirisk.engine import exposures_of, unit_values
from defirisk.errors import InvalidParameter
from defirisk.liquidation import default_economics
from defirisk.model import MarketState
from defirisk.report.schema import errors
from tests.adapters.comet.factory import make_state as comet_state
from tests.audit.states import MORPHO_MARKETS, USDC, WETH, morpho_state

FEW = StressSpec(episodes=("2022-06_steth_3ac",))


def _usd_check(document: dict) -> dict:
    return next(c for c in document["checks"] if c["name"] == USD_RATE_CHECK)


def test_comet_in_usd() -> None:
    state, _, _ = comet_state(60, seed=2)
    document = build_audit(state, paths=10, seed=1, stress_set=FEW)
    assert errors(document) == []
    assert _usd_check(document)["ok"] is True
    assert document["snapshot"]["family"] == "comet"
    assert document["bad_debt"]["today"]["liquidatable_debt_usd"] > 0
    assert money_formatter(document)(1234.0) == "$1.23K"


def test_comet_without_a_usd_rate_reports_in_its_base_currency() -> None:
    state, _, _ = comet_state(60, seed=2)
    unknown = replace(state, meta=replace(state.meta, base_currency="feed unit", base_currency_usd=float("nan")))
    document = build_audit(unknown, paths=10, seed=1, stress_set=FEW)
    assert errors(document) == []
    assert _usd_check(document) == {"name": USD_RATE_CHECK, "ok": False,
                                    "result": "unknown: amounts named *_usd are in feed unit"}
    assert any("feed unit" in note and "not US dollars" in note for note in document["method"]["notes"])
    in_usd = build_audit(state, paths=10, seed=1, stress_set=FEW)
    # The rate was 1: the same numbers, now labelled as base-currency amounts.
    assert document["market"]["debt_usd"] == pytest.approx(in_usd["market"]["debt_usd"])
    assert money_formatter(document)(1234.0) == "1.23K feed unit"
    amounts = dict(audit_tables(document, ("Snapshot",))[0][2])
    assert amounts["amounts in"] == "feed unit (no USD rate)"


def test_morpho_markets_without_a_usd_rate() -> None:
    state = morpho_state()
    document = build_audit(state, paths=10, seed=1, stress_set=FEW)
    assert errors(document) == []
    assert _usd_check(document)["ok"] is False
    x = exposures_of(state)
    debt = unit_values(x, np.ones(x.n_feeds)).debt.sum()
    assert document["market"]["debt_usd"] == pytest.approx(debt, rel=1e-12)  # loan-token units, rate 1
    labels = {a["symbol"] for a in document["market"]["assets"]}
    assert labels == {f"WETH@{MORPHO_MARKETS[0][:8]}…", f"WETH@{MORPHO_MARKETS[1][:8]}…",
                      f"USDC@{MORPHO_MARKETS[0][:8]}…", f"USDC@{MORPHO_MARKETS[1][:8]}…"}
    shocks = [s for s in document["stress"] if s["kind"] == "shock"]
    # The token is shocked once, in both markets together.
    assert [s["name"] for s in shocks] == ["WETH -10%", "WETH -20%", "WETH -30%", "WETH -50%"]
    assert set(shocks[0]["worst_change"]) == {f"WETH@{m[:8]}…" for m in MORPHO_MARKETS}
    assert {a["market"] for a in document["at_risk"]} <= set(MORPHO_MARKETS)
    assert state.meta.base_currency == USDC


def test_without_a_weth_price_gas_needs_an_eth_price(synthetic: MarketState) -> None:
    assets = synthetic.assets.copy()
    positions = synthetic.positions.copy()
    other = "0x" + "77" * 20
    assets["asset"] = assets["asset"].replace(WETH, other)
    positions["asset"] = positions["asset"].replace(WETH, other)
    state = replace(synthetic, assets=assets, positions=positions)
    with pytest.raises(InvalidParameter, match="--eth-price"):
        build_audit(state, paths=0, stress_set=FEW)
    economics = default_economics().with_overrides(eth_price_usd=2000.0)
    document = build_audit(state, paths=0, stress_set=FEW, economics=economics)
    assert errors(document) == [] and document["risk_metrics"] is None
    assert "2,000.00 USD" in document["method"]["sources"]["gas"]
    assert not math.isnan(document["bad_debt"]["today"]["liquidatable_debt_usd"])
