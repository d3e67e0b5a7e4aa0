"""Schema versions: new databases, upgrades from every earlier version, and files that are not ours."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from defirisk.errors import CorruptDatabase, SchemaVersionError, StoreError
from defirisk.model import ACCOUNT_COLUMNS, ASSET_COLUMNS, EMODE_COLUMNS, POSITION_COLUMNS
from defirisk.store import SCHEMA_VERSION, Store
from defirisk.store.migrations import APPLICATION, STEPS
from tests.store.rawdb import SNAPSHOT_TABLES, folder_bytes
from tests.store.synthetic import assert_same_state, make_large_state, make_state

OLD_SCHEMAS = Path(__file__).parent / "old_schemas"


def build_database(version: int, path: Path) -> None:
    """A database as schema ``version`` left it: 0 is an empty DuckDB file; k ≥ 1 is
    ``old_schemas/v{k}.sql`` stamped with version k."""
    con = duckdb.connect(str(path))
    if version > 0:
        con.execute((OLD_SCHEMAS / f"v{version}.sql").read_text(encoding="utf-8"))
        con.execute(
            "INSERT INTO defirisk_meta VALUES ('application', ?), ('schema_version', ?)",
            [APPLICATION, str(version)],
        )
    con.close()


def catalogue(path: Path) -> dict[str, list[tuple]]:
    """Everything the schema defines: columns with types and nullability, constraints, sequences."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {
            "columns": con.execute(
                "SELECT table_name, column_index, column_name, data_type, is_nullable FROM duckdb_columns()"
                " WHERE database_name = current_database() ORDER BY ALL"
            ).fetchall(),
            "constraints": con.execute(
                "SELECT table_name, constraint_type, constraint_column_names FROM duckdb_constraints()"
                " WHERE database_name = current_database() ORDER BY ALL"
            ).fetchall(),
            "sequences": con.execute(
                "SELECT sequence_name, increment_by, min_value, max_value, cycle FROM duckdb_sequences()"
                " WHERE database_name = current_database() ORDER BY ALL"
            ).fetchall(),
        }
    finally:
        con.close()


def test_there_is_one_step_per_version_and_a_fixture_per_old_version() -> None:
    assert len(STEPS) == SCHEMA_VERSION - 1
    for version in range(1, SCHEMA_VERSION):
        assert (OLD_SCHEMAS / f"v{version}.sql").is_file()


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_migrates_from_every_earlier_version(tmp_path: Path, version: int) -> None:
    fresh, old = tmp_path / "fresh.duckdb", tmp_path / "old.duckdb"
    Store.open(fresh).close()
    build_database(version, old)
    with Store.open(old) as store:
        assert store.schema_version == SCHEMA_VERSION
        state = make_state()
        snapshot_id = store.write_snapshot(state)
        assert_same_state(state, store.load_state(snapshot_id), snapshot_id)
    assert catalogue(old) == catalogue(fresh)


def test_a_new_database_has_the_canonical_columns(db_path: Path) -> None:
    Store.open(db_path).close()
    columns: dict[str, list[str]] = {}
    types: dict[str, set[str]] = {}
    for table, _, column, data_type, _ in catalogue(db_path)["columns"]:
        columns.setdefault(table, []).append(column)
        types.setdefault(column, set()).add(data_type)
    for table, canonical in (
        ("assets", ASSET_COLUMNS),
        ("emodes", EMODE_COLUMNS),
        ("accounts", ACCOUNT_COLUMNS),
        ("positions", POSITION_COLUMNS),
    ):
        assert columns[table] == ["snapshot_id", *canonical]
    assert all("snapshot_id" in columns[table] for table in SNAPSHOT_TABLES)
    assert {column: t for column, t in types.items() if len(t) > 1} == {}
    assert all(types[column] == {"VARCHAR"} for column in types if column.endswith("_raw"))
    assert types["extra"] == {"JSON"}


def test_meta_marks_the_database_as_ours(db_path: Path) -> None:
    Store.open(db_path).close()
    con = duckdb.connect(str(db_path), read_only=True)
    meta = dict(con.execute("SELECT key, value FROM defirisk_meta").fetchall())
    con.close()
    assert meta["application"] == "defirisk" and meta["schema_version"] == str(SCHEMA_VERSION)


def _refused_without_change(path: Path, error: type[Exception], match: str) -> None:
    before = folder_bytes(path.parent)
    for read_only in (False, True):
        with pytest.raises(error, match=match) as caught:
            Store.open(path, read_only=read_only)
        assert "\n" not in str(caught.value)
    assert folder_bytes(path.parent) == before


def test_a_newer_schema_version_is_refused_and_left_alone(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.write_snapshot(make_state())
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE defirisk_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    con.close()
    _refused_without_change(db_path, SchemaVersionError, f"schema version {SCHEMA_VERSION + 1}")


@pytest.mark.parametrize(
    "setup",
    [
        "CREATE TABLE customers (id INTEGER, name VARCHAR); INSERT INTO customers VALUES (1, 'x')",
        "CREATE VIEW answer AS SELECT 42 AS x",
        "CREATE TABLE defirisk_meta (key VARCHAR, value VARCHAR); INSERT INTO defirisk_meta VALUES ('application', 'other')",
        "CREATE TABLE defirisk_meta (k INTEGER)",
        "CREATE TABLE defirisk_meta (key VARCHAR, value VARCHAR);"
        " INSERT INTO defirisk_meta VALUES ('application', 'defirisk'), ('schema_version', 'one')",
    ],
    ids=["foreign-table", "foreign-view", "other-application", "malformed-meta", "unreadable-version"],
)
def test_a_duckdb_file_that_is_not_ours_is_refused_and_left_alone(db_path: Path, setup: str) -> None:
    db_path.parent.mkdir(parents=True)
    con = duckdb.connect(str(db_path))
    con.execute(setup)
    con.close()
    _refused_without_change(db_path, CorruptDatabase, "not a defirisk|malformed|unreadable")


@pytest.mark.parametrize(
    "content",
    [b"", b"SQLite format 3\x00" + bytes(4000), os.urandom(8192), b"name,symbol\nweth,WETH\n"],
    ids=["empty", "sqlite-header", "random", "csv"],
)
def test_a_file_that_is_not_duckdb_is_refused_and_left_alone(db_path: Path, content: bytes) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(content)
    _refused_without_change(db_path, CorruptDatabase, "not a DuckDB database")


def test_a_damaged_header_is_corrupt(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.write_snapshot(make_state())
    data = bytearray(db_path.read_bytes())
    data[:4096] = bytes(4096)
    db_path.write_bytes(bytes(data))
    _refused_without_change(db_path, CorruptDatabase, "not a DuckDB database")


def test_damaged_data_blocks_are_corrupt(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.write_snapshot(make_large_state(20_000))
    data = bytearray(db_path.read_bytes())
    block, first_block = 256 * 1024, 3 * 4096  # DuckDB: three 4 KiB headers, then 256 KiB blocks
    for start in range(first_block + 64, len(data) - 64, block):
        data[start : start + 64] = bytes(b ^ 0xFF for b in data[start : start + 64])
    db_path.write_bytes(bytes(data))
    with pytest.raises(CorruptDatabase):
        with Store.open(db_path, read_only=True) as store:
            store.load_state(1)


def test_an_empty_duckdb_file_is_created_on_write_open_only(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    build_database(0, db_path)
    before = folder_bytes(db_path.parent)
    with pytest.raises(StoreError, match="schema version 0"):
        Store.open(db_path, read_only=True)
    assert folder_bytes(db_path.parent) == before
    with Store.open(db_path) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_read_only_open_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database"):
        Store.open(tmp_path / "missing" / "x.duckdb", read_only=True)
    assert not (tmp_path / "missing").exists()


def test_a_folder_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a file"):
        Store.open(tmp_path)
