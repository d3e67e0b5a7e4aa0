"""The family's exposures: feeds per underlying, weights, and agreement with the integer reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.adapters.compound_v2.family import CompoundV2Family
from defirisk.adapters.compound_v2.reference import CompoundV2Reference
from defirisk.errors import DataError
from defirisk.model import Exposures, MarketState

from .synthetic import Market, make_state

CWBTC2 = "0xccf4429db6322d5c611ee964527d42e5d685dd6a"
CWBTC_LEGACY = "0xc11b1268c1a384e55c48c2391d8d480264a3a7f4"


def _sums(exposures: Exposures) -> tuple[np.ndarray, np.ndarray]:
    """Borrowing power and borrow value per unit (ETH): the numerator and denominator of HF."""
    price = exposures.price[exposures.pos_feed]
    n = exposures.n_units
    power = np.bincount(exposures.pos_unit, exposures.collateral * exposures.liq_weight * price, minlength=n)
    borrow = np.bincount(exposures.pos_unit, exposures.debt * price, minlength=n)
    return power, borrow


def test_feeds_are_per_underlying(may_state: MarketState) -> None:
    exposures = CompoundV2Family().exposures(may_state)
    assert exposures.n_feeds == 18  # 19 markets, two of them WBTC
    assert exposures.n_units == 29_369
    wbtc = exposures.feed_index("WBTC")
    asset_of = may_state.assets["asset"].to_numpy()
    wbtc_positions = np.isin(asset_of[exposures.pos_asset], [CWBTC2, CWBTC_LEGACY])
    assert wbtc_positions.sum() > 500
    assert (exposures.pos_feed[wbtc_positions] == wbtc).all()
    assert exposures.price[exposures.feed_index("ETH")] == 1.0
    assert exposures.base_usd == may_state.meta.base_currency_usd


def test_weights_are_the_collateral_factor_of_enabled_supplies(may_state: MarketState) -> None:
    exposures = CompoundV2Family().exposures(may_state)
    cf = may_state.assets["liquidation_threshold"].to_numpy()[exposures.pos_asset]
    enabled = may_state.positions["collateral_enabled"].to_numpy()
    assert np.array_equal(exposures.liq_weight, np.where(enabled, cf, 0.0))
    assert np.array_equal(exposures.borrow_weight, exposures.liq_weight)
    assert np.allclose(exposures.bonus, 0.08) and np.allclose(exposures.protocol_fee, 0.378)


def _two_markets(cf: int = 8 * 10**17) -> list[Market]:
    return [
        Market("0x" + "1" * 40, "0x" + "a" * 40, 18, cf, 2 * 10**26, 10**18),
        Market("0x" + "2" * 40, "0x" + "b" * 40, 6, 0, 2 * 10**14, 5 * 10**14),
    ]


def test_disabled_collateral_counts_nothing() -> None:
    state = make_state(
        _two_markets(), {"0x" + "c" * 40: {"0x" + "1" * 40: (50 * 10**8, 0), "0x" + "2" * 40: (0, 10**9)}}
    )
    state.positions.loc[state.positions["asset"] == "0x" + "1" * 40, "collateral_enabled"] = False
    power, borrow = _sums(CompoundV2Family().exposures(state))
    assert power[0] == 0.0 and borrow[0] == pytest.approx(0.5)


def test_two_prices_for_one_underlying_are_refused() -> None:
    markets = _two_markets()
    twin = Market("0x" + "3" * 40, markets[0].underlying, 18, 10**17, 2 * 10**26, 2 * 10**18)
    state = make_state([*markets, twin], {"0x" + "c" * 40: {twin.ctoken: (10**8, 0)}})
    with pytest.raises(DataError, match="same underlying"):
        CompoundV2Family().exposures(state)


_DECIMALS = st.sampled_from([6, 8, 18])


@st.composite
def _snapshots(draw: st.DrawFn) -> tuple[list[Market], dict[str, dict[str, tuple[int, int]]]]:
    n_markets = draw(st.integers(1, 4))
    markets = []
    for i in range(n_markets):
        decimals = draw(_DECIMALS)
        markets.append(
            Market(
                ctoken=f"0x{i + 1:040x}",
                underlying=f"0x{i + 101:040x}",
                decimals=decimals,
                cf=draw(st.integers(0, 9 * 10**17)),
                rate=draw(
                    st.integers(10 ** (8 + decimals), 5 * 10 ** (8 + decimals))
                ),  # 0.01–0.05 per cToken
                price_raw=draw(st.integers(10**12, 10**20)),  # 1e-6 to 100 ETH per token
            )
        )
    holdings = {}
    for a in range(draw(st.integers(1, 4))):
        holdings[f"0x{a + 201:040x}"] = {
            m.ctoken: (draw(st.integers(0, 10**16)), draw(st.integers(0, 10 ** (m.decimals + 6))))
            for m in markets
        }
    return markets, holdings


def _truncation_bounds(markets: list[Market], held: dict[str, tuple[int, int]]) -> tuple[float, float]:
    """Most the reference's truncations can take off each sum (wei): per market, the wei of the
    collateral and borrow terms, ``tokensToDenom``'s own truncation (≤ 1 per cToken unit / 1e18) and
    that of ``CF · exchangeRate`` (≤ 1, scaled by ``price / 1e18`` per cToken unit / 1e18)."""
    collateral = borrow = 0.0
    for m in markets:
        ctokens, _ = held.get(m.ctoken, (0, 0))
        price = m.price_raw * 10 ** (18 - m.decimals)
        collateral += 1 + ctokens * (price / 1e18 + 1) / 1e18
        borrow += 1
    return collateral, borrow


@settings(max_examples=150, deadline=None)
@given(_snapshots())
def test_float_exposures_agree_with_the_integer_reference(snapshot) -> None:
    """Stated tolerance: each float sum is within 1e-12 relative (float rounding) plus the reference's
    truncation bound (``_truncation_bounds``) of the integer sum, the HF within the sum of both sums'
    relative bounds, and the shortfall decision agrees wherever the sums differ by more than the bounds.
    For realistic amounts the bounds are a few wei, i.e. HF agrees to ~1e-15."""
    markets, holdings = snapshot
    state = make_state(markets, holdings)
    power, borrow = _sums(CompoundV2Family().exposures(state))
    reference = CompoundV2Reference(state).all_accounts()
    for i, row in enumerate(reference.itertuples(index=False)):
        bound_c, bound_b = _truncation_bounds(markets, holdings[row.account])
        ref_c, ref_b = row.sum_collateral / 1e18, row.sum_borrow / 1e18
        tol_c = 1e-12 * power[i] + bound_c / 1e18
        tol_b = 1e-12 * borrow[i] + bound_b / 1e18
        assert abs(ref_c - power[i]) <= tol_c
        assert abs(ref_b - borrow[i]) <= tol_b
        assert ref_c <= power[i] * (1 + 1e-12)  # truncation only ever takes away
        if ref_c > tol_c and ref_b > tol_b:
            rel = tol_c / (ref_c - tol_c) + tol_b / (ref_b - tol_b)
            assert power[i] / borrow[i] == pytest.approx(ref_c / ref_b, rel=rel)
        if abs(power[i] - borrow[i]) > tol_c + tol_b:
            assert (row.shortfall > 0) == (borrow[i] > power[i])


def test_full_dataset_agrees_with_the_integer_reference(may_state: MarketState) -> None:
    power, borrow = _sums(CompoundV2Family().exposures(may_state))
    reference = CompoundV2Reference(may_state).all_accounts()
    assert (reference["error"] == 0).all()
    ref_collateral = np.array([int(v) for v in reference["sum_collateral"]]) / 1e18
    ref_borrow = np.array([int(v) for v in reference["sum_borrow"]]) / 1e18
    assert np.all(np.abs(ref_collateral - power) <= 1e-12 * power + 1e-16)
    # The reference uses the debts rounded to base units (debt_raw): half a base unit each at most.
    pos = may_state.positions
    price = dict(zip(may_state.assets["asset"], may_state.assets["price"], strict=True))
    decimals = dict(zip(may_state.assets["asset"], may_state.assets["decimals"], strict=True))
    half_unit = (
        (0.5 * pos["asset"].map(price) / 10 ** pos["asset"].map(decimals)).groupby(pos["account"]).sum()
    )
    bound = half_unit.reindex(reference["account"]).fillna(0).to_numpy()
    assert np.all(np.abs(ref_borrow - borrow) <= 1e-12 * borrow + bound + 1e-16)
    # Liquidatable (shortfall > 0 ⟺ HF < 1) agrees for every account owing at least 1e-5 ETH.
    material = borrow >= 1e-5
    assert np.array_equal((reference["shortfall"].to_numpy() > 0)[material], (borrow > power)[material])
    assert (
        ((reference["shortfall"] > 0).to_numpy() & material).sum()
        == ((borrow > power) & material).sum()
        > 1_000
    )
