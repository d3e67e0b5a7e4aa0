"""Reading a whole database file, past the ``Store`` API, to compare what two runs stored."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import duckdb

#: Every table of the schema, and the columns that differ between two identical runs (ids drawn
#: from a sequence, wall-clock times).
TABLES = (
    "snapshots", "assets", "emodes", "accounts", "positions", "reconciliation_mismatches",
    "discovered_accounts", "discovery_cursor",
)
VOLATILE = {"snapshot_id", "created_at", "updated_at"}


def _plain(value: Any) -> Any:
    # NaN != NaN: compare it as text.
    return "nan" if isinstance(value, float) and math.isnan(value) else value


SNAPSHOT_TABLES = TABLES[:6]


def contents(path: Path, snapshot_id: int | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (sorted; without ids and timestamps), read-only; with ``snapshot_id``,
    only that snapshot's rows of the snapshot tables."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for table in TABLES if snapshot_id is None else SNAPSHOT_TABLES:
            relation = con.table(table)
            if snapshot_id is not None:
                relation = relation.filter(
                    duckdb.ColumnExpression("snapshot_id") == duckdb.ConstantExpression(snapshot_id)
                )
            keep = [c for c in relation.columns if c not in VOLATILE]
            rows = relation.select(*keep).fetchall()
            out[table] = sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)
        return out
    finally:
        con.close()


def snapshot_count(path: Path) -> tuple[int, int]:
    """(complete, incomplete) snapshot rows."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        done, partial = con.execute(
            "SELECT count(*) FILTER (WHERE complete), count(*) FILTER (WHERE NOT complete) FROM snapshots"
        ).fetchone()
        return int(done), int(partial)
    finally:
        con.close()


def text_cells(path: Path) -> list[str]:
    """Every value of every table and column as text, for searching the database for a string."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cells = []
        names = [row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for table in names:
            relation = con.table(table)
            for row in relation.fetchall():
                cells += [str(v) for v in row if v is not None]
        return cells
    finally:
        con.close()
