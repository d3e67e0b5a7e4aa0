"""Export: one file per table, exact values, and CSV cells that no spreadsheet runs as a formula."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from defirisk.errors import InvalidParameter, SnapshotNotFound
from defirisk.store import EXPORT_TABLES, Store
from defirisk.store.export import neutralise_formulas
from defirisk.units import UINT256_MAX
from tests.store.synthetic import HOSTILE_TEXT, make_state

_RISKY_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture
def filled(db_path: Path) -> Path:
    with Store.open(db_path) as store:
        for block in (1, 2):
            store.write_snapshot(make_state(block_number=block, assets_per_market=len(HOSTILE_TEXT)))
    return db_path


def _read_csv(path: Path) -> pa.Table:
    """The CSV file with every column read as text, as a spreadsheet user would see the cells."""
    names = pa_csv.read_csv(path).column_names
    return pa_csv.read_csv(
        path, convert_options=pa_csv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    )


def test_parquet_export_of_one_snapshot_is_exact(filled: Path, tmp_path: Path) -> None:
    with Store.open(filled, read_only=True) as store:
        paths = store.export(2, tmp_path / "out")
        state = store.load_state(2)
    assert sorted(p.name for p in paths) == sorted(f"{name}.parquet" for name in EXPORT_TABLES)
    tables = {p.stem: pq.read_table(p) for p in paths}
    assert tables["snapshots"].column("snapshot_id").to_pylist() == [2]
    positions = tables["positions"]
    assert set(positions.column("snapshot_id").to_pylist()) == {2}
    assert positions.column("collateral_raw").to_pylist() == [
        str(v) for v in state.positions["collateral_raw"]
    ]
    assert str(UINT256_MAX) in positions.column("collateral_raw").to_pylist()
    assert positions.column("collateral").to_pylist() == state.positions["collateral"].tolist()
    assert tables["assets"].column("symbol").to_pylist() == state.assets["symbol"].tolist()
    extras = [
        None if text is None else json.loads(text) for text in tables["assets"].column("extra").to_pylist()
    ]
    assert extras == state.assets["extra"].tolist()
    assert not list((tmp_path / "out").glob("*.partial"))


def test_export_of_all_snapshots(filled: Path, tmp_path: Path) -> None:
    with Store.open(filled) as store:
        store.export(None, tmp_path)
    assert pq.read_table(tmp_path / "snapshots.parquet").column("snapshot_id").to_pylist() == [1, 2]
    assert set(pq.read_table(tmp_path / "positions.parquet").column("snapshot_id").to_pylist()) == {1, 2}


def test_csv_cells_that_look_like_formulas_are_neutralised(filled: Path, tmp_path: Path) -> None:
    with Store.open(filled) as store:
        store.export(1, tmp_path, fmt="csv")
        state = store.load_state(1)
    assets = _read_csv(tmp_path / "assets.csv")
    for written, original in zip(assets.column("symbol").to_pylist(), state.assets["symbol"], strict=True):
        if original.startswith(_RISKY_START):
            assert written == "'" + original
        else:
            assert written == original
    assert any(symbol.startswith(_RISKY_START) for symbol in state.assets["symbol"])
    positions = _read_csv(tmp_path / "positions.csv")
    assert positions.column("debt_raw").to_pylist() == [str(v) for v in state.positions["debt_raw"]]
    emodes = _read_csv(tmp_path / "emodes.csv")
    assert emodes.column("label").to_pylist() == state.emodes["label"].tolist()


def test_neutralise_formulas_touches_only_text_that_starts_a_formula() -> None:
    table = pa.table(
        {
            "text": ["=1+1", "+1", "-1", "@x", "\tx", "\rx", "a=b", " =x", "", None, "'quoted"],
            "number": [-1.5] * 11,
        }
    )
    out = neutralise_formulas(table)
    assert out.column("text").to_pylist() == [
        "'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "a=b", " =x", "", None, "'quoted"
    ]  # fmt: skip
    assert out.column("number").to_pylist() == [-1.5] * 11


def test_export_errors(filled: Path, tmp_path: Path) -> None:
    with Store.open(filled) as store:
        with pytest.raises(SnapshotNotFound):
            store.export(9, tmp_path)
        with pytest.raises(InvalidParameter):
            store.export(1, tmp_path, fmt="xlsx")
    assert list(tmp_path.iterdir()) == [filled.parent]
