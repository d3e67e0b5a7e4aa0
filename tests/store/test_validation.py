"""Data the store must refuse, before anything is written."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from defirisk.errors import DataError
from defirisk.model import MarketState
from defirisk.store import Store
from tests.store.synthetic import make_state


def _set(table: str, column: str, value: object, row: int = 0) -> Callable[[MarketState], MarketState]:
    def change(state: MarketState) -> MarketState:
        frame = getattr(state, table).copy()
        frame[column] = frame[column].astype(object)
        frame.at[row, column] = value
        return dataclasses.replace(state, **{table: frame})

    return change


def _meta(**fields: object) -> Callable[[MarketState], MarketState]:
    return lambda state: dataclasses.replace(state, meta=dataclasses.replace(state.meta, **fields))


def _duplicate_position(state: MarketState) -> MarketState:
    positions = pd.concat([state.positions, state.positions.iloc[[0]]], ignore_index=True)
    return dataclasses.replace(state, positions=positions)


def _foreign_column(state: MarketState) -> MarketState:
    return dataclasses.replace(state, accounts=state.accounts.assign(health_factor=1.0))


BAD = {
    "upper-case account": _set("positions", "account", "0xABCDEF0000000000000000000000000000000000"),
    "upper-case market": _set("assets", "market", "0x000000000000000000000000000000000000A000"),
    "float raw amount": _set("positions", "collateral_raw", 1e20),
    "bool raw amount": _set("positions", "debt_raw", True),
    "string raw amount": _set("assets", "price_raw", "100"),
    "missing raw amount": _set("positions", "collateral_raw", None),
    "missing symbol": _set("assets", "symbol", None),
    "missing float": _set("assets", "price", None),
    "text in float column": _set("positions", "debt", "1.0"),
    "out of range int": _set("assets", "decimals", 2**40),
    "lone surrogate in symbol": _set("assets", "symbol", "bad\ud800"),
    "tuple in extra": _set("accounts", "extra", {"ids": (1, 2)}, row=1),
    "int key in extra": _set("accounts", "extra", {1: "one"}, row=1),
    "NaN in extra": _set("assets", "extra", {"x": math.nan}),
    "numpy int in extra": _set("assets", "extra", {"x": np.int64(3)}),
    "extra not a dict": _set("accounts", "extra", "{}", row=1),
    "duplicate position": _duplicate_position,
    "foreign column": _foreign_column,
    "tuple in market_params": _meta(market_params={"pair": (1, 2)}),
    "upper-case block hash": _meta(block_hash="0x" + "AB" * 32),
    "chain id as text": _meta(chain_id="1"),
    "block number as bool": _meta(block_number=True),
    "market_params missing": _meta(market_params=None),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_state_is_refused_and_nothing_is_written(db_path: Path, name: str) -> None:
    with Store.open(db_path) as store:
        with pytest.raises(DataError):
            store.write_snapshot(BAD[name](make_state()))
        assert store.list_snapshots().empty
    con = duckdb.connect(str(db_path), read_only=True)
    for table in ("snapshots", "assets", "emodes", "accounts", "positions"):
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)  # noqa: S608 (fixed names)
    con.close()


@pytest.mark.parametrize(
    "reconciliation",
    [
        {"accounts_checked": -1},
        {"accounts_checked": 2.5},
        {"verified": "yes"},
        {"mismatches": True},
        ["x"],
        {"t": (1,)},
    ],
)
def test_bad_reconciliation_summary_is_refused(store: Store, reconciliation: dict) -> None:
    with pytest.raises(DataError):
        store.write_snapshot(make_state(), reconciliation=reconciliation)
    assert store.list_snapshots().empty


def test_bad_mismatch_rows_are_refused(store: Store) -> None:
    wrong_columns = pd.DataFrame({"market": ["0xa"], "account": ["0xb"], "what": ["hf"]})
    with pytest.raises(DataError):
        store.write_snapshot(make_state(), {"accounts_checked": 1}, wrong_columns)
    without_reconciliation = pd.DataFrame(
        {"market": ["0xa"], "account": ["0xb"], "field": ["hf"], "ours": [1], "chain": [2]}
    )
    with pytest.raises(DataError):
        store.write_snapshot(make_state(), None, without_reconciliation)
    assert store.list_snapshots().empty
