"""Account discovery kept between snapshots, per (deployment, chain id).

Discovery scans a deployment's events for accounts. The accounts found and the block the scan
reached are written together in one transaction, so the cursor never claims blocks whose accounts
are not stored, and the next snapshot scans only ``cursor + 1`` onwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import duckdb
import numpy as np
import pandas as pd
import pyarrow.compute as pc

from defirisk.errors import DataError
from defirisk.store.codec import DISCOVERED, encode_frame
from defirisk.store.duck import transaction
from defirisk.store.writer import ROWS_VIEW

_INSERT_NEW = """
INSERT INTO discovered_accounts
SELECT $deployment, $chain_id, n.market, n.account, n.first_block
FROM (SELECT market, account, min(first_block) AS first_block FROM _defirisk_rows GROUP BY ALL) n
WHERE NOT EXISTS (
    SELECT 1 FROM discovered_accounts d
    WHERE d.deployment = $deployment AND d.chain_id = $chain_id
      AND d.market = n.market AND d.account = n.account
)
"""
# A backfill can find an account earlier than the scan that first stored it.
_LOWER_FIRST_BLOCK = """
UPDATE discovered_accounts d SET first_block = n.first_block
FROM (SELECT market, account, min(first_block) AS first_block FROM _defirisk_rows GROUP BY ALL) n
WHERE d.deployment = $deployment AND d.chain_id = $chain_id
  AND d.market = n.market AND d.account = n.account AND n.first_block < d.first_block
"""
_SET_CURSOR = """
INSERT INTO discovery_cursor VALUES (?, ?, ?, ?)
ON CONFLICT (deployment, chain_id) DO UPDATE
SET scanned_to_block = excluded.scanned_to_block, updated_at = excluded.updated_at
"""

AccountRows = pd.DataFrame | Iterable[tuple[str, str, int]]


def get_cursor(con: duckdb.DuckDBPyConnection, deployment: str, chain_id: int) -> int | None:
    """The last block already scanned for ``deployment`` on ``chain_id``; ``None`` before any scan."""
    row = con.execute(
        "SELECT scanned_to_block FROM discovery_cursor WHERE deployment = ? AND chain_id = ?",
        [deployment, chain_id],
    ).fetchone()
    return None if row is None else int(row[0])


def add_discovered(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    chain_id: int,
    accounts: AccountRows,
    scanned_to_block: int,
) -> int:
    """Store newly found accounts and move the cursor to ``scanned_to_block``, atomically.

    ``accounts`` is a DataFrame with columns ``market, account, first_block`` or an iterable of such
    ``(market, account, first_block)`` tuples; lower-case addresses. An account already stored keeps
    its row (its ``first_block`` only ever moves earlier). Returns how many accounts were new.
    """
    if not isinstance(deployment, str) or not all(_is_integer(v) for v in (chain_id, scanned_to_block)):
        raise DataError("deployment must be a str, chain_id and scanned_to_block integers")
    chain_id, scanned_to_block = int(chain_id), int(scanned_to_block)
    rows = encode_frame(accounts if isinstance(accounts, pd.DataFrame) else _frame(accounts), DISCOVERED)
    latest = pc.max(rows.column("first_block")).as_py()
    if latest is not None and latest > scanned_to_block:
        raise DataError(
            f"an account was first seen at block {latest}, after the scanned block {scanned_to_block}"
        )
    params = {"deployment": deployment, "chain_id": chain_id}
    added = 0
    with transaction(con):
        if rows.num_rows:
            con.register(ROWS_VIEW, rows)
            try:
                con.execute(_LOWER_FIRST_BLOCK, params)
                (added,) = con.execute(_INSERT_NEW, params).fetchone()
            finally:
                con.unregister(ROWS_VIEW)
        con.execute(
            _SET_CURSOR, [deployment, chain_id, scanned_to_block, datetime.now(UTC).replace(tzinfo=None)]
        )
    return int(added)


def reset_cursor(con: duckdb.DuckDBPyConnection, deployment: str, chain_id: int, scanned_to_block: int | None) -> None:
    """Move the cursor back to ``scanned_to_block``, or remove it (``None``: the next scan starts at
    the deployment's first block). The accounts found stay: an account too many is only read."""
    if scanned_to_block is None:
        con.execute("DELETE FROM discovery_cursor WHERE deployment = ? AND chain_id = ?", [deployment, chain_id])
    else:
        con.execute(_SET_CURSOR, [deployment, chain_id, scanned_to_block, datetime.now(UTC).replace(tzinfo=None)])


def discovered_accounts(
    con: duckdb.DuckDBPyConnection, deployment: str, chain_id: int, market: str | None = None
) -> list[str]:
    """Every account discovered for the deployment (in ``market`` only, if given), sorted, distinct."""
    rows = con.execute(
        """
        SELECT DISTINCT account FROM discovered_accounts
        WHERE deployment = ? AND chain_id = ? AND (?::VARCHAR IS NULL OR market = ?::VARCHAR)
        ORDER BY account
        """,
        [deployment, chain_id, market, market],
    ).fetchall()
    return [row[0] for row in rows]


def _is_integer(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _frame(accounts: Iterable[tuple[str, str, int]]) -> pd.DataFrame:
    rows = [tuple(row) for row in accounts]
    if any(len(row) != 3 for row in rows):
        raise DataError("discovered accounts must be (market, account, first_block) tuples")
    return pd.DataFrame.from_records(rows, columns=list(DISCOVERED.kinds))
