"""Snapshot ids, listings, look-ups, deletion, pruning, reconciliation data and atomic writes."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from defirisk.errors import DefiriskError, InvalidParameter, SnapshotNotFound, StoreError
from defirisk.store import Store, writer
from tests.store.rawdb import row_counts, stray_rows
from tests.store.synthetic import address, make_state


def test_ids_come_from_a_sequence_and_are_never_reused(store: Store) -> None:
    assert [store.write_snapshot(make_state(block_number=b)) for b in (10, 11, 12)] == [1, 2, 3]
    store.delete_snapshot(3)
    assert store.write_snapshot(make_state(block_number=13)) == 4


def test_list_snapshots_filters_by_deployment_and_counts_rows(store: Store) -> None:
    state = make_state()
    other = make_state(deployment="other", n_markets=1, accounts_per_market=2)
    store.write_snapshot(state)
    store.write_snapshot(other)
    listed = store.list_snapshots()
    assert listed["snapshot_id"].tolist() == [1, 2]
    assert listed["deployment"].tolist() == ["synthetic-mainnet", "other"]
    assert listed["n_accounts"].tolist()[0] == len(state.accounts)
    assert listed["n_positions"].tolist()[0] == len(state.positions)
    only = store.list_snapshots("other")
    assert only["snapshot_id"].tolist() == [2]
    assert only["block_hash"].iloc[0] == other.meta.block_hash
    assert only["n_positions"].iloc[0] == len(other.positions)
    assert store.list_snapshots("nobody").empty


def test_latest_snapshot_is_the_highest_block_then_the_highest_id(store: Store) -> None:
    ids = {block: store.write_snapshot(make_state(block_number=block)) for block in (200, 100, 300)}
    offline = store.write_snapshot(make_state(chain_id=None, block_number=None))
    again = store.write_snapshot(make_state(block_number=300))
    assert store.latest_snapshot_id("synthetic-mainnet") == again
    assert store.latest_snapshot_id("synthetic-mainnet", block_number=299) == ids[200]
    assert store.latest_snapshot_id("synthetic-mainnet", block_number=100) == ids[100]
    with pytest.raises(SnapshotNotFound):
        store.latest_snapshot_id("synthetic-mainnet", block_number=99)
    with pytest.raises(SnapshotNotFound):
        store.latest_snapshot_id("nobody")
    store.prune("synthetic-mainnet", keep_last=4)
    assert offline not in store.list_snapshots()["snapshot_id"].tolist()


def test_find_snapshot_matches_deployment_chain_and_block_exactly(store: Store) -> None:
    snapshot_id = store.write_snapshot(make_state(block_number=500))
    assert store.find_snapshot("synthetic-mainnet", 1, 500) == snapshot_id
    assert store.find_snapshot("synthetic-mainnet", 1, 501) is None
    assert store.find_snapshot("synthetic-mainnet", 10, 500) is None
    assert store.find_snapshot("other", 1, 500) is None


def test_ids_from_a_dataframe_work_and_non_integers_are_refused(store: Store) -> None:
    store.write_snapshot(make_state())
    snapshot_id = store.list_snapshots()["snapshot_id"].to_numpy()[0]
    assert store.load_state(snapshot_id).meta.snapshot_id == 1
    assert store.find_snapshot("synthetic-mainnet", np.int64(1), np.int64(19_000_000)) == 1
    for bad in ("1", 1.0, True, None):
        with pytest.raises(InvalidParameter):
            store.load_state(bad)  # type: ignore[arg-type]


def test_unknown_snapshot_raises_snapshot_not_found(store: Store) -> None:
    for action in (store.load_state, store.delete_snapshot, store.load_reconciliation, store.load_mismatches):
        with pytest.raises(SnapshotNotFound):
            action(42)


def test_delete_removes_every_row_of_that_snapshot_only(db_path: Path) -> None:
    with Store.open(db_path) as store:
        keep = store.write_snapshot(make_state(seed=1))
        gone = store.write_snapshot(
            make_state(seed=2), {"accounts_checked": 3, "mismatches": 1}, _mismatches()
        )
        store.delete_snapshot(gone)
    assert set(row_counts(db_path, gone).values()) == {0}
    assert row_counts(db_path, keep)["positions"] == len(make_state(seed=1).positions)


def test_prune_keeps_the_newest_of_one_deployment(db_path: Path) -> None:
    with Store.open(db_path) as store:
        old = [store.write_snapshot(make_state(block_number=b)) for b in (1, 2)]
        newest = store.write_snapshot(make_state(block_number=3))
        other = store.write_snapshot(make_state(deployment="other", block_number=1))
        assert store.prune("synthetic-mainnet", keep_last=1) == old
        assert store.list_snapshots()["snapshot_id"].tolist() == [newest, other]
        assert store.prune("synthetic-mainnet", keep_last=1) == []
        for bad in (-1, 1.5, True):
            with pytest.raises(InvalidParameter):
                store.prune("other", keep_last=bad)
        assert store.prune("other", keep_last=0) == [other]
    assert all(row_counts(db_path, sid)["positions"] == 0 for sid in (*old, other))
    assert stray_rows(db_path) == dict.fromkeys(stray_rows(db_path), 0)


def _mismatches() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "market": [address(0xA000), address(0xA000)],
            "account": [address(0xD000), None],
            "field": ["health_factor", "total_debt"],
            "ours": [2**255, 1.25],
            "chain": [2**255 + 1, "1.5"],
        }
    )


def test_reconciliation_is_stored_with_its_summary(store: Store) -> None:
    reconciliation = {"accounts_checked": 40, "tolerance_wei": 2**255, "notes": ["<b>x</b>"]}
    checked = store.write_snapshot(make_state(), reconciliation, _mismatches())
    clean = store.write_snapshot(make_state(), {"accounts_checked": 40})
    unchecked = store.write_snapshot(make_state())
    listed = store.list_snapshots().set_index("snapshot_id")
    assert listed.loc[checked, ["accounts_checked", "mismatches", "verified"]].tolist() == [40, 2, False]
    assert listed.loc[clean, ["accounts_checked", "mismatches", "verified"]].tolist() == [40, 0, True]
    assert pd.isna(listed.loc[unchecked, "accounts_checked"]) and not listed.loc[unchecked, "verified"]
    assert store.load_reconciliation(checked) == reconciliation
    assert store.load_reconciliation(unchecked) is None
    mismatches = store.load_mismatches(checked)
    assert mismatches.to_dict("records") == [
        {"market": address(0xA000), "account": None, "field": "total_debt", "ours": "1.25", "chain": "1.5"},
        {
            "market": address(0xA000),
            "account": address(0xD000),
            "field": "health_factor",
            "ours": str(2**255),
            "chain": str(2**255 + 1),
        },
    ]
    assert store.load_mismatches(clean).empty


def test_a_failure_midway_leaves_nothing(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_insert = writer.insert_arrow

    def failing_insert(con: duckdb.DuckDBPyConnection, table: str, rows: object) -> None:
        if table == "positions":
            raise StoreError("disk on fire")
        real_insert(con, table, rows)

    with Store.open(db_path) as store:
        first = store.write_snapshot(make_state())
        monkeypatch.setattr(writer, "insert_arrow", failing_insert)
        with pytest.raises(StoreError, match="disk on fire"):
            store.write_snapshot(make_state(seed=5))
        monkeypatch.undo()
        assert store.list_snapshots()["snapshot_id"].tolist() == [first]
        second = store.write_snapshot(make_state(seed=6))
    assert row_counts(db_path)["snapshots"] == 2
    assert stray_rows(db_path) == dict.fromkeys(stray_rows(db_path), 0)
    assert second > first


def _plant_incomplete_snapshot(path: Path, snapshot_id: int) -> None:
    """What a writer that died between its first and last statement would leave if DuckDB did not
    roll it back: a snapshot row with complete = false and some of its rows."""
    con = duckdb.connect(str(path))
    con.execute(
        "INSERT INTO snapshots SELECT * REPLACE (? AS snapshot_id, false AS complete) FROM snapshots WHERE snapshot_id = 1",
        [snapshot_id],
    )
    con.execute(
        "INSERT INTO positions SELECT * REPLACE (? AS snapshot_id) FROM positions WHERE snapshot_id = 1",
        [snapshot_id],
    )
    con.close()


def test_readers_see_only_complete_snapshots_and_writers_discard_the_rest(
    db_path: Path, tmp_path: Path
) -> None:
    with Store.open(db_path) as store:
        store.write_snapshot(make_state(block_number=5))
    _plant_incomplete_snapshot(db_path, 99)
    with Store.open(db_path, read_only=True) as reader:
        assert reader.list_snapshots()["snapshot_id"].tolist() == [1]
        assert reader.latest_snapshot_id("synthetic-mainnet") == 1
        assert reader.find_snapshot("synthetic-mainnet", 1, 5) == 1
        with pytest.raises(SnapshotNotFound):
            reader.load_state(99)
        with pytest.raises(SnapshotNotFound):
            reader.export(99, tmp_path / "out")
    assert row_counts(db_path, 99)["positions"] > 0
    with Store.open(db_path):
        pass
    assert set(row_counts(db_path, 99).values()) == {0}
    assert row_counts(db_path, 1)["positions"] > 0


def test_read_only_store_refuses_writes(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.write_snapshot(make_state())
    with Store.open(db_path, read_only=True) as reader:
        for action in (
            lambda: reader.write_snapshot(make_state()),
            lambda: reader.delete_snapshot(1),
            lambda: reader.prune("synthetic-mainnet", 0),
            lambda: reader.add_discovered("d", 1, [], 10),
        ):
            with pytest.raises(StoreError, match="read-only"):
                action()
        assert reader.list_snapshots()["snapshot_id"].tolist() == [1]


def test_read_only_and_writable_stores_share_one_process(db_path: Path) -> None:
    with Store.open(db_path) as writer_store, Store.open(db_path, read_only=True) as reader:
        snapshot_id = writer_store.write_snapshot(make_state())
        assert reader.list_snapshots()["snapshot_id"].tolist() == [snapshot_id]
        with pytest.raises(StoreError, match="read-only"):
            reader.write_snapshot(make_state())


def test_snapshot_ids_survive_reopening(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.write_snapshot(make_state())
    with Store.open(db_path) as store:
        assert store.write_snapshot(make_state()) == 2


def test_library_errors_are_project_errors(store: Store) -> None:
    with pytest.raises(DefiriskError):
        store.load_state(7)
