"""A snapshot reads back exactly as it was written."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defirisk.model import EMODE_COLUMNS, POSITION_COLUMNS
from defirisk.store import Store
from defirisk.units import UINT256_MAX
from tests.store.synthetic import (
    EXTREME_RAW,
    HOSTILE_TEXT,
    address,
    assert_same_state,
    frame,
    make_large_state,
    make_state,
)


def test_round_trip_is_exact(store: Store) -> None:
    for seed in range(3):
        state = make_state(seed=seed)
        snapshot_id = store.write_snapshot(state)
        assert_same_state(state, store.load_state(snapshot_id), snapshot_id)


def test_extremes_and_hostile_text_survive(store: Store) -> None:
    state = make_state(assets_per_market=len(HOSTILE_TEXT))
    got = store.load_state(store.write_snapshot(state))
    raws = set(got.positions["collateral_raw"])
    assert set(EXTREME_RAW) <= raws
    assert UINT256_MAX in raws and 2**255 in raws
    assert set(HOSTILE_TEXT) <= set(got.assets["symbol"])
    for column in ("symbol", "name"):
        assert got.assets[column].value_counts().to_dict() == state.assets[column].value_counts().to_dict()
    assert got.emodes["price_raw"].tolist() == [None, 2**255 + 1]
    first = got.assets.set_index(["market", "asset"]).loc[
        (state.assets["market"][0], state.assets["asset"][0])
    ]
    assert first["extra"]["configuration"] == UINT256_MAX
    assert first["extra"]["nested"]["list"] == [1, 2**200, -(2**255)]


def test_round_trip_after_reopening_read_only(db_path: Path) -> None:
    state = make_state(seed=7)
    with Store.open(db_path) as store:
        snapshot_id = store.write_snapshot(state)
    with Store.open(db_path, read_only=True) as store:
        assert_same_state(state, store.load_state(snapshot_id), snapshot_id)


def test_offline_snapshot_without_chain_fields(store: Store) -> None:
    state = make_state(chain_id=None, block_number=None, label="demo")
    snapshot_id = store.write_snapshot(state)
    got = store.load_state(snapshot_id)
    assert_same_state(state, got, snapshot_id)
    assert got.meta.block_number is None and got.meta.block_hash is None and got.meta.offline


def test_empty_tables_round_trip(store: Store) -> None:
    state = dataclasses.replace(
        make_state(), emodes=frame([], EMODE_COLUMNS), positions=frame([], POSITION_COLUMNS)
    )
    got = store.load_state(store.write_snapshot(state))
    assert got.emodes.empty and got.positions.empty
    assert list(got.positions.columns) == list(POSITION_COLUMNS)


def test_hundred_thousand_positions_round_trip(store: Store) -> None:
    state = make_large_state(100_000)
    snapshot_id = store.write_snapshot(state)
    assert_same_state(state, store.load_state(snapshot_id), snapshot_id)


_uint256 = st.integers(min_value=0, max_value=UINT256_MAX)
_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(-(2**256), 2**256)
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False)
)
_json = st.recursive(
    _json_leaf,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def _positions_and_symbols(draw: st.DrawFn) -> tuple[pd.DataFrame, list[str], list]:
    n = draw(st.integers(1, 12))
    collateral = draw(st.lists(_uint256, min_size=n, max_size=n))
    debt = draw(st.lists(_uint256, min_size=n, max_size=n))
    rows = [
        {
            "market": address(0xA000),
            "account": address(0xD000 + i // 4),
            "asset": address(0xC000 + i % 4),
            "collateral_raw": collateral[i],
            "collateral": collateral[i] / 1e18,
            "debt_raw": debt[i],
            "debt": debt[i] / 1e6,
            "collateral_enabled": draw(st.booleans()),
        }
        for i in range(n)
    ]
    symbols = draw(st.lists(st.text(max_size=20), min_size=4, max_size=4))
    extras = draw(
        st.lists(st.none() | st.dictionaries(st.text(max_size=6), _json, max_size=4), min_size=4, max_size=4)
    )
    return frame(rows, POSITION_COLUMNS), symbols, extras


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_positions_and_symbols())
def test_any_uint256_symbol_and_extra_round_trip(drawn: tuple[pd.DataFrame, list[str], list]) -> None:
    positions, symbols, extras = drawn
    base = make_state(n_markets=2, assets_per_market=4)
    assets = base.assets.copy()
    first = assets["market"] == address(0xA000)
    assets.loc[first, "symbol"] = symbols
    assets["extra"] = pd.Series(extras * (len(assets) // 4), dtype=object)
    state = dataclasses.replace(base, assets=assets, positions=positions)
    with Store.open(":memory:") as store:
        snapshot_id = store.write_snapshot(state)
        assert_same_state(state, store.load_state(snapshot_id), snapshot_id)
