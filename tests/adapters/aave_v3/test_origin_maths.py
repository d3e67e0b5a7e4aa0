"""Aave v3.2–v3.6 maths without a chain: revisions, roundings, the reference per generation, the family.

Only v3.6 runs on the local chain (``test_origin_snapshot``, ``test_origin_liquidation``); the v3.2
and v3.5 generations are read from the aave-v3-origin sources and pinned down here, next to v3.6, on
states where the generations disagree, so that a change in any of them shows.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defirisk.adapters.aave_v3 import revisions as rv
from defirisk.adapters.aave_v3.adapter import market_params, rules_version
from defirisk.adapters.aave_v3.frames import assets_frame, emode_membership
from defirisk.adapters.aave_v3.liquidation import (
    CallInputs,
    CallOutcome,
    balances_after_v35,
    call_inputs,
    liquidation_call,
    liquidation_call_v33,
    liquidation_call_v35,
)
from defirisk.adapters.aave_v3.market import EModeCategory
from defirisk.adapters.aave_v3.reference import AaveReference
from defirisk.engine import health_factors
from defirisk.families import get_family
from defirisk.model import MarketState
from defirisk.units import RAY, UINT256_MAX, WAD
from tests.adapters.aave_v3.test_frames import market
from tests.engine.aave_states import MARKET, aave_states, address, asset_row, state_of

BIG = st.integers(0, 2**128)
POSITIVE = st.integers(1, 2**128)


@pytest.mark.parametrize(("revision", "maths"), [
    (None, "3.0"), (1, "3.0"), (3, "3.0"), (4, "3.0"), (5, "3.2"), (6, "3.2"), (7, "3.2"), (8, "3.2"),
    (9, "3.5"), (10, "3.6"), (11, "3.6"),
])
def test_account_maths_by_pool_revision(revision: int | None, maths: str) -> None:
    assert rv.account_maths(revision) == maths
    assert rv.maths_of({"pool_revision": revision}) == maths
    assert rv.uses_bitmaps(maths) is (maths != "3.0")
    assert rv.uses_token_math(maths) is (maths in ("3.5", "3.6"))


@settings(max_examples=200, deadline=None)
@given(a=BIG, b=POSITIVE)
def test_roundings_are_floor_and_ceiling(a: int, b: int) -> None:
    assert rv.ray_mul_floor(a, b) == math.floor(Fraction(a * b, RAY))
    assert rv.ray_mul_ceil(a, b) == math.ceil(Fraction(a * b, RAY))
    assert rv.ray_div_floor(a, b) == math.floor(Fraction(a * RAY, b))
    assert rv.ray_div_ceil(a, b) == math.ceil(Fraction(a * RAY, b))
    assert rv.mul_div_ceil(a, b, 10**8) == math.ceil(Fraction(a * b, 10**8))
    assert rv.percent_mul_floor(a, b % 10**4) == math.floor(Fraction(a * (b % 10**4), 10**4))
    assert rv.percent_div_ceil(a, b) == math.ceil(Fraction(a * 10**4, b))


# One account where the generations disagree: in e-mode 2 it holds X (own LTV and LT 0, collateral
# only inside e-mode 2) and U (on e-mode 2's ltvzero bitmap), and owes T.
X, U, T = address(1), address(2), address(3)
CATEGORY = {"ltv": 8200, "lt": 8500}


def emode_state(revision: int) -> MarketState:
    members = {X: {"emode_collateral": [2], "emode_borrowable": [], "emode_ltv_zero": []},
               U: {"emode_collateral": [2], "emode_borrowable": [2], "emode_ltv_zero": [2]},
               T: {"emode_collateral": [], "emode_borrowable": [2], "emode_ltv_zero": []}}
    assets = [
        asset_row(0, 18, 105_000_001, 0, 0, 0, False) | {"asset": X, "liquidation_bonus": 0.0},
        asset_row(1, 6, 99_990_007, 7800, 7500, 0, False) | {"asset": U},
        asset_row(2, 6, 100_030_003, 7600, 7400, 0, False) | {"asset": T},
    ]
    for row in assets:
        row["extra"] = members[row["asset"]]
    emodes = [{"market": MARKET, "category": 2, "label": "two", "ltv": CATEGORY["ltv"] / 1e4,
               "liquidation_threshold": CATEGORY["lt"] / 1e4, "liquidation_bonus": 0.04, "price_source": None,
               "price_raw": None}]
    user = address(9)
    positions = [
        {"market": MARKET, "account": user, "asset": X, "collateral_raw": 1_000 * 10**18 + 7, "collateral": 1000.0,
         "debt_raw": 0, "debt": 0.0, "collateral_enabled": True},
        {"market": MARKET, "account": user, "asset": U, "collateral_raw": 2_000_123_456, "collateral": 2000.123456,
         "debt_raw": 0, "debt": 0.0, "collateral_enabled": True},
        {"market": MARKET, "account": user, "asset": T, "collateral_raw": 0, "collateral": 0.0,
         "debt_raw": 2_100_000_001, "debt": 2100.000001, "collateral_enabled": False},
    ]
    state = state_of(assets, emodes, [{"market": MARKET, "account": user, "emode_category": 2, "extra": {}}], positions)
    return replace(state, meta=replace(state.meta, market_params={"pool_revision": revision}))


def _expected(revision: int) -> tuple[int, ...]:
    """``getUserAccountData`` of ``emode_state`` restated with Fractions from the module docstring
    of ``reference`` (independent of its integer code)."""
    x = math.floor(Fraction((1_000 * 10**18 + 7) * 105_000_001, 10**18))
    u = math.floor(Fraction(2_000_123_456 * 99_990_007, 10**6))
    exact_debt = Fraction(2_100_000_001 * 100_030_003, 10**6)
    debt = math.floor(exact_debt) if revision < 9 else math.ceil(exact_debt)
    counted = [(u, CATEGORY["lt"], CATEGORY["ltv"] if revision < 10 else 0)]
    if revision >= 10:
        counted.append((x, CATEGORY["lt"], CATEGORY["ltv"]))
    collateral = sum(v for v, _, _ in counted)
    weighted = sum(v * lt for v, lt, _ in counted)
    avg_lt = weighted // collateral
    avg_ltv = sum(v * ltv for v, _, ltv in counted) // collateral
    if revision < 9:
        hf = math.floor(Fraction(math.floor(Fraction(collateral * avg_lt, 10**4) + Fraction(1, 2)) * WAD, debt)
                        + Fraction(1, 2))
        borrowable = math.floor(Fraction(collateral * avg_ltv, 10**4) + Fraction(1, 2))
    else:
        hf = math.floor(Fraction(weighted * WAD, debt) + Fraction(1, 2)) // 10**4
        borrowable = collateral * avg_ltv // 10**4
    return (collateral, debt, max(borrowable - debt, 0), avg_lt, avg_ltv, hf)


@pytest.mark.parametrize("revision", [5, 9, 10])
def test_reference_generations_on_one_emode_account(revision: int) -> None:
    data = AaveReference(emode_state(revision)).account_data(MARKET, address(9))
    assert data.as_tuple() == _expected(revision)


def test_generations_disagree_where_the_contracts_changed() -> None:
    v32, v35, v36 = (AaveReference(emode_state(r)).account_data(MARKET, address(9)) for r in (5, 9, 10))
    assert v32.total_debt_base + 1 == v35.total_debt_base == v36.total_debt_base  # mulDivCeil
    assert v32.total_collateral_base == v35.total_collateral_base < v36.total_collateral_base  # X counts in v3.6
    assert v32.ltv == v35.ltv == CATEGORY["ltv"] and v36.ltv == CATEGORY["ltv"] * (v36.total_collateral_base
                                                                                 - v35.total_collateral_base) // v36.total_collateral_base
    assert v32.health_factor != v35.health_factor


def _bitmap_state(draw: st.DrawFn, revision: int) -> MarketState:
    """A hypothesis Aave market recast as v3.2+: random bitmap membership over 3 categories, no price
    sources; v3.6 also gets enabled collateral with an own LT of 0."""
    state = draw(aave_states(min_whole=1e4, min_price_raw=10**8))
    categories = st.lists(st.integers(1, 3), unique=True, max_size=3).map(sorted)
    assets = state.assets.copy()
    extras = []
    for _ in range(len(assets)):
        collateral = draw(categories)
        extras.append({"emode_collateral": collateral, "emode_borrowable": draw(categories),
                       "emode_ltv_zero": [c for c in collateral if draw(st.booleans())]})
    assets["extra"] = extras
    assets["emode_category"] = 0
    emodes = pd.DataFrame([
        {"market": MARKET, "category": c, "label": f"c{c}", "ltv": (lt - 250) / 1e4, "liquidation_threshold": lt / 1e4,
         "liquidation_bonus": 0.02, "price_source": None, "price_raw": None}
        for c, lt in zip((1, 2, 3), draw(st.lists(st.sampled_from([8500, 9000, 9300, 9550]), min_size=3, max_size=3)),
                         strict=True)
    ], columns=state.emodes.columns)
    accounts = state.accounts.copy()
    accounts["emode_category"] = [draw(st.integers(0, 3)) for _ in range(len(accounts))]
    positions = state.positions.copy()
    if revision >= 10:
        positions["collateral_enabled"] = [
            bool(e) or (int(c) > 0 and draw(st.booleans()))
            for e, c in zip(positions["collateral_enabled"], positions["collateral_raw"], strict=True)
        ]
    meta = replace(state.meta, market_params={"pool_revision": revision})
    return MarketState(meta, assets, emodes, accounts, positions)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), revision=st.sampled_from([5, 9, 10]))
def test_family_matches_the_reference_on_bitmap_states(data: st.DataObject, revision: int) -> None:
    """Positions above dust: the float engine's HF is the integer reference's within 1e-9."""
    state = _bitmap_state(data.draw, revision)
    exposures = get_family("aave-v3").exposures(state)
    assert exposures.weight_quantum == (1e-4 if revision < 9 else 0.0)
    hf = health_factors(exposures, np.ones(exposures.n_feeds))[:, 0]
    reference = AaveReference(state)
    for n, account in enumerate(exposures.unit_account):
        ref = reference.account_data(MARKET, account)
        if ref.health_factor == UINT256_MAX:
            assert np.isinf(hf[n]), (account, revision)
        else:
            assert math.isclose(hf[n], ref.health_factor / 1e18, rel_tol=1e-9, abs_tol=1e-15), (account, revision)


def test_family_reads_the_bitmap_not_the_old_reserve_field() -> None:
    state = emode_state(10)
    state.assets.loc[state.assets["asset"] == U, "emode_category"] = 1  # stale pre-3.2 field
    x = get_family("aave-v3").exposures(state)
    weights = dict(zip(state.positions["asset"], x.liq_weight, strict=True))
    borrow = dict(zip(state.positions["asset"], x.borrow_weight, strict=True))
    assert (weights[X], weights[U], weights[T]) == (0.85, 0.85, 0.0)
    assert (borrow[X], borrow[U]) == (0.82, 0.0)
    assert list(x.bonus[:2]) == [0.04, 0.04]
    v35 = get_family("aave-v3").exposures(emode_state(9))
    assert list(v35.liq_weight[:2]) == [0.0, 0.85] and list(v35.borrow_weight[:2]) == [0.0, 0.82]


def test_frames_list_emode_membership_from_bitmaps() -> None:
    base = market()
    bitmapped = replace(base, pool_revision=10, emodes=(
        EModeCategory(1, 9000, 9300, 10100, None, None, "one", collateral_bitmap=0b11, borrowable_bitmap=0b10,
                      ltv_zero_bitmap=0b01),
        EModeCategory(3, 8000, 8400, 10500, None, None, "three", collateral_bitmap=0b10, borrowable_bitmap=0,
                      ltv_zero_bitmap=0),
    ))
    assert emode_membership(bitmapped, 0) == {"emode_collateral": [1], "emode_borrowable": [], "emode_ltv_zero": [1]}
    assert emode_membership(bitmapped, 1) == {"emode_collateral": [1, 3], "emode_borrowable": [1],
                                              "emode_ltv_zero": []}
    new, old = assets_frame(bitmapped, 1.0), assets_frame(base, 1.0)
    assert list(new["emode_category"]) == [0, 0]
    assert [e["emode_collateral"] for e in new["extra"]] == [[1], [1, 3]]
    assert all("emode_collateral" not in e for e in old["extra"])
    assert "emode_bitmaps" in market_params(bitmapped) and "emode_bitmaps" not in market_params(base)
    assert market_params(bitmapped)["emode_bitmaps"]["1"] == {"collateral": 3, "borrowable": 2, "ltv_zero": 1}
    version, note = rules_version(bitmapped)
    assert version == "3.6" and "bitmaps" in note and "v3.6" in note


def test_call_inputs_use_the_bitmap_bonus_and_v36_collateral_rule() -> None:
    for revision, enabled in ((9, False), (10, True)):
        state = emode_state(revision)
        x = call_inputs(state, MARKET, address(9), X, T, UINT256_MAX)
        u = call_inputs(state, MARKET, address(9), U, T, UINT256_MAX)
        assert (x.liquidation_bonus, u.liquidation_bonus) == (10_400, 10_400)
        assert (x.collateral_enabled, u.collateral_enabled) == (enabled, True)
        assert (x.collateral_price, x.debt_price) == (105_000_001, 100_030_003)
    outside = emode_state(10)
    outside.accounts["emode_category"] = 0
    assert call_inputs(outside, MARKET, address(9), U, T, 1).liquidation_bonus == 10_500


# About $2,484 of WETH against $5,001 of USDT at HF 0.5: the whole collateral is seized.
COLLATERAL, PRICE, DEBT, DEBT_PRICE = 1_234_567_891_234_567_891, 201_234_567_890, 5_000_000_001, 100_030_003
CAPPED = CallInputs(
    debt_to_cover=UINT256_MAX, health_factor=50 * 10**16, collateral_balance=COLLATERAL, variable_debt=DEBT,
    collateral_price=PRICE, debt_price=DEBT_PRICE, collateral_decimals=18, debt_decimals=6,
    liquidation_bonus=10_500, protocol_fee=1_000, total_collateral_base=COLLATERAL * PRICE // 10**18,
    total_debt_base=-(-DEBT * DEBT_PRICE // 10**6),
)


def test_v35_rounds_against_the_borrower_where_v33_floors() -> None:
    """The whole collateral is seized: v3.5's ``percentDivCeil`` repays one unit more than v3.3."""
    v33, v35 = liquidation_call_v33(CAPPED), liquidation_call_v35(CAPPED)
    exact = Fraction(CAPPED.collateral_price * CAPPED.collateral_balance * 10**6 // (CAPPED.debt_price * 10**18)
                     * 10**4, CAPPED.liquidation_bonus)
    assert v35.debt_repaid == math.ceil(exact) and v33.debt_repaid == math.floor(exact + Fraction(1, 2))
    assert v35.debt_repaid == v33.debt_repaid + 1
    assert v35.collateral_seized == v33.collateral_seized == CAPPED.collateral_balance
    for version, expected in (("3.3", v33), ("3.4", v33), ("3.5", v35), ("3.6", v35)):
        assert liquidation_call(version, CAPPED) == expected


@settings(max_examples=200, deadline=None)
@given(
    scaled=st.integers(10**6, 10**30), index=st.integers(RAY, 3 * RAY), seized=st.integers(0, 10**30),
    fee=st.integers(0, 10**28), debt_scaled=st.integers(10**6, 10**30), borrow_index=st.integers(RAY, 3 * RAY),
    burned=st.integers(0, 10**30),
)
def test_balances_after_v35_follow_token_math(scaled: int, index: int, seized: int, fee: int, debt_scaled: int,
                                              borrow_index: int, burned: int) -> None:
    seized = min(seized, scaled * index // RAY)
    burned = min(burned, -(-debt_scaled * borrow_index // RAY))
    out = CallOutcome(reverted=None, collateral_to_liquidator=seized, protocol_fee=fee, variable_debt_burned=burned)
    after = balances_after_v35(out, scaled, index, debt_scaled, borrow_index)
    left = scaled - math.ceil(Fraction(seized * RAY, index))
    fee_scaled = min(math.ceil(Fraction(fee * RAY, index)), left) if fee else 0
    assert after.scaled_collateral == left - fee_scaled >= 0
    assert after.protocol_fee == (fee if fee_scaled == math.ceil(Fraction(fee * RAY, index)) else left * index // RAY)
    assert after.collateral == math.floor(Fraction(after.scaled_collateral * index, RAY))
    assert after.scaled_variable_debt == debt_scaled - math.floor(Fraction(burned * RAY, borrow_index)) >= 0
    assert after.variable_debt == math.ceil(Fraction(after.scaled_variable_debt * borrow_index, RAY))
