"""The float rules the estimator uses, against the integer reference, and value conservation."""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from defirisk.adapters.aave_v3.liquidation import CallInputs, liquidation_call_v30, liquidation_call_v33
from defirisk.liquidation.rules import BadDebtPolicy, LiquidationRules
from defirisk.units import WAD

V30 = LiquidationRules(family="aave-v3", version="3.0", close_factor=0.5, full_close_hf=0.95)
V33 = LiquidationRules(
    family="aave-v3",
    version="3.3",
    close_factor=0.5,
    full_close_hf=0.95,
    close_factor_of_position=True,
    full_close_below=2000.0,
    min_leftover=1000.0,
    bad_debt=BadDebtPolicy.DEFICIT,
)


def test_max_repay():
    hf = np.array([0.99, 0.95, 0.9, 0.99])
    np.testing.assert_allclose(V30.max_repay(hf, [100.0] * 4, [300.0] * 4, [500.0] * 4), [50, 100, 100, 50])
    # v3.3: half of the position (capped by the reserve), full below 2,000 or at HF ≤ 0.95.
    got = V33.max_repay(
        np.array([0.99, 0.99, 0.99, 0.9]),
        np.array([8000.0, 3000.0, 1500.0, 8000.0]),
        np.array([10000.0, 10000.0, 1500.0, 10000.0]),
        np.array([9000.0, 9000.0, 9000.0, 9000.0]),
    )
    np.testing.assert_allclose(got, [5000, 3000, 1500, 8000])


def test_seize_caps_by_collateral():
    s = V30.seize(np.array([100.0, 100.0]), np.array([1000.0, 52.5]), np.array([0.05, 0.05]), np.array([0.1, 0.1]))
    np.testing.assert_allclose(s.repay, [100.0, 50.0])
    np.testing.assert_allclose(s.seized, [105.0, 52.5])
    np.testing.assert_allclose(s.protocol_fee, [0.5, 0.25])
    np.testing.assert_allclose(s.liquidator_bonus, [4.5, 2.25])


def test_repay_options_avoid_dust():
    lo, hi = V33.repay_options(
        desired=np.array([2000.0, 500.0, 2400.0]),
        max_repay=np.array([2500.0, 2500.0, 2000.0]),
        reserve_debt=np.array([2500.0, 2500.0, 2500.0]),
        reserve_collateral=np.array([9000.0, 9000.0, 9000.0]),
        bonus=np.array([0.05, 0.05, 0.05]),
    )
    # Repaying 2,000 of 2,500 leaves 500 < 1,000: either 1,500 or all 2,500.
    np.testing.assert_allclose(lo, [1500.0, 500.0, 1500.0])
    np.testing.assert_allclose(hi[:2], [2500.0, 500.0])
    assert np.isnan(hi[2])  # the close factor forbids clearing
    same = V30.repay_options(np.array([2000.0]), np.array([2500.0]), np.array([2500.0]), np.array([9000.0]), np.array([0.05]))
    assert same[0][0] == same[1][0] == 2000.0


def test_write_off_by_policy():
    hf, coll, debt = np.array([0.0, np.inf, 1.2]), np.array([0.0, 0.0, 5.0]), np.array([3.0, 0.0, 3.0])
    assert not V30.write_off(hf, coll, debt).any()
    assert V33.write_off(hf, coll, debt).tolist() == [True, False, False]


decimals = st.sampled_from([6, 8, 18])
prices = st.integers(10**4, 10**13)


@st.composite
def call_inputs(draw):
    cd, dd = draw(decimals), draw(decimals)
    cp, dp = draw(prices), draw(prices)
    hf = draw(st.integers(WAD // 2, WAD - 1))
    assume(abs(hf - 95 * 10**16) > 10**9)
    # Balances worth between $1 and $10^9 of base currency (8 decimals) each.
    coll_value = draw(st.integers(10**8, 10**17))
    debt_value = draw(st.integers(10**8, 10**17))
    coll = coll_value * 10**cd // cp
    debt = debt_value * 10**dd // dp
    assume(coll > 10**3 and debt > 10**3)
    return CallInputs(
        debt_to_cover=draw(st.one_of(st.just(2**256 - 1), st.integers(1, 2 * debt))),
        health_factor=hf,
        collateral_balance=coll,
        variable_debt=debt,
        collateral_price=cp,
        debt_price=dp,
        collateral_decimals=cd,
        debt_decimals=dd,
        liquidation_bonus=draw(st.integers(10_050, 11_500)),
        protocol_fee=draw(st.integers(0, 3_000)),
        total_collateral_base=coll * cp // 10**cd + draw(st.integers(0, 10**15)),
        total_debt_base=debt * dp // 10**dd + draw(st.integers(0, 10**15)),
    )


def _float_call(rules: LiquidationRules, inp: CallInputs) -> tuple[float, float, float]:
    """(repaid debt, collateral to the liquidator, fee) in token units from the float rules."""
    cp, dp = inp.collateral_price / 1e8, inp.debt_price / 1e8
    coll_value = inp.collateral_balance / 10**inp.collateral_decimals * cp
    debt_value = inp.variable_debt / 10**inp.debt_decimals * dp
    wanted = min(inp.debt_to_cover, 10**40) / 10**inp.debt_decimals * dp
    hf = np.array([inp.health_factor / WAD])
    cap = rules.max_repay(hf, np.array([debt_value]), np.array([inp.total_debt_base / 1e8]), np.array([coll_value]))
    s = rules.seize(np.minimum(cap, wanted), np.array([coll_value]), np.array([inp.liquidation_bonus / 1e4 - 1]), np.array([inp.protocol_fee / 1e4]))
    to_tokens = 10**inp.collateral_decimals / cp
    return (
        float(s.repay[0]) / dp * 10**inp.debt_decimals,
        float(s.to_liquidator[0]) * to_tokens,
        float(s.protocol_fee[0]) * to_tokens,
    )


def _slack(inp: CallInputs, base_rounding: bool = False) -> tuple[float, float]:
    """Rounding slack (debt units, collateral units): a few units, plus one unit of the other token.

    The contracts round in both tokens (``percentMul`` of the debt, ``//`` in collateral units), so
    half a debt unit of difference is worth ``debt unit value / collateral unit value`` collateral units.
    v3.3 also floors the close-factor amount in base-currency units (1e-8 of the base currency).
    """
    debt_unit = inp.debt_price / 10**inp.debt_decimals
    coll_unit = inp.collateral_price / 10**inp.collateral_decimals
    debt, coll = 4 + 2 * coll_unit / debt_unit, 4 + 2.5 * debt_unit / coll_unit
    if base_rounding:
        debt += 2 / debt_unit
        coll += 2.5 / coll_unit
    return debt, coll


def _close(a: float, b: int, slack: float) -> bool:
    return abs(a - b) <= slack + 1e-9 * abs(b)


@settings(max_examples=300, deadline=None)
@given(call_inputs())
def test_float_rules_agree_with_the_v30_reference(inp):
    ref = liquidation_call_v30(inp)
    assume(ref.reverted is None)
    repaid, to_liq, fee = _float_call(V30, inp)
    debt_slack, coll_slack = _slack(inp)
    assert _close(repaid, ref.debt_repaid, debt_slack)
    assert _close(to_liq, ref.collateral_to_liquidator, coll_slack)
    assert _close(fee, ref.protocol_fee, coll_slack)


@settings(max_examples=300, deadline=None)
@given(call_inputs())
def test_float_rules_agree_with_the_v33_model(inp):
    ref = liquidation_call_v33(inp)
    assume(ref.reverted is None)
    # The base-currency thresholds compare floored integers; stay clear of their edges.
    for value in (inp.variable_debt * inp.debt_price // 10**inp.debt_decimals,
                  inp.collateral_balance * inp.collateral_price // 10**inp.collateral_decimals):
        assume(abs(value - 2000 * 10**8) > 10**3)
    repaid, to_liq, fee = _float_call(V33, inp)
    debt_slack, coll_slack = _slack(inp, base_rounding=True)
    assert _close(repaid, ref.debt_repaid, debt_slack)
    assert _close(to_liq, ref.collateral_to_liquidator, coll_slack)
    assert _close(fee, ref.protocol_fee, coll_slack)


@settings(max_examples=300, deadline=None)
@given(call_inputs())
def test_value_is_conserved_in_the_reference(inp):
    """Repaid value + bonus (liquidator's and protocol's) = seized value, at the call's prices."""
    out = liquidation_call_v30(inp)
    assume(out.reverted is None)
    seized_value = out.collateral_seized * inp.collateral_price * 10**inp.debt_decimals
    repaid_value = out.debt_repaid * inp.debt_price * 10**inp.collateral_decimals
    bonus = inp.liquidation_bonus / 10_000
    # Rounding: a unit of either token, magnified by the bonus factor, on each side.
    slack = 2 * (inp.collateral_price * 10**inp.debt_decimals + inp.debt_price * 10**inp.collateral_decimals)
    assert abs(seized_value - repaid_value * bonus) <= slack + 1e-12 * seized_value


@settings(max_examples=200, deadline=None)
@given(
    repay=st.floats(0, 1e9),
    collateral=st.floats(0, 1e9),
    bonus=st.floats(0, 0.2),
    fee=st.floats(0, 0.5),
)
def test_value_is_conserved_in_the_float_rules(repay, collateral, bonus, fee):
    s = V30.seize(np.array([repay]), np.array([collateral]), np.array([bonus]), np.array([fee]))
    assert s.seized[0] <= collateral * (1 + 1e-15)
    assert s.repay[0] <= repay * (1 + 1e-15)
    np.testing.assert_allclose(s.repay + s.liquidator_bonus + s.protocol_fee, s.seized, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(s.seized, s.repay * (1 + bonus), rtol=1e-12, atol=1e-9)
    assert s.liquidator_bonus[0] >= -1e-9
