"""The Aave v3 integer reference of one liquidationCall, the version switch and the rules object."""

from __future__ import annotations

from dataclasses import replace

import pytest

from defirisk.adapters.aave_v3.liquidation import (
    CallInputs,
    aave_rules,
    balances_after,
    call_inputs,
    liquidation_call,
    liquidation_call_v30,
    liquidation_call_v33,
    rules_generation,
    rules_version_for_pool_revision,
)
from defirisk.errors import DataError
from defirisk.liquidation.rules import BadDebtPolicy
from defirisk.units import RAY, WAD
from tests.liquidation.factory import RESERVES, make_state

WETH_USDC = CallInputs(
    debt_to_cover=2**256 - 1,
    health_factor=97 * 10**16,
    collateral_balance=10 * WAD,
    variable_debt=15_000 * 10**6,
    collateral_price=2_000 * 10**8,
    debt_price=10**8,
    collateral_decimals=18,
    debt_decimals=6,
    liquidation_bonus=10_500,
    protocol_fee=1_000,
)


def test_half_close_factor_above_095():
    out = liquidation_call_v30(WETH_USDC)
    # 7,500 USDC buy 3.75 WETH; ×1.05 = 3.9375; the bonus part 0.1875, 10 % of it to the treasury.
    assert out.reverted is None
    assert out.debt_repaid == 7_500 * 10**6
    assert out.protocol_fee == 1875 * 10**13
    assert out.collateral_to_liquidator == 391875 * 10**13
    assert out.collateral_seized == 39375 * 10**14
    assert (out.variable_debt_burned, out.stable_debt_burned) == (7_500 * 10**6, 0)
    assert not out.collateral_disabled and not out.borrowing_cleared


def test_full_close_factor_at_and_below_095():
    at = liquidation_call_v30(replace(WETH_USDC, health_factor=95 * 10**16, collateral_balance=100 * WAD))
    above = liquidation_call_v30(replace(WETH_USDC, health_factor=95 * 10**16 + 1, collateral_balance=100 * WAD))
    assert at.debt_repaid == 15_000 * 10**6 and at.borrowing_cleared
    assert above.debt_repaid == 7_500 * 10**6


def test_collateral_cap_shrinks_the_repaid_debt():
    out = liquidation_call_v30(replace(WETH_USDC, collateral_balance=3 * WAD))
    # All 3 WETH are taken; they pay for 6,000 USDC / 1.05 of debt (percentDiv, half up).
    assert out.debt_repaid == 5_714_285_714
    assert out.collateral_seized == 3 * WAD
    assert out.protocol_fee == 14_285_714_285_714_286
    assert out.collateral_to_liquidator == 3 * WAD - 14_285_714_285_714_286
    assert out.collateral_disabled


def test_stable_debt_is_burned_after_variable():
    out = liquidation_call_v30(replace(WETH_USDC, variable_debt=1_000 * 10**6, stable_debt=14_000 * 10**6))
    assert out.debt_repaid == 7_500 * 10**6
    assert (out.variable_debt_burned, out.stable_debt_burned) == (1_000 * 10**6, 6_500 * 10**6)


def test_debt_to_cover_below_the_close_factor_is_used_as_is():
    out = liquidation_call_v30(replace(WETH_USDC, debt_to_cover=1_234_567))
    assert out.debt_repaid == 1_234_567


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"health_factor": WAD}, "HEALTH_FACTOR_NOT_BELOW_THRESHOLD"),
        ({"collateral_enabled": False}, "COLLATERAL_CANNOT_BE_LIQUIDATED"),
        ({"variable_debt": 0}, "SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER"),
        ({"debt_to_cover": 0}, "INVALID_BURN_AMOUNT"),
    ],
)
def test_v30_reverts(change, reason):
    out = liquidation_call_v30(replace(WETH_USDC, **change))
    assert out.reverted == reason and out.debt_repaid == 0 and out.collateral_seized == 0


V33 = replace(
    WETH_USDC,
    variable_debt=8_000 * 10**6,
    total_debt_base=10_000 * 10**8,
    total_collateral_base=30_000 * 10**8,
    collateral_balance=15 * WAD,
)


def test_v33_close_factor_applies_to_the_whole_position():
    out = liquidation_call_v33(V33)
    # Half of the 10,000 total debt; the USDC reserve alone (8,000) could be halved only to 4,000.
    assert out.debt_repaid == 5_000 * 10**6
    assert liquidation_call_v30(replace(V33, total_debt_base=0)).debt_repaid == 4_000 * 10**6


def test_v33_small_positions_and_low_hf_close_fully():
    small = replace(V33, variable_debt=1_500 * 10**6, total_debt_base=1_500 * 10**8)
    assert liquidation_call_v33(small).debt_repaid == 1_500 * 10**6
    low = replace(V33, health_factor=95 * 10**16)
    assert liquidation_call_v33(low).debt_repaid == 8_000 * 10**6


def test_v33_refuses_to_leave_dust():
    # 2,500 USDC debt of 5,000 total: the close factor allows all of it; repaying 2,000 would leave 500.
    inp = replace(V33, variable_debt=2_500 * 10**6, total_debt_base=5_000 * 10**8, debt_to_cover=2_000 * 10**6)
    assert liquidation_call_v33(inp).reverted == "MUST_NOT_LEAVE_DUST"
    assert liquidation_call_v33(replace(inp, debt_to_cover=1_500 * 10**6)).reverted is None
    assert liquidation_call_v33(replace(inp, debt_to_cover=2_500 * 10**6)).debt_repaid == 2_500 * 10**6
    assert liquidation_call_v30(inp).reverted is None


def test_v33_deficit_when_the_last_collateral_is_seized():
    inp = replace(
        V33,
        health_factor=70 * 10**16,
        collateral_balance=3 * WAD,
        total_collateral_base=6_000 * 10**8,
        variable_debt=8_000 * 10**6,
    )
    out = liquidation_call_v33(inp)
    assert out.debt_repaid == 5_714_285_714
    assert out.deficit == 8_000 * 10**6 - 5_714_285_714
    assert out.variable_debt_burned == 8_000 * 10**6
    assert out.burns_other_debt and out.borrowing_cleared
    # Another collateral left: no deficit, the debt stays.
    other = liquidation_call_v33(replace(inp, total_collateral_base=9_000 * 10**8))
    assert other.deficit == 0 and not other.burns_other_debt and other.variable_debt_burned == 5_714_285_714


def test_v33_has_no_stable_debt():
    with pytest.raises(DataError):
        liquidation_call_v33(replace(V33, stable_debt=1))


def test_balances_after_use_scaled_units():
    out = liquidation_call_v30(WETH_USDC)
    index = RAY + RAY // 7
    borrow_index = RAY + RAY // 3
    scaled_c = 10 * WAD * RAY // index
    scaled_d = 15_000 * 10**6 * RAY // borrow_index
    after = balances_after(out, scaled_c, index, scaled_d, borrow_index)
    expected_scaled = scaled_c - (out.collateral_to_liquidator * RAY + index // 2) // index
    expected_scaled -= (out.protocol_fee * RAY + index // 2) // index
    assert after.scaled_collateral == expected_scaled
    assert after.collateral == (expected_scaled * index + RAY // 2) // RAY
    assert after.scaled_variable_debt == scaled_d - (out.variable_debt_burned * RAY + borrow_index // 2) // borrow_index
    assert after.protocol_fee == out.protocol_fee


def test_fee_is_clamped_to_the_balance_left():
    out = liquidation_call_v30(replace(WETH_USDC, collateral_balance=3 * WAD))
    index = 3 * RAY
    scaled = (3 * WAD) // 3 - 1
    after = balances_after(out, scaled, index, 10**6, RAY)
    assert after.scaled_collateral == 0
    assert after.protocol_fee == (scaled - (out.collateral_to_liquidator * RAY + index // 2) // index) * 3


@pytest.mark.parametrize(
    ("revision", "version", "generation"),
    [(1, "3.0", "3.0"), (3, "3.0", "3.0"), (4, "3.1", "3.0"), (6, "3.2.1", "3.0"), (7, "3.3", "3.3"), (10, "3.6", "3.3")],
)
def test_pool_revisions(revision, version, generation):
    assert rules_version_for_pool_revision(revision) == version
    assert rules_generation(version) == generation


@pytest.mark.parametrize("bad", ["", "three", "2.0", "3"])
def test_bad_versions(bad):
    with pytest.raises(DataError):
        rules_generation(bad)
    with pytest.raises(DataError):
        rules_version_for_pool_revision(99)


def test_rules_objects_by_version():
    v30 = aave_rules(make_state(1, rules_version="3.0.2"))
    assert (v30.version, v30.close_factor, v30.full_close_hf, v30.bad_debt) == ("3.0", 0.5, 0.95, BadDebtPolicy.KEEP)
    assert not v30.close_factor_of_position and v30.min_leftover == 0
    v33 = aave_rules(make_state(1, rules_version="3.4"))
    assert v33.close_factor_of_position and v33.bad_debt is BadDebtPolicy.DEFICIT
    assert (v33.full_close_below, v33.min_leftover) == (2000.0, 1000.0)
    with pytest.raises(DataError):
        aave_rules(make_state(1, rules_version=""))
    assert liquidation_call("3.3", V33).debt_repaid == liquidation_call_v33(V33).debt_repaid


def test_call_inputs_use_the_emode_bonus():
    state = make_state(40, seed=5, emode_share=0.5)
    weth = RESERVES[0].asset
    pos = state.positions
    emode_of = state.accounts.set_index("account")["emode_category"]
    debt_asset = pos[pos["debt_raw"] > 0].groupby("account")["asset"].first()
    holders = pos[(pos["asset"] == weth) & (pos["collateral_raw"] > 0)]
    got = {}
    for category in (1, 0):
        row = holders[holders["account"].map(emode_of) == category].iloc[0]
        got[category] = (row, call_inputs(state, row["market"], row["account"], weth, debt_asset[row["account"]], 1))
    row, emode_inputs = got[1]
    assert emode_inputs.liquidation_bonus == 10_100 and got[0][1].liquidation_bonus == 10_500
    assert emode_inputs.collateral_balance == int(row["collateral_raw"]) and emode_inputs.protocol_fee == 1_000
    assert emode_inputs.collateral_price == RESERVES[0].price_raw
    with pytest.raises(DataError):
        call_inputs(state, row["market"], "0x" + "9" * 40, weth, weth, 1)
