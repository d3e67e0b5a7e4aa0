"""Looking at a database file directly, past the ``Store`` API, to check what is really stored."""

from __future__ import annotations

from pathlib import Path

import duckdb

SNAPSHOT_TABLES = ("snapshots", "assets", "emodes", "accounts", "positions", "reconciliation_mismatches")


def row_counts(path: Path, snapshot_id: int | None = None) -> dict[str, int]:
    """Rows per snapshot table (of one snapshot, or in all), read through a read-only connection."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        counts = {}
        for table in SNAPSHOT_TABLES:
            relation = con.table(table)
            if snapshot_id is not None:
                relation = relation.filter(
                    duckdb.ColumnExpression("snapshot_id") == duckdb.ConstantExpression(snapshot_id)
                )
            counts[table] = relation.aggregate("count(*)").fetchone()[0]
        return counts
    finally:
        con.close()


def stray_rows(path: Path) -> dict[str, int]:
    """Rows of each table whose snapshot is missing or not complete (must always be zero)."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        complete = con.table("snapshots").filter("complete").select("snapshot_id").set_alias("done")
        return {
            table: con.table(table)
            .join(complete, "snapshot_id", how="anti")
            .aggregate("count(*)")
            .fetchone()[0]
            for table in SNAPSHOT_TABLES
        }
    finally:
        con.close()


def folder_bytes(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (so that a new ``.wal`` beside a database shows up too)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}
