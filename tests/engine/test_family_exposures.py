"""The vectorised ``AaveV3Family.exposures`` against a row-by-row loop of the same rules."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from defirisk.adapters.aave_v3.family import AaveV3Family
from defirisk.errors import DataError
from defirisk.model import MarketState
from tests.engine.aave_states import aave_states, demo_state


def loop_positions(state: MarketState) -> dict[str, np.ndarray]:
    """The per-position arrays as the original implementation computed them, one row at a time."""
    assets = state.assets.reset_index(drop=True)
    asset_row = {(m, a): i for i, (m, a) in enumerate(zip(assets["market"], assets["asset"], strict=True))}
    feeds = len(assets)
    emode = {}
    for row in state.emodes.itertuples(index=False):
        feed = None
        if row.price_source:
            feed, feeds = feeds, feeds + 1
        emode[(row.market, int(row.category))] = (
            row.ltv,
            row.liquidation_threshold,
            row.liquidation_bonus,
            feed,
        )
    units = state.accounts[["market", "account"]].drop_duplicates().reset_index(drop=True)
    unit_index = {(m, a): i for i, (m, a) in enumerate(zip(units["market"], units["account"], strict=True))}
    user_emode = {
        (r.market, r.account): int(r.emode_category) for r in state.accounts.itertuples(index=False)
    }
    out: dict[str, list] = {k: [] for k in ("pos_unit", "pos_feed", "pos_asset", "collateral", "debt")}
    out |= {k: [] for k in ("liq_weight", "borrow_weight", "bonus", "protocol_fee")}
    for row in state.positions.itertuples(index=False):
        i = asset_row[(row.market, row.asset)]
        a = assets.iloc[i]
        cat = user_emode.get((row.market, row.account), 0)
        ltv, lt, bon, feed = a.ltv, a.liquidation_threshold, a.liquidation_bonus, i
        if cat != 0 and int(a.emode_category) == cat and (row.market, cat) in emode:
            ltv, lt, bon, emode_feed = emode[(row.market, cat)]
            feed = i if emode_feed is None else emode_feed
        counts = bool(row.collateral_enabled) and a.liquidation_threshold != 0
        earns = counts and a.ltv != 0
        for key, value in (
            ("pos_unit", unit_index[(row.market, row.account)]),
            ("pos_feed", feed),
            ("pos_asset", i),
            ("collateral", row.collateral),
            ("debt", row.debt),
            ("liq_weight", lt if counts else 0.0),
            ("borrow_weight", ltv if earns else 0.0),
            ("bonus", bon),
            ("protocol_fee", a.protocol_fee),
        ):
            out[key].append(value)
    return {k: np.array(v, dtype=np.int64 if k.startswith("pos_") else np.float64) for k, v in out.items()}


def assert_same(state: MarketState) -> None:
    exposures = AaveV3Family().exposures(state)
    expected = loop_positions(state)
    for name, values in expected.items():
        got = getattr(exposures, name)
        assert got.dtype == values.dtype, name
        np.testing.assert_array_equal(got, values, err_msg=name)
    assert {f.name for f in fields(exposures)} >= set(expected)
    assert len(exposures.feed_symbol) == len(exposures.price) == len(exposures.feed_asset)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(state=aave_states())
def test_vectorised_exposures_equal_the_loop(state: MarketState) -> None:
    assert_same(state)


def test_repeated_accounts_and_emptiness() -> None:
    state = demo_state(30, seed=9)
    # An account listed twice: the last row's e-mode applies, the unit appears once.
    extra = state.accounts.iloc[[0]].assign(emode_category=1 - int(state.accounts.emode_category.iloc[0]))
    state.accounts = pd.concat([state.accounts, extra], ignore_index=True)
    assert_same(state)
    empty = MarketState(state.meta, state.assets, state.emodes, state.accounts, state.positions.iloc[:0])
    assert len(AaveV3Family().exposures(empty).pos_unit) == 0


def test_positions_of_unknown_accounts_or_assets_are_data_errors() -> None:
    state = demo_state(10, seed=9)
    orphan = MarketState(state.meta, state.assets, state.emodes, state.accounts.iloc[1:], state.positions)
    with pytest.raises(DataError, match="account missing"):
        AaveV3Family().exposures(orphan)
    stray = MarketState(state.meta, state.assets.iloc[1:], state.emodes, state.accounts, state.positions)
    with pytest.raises(DataError, match="asset missing"):
        AaveV3Family().exposures(stray)
