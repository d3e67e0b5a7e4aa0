"""Exporting snapshots to files: one file per snapshot table, Parquet or CSV.

Raw amounts stay exact decimal strings and JSON stays JSON text in both formats. CSV files are meant
to be opened in spreadsheets, and token symbols are untrusted: any text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return (which a spreadsheet would run as a formula)
is written with a leading single quote.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from defirisk.errors import InvalidParameter, SnapshotNotFound, StoreError
from defirisk.store.reader import query_arrow

FORMATS = ("parquet", "csv")
_FORMULA_START = r"^[=+\-@\t\r]"

# Complete snapshots only; the parameter is a snapshot id or NULL for all of them.
_EXPORT = {
    "snapshots": (
        "SELECT * EXCLUDE (complete) FROM snapshots WHERE complete AND (?::BIGINT IS NULL OR snapshot_id = ?)"
        " ORDER BY snapshot_id"
    ),
    "assets": (
        "SELECT * FROM assets WHERE snapshot_id IN"
        " (SELECT snapshot_id FROM snapshots WHERE complete AND (?::BIGINT IS NULL OR snapshot_id = ?))"
        " ORDER BY snapshot_id, market, asset"
    ),
    "emodes": (
        "SELECT * FROM emodes WHERE snapshot_id IN"
        " (SELECT snapshot_id FROM snapshots WHERE complete AND (?::BIGINT IS NULL OR snapshot_id = ?))"
        " ORDER BY snapshot_id, market, category"
    ),
    "accounts": (
        "SELECT * FROM accounts WHERE snapshot_id IN"
        " (SELECT snapshot_id FROM snapshots WHERE complete AND (?::BIGINT IS NULL OR snapshot_id = ?))"
        " ORDER BY snapshot_id, market, account"
    ),
    "positions": (
        "SELECT * FROM positions WHERE snapshot_id IN"
        " (SELECT snapshot_id FROM snapshots WHERE complete AND (?::BIGINT IS NULL OR snapshot_id = ?))"
        " ORDER BY snapshot_id, market, account, asset"
    ),
    "reconciliation_mismatches": (
        "SELECT * FROM reconciliation_mismatches WHERE snapshot_id IN"
        " (SELECT snapshot_id FROM snapshots WHERE complete AND (?::BIGINT IS NULL OR snapshot_id = ?))"
        " ORDER BY snapshot_id, market, account NULLS FIRST, field"
    ),
}
EXPORT_TABLES = tuple(_EXPORT)


def neutralise_formulas(table: pa.Table) -> pa.Table:
    """``table`` with every text cell that a spreadsheet would treat as a formula prefixed by ``'``."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.match_substring_regex(column, _FORMULA_START)
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _write(table: pa.Table, path: Path, fmt: str) -> None:
    """Write to a temporary name, then rename, so a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    try:
        if fmt == "parquet":
            pq.write_table(table, partial)
        else:
            pa_csv.write_csv(neutralise_formulas(table), partial)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"cannot write {path}: {exc.strerror or exc}") from None


def export(
    con: duckdb.DuckDBPyConnection, snapshot_id: int | None, out_dir: Path, fmt: str = "parquet"
) -> list[Path]:
    """Write ``<table>.<fmt>`` for every snapshot table into ``out_dir``; return the paths.

    ``snapshot_id`` selects one complete snapshot (``SnapshotNotFound`` if there is none), ``None``
    all of them. Existing files of the same names are replaced; ``out_dir`` is created if needed.
    """
    if fmt not in FORMATS:
        raise InvalidParameter(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    params = [snapshot_id, snapshot_id]
    tables = {name: query_arrow(con, sql, params) for name, sql in _EXPORT.items()}
    if snapshot_id is not None and tables["snapshots"].num_rows == 0:
        raise SnapshotNotFound(f"no snapshot {snapshot_id}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    paths = []
    for name, table in tables.items():
        path = out_dir / f"{name}.{fmt}"
        _write(table, path, fmt)
        paths.append(path)
    return paths
