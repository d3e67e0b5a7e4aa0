"""SharesMathLib, MathLib and the liquidation incentive factor on Python ints (pure, hypothesis)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.adapters.morpho_blue.maths import (
    MAX_LIQUIDATION_INCENTIVE_FACTOR,
    VIRTUAL_ASSETS,
    VIRTUAL_SHARES,
    MarketTotals,
    accrue_interest,
    liquidation_incentive_factor,
    to_assets_down,
    to_assets_up,
    to_shares_down,
    to_shares_up,
    w_taylor_compounded,
)
from defirisk.units import WAD

U128 = 2**128 - 1
totals = st.tuples(st.integers(0, 10**30), st.integers(0, 10**36))
amounts = st.integers(0, 10**30)
lltvs = st.integers(0, WAD - 1)


@settings(max_examples=300, deadline=None)
@given(shares=amounts, market=totals)
def test_assets_of_shares_bracket_the_exact_value_and_round_for_the_protocol(shares: int, market: tuple) -> None:
    assets, total_shares = market
    exact = Fraction(shares * (assets + VIRTUAL_ASSETS), total_shares + VIRTUAL_SHARES)
    down, up = to_assets_down(shares, assets, total_shares), to_assets_up(shares, assets, total_shares)
    assert down <= exact <= up
    assert up - down == (0 if exact.denominator == 1 else 1)


@settings(max_examples=300, deadline=None)
@given(amount=amounts, market=totals)
def test_shares_of_assets_bracket_the_exact_value(amount: int, market: tuple) -> None:
    assets, total_shares = market
    exact = Fraction(amount * (total_shares + VIRTUAL_SHARES), assets + VIRTUAL_ASSETS)
    assert to_shares_down(amount, assets, total_shares) <= exact <= to_shares_up(amount, assets, total_shares)


@settings(max_examples=300, deadline=None)
@given(amount=amounts, market=totals)
def test_round_trips_never_give_a_user_more_than_they_put_in(amount: int, market: tuple) -> None:
    """Supply (shares down) then withdraw (assets down) returns at most ``amount``; borrow (shares up)
    then repay (assets up) costs at least ``amount``: every rounding favours the protocol."""
    assets, total_shares = market
    assert to_assets_down(to_shares_down(amount, assets, total_shares), assets, total_shares) <= amount
    assert to_assets_up(to_shares_up(amount, assets, total_shares), assets, total_shares) >= amount


@settings(max_examples=300, deadline=None)
@given(lltv=lltvs)
def test_lif_is_the_documented_formula_capped_at_1_15(lltv: int) -> None:
    lif = liquidation_incentive_factor(lltv)
    exact = min(Fraction(115, 100), 1 / (Fraction(3, 10) * Fraction(lltv, WAD) + Fraction(7, 10)))
    assert WAD <= lif <= MAX_LIQUIDATION_INCENTIVE_FACTOR
    # wMulDown then wDivDown: the integer is below the exact value by less than 2 wei.
    assert 0 <= exact * WAD - lif < 2


@settings(max_examples=200, deadline=None)
@given(a=lltvs, b=lltvs)
def test_lif_never_rises_with_the_lltv(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert liquidation_incentive_factor(low) >= liquidation_incentive_factor(high)


@pytest.mark.parametrize(("lltv", "lif"), [
    (86 * 10**16, 1_043_841_336_116_910_229),   # 1 / 0.958
    (945 * 10**15, 1_016_776_817_488_561_260),  # 1 / 0.9835
    (385 * 10**15, MAX_LIQUIDATION_INCENTIVE_FACTOR),  # 1 / 0.8155 = 1.226…: capped
    (0, MAX_LIQUIDATION_INCENTIVE_FACTOR),
])
def test_lif_at_listed_lltvs(lltv: int, lif: int) -> None:
    assert liquidation_incentive_factor(lltv) == lif


@settings(max_examples=200, deadline=None)
@given(rate=st.integers(0, 10**11), elapsed=st.integers(0, 10**8))
def test_taylor_compounding_is_below_the_exponential_and_above_simple_interest(rate: int, elapsed: int) -> None:
    growth = w_taylor_compounded(rate, elapsed)
    assert rate * elapsed <= growth
    assert growth <= math.expm1(rate * elapsed / WAD) * WAD * (1 + 1e-12) + 1


def test_accrual_with_a_fee_mints_the_fee_recipient_shares_worth_the_fee() -> None:
    market = MarketTotals(1_000_000 * 10**6, 10**18, 500_000 * 10**6, 5 * 10**17, 1_000, 10**17)
    rate = 10**18 // (365 * 86_400)  # 100 % a year
    after = accrue_interest(market, rate, 1_000 + 86_400)
    interest = after.total_borrow_assets - market.total_borrow_assets
    assert interest == after.total_supply_assets - market.total_supply_assets > 0
    fee_shares = after.total_supply_shares - market.total_supply_shares
    fee_value = to_assets_down(fee_shares, after.total_supply_assets, after.total_supply_shares)
    # The fee is 10 % of the interest; shares are minted rounding down, so worth at most that.
    assert interest // 10 - 2 <= fee_value <= interest // 10
    assert after.last_update == 1_000 + 86_400


def test_no_accrual_without_irm_elapsed_time_or_borrows() -> None:
    market = MarketTotals(10**12, 10**18, 10**11, 10**17, 500, 0)
    assert accrue_interest(market, 10**12, 500).as_tuple() == market.as_tuple()
    assert accrue_interest(market, 10**12, 900, has_irm=False).total_borrow_assets == market.total_borrow_assets
    empty = MarketTotals(10**12, 10**18, 0, 0, 500, 0)
    assert accrue_interest(empty, 10**12, 900).total_supply_assets == 10**12
