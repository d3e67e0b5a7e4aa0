"""The Comet family: exposures against the integer reference, and absorb through the estimator's cascade."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from defirisk.adapters.comet import reference as ref
from defirisk.adapters.comet.accounts import Holding
from defirisk.adapters.comet.family import CometFamily
from defirisk.adapters.comet.frames import market_state
from defirisk.adapters.comet.liquidation import CometRules, comet_rules
from defirisk.adapters.comet.maths import FACTOR_SCALE, mul_factor, present_value, signed_mul_price
from defirisk.adapters.comet.structs import UserBasic
from defirisk.engine.kernel import health_factors
from defirisk.errors import DataError
from defirisk.liquidation.cascade import CascadeSettings, simulate
from defirisk.liquidation.economics import Economics
from defirisk.liquidation.liquidity import Curve, LiquidityBook
from tests.adapters.comet.factory import make_market, make_state, meta

FAMILY = CometFamily()


def exact_hf(market, h) -> float:
    """Σ mulFactor(mulPrice(balance), liquidateCF) ÷ the debt in price units, at the accrued indexes."""
    weighted = sum(mul_factor(ref.collateral_value(market.view, a.offset, h.collateral[a.asset]),
                              a.liquidate_collateral_factor) for a in market.assets if h.user.holds(a.offset))
    debt = -signed_mul_price(present_value(h.user.principal, market.indexes.supply, market.indexes.borrow),
                             market.base_price, market.base_scale)
    return weighted / debt if debt > 0 else float("inf")


def test_exposures_weights_and_absorb_terms() -> None:
    state, _, _ = make_state(30)
    x = FAMILY.exposures(state)
    assert x.n_units == 30 and x.n_feeds == 6 and x.base_usd == 1.0
    weth = state.positions["asset"] == "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
    assert set(x.liq_weight[weth.to_numpy()]) == {0.895}
    assert set(x.borrow_weight[weth.to_numpy()]) == {0.825}
    # bonus 1/LF − 1 = 0.05 / 0.95; protocol fee 1 − SF = 0.5 (storeFrontPriceFactor 0.5).
    np.testing.assert_allclose(x.bonus[weth.to_numpy()], 0.05 / 0.95, rtol=1e-15)
    assert set(x.protocol_fee[weth.to_numpy()]) == {0.5}
    base = ~state.positions["collateral_enabled"].to_numpy(dtype=bool)
    assert not x.liq_weight[base].any() and not x.bonus[base].any() and not x.protocol_fee[base].any()


def test_engine_health_factors_equal_the_integer_reference() -> None:
    state, market, holdings = make_state(300, seed=7)
    x = FAMILY.exposures(state)
    hf = health_factors(x, np.ones(x.n_feeds))[:, 0]
    index = {a: i for i, a in enumerate(x.unit_account)}
    exact = np.array([exact_hf(market, h) for h in holdings])
    got = np.array([hf[index[h.account]] for h in holdings])
    finite = np.isfinite(exact)
    assert finite.sum() > 200 and (exact[finite] < 1).sum() > 20
    np.testing.assert_allclose(got[finite], exact[finite], rtol=1e-9)
    assert np.isinf(got[~finite]).all()
    # HF < 1 is the contract's isLiquidatable at these (accrued) indexes, away from the 1e-9 band.
    for h, value in zip(holdings, exact, strict=True):
        if abs(value - 1) > 1e-9:
            assert (value < 1) == ref.is_liquidatable(market.view, h.user, h.collateral, market.indexes)


def test_rules_need_the_known_version() -> None:
    state, _, _ = make_state(2)
    rules = FAMILY.liquidation_rules(state)
    assert isinstance(rules, CometRules) and rules.family == "comet"
    with pytest.raises(DataError, match="rules version"):
        comet_rules(replace(state, meta=replace(state.meta, rules_version="0.9")))


def test_absorb_rules_take_everything_and_write_off_what_the_collateral_does_not_cover() -> None:
    state, _, _ = make_state(2)
    rules = FAMILY.liquidation_rules(state)
    np.testing.assert_array_equal(rules.liquidatable(np.array([0.99, 1.0, 1.2])), [True, False, False])
    np.testing.assert_array_equal(rules.max_repay(np.array([0.5, 0.99]), np.array([100.0, 7.0]),
                                                  np.array([100.0, 7.0]), np.array([1.0, 1e6])), [100.0, 7.0])
    # One WETH worth 1,400 against 1,800: credit 1,400 × 0.95 = 1,330, the reserves' gain on the sale
    # 1,400 × 0.05 × 0.5 = 35, the buyer gets 1,400 − 35 and gains 1,400 × 0.025 = 35.
    s = rules.seize(np.array([1_800.0]), np.array([1_400.0]), np.array([0.05 / 0.95]), np.array([0.5]))
    np.testing.assert_allclose([s.repay[0], s.seized[0], s.protocol_fee[0], s.to_liquidator[0]],
                               [1_330.0, 1_400.0, 35.0, 1_365.0], rtol=1e-12)
    np.testing.assert_allclose(s.liquidator_bonus, [35.0], rtol=1e-12)
    np.testing.assert_array_equal(rules.write_off(np.array([0.0, 0.5]), np.array([0.0, 10.0]), np.array([470.0, 5.0])),
                                  [True, False])


def one_account(balances: dict[str, int], principal: int):
    market = make_market()
    offsets = {a.asset: a.offset for a in market.assets}
    user = UserBasic(principal, 0, 0, sum(1 << offsets[a] for a in balances))
    holding = Holding("0x" + "77" * 20, user, balances)
    return market, holding, market_state(meta(market), market, [holding])


@pytest.mark.parametrize("with_wbtc", [False, True])
def test_the_cascade_absorbs_like_the_contract(with_wbtc: bool) -> None:
    weth, wbtc = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599"
    balances = {weth: 10**18, **({wbtc: 10**6} if with_wbtc else {})}  # 1 WETH (+ 0.01 WBTC)
    market, holding, state = one_account(balances, -2_000 * 10**6)
    x = FAMILY.exposures(state)
    rules = FAMILY.liquidation_rules(state)
    # WETH falls from 3,000 to 1,400 and stays there.
    mult = np.ones((1, 3, x.n_feeds))
    mult[:, :, list(x.feed_asset).index(weth)] = 1_400 / 3_000
    book = LiquidityBook([Curve(kind="constant_product", depth_usd=1e15)] * x.n_feeds)
    groups = np.arange(x.n_feeds)
    econ = Economics(gas_units=0.0, gas_price_gwei=0.0, builder_share=0.0, eth_price_usd=1.0)
    got = simulate(x, rules, econ, book, groups[x.pos_asset], groups, mult, None, CascadeSettings())

    prices = list(market.prices)
    prices[4] = 1_400 * 10**8
    absorbed = ref.absorb(replace(market.view, prices=tuple(prices)), holding.user, holding.collateral, market.indexes)
    value = sum(absorbed.values.values()) / 1e8
    assert got.steps["calls"][0, 0] == len(balances)
    np.testing.assert_allclose(got.steps["seized"][0, 0], value, rtol=1e-9)
    np.testing.assert_allclose(got.steps["repaid"][0, 0], absorbed.credit / 1e6, rtol=1e-9)
    np.testing.assert_allclose(got.steps["deficit"][0, -1], absorbed.bad_debt / 1e6, rtol=1e-9)
    np.testing.assert_allclose(got.steps["bad_debt"][0, -1], absorbed.bad_debt / 1e6, rtol=1e-9)
    discount = [ref.storefront_discount(market.store_front_price_factor, a.liquidation_factor) / FACTOR_SCALE
                for a in market.assets]
    gain = sum(v / 1e8 * discount[[a.asset for a in market.assets].index(k)] for k, v in absorbed.values.items())
    np.testing.assert_allclose(got.steps["liquidator_profit"][0, 0], gain, rtol=1e-6)
    assert absorbed.bad_debt > 0
