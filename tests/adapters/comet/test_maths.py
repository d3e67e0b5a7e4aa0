"""Comet's fixed-point maths, present values and accrual (pure), on hand-computed cases and properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.adapters.comet import maths
from defirisk.adapters.comet.maths import BASE_INDEX_SCALE, Indexes
from defirisk.adapters.comet.structs import RateModel, TotalsBasic
from defirisk.errors import DataError
from tests.adapters.comet import configs

INDEX = st.integers(BASE_INDEX_SCALE, 20 * BASE_INDEX_SCALE)
PRINCIPAL = st.integers(0, 10**24)


def test_present_values_of_a_borrow_and_a_supply() -> None:
    # −1,000 USDC of principal at a borrow index of 1.05 owes 1,050 USDC; 1,000 supplied at 1.02 is 1,020.
    assert maths.present_value(-1_000 * 10**6, 1_020 * 10**12, 1_050 * 10**12) == -1_050 * 10**6
    assert maths.present_value(1_000 * 10**6, 1_020 * 10**12, 1_050 * 10**12) == 1_020 * 10**6
    # Both round down in magnitude: 3 · 1.333… = 3.999… → 3.
    assert maths.present_value(-3, BASE_INDEX_SCALE, 1_333_333_333_333_333) == -3
    assert maths.present_value(3, 1_333_333_333_333_333, BASE_INDEX_SCALE) == 3


def test_principal_of_a_balance_rounds_supply_down_and_borrow_up() -> None:
    index = 1_333_333_333_333_333
    assert maths.principal_value(4, index, index) == 3      # 4 / 1.333… = 3.000…1 → 3
    assert maths.principal_value(-4, index, index) == -4    # rounded up in magnitude → 4
    assert maths.principal_value(-3, index, 1_500_000_000_000_000) == -2


def test_signed_mul_price_truncates_toward_zero() -> None:
    assert maths.signed_mul_price(-1, 1, 2) == 0
    assert maths.signed_mul_price(-3, 10**8, 10**18) == 0
    assert maths.signed_mul_price(-1_790_000_001, 10**8, 10**6) == -179_000_000_100
    assert maths.signed_mul_price(-7, 3, 2) == -10
    assert maths.signed_mul_price(7, 3, 2) == 10


@settings(max_examples=200, deadline=None)
@given(index=INDEX, principal=PRINCIPAL)
def test_borrow_principal_round_trips_exactly(index: int, principal: int) -> None:
    owed = maths.present_value_borrow(index, principal)
    back = maths.principal_value_borrow(index, owed)
    # The smallest principal that owes at least ``owed``: it owes exactly ``owed``, one less owes less.
    assert back <= principal
    assert maths.present_value_borrow(index, back) == owed
    assert back == 0 or maths.present_value_borrow(index, back - 1) < owed


@settings(max_examples=200, deadline=None)
@given(index=INDEX, principal=PRINCIPAL)
def test_supply_principal_round_trips_down(index: int, principal: int) -> None:
    value = maths.present_value_supply(index, principal)
    back = maths.principal_value_supply(index, value)
    # The largest principal worth at most ``value``: never more than was there, short by under one unit.
    assert back <= principal
    assert maths.present_value_supply(index, back) <= value
    assert (back + 1) * index > value * BASE_INDEX_SCALE
    assert value - maths.present_value_supply(index, back) <= index // BASE_INDEX_SCALE + 1


@settings(max_examples=200, deadline=None)
@given(index_s=INDEX, index_b=INDEX, balance=st.integers(-(10**24), 10**24))
def test_signed_principal_keeps_the_sign_and_never_favours_the_account(index_s: int, index_b: int, balance: int) -> None:
    principal = maths.principal_value(balance, index_s, index_b)
    assert (principal > 0) == (balance > 0) or principal == 0
    assert maths.present_value(principal, index_s, index_b) <= balance


def test_principal_wider_than_int104_is_a_revert() -> None:
    with pytest.raises(DataError, match="revert"):
        maths.principal_value(2**103 * BASE_INDEX_SCALE, BASE_INDEX_SCALE, BASE_INDEX_SCALE)


MODEL = RateModel(supply_kink=9 * 10**17, supply_slope_low=10**9, supply_slope_high=5 * 10**9, supply_base=0,
                  borrow_kink=9 * 10**17, borrow_slope_low=2 * 10**9, borrow_slope_high=10**10, borrow_base=10**8)


def totals(supply: int, borrow: int, last: int = 1_000) -> TotalsBasic:
    return TotalsBasic(BASE_INDEX_SCALE, BASE_INDEX_SCALE, 0, 0, supply, borrow, last, 0)


def test_rates_below_and_above_the_kink() -> None:
    # u = 0.8: supply 1e9 · 0.8 = 8e8; borrow 1e8 + 2e9 · 0.8 = 1.7e9 per second.
    u = maths.utilization(totals(1_000 * 10**6, 800 * 10**6))
    assert u == 8 * 10**17
    assert (maths.supply_rate(MODEL, u), maths.borrow_rate(MODEL, u)) == (8 * 10**8, 17 * 10**8)
    # u = 0.95: supply 1e9 · 0.9 + 5e9 · 0.05 = 1.15e9; borrow 1e8 + 2e9 · 0.9 + 1e10 · 0.05 = 2.4e9.
    u = maths.utilization(totals(1_000 * 10**6, 950 * 10**6))
    assert (maths.supply_rate(MODEL, u), maths.borrow_rate(MODEL, u)) == (115 * 10**7, 24 * 10**8)
    assert maths.utilization(totals(0, 0)) == 0


def test_accrual_over_a_thousand_seconds() -> None:
    # At u = 0.8 for 1,000 s: supply index 1e15 · (1 + 8e8 · 1000 / 1e18) = 1e15 + 8e8,
    # borrow index 1e15 + 1.7e9.
    t = totals(1_000 * 10**6, 800 * 10**6, last=5_000)
    assert maths.accrued_indexes(t, MODEL, 6_000) == Indexes(1_000_000_800_000_000, 1_000_001_700_000_000)
    assert maths.accrued_indexes(t, MODEL, 5_000) == Indexes(BASE_INDEX_SCALE, BASE_INDEX_SCALE)
    assert maths.accrued_indexes(t, MODEL, 4_000) == Indexes(BASE_INDEX_SCALE, BASE_INDEX_SCALE)


def test_the_real_cusdcv3_curve_as_the_constructor_stores_it() -> None:
    row = configs.markets()[("mainnet", "usdc")][0]
    model = configs.rate_model(row)
    # borrowBase 1.5 %/year: 0.015e18 // 31,536,000 s.
    assert model.borrow_base == 15 * 10**15 // maths.SECONDS_PER_YEAR == 475_646_879
    # At the 0.8 kink the borrow rate is base + slopeLow · 0.8, per second.
    u = 8 * 10**17
    assert maths.borrow_rate(model, u) == model.borrow_base + model.borrow_slope_low * 8 // 10


@settings(max_examples=100, deadline=None)
@given(supply=st.integers(1, 10**15), share=st.integers(0, 100), elapsed=st.integers(0, 10**8),
       later=st.integers(0, 10**6))
def test_indexes_grow_with_time_on_the_real_curves(supply: int, share: int, elapsed: int, later: int) -> None:
    model = configs.rate_model(configs.markets()[("mainnet", "usdc")][0])
    t = totals(supply, supply * share // 100)
    now = maths.accrued_indexes(t, model, t.last_accrual_time + elapsed)
    after = maths.accrued_indexes(t, model, t.last_accrual_time + elapsed + later)
    assert BASE_INDEX_SCALE <= now.supply <= after.supply
    assert BASE_INDEX_SCALE < now.borrow <= after.borrow or elapsed == 0


def test_reserves_from_the_balance_and_the_totals() -> None:
    t = totals(1_000 * 10**6, 800 * 10**6)
    # 250 held − 1,020 supplied + 840 borrowed = 70.
    assert maths.reserves(250 * 10**6, t, Indexes(1_020 * 10**12, 1_050 * 10**12)) == 70 * 10**6
