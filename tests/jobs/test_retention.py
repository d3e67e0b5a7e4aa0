"""Retention: which snapshots a run deletes, on listings and on a real store."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from defirisk.jobs.jobfile import Retention
from defirisk.jobs.retention import apply_retention, doomed
from defirisk.store import Store
from tests.store.synthetic import make_state

NOW = datetime(2024, 6, 1, 12, 0)


def listing(rows: list[tuple[int, int | None, float]]) -> pd.DataFrame:
    """``Store.list_snapshots``-like rows: (id, block, stored how many days before NOW)."""
    return pd.DataFrame(
        {
            "snapshot_id": [r[0] for r in rows],
            "block_number": pd.array([r[1] for r in rows], dtype=pd.Int64Dtype()),
            "created_at": [NOW - timedelta(days=r[2]) for r in rows],
        }
    )


ROWS = [(1, 100, 40.0), (2, 200, 31.0), (3, None, 20.0), (4, 300, 29.0), (5, 400, 1.0), (6, 250, 0.5)]


@pytest.mark.parametrize(
    ("retention", "keep", "expected"),
    [
        (Retention(), 5, []),
        # Newest first by block: 5 (400), 4 (300), 6 (250), 2 (200), 1 (100), then 3 (no block).
        (Retention(keep_last=3), 5, [1, 2, 3]),
        (Retention(keep_last=1), 5, [1, 2, 3, 4, 6]),
        (Retention(keep_last=1), 6, [1, 2, 3, 4]),  # the snapshot just taken is kept as well
        (Retention(max_age_days=30), 5, [1, 2]),
        (Retention(max_age_days=0.25), 6, [1, 2, 3, 4, 5]),
        (Retention(keep_last=4, max_age_days=30), 5, [1, 2, 3]),
        (Retention(keep_last=10, max_age_days=0.1), 1, [2, 3, 4, 5, 6]),
    ],
)
def test_doomed_snapshots(retention: Retention, keep: int, expected: list[int]) -> None:
    assert doomed(listing(ROWS), retention, NOW, keep) == expected


def test_nothing_to_prune_in_an_empty_listing() -> None:
    assert doomed(listing([]), Retention(keep_last=1), NOW, 1) == []


def test_apply_retention_deletes_from_the_store_only_for_that_deployment(tmp_path: Path) -> None:
    with Store.open(tmp_path / "db.duckdb") as store:
        ids = []
        for block in (10, 30, 20):
            ids.append(store.write_snapshot(make_state(block_number=block, n_markets=1, accounts_per_market=2)))
        other = store.write_snapshot(
            make_state(block_number=5, n_markets=1, accounts_per_market=2, deployment="other")
        )
        state = make_state(block_number=None, n_markets=1, accounts_per_market=2)
        ids.append(store.write_snapshot(dataclasses.replace(state)))
        deleted = apply_retention(store, "synthetic-mainnet", Retention(keep_last=2), ids[1], datetime.now(UTC).replace(tzinfo=None))
        assert deleted == [ids[0], ids[3]]  # block 10 and the offline one; blocks 30 and 20 stay
        assert sorted(store.list_snapshots()["snapshot_id"]) == sorted([ids[1], ids[2], other])
        assert apply_retention(store, "synthetic-mainnet", Retention(), ids[1], datetime.now(UTC).replace(tzinfo=None)) == []
        future = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=2)
        assert apply_retention(store, "synthetic-mainnet", Retention(max_age_days=1), ids[2], future) == [ids[1]]
        assert sorted(store.list_snapshots()["snapshot_id"]) == sorted([ids[2], other])
