"""Reading complete snapshots back: listings, look-ups and exact ``MarketState`` round trips.

Every query filters on ``complete``, so a snapshot being written (or one a crash left behind) is
never seen. Rows come back in key order: assets by (market, asset), e-modes by (market, category),
accounts by (market, account), positions by (market, account, asset).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from defirisk.errors import SnapshotNotFound
from defirisk.model import MarketState, SnapshotMeta
from defirisk.store.codec import MISMATCHES, STATE_TABLES, decode_json, decode_table

_SELECT = {
    "assets": "SELECT * EXCLUDE (snapshot_id) FROM assets WHERE snapshot_id = ? ORDER BY market, asset",
    "emodes": "SELECT * EXCLUDE (snapshot_id) FROM emodes WHERE snapshot_id = ? ORDER BY market, category",
    "accounts": "SELECT * EXCLUDE (snapshot_id) FROM accounts WHERE snapshot_id = ? ORDER BY market, account",
    "positions": (
        "SELECT * EXCLUDE (snapshot_id) FROM positions WHERE snapshot_id = ? ORDER BY market, account, asset"
    ),
    "reconciliation_mismatches": (
        "SELECT * EXCLUDE (snapshot_id) FROM reconciliation_mismatches WHERE snapshot_id = ?"
        " ORDER BY market, account NULLS FIRST, field"
    ),
}
_META = """
SELECT deployment, family, chain_id, block_number, block_hash, block_timestamp AS timestamp,
       adapter_version, price_source, base_currency, base_currency_decimals, base_currency_usd,
       rules_version, label, offline, snapshot_id, market_params::VARCHAR AS market_params, note
FROM snapshots WHERE snapshot_id = ? AND complete
"""
_LIST = """
SELECT s.snapshot_id, s.deployment, s.family, s.chain_id, s.block_number, s.block_hash,
       s.block_timestamp, s.created_at, s.adapter_version, s.price_source, s.base_currency,
       s.rules_version, s.label, s.offline, s.note, s.accounts_checked, s.mismatches, s.verified,
       coalesce(a.n_accounts, 0) AS n_accounts, coalesce(p.n_positions, 0) AS n_positions
FROM snapshots s
LEFT JOIN (SELECT snapshot_id, count(*) AS n_accounts FROM accounts GROUP BY ALL) a USING (snapshot_id)
LEFT JOIN (SELECT snapshot_id, count(*) AS n_positions FROM positions GROUP BY ALL) p USING (snapshot_id)
WHERE s.complete AND (?::VARCHAR IS NULL OR s.deployment = ?::VARCHAR)
ORDER BY s.snapshot_id
"""
_LATEST = """
SELECT snapshot_id FROM snapshots
WHERE complete AND deployment = ? AND (?::BIGINT IS NULL OR block_number <= ?::BIGINT)
ORDER BY block_number DESC NULLS LAST, snapshot_id DESC LIMIT 1
"""
_FIND = """
SELECT max(snapshot_id) FROM snapshots
WHERE complete AND deployment = ? AND chain_id = ? AND block_number = ?
"""


def query_arrow(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pa.Table:
    """The result of ``sql`` as an Arrow table (``to_arrow_table`` is DuckDB ≥ 1.4's name)."""
    result = con.execute(sql, params)
    fetch = getattr(result, "to_arrow_table", None) or result.fetch_arrow_table
    return fetch()


def list_snapshots(con: duckdb.DuckDBPyConnection, deployment: str | None = None) -> pd.DataFrame:
    """One row per complete snapshot (of ``deployment``, or all), oldest id first.

    Columns: the snapshot row's (without the JSON ones) plus ``n_accounts`` and ``n_positions``.
    """
    table = query_arrow(con, _LIST, [deployment, deployment])
    # Nullable integers (block number of an offline snapshot, counts of an unreconciled one) stay
    # integers instead of turning into floats.
    return table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def latest_snapshot_id(
    con: duckdb.DuckDBPyConnection, deployment: str, block_number: int | None = None
) -> int:
    """The newest complete snapshot of ``deployment`` (at or before ``block_number`` if given).

    Newest means highest block number, then highest id. ``SnapshotNotFound`` if there is none.
    """
    row = con.execute(_LATEST, [deployment, block_number, block_number]).fetchone()
    if row is None:
        at = "" if block_number is None else f" at or before block {block_number}"
        raise SnapshotNotFound(f"no snapshot of {deployment!r}{at}")
    return int(row[0])


def find_snapshot(
    con: duckdb.DuckDBPyConnection, deployment: str, chain_id: int, block_number: int
) -> int | None:
    """The id of a complete snapshot of exactly this deployment, chain and block, else ``None``."""
    row = con.execute(_FIND, [deployment, chain_id, block_number]).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def load_meta(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> SnapshotMeta:
    """The ``SnapshotMeta`` of a complete snapshot (with its ``snapshot_id``)."""
    cursor = con.execute(_META, [snapshot_id])
    row = cursor.fetchone()
    if row is None:
        raise SnapshotNotFound(f"no snapshot {snapshot_id}")
    fields = dict(zip([column[0] for column in cursor.description], row, strict=True))
    fields["market_params"] = decode_json(fields["market_params"])
    return SnapshotMeta(**fields)


def load_state(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> MarketState:
    """The ``MarketState`` stored as ``snapshot_id``, exactly as written (rows in key order)."""
    meta = load_meta(con, snapshot_id)
    frames = {
        name: decode_table(query_arrow(con, _SELECT[name], [snapshot_id]), spec)
        for name, spec in STATE_TABLES.items()
    }
    return MarketState(meta=meta, **frames)


def load_reconciliation(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> dict[str, Any] | None:
    """The reconciliation dict stored with a snapshot (``None`` if it was not reconciled)."""
    row = con.execute(
        "SELECT reconciliation::VARCHAR FROM snapshots WHERE snapshot_id = ? AND complete", [snapshot_id]
    ).fetchone()
    if row is None:
        raise SnapshotNotFound(f"no snapshot {snapshot_id}")
    return decode_json(row[0])


def load_mismatches(con: duckdb.DuckDBPyConnection, snapshot_id: int) -> pd.DataFrame:
    """Mismatch rows of a snapshot: market, account, field, ours, chain (values as text)."""
    load_meta(con, snapshot_id)
    return decode_table(query_arrow(con, _SELECT[MISMATCHES.name], [snapshot_id]), MISMATCHES)
