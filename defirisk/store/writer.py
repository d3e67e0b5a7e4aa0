"""Writing and removing snapshots, each in one transaction.

A snapshot's row is inserted with ``complete = false``, then its tables (bulk inserts from Arrow, not
row by row), then ``complete`` is set and the transaction commits. A failure anywhere rolls all of
it back; a process killed midway leaves an uncommitted transaction that DuckDB discards on the next
open (and ``discard_incomplete`` removes anything marked incomplete regardless).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from defirisk.errors import DataError, InvalidParameter, SnapshotNotFound
from defirisk.model import MarketState, SnapshotMeta
from defirisk.store.codec import MISMATCHES, STATE_TABLES, encode_frame, encode_json
from defirisk.store.duck import transaction

ROWS_VIEW = "_defirisk_rows"

# One literal statement per table (no SQL is ever assembled from strings).
_INSERT = {
    "assets": "INSERT INTO assets BY NAME SELECT * FROM _defirisk_rows",
    "emodes": "INSERT INTO emodes BY NAME SELECT * FROM _defirisk_rows",
    "accounts": "INSERT INTO accounts BY NAME SELECT * FROM _defirisk_rows",
    "positions": "INSERT INTO positions BY NAME SELECT * FROM _defirisk_rows",
    "reconciliation_mismatches": "INSERT INTO reconciliation_mismatches BY NAME SELECT * FROM _defirisk_rows",
}
_DELETE = (
    "DELETE FROM reconciliation_mismatches WHERE snapshot_id = ?",
    "DELETE FROM positions WHERE snapshot_id = ?",
    "DELETE FROM accounts WHERE snapshot_id = ?",
    "DELETE FROM emodes WHERE snapshot_id = ?",
    "DELETE FROM assets WHERE snapshot_id = ?",
    "DELETE FROM snapshots WHERE snapshot_id = ?",
)
_INSERT_SNAPSHOT = """
INSERT INTO snapshots (
    snapshot_id, deployment, family, chain_id, block_number, block_hash, block_timestamp,
    adapter_version, price_source, base_currency, base_currency_decimals, base_currency_usd,
    rules_version, label, offline, market_params, note, created_at, complete,
    accounts_checked, mismatches, verified, reconciliation
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, false, ?, ?, ?, ?)
"""


def insert_arrow(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """Bulk-insert ``rows`` (columns matched by name) into ``table`` (a key of ``_INSERT``)."""
    con.register(ROWS_VIEW, rows)
    try:
        con.execute(_INSERT[table])
    finally:
        con.unregister(ROWS_VIEW)


def _with_snapshot_id(rows: pa.Table, snapshot_id: int) -> pa.Table:
    return rows.add_column(0, "snapshot_id", pa.array(np.full(rows.num_rows, snapshot_id, dtype=np.int64)))


def _reconciliation_summary(
    reconciliation: dict[str, Any] | None, mismatches: pd.DataFrame | None
) -> tuple[int | None, int | None, bool]:
    """``(accounts_checked, mismatches, verified)`` for the snapshot row.

    Read from the reconciliation dict's keys of the same names; ``mismatches`` defaults to the
    number of mismatch rows and ``verified`` to "at least one account checked and no mismatch".
    Without a reconciliation nothing was checked: ``(None, None, False)``.
    """
    if reconciliation is None:
        if mismatches is not None and len(mismatches):
            raise DataError("mismatch rows were given without the reconciliation they came from")
        return None, None, False
    if not isinstance(reconciliation, dict):
        raise DataError(f"reconciliation must be a dict, not {type(reconciliation).__name__}")
    checked = reconciliation.get("accounts_checked")
    found = reconciliation.get("mismatches", 0 if mismatches is None else len(mismatches))
    for name, value in (("accounts_checked", checked), ("mismatches", found)):
        if value is not None and (type(value) is not int or value < 0):
            raise DataError(f"reconciliation[{name!r}] must be a count (int >= 0), not {value!r:.40}")
    verified = reconciliation.get("verified", bool(checked) and found == 0)
    if type(verified) is not bool:
        raise DataError(f"reconciliation['verified'] must be a bool, not {verified!r:.40}")
    return checked, found, verified


_META_TYPES: dict[str, tuple[type, ...]] = {
    "deployment": (str,),
    "family": (str,),
    "chain_id": (int, type(None)),
    "block_number": (int, type(None)),
    "block_hash": (str, type(None)),
    "timestamp": (int, type(None)),
    "adapter_version": (str,),
    "price_source": (str,),
    "base_currency": (str,),
    "base_currency_decimals": (int,),
    "base_currency_usd": (float, int),
    "rules_version": (str,),
    "label": (str,),
    "offline": (bool,),
    "note": (str,),
}


def _check_meta(meta: SnapshotMeta) -> None:
    for name, types in _META_TYPES.items():
        value = getattr(meta, name)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise DataError(
                f"meta.{name} must be {' or '.join(t.__name__ for t in types)}, not {value!r:.60}"
            )
    if not isinstance(meta.market_params, dict):
        raise DataError(f"meta.market_params must be a dict, not {type(meta.market_params).__name__}")
    if meta.block_hash is not None and meta.block_hash != meta.block_hash.lower():
        raise DataError(f"meta.block_hash must be lower-case, found {meta.block_hash!r:.80}")


def _snapshot_params(
    state: MarketState, summary: tuple[int | None, int | None, bool], reconciliation: Any
) -> list:
    meta = state.meta
    _check_meta(meta)
    checked, found, verified = summary
    return [
        meta.deployment,
        meta.family,
        meta.chain_id,
        meta.block_number,
        meta.block_hash,
        meta.timestamp,
        meta.adapter_version,
        meta.price_source,
        meta.base_currency,
        meta.base_currency_decimals,
        meta.base_currency_usd,
        meta.rules_version,
        meta.label,
        meta.offline,
        encode_json(meta.market_params, "meta.market_params"),
        meta.note,
        datetime.now(UTC).replace(tzinfo=None),
        checked,
        found,
        verified,
        encode_json(reconciliation, "reconciliation"),
    ]


def write_snapshot(
    con: duckdb.DuckDBPyConnection,
    state: MarketState,
    reconciliation: dict[str, Any] | None = None,
    mismatches: pd.DataFrame | None = None,
) -> int:
    """Store ``state`` (and its reconciliation) as a new complete snapshot; return its id.

    Every value is checked before the transaction starts (``DataError``), so a refused snapshot
    leaves no trace. Ids come from a sequence: 1, 2, 3, ...; they are never reused, and a write that
    fails or is killed after drawing its id leaves a gap.
    """
    state.validate()
    rows = {name: encode_frame(getattr(state, name), spec) for name, spec in STATE_TABLES.items()}
    if mismatches is not None:
        rows[MISMATCHES.name] = encode_frame(mismatches, MISMATCHES)
    params = _snapshot_params(state, _reconciliation_summary(reconciliation, mismatches), reconciliation)
    with transaction(con):
        (snapshot_id,) = con.execute("SELECT nextval('snapshot_id_seq')").fetchone()
        con.execute(_INSERT_SNAPSHOT, [snapshot_id, *params])
        for table, table_rows in rows.items():
            insert_arrow(con, table, _with_snapshot_id(table_rows, snapshot_id))
        con.execute("UPDATE snapshots SET complete = true WHERE snapshot_id = ?", [snapshot_id])
    return int(snapshot_id)


def _delete(con: duckdb.DuckDBPyConnection, snapshot_ids: list[int]) -> None:
    for snapshot_id in snapshot_ids:
        for statement in _DELETE:
            con.execute(statement, [snapshot_id])


def delete_snapshot(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> None:
    """Remove one complete snapshot and all its rows; ``SnapshotNotFound`` if there is none."""
    with transaction(con):
        found = con.execute(
            "SELECT count(*) FROM snapshots WHERE snapshot_id = ? AND complete", [snapshot_id]
        ).fetchone()
        if not found or not found[0]:
            raise SnapshotNotFound(f"no snapshot {snapshot_id}")
        _delete(con, [snapshot_id])


def prune(con: duckdb.DuckDBPyConnection, deployment: str, keep_last: int) -> list[int]:
    """Delete all but the newest ``keep_last`` snapshots of ``deployment``; return the ids deleted.

    Newest means highest block number (snapshots without one count as oldest), then highest id.
    """
    if type(keep_last) is not int or keep_last < 0:
        raise InvalidParameter(f"keep_last must be an int >= 0, not {keep_last!r:.40}")
    with transaction(con):
        doomed = [
            row[0]
            for row in con.execute(
                """
                SELECT snapshot_id FROM snapshots WHERE deployment = ? AND complete
                ORDER BY block_number DESC NULLS LAST, snapshot_id DESC OFFSET ?
                """,
                [deployment, keep_last],
            ).fetchall()
        ]
        _delete(con, doomed)
    return sorted(doomed)


def discard_incomplete(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Remove snapshots never marked complete (none survive a crash, but be sure); return their ids."""
    stale = [row[0] for row in con.execute("SELECT snapshot_id FROM snapshots WHERE NOT complete").fetchall()]
    if stale:
        with transaction(con):
            _delete(con, stale)
    return stale
