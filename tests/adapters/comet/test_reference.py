"""The integer reference of Comet's account checks, ``absorb`` and ``quoteCollateral`` (pure).

Hand-computed cases on the Ethereum cUSDCv3 WETH configuration (borrowCF 0.825, liquidateCF 0.895,
liquidationFactor 0.95, storeFrontPriceFactor 0.5, from ``comet_params.csv``) at illustrative prices,
then properties over random accounts of that market.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from defirisk.adapters.comet import reference as ref
from defirisk.adapters.comet.maths import BASE_INDEX_SCALE, FACTOR_SCALE, Indexes, present_value
from defirisk.adapters.comet.structs import UserBasic
from defirisk.errors import DataError
from tests.adapters.comet.factory import make_market

WETH_OFFSET = 4
UNIT = Indexes(BASE_INDEX_SCALE, BASE_INDEX_SCALE)


def view(weth_price: int = 2_000 * 10**8):
    m = make_market()
    prices = list(m.prices)
    prices[WETH_OFFSET] = weth_price
    return replace(m.view, prices=tuple(prices))


WETH = make_market().assets[WETH_OFFSET].asset


def one_weth_owing(debt_usdc_units: int) -> tuple[UserBasic, dict[str, int]]:
    return UserBasic(-debt_usdc_units, 0, 0, 1 << WETH_OFFSET), {WETH: 10**18}


def test_liquidatable_exactly_past_the_liquidation_factor() -> None:
    # 1 WETH at 2,000 counts 2,000 × 0.895 = 1,790 USD: a debt of 1,790 USDC leaves liquidity 0 (safe),
    # one more base unit makes it −100 (price units) and liquidatable.
    user, balances = one_weth_owing(1_790 * 10**6)
    assert ref.liquidity(view(), user, balances, UNIT, "liquidate") == 0
    assert not ref.is_liquidatable(view(), user, balances, UNIT)
    user, balances = one_weth_owing(1_790 * 10**6 + 1)
    assert ref.liquidity(view(), user, balances, UNIT, "liquidate") == -100
    assert ref.is_liquidatable(view(), user, balances, UNIT)


def test_borrow_collateralized_up_to_the_borrow_factor() -> None:
    # 2,000 × 0.825 = 1,650 USDC may be borrowed.
    assert ref.is_borrow_collateralized(view(), *one_weth_owing(1_650 * 10**6), UNIT)
    assert not ref.is_borrow_collateralized(view(), *one_weth_owing(1_650 * 10**6 + 1), UNIT)
    assert ref.is_borrow_collateralized(view(), UserBasic(5, 0, 0, 0), {}, UNIT)


def test_only_collaterals_marked_in_the_bitmap_count() -> None:
    user = UserBasic(-1_000 * 10**6, 0, 0, 0)
    assert ref.is_liquidatable(view(), user, {WETH: 10**18}, UNIT)
    assert not ref.is_liquidatable(view(), replace(user, assets_in=1 << WETH_OFFSET), {WETH: 10**18}, UNIT)


def test_a_debt_too_small_to_price_is_not_liquidatable() -> None:
    # An 18-decimal base (WETH market): 1 wei of debt × 1e8 / 1e18 truncates toward zero to 0.
    m = replace(view(), base_scale=10**18)
    assert not ref.is_liquidatable(m, UserBasic(-1, 0, 0, 0), {}, UNIT)
    assert ref.is_liquidatable(m, UserBasic(-(10**10), 0, 0, 0), {}, UNIT)


def test_the_view_uses_the_indexes_it_is_given() -> None:
    # The same principal owes 5 % more at a borrow index of 1.05: liquidatable there, not at 1.0.
    user, balances = one_weth_owing(1_750 * 10**6)
    assert not ref.is_liquidatable(view(), user, balances, UNIT)
    assert ref.is_liquidatable(view(), user, balances, Indexes(BASE_INDEX_SCALE, 1_050 * 10**12))


def test_absorb_with_a_surplus() -> None:
    # Debt 1,800, 1 WETH at 2,000: credit 2,000 × 0.95 = 1,900 → the account keeps 100 USDC of supply.
    out = ref.absorb(view(), *one_weth_owing(1_800 * 10**6), UNIT)
    assert (out.debt, out.credit, out.bad_debt, out.surplus) == (1_800 * 10**6, 1_900 * 10**6, 0, 100 * 10**6)
    assert out.seized == {WETH: 10**18} and out.values == {WETH: 2_000 * 10**8}
    assert (out.base_paid_out, out.new_principal) == (1_900 * 10**6, 100 * 10**6)
    assert (out.repay_principal, out.supply_principal) == (1_800 * 10**6, 100 * 10**6)


def test_absorb_with_bad_debt() -> None:
    # WETH at 1,500: credit 1,425 against a debt of 1,800 → the reserves absorb 375 USDC.
    out = ref.absorb(view(1_500 * 10**8), *one_weth_owing(1_800 * 10**6), UNIT)
    assert (out.credit, out.bad_debt, out.surplus, out.new_principal) == (1_425 * 10**6, 375 * 10**6, 0, 0)
    assert (out.base_paid_out, out.repay_principal, out.supply_principal) == (1_800 * 10**6, 1_800 * 10**6, 0)


def test_absorb_refuses_a_healthy_account() -> None:
    with pytest.raises(DataError, match="NotLiquidatable"):
        ref.absorb(view(), *one_weth_owing(1_000 * 10**6), UNIT)


def test_storefront_quote() -> None:
    # discount = 0.5 × (1 − 0.95) = 2.5 %: 1,950 USDC buy one WETH priced 2,000.
    assert ref.storefront_discount(5 * 10**17, 95 * 10**16) == 25 * 10**15
    assert ref.quote_collateral(view(), WETH_OFFSET, 1_950 * 10**6) == 10**18
    assert ref.quote_collateral(view(), WETH_OFFSET, 1_950 * 10**6 - 1) == 10**18 - 512_820_513


def test_buy_collateral_checks() -> None:
    kwargs = {"target_reserves": 5_000_000 * 10**6, "collateral_reserves": 10**18}
    assert ref.buy_collateral(view(), WETH_OFFSET, 1_950 * 10**6, reserves=-5, **kwargs) == 10**18
    with pytest.raises(DataError, match="NotForSale"):
        ref.buy_collateral(view(), WETH_OFFSET, 1_950 * 10**6, reserves=5_000_000 * 10**6, **kwargs)
    with pytest.raises(DataError, match="InsufficientReserves"):
        ref.buy_collateral(view(), WETH_OFFSET, 1_951 * 10**6, reserves=0, **kwargs)
    with pytest.raises(DataError, match="TooMuchSlippage"):
        ref.buy_collateral(view(), WETH_OFFSET, 1_950 * 10**6, reserves=0, min_amount=10**18 + 1, **kwargs)


# Random accounts of the market: a collateral bitmap, balances, a principal, indexes and prices.
MARKET = make_market()


@st.composite
def accounts(draw):
    n = len(MARKET.assets)
    bitmap = draw(st.integers(0, 2**n - 1))
    balances = {a.asset: draw(st.integers(1, 10**6 * a.scale)) for a in MARKET.assets if bitmap >> a.offset & 1}
    principal = draw(st.integers(-(10**15), 10**12))
    indexes = Indexes(draw(st.integers(BASE_INDEX_SCALE, 2 * BASE_INDEX_SCALE)),
                      draw(st.integers(BASE_INDEX_SCALE, 3 * BASE_INDEX_SCALE)))
    prices = tuple(draw(st.integers(1, 10**14)) for _ in range(n))
    base_price = draw(st.integers(9 * 10**7, 11 * 10**7))
    return replace(MARKET.view, prices=prices, base_price=base_price), UserBasic(principal, 0, 0, bitmap), balances, indexes


@settings(max_examples=300, deadline=None)
@given(case=accounts(), cut=st.integers(0, 10**4), which=st.integers(0, 4))
def test_a_lower_collateral_price_never_makes_an_account_less_liquidatable(case, cut: int, which: int) -> None:
    v, user, balances, indexes = case
    lower = list(v.prices)
    lower[which] = max(1, lower[which] * (10**4 - cut) // 10**4)
    cheaper = replace(v, prices=tuple(lower))
    assert ref.liquidity(cheaper, user, balances, indexes, "liquidate") <= ref.liquidity(v, user, balances, indexes, "liquidate")
    if ref.is_liquidatable(v, user, balances, indexes):
        assert ref.is_liquidatable(cheaper, user, balances, indexes)


@settings(max_examples=300, deadline=None)
@given(case=accounts())
def test_borrow_collateralized_accounts_are_never_liquidatable(case) -> None:
    v, user, balances, indexes = case
    if ref.is_borrow_collateralized(v, user, balances, indexes):
        assert not ref.is_liquidatable(v, user, balances, indexes)


@settings(max_examples=300, deadline=None)
@given(case=accounts())
def test_absorb_conserves_value(case) -> None:
    v, user, balances, indexes = case
    assume(ref.is_liquidatable(v, user, balances, indexes))
    out = ref.absorb(v, user, balances, indexes)
    # Collateral value × liquidationFactor (in base) + bad debt − what the account keeps = the debt absorbed.
    assert out.credit + out.bad_debt - out.surplus == out.debt == -present_value(user.principal, indexes.supply, indexes.borrow)
    assert out.bad_debt >= 0 and out.surplus >= 0 and (out.bad_debt == 0 or out.surplus == 0)
    assert out.base_paid_out == out.debt + out.surplus
    assert out.seized == {a.asset: balances[a.asset] for a in v.assets if user.holds(a.offset)}
    # The credit is Σ value × LF converted at the base price, rounded down once.
    weighted = sum(value * v.assets[[a.asset for a in v.assets].index(asset)].liquidation_factor // FACTOR_SCALE
                   for asset, value in out.values.items())
    assert out.credit == weighted * v.base_scale // v.base_price
    # The new principal is worth what the account keeps (supply rounds down, by under one principal unit).
    assert out.new_principal >= 0
    assert 0 <= out.surplus - present_value(out.new_principal, indexes.supply, indexes.borrow) <= indexes.supply // BASE_INDEX_SCALE + 1


@settings(max_examples=300, deadline=None)
@given(case=accounts(), which=st.integers(0, 4), price=st.integers(10**6, 10**14), paid=st.integers(1, 10**13))
def test_a_buyer_never_receives_less_than_paid_at_oracle_prices(case, which: int, price: int, paid: int) -> None:
    v, _, _, _ = case
    prices = list(v.prices)
    prices[which] = price
    v = replace(v, prices=tuple(prices))
    got = ref.quote_collateral(v, which, paid)
    info = v.assets[which]
    d = ref.storefront_discount(v.store_front_price_factor, info.liquidation_factor)
    discounted = price * (FACTOR_SCALE - d) // FACTOR_SCALE
    # Exactly: got = ⌊paid · basePrice · scale / discounted / baseScale⌋, so at the oracle price the buyer
    # gets at least what was paid less one collateral unit, and at most paid / (1 − d), up to the
    # truncation of the discounted price (relative 1 / discounted).
    paid_value = paid * v.base_price * info.scale * FACTOR_SCALE
    got_value = got * price * v.base_scale * FACTOR_SCALE
    assert got_value >= paid_value - price * v.base_scale * FACTOR_SCALE
    assert got * (FACTOR_SCALE - d) * price * v.base_scale <= paid * v.base_price * info.scale * FACTOR_SCALE * (
        discounted + 1) // discounted
    with pytest.raises(DataError, match="divides by zero"):
        ref.quote_collateral(replace(v, prices=tuple(1 if i == which else p for i, p in enumerate(prices))), which, paid)
