"""What-if: a proposal applied to a copy of the snapshot, on the synthetic Aave market and on the real
Compound v2 data: which accounts the change itself makes liquidatable, before/after, bounds."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from defirisk.audit import StressSpec, apply_proposal, build_audit, parse_proposal
from defirisk.engine import exposures_of, health_factors
from defirisk.model import MarketState
from defirisk.report.schema import errors
from tests.audit.test_proposal import CWBTC2

NO_STRESS = StressSpec(episodes=(), moves=())


def _whatif(state: MarketState, sets: list[str], bounds: tuple[str, ...] = ()) -> dict[str, Any]:
    document = build_audit(state, paths=0, stress_set=NO_STRESS, whatif=parse_proposal(state, sets, bounds))
    assert errors(document) == []
    return document["whatif"]


def _direct(state: MarketState, sets: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(accounts, HF now, HF proposed) from the kernel, on every account of the snapshot."""
    before = exposures_of(state)
    after = exposures_of(apply_proposal(state, parse_proposal(state, sets)))
    ones = np.ones(before.n_feeds)
    return before.unit_account, health_factors(before, ones)[:, 0], health_factors(after, ones)[:, 0]


def _check_newly(state: MarketState, sets: list[str], whatif: dict[str, Any]) -> None:
    accounts, now, proposed = _direct(state, sets)
    expected = {str(a) for a, b, c in zip(accounts, now, proposed, strict=True) if b >= 1 > c}
    listed = {r["account"] for r in whatif["newly_liquidatable"]}
    assert listed == expected
    by_account = dict(zip(accounts, zip(now, proposed, strict=True), strict=True))
    for r in whatif["newly_liquidatable"]:
        assert r["health_factor_before"] >= 1 > r["health_factor_after"]
        assert (r["health_factor_before"], r["health_factor_after"]) == pytest.approx(by_account[r["account"]])
    debts = [r["debt_usd"] for r in whatif["newly_liquidatable"]]
    assert debts == sorted(debts, reverse=True)


def test_lowering_a_threshold_on_aave_makes_accounts_liquidatable(synthetic: MarketState) -> None:
    sets = ["WETH.liquidation_threshold=78%", "WETH.ltv=76%"]
    whatif = _whatif(synthetic, sets)
    assert whatif["newly_liquidatable"], "a 5 pp cut of WETH's threshold should liquidate someone"
    _check_newly(synthetic, sets, whatif)
    before, after = whatif["before"], whatif["after"]
    assert after["accounts_liquidatable"] == before["accounts_liquidatable"] + len(whatif["newly_liquidatable"])
    added = sum(r["debt_usd"] for r in whatif["newly_liquidatable"])
    assert after["liquidatable_debt_usd"] == pytest.approx(before["liquidatable_debt_usd"] + added, rel=1e-9)
    changes = {c["parameter"]: c for c in whatif["changes"]}
    assert changes["liquidation_threshold"]["current"] == 0.83
    assert changes["liquidation_threshold"]["within_bounds"] is True
    assert changes["ltv"]["within_bounds"] is True  # 80.5 % → 76 %


def test_bounds_are_flagged_and_configurable(synthetic: MarketState) -> None:
    whatif = _whatif(synthetic, ["WETH.liquidation_threshold=75%", "WETH.ltv=74%", "USDC.supply_cap=2e9"],
                     ("ltv=10%",))
    flags = {(c["asset"], c["parameter"]): (c["max_change"], c["within_bounds"]) for c in whatif["changes"]}
    assert flags[("WETH", "liquidation_threshold")] == (0.05, False)  # 8 pp > 5 pp
    assert flags[("WETH", "ltv")] == (0.10, True)  # 6.5 pp ≤ the 10 pp given
    assert flags[("USDC", "supply_cap")] == (1.0, False)  # from no cap at all


def test_raising_a_threshold_or_a_cap_liquidates_nobody(synthetic: MarketState) -> None:
    whatif = _whatif(synthetic, ["WETH.liquidation_threshold=86%", "USDC.supply_cap=1e9"])
    assert whatif["newly_liquidatable"] == []
    assert whatif["after"]["accounts_liquidatable"] <= whatif["before"]["accounts_liquidatable"]
    caps_only = _whatif(synthetic, ["USDC.supply_cap=1e9", "USDC.borrow_cap=5e8"])
    assert caps_only["before"] == caps_only["after"]


def test_cutting_a_compound_collateral_factor_on_the_real_data(may: MarketState) -> None:
    sets = [f"{CWBTC2}.liquidation_threshold=65%", f"{CWBTC2}.ltv=65%"]
    whatif = _whatif(may, sets)
    newly = whatif["newly_liquidatable"]
    assert newly, "cutting cWBTC2's collateral factor by 5 pp should liquidate WBTC borrowers"
    _check_newly(may, sets, whatif)
    holders = set(may.positions.loc[(may.positions["asset"] == CWBTC2) & (may.positions["collateral"] > 0), "account"])
    assert {r["account"] for r in newly} <= holders
    assert all(c["within_bounds"] for c in whatif["changes"])
    assert {c["asset"] for c in whatif["changes"]} == {f"WBTC@{CWBTC2[:8]}…"}


def test_a_compound_cut_beyond_the_steward_bound_is_flagged(may: MarketState) -> None:
    whatif = _whatif(may, ["USDC.liquidation_threshold=75%", "USDC.ltv=75%"])
    assert all(not c["within_bounds"] for c in whatif["changes"])  # 85.5 % → 75 %: 10.5 pp
    assert len(whatif["newly_liquidatable"]) > 0
