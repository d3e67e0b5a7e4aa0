"""``Store``: the one object the rest of defirisk uses to keep and read snapshots.

    with Store.open() as store:                 # $DEFIRISK_DB or ~/.local/share/defirisk/...
        snapshot_id = store.write_snapshot(state)
        state = store.load_state(store.latest_snapshot_id("aave-v3-ethereum"))

Every method maps DuckDB's own errors to the project's (``StoreError`` and subclasses).
"""

from __future__ import annotations

import operator
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from defirisk.errors import InvalidParameter, StoreError
from defirisk.model import MarketState
from defirisk.store import discovery, reader, writer
from defirisk.store import export as exporter
from defirisk.store.connection import default_db_path, open_connection
from defirisk.store.duck import store_errors
from defirisk.store.migrations import SCHEMA_VERSION


def _integer(value: Any, what: str) -> int:
    """``value`` as a Python int (numpy integers from a DataFrame included); DuckDB binds no numpy."""
    if isinstance(value, bool):
        raise InvalidParameter(f"{what} must be an integer, not {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise InvalidParameter(f"{what} must be an integer, not {value!r:.40}") from None


def _optional_integer(value: Any, what: str) -> int | None:
    return None if value is None else _integer(value, what)


class Store:
    """A defirisk snapshot database (a DuckDB file), open for reading or for writing.

    Only one process may have a file open for writing; readers in other processes must wait for it
    to close (``DatabaseLocked``). Use as a context manager, or call ``close()``.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool) -> None:
        self._con = con
        self.path = path
        self.read_only = read_only

    @classmethod
    def open(cls, path: str | Path | None = None, read_only: bool = False, wait: float = 0.0) -> Store:
        """Open (creating or upgrading if needed, unless ``read_only``) the database at ``path``.

        ``path`` defaults to ``default_db_path()``; ``":memory:"`` gives a throw-away database.
        While another process holds the file, retry for up to ``wait`` seconds before raising
        ``DatabaseLocked``. A file that is not a defirisk database raises ``CorruptDatabase``, one
        from a newer defirisk ``SchemaVersionError``; neither is modified.
        """
        target = Path(path).expanduser() if path is not None else default_db_path()
        con, con_read_only = open_connection(target, read_only, wait)
        store = cls(con, target, read_only)
        if not con_read_only and not read_only:
            with store_errors(target):
                writer.discard_incomplete(con)
        return store

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        """The schema version of the open database (always ``SCHEMA_VERSION`` once opened)."""
        with store_errors(self.path):
            row = self._con.execute("SELECT value FROM defirisk_meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else SCHEMA_VERSION

    def _writable(self) -> duckdb.DuckDBPyConnection:
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only")
        return self._con

    # Snapshots -----------------------------------------------------------------------------------

    def write_snapshot(
        self,
        state: MarketState,
        reconciliation: dict[str, Any] | None = None,
        mismatches: pd.DataFrame | None = None,
    ) -> int:
        """Store ``state`` atomically as a new complete snapshot and return its id (1, 2, 3, ...).

        ``reconciliation`` is the adapter's summary of its check against the chain; its keys
        ``accounts_checked`` (int), ``mismatches`` (int, default: the number of mismatch rows) and
        ``verified`` (bool, default: something checked and no mismatch) fill the snapshot row, and
        the whole dict is kept as JSON. ``mismatches`` has columns market, account, field, ours,
        chain. Invalid data raises ``DataError`` and nothing is written.
        """
        con = self._writable()
        with store_errors(self.path):
            return writer.write_snapshot(con, state, reconciliation, mismatches)

    def list_snapshots(self, deployment: str | None = None) -> pd.DataFrame:
        """Complete snapshots (of ``deployment``, or all), oldest id first; see ``reader.list_snapshots``."""
        with store_errors(self.path):
            return reader.list_snapshots(self._con, deployment)

    def latest_snapshot_id(self, deployment: str, block_number: int | None = None) -> int:
        """The newest snapshot of ``deployment`` (at or before ``block_number``); else ``SnapshotNotFound``."""
        with store_errors(self.path):
            return reader.latest_snapshot_id(
                self._con, deployment, _optional_integer(block_number, "block_number")
            )

    def find_snapshot(self, deployment: str, chain_id: int, block_number: int) -> int | None:
        """The snapshot of exactly this deployment, chain and block, or ``None`` (for idempotent jobs)."""
        with store_errors(self.path):
            return reader.find_snapshot(
                self._con, deployment, _integer(chain_id, "chain_id"), _integer(block_number, "block_number")
            )

    def load_state(self, snapshot_id: int) -> MarketState:
        """The snapshot exactly as written (raw amounts as ints, extras as dicts); ``SnapshotNotFound``."""
        with store_errors(self.path):
            return reader.load_state(self._con, _integer(snapshot_id, "snapshot_id"))

    def load_reconciliation(self, snapshot_id: int) -> dict[str, Any] | None:
        """The reconciliation dict stored with the snapshot, ``None`` if it was not reconciled."""
        with store_errors(self.path):
            return reader.load_reconciliation(self._con, _integer(snapshot_id, "snapshot_id"))

    def load_mismatches(self, snapshot_id: int) -> pd.DataFrame:
        """The snapshot's mismatch rows (market, account, field, ours, chain; values as text)."""
        with store_errors(self.path):
            return reader.load_mismatches(self._con, _integer(snapshot_id, "snapshot_id"))

    def delete_snapshot(self, snapshot_id: int) -> None:
        """Remove a snapshot and all its rows; ``SnapshotNotFound`` if there is none."""
        con = self._writable()
        with store_errors(self.path):
            writer.delete_snapshot(con, _integer(snapshot_id, "snapshot_id"))

    def prune(self, deployment: str, keep_last: int) -> list[int]:
        """Keep the newest ``keep_last`` snapshots of ``deployment``; return the ids deleted."""
        con = self._writable()
        with store_errors(self.path):
            return writer.prune(con, deployment, _integer(keep_last, "keep_last"))

    def export(self, snapshot_id: int | None, out_dir: str | Path, fmt: str = "parquet") -> list[Path]:
        """Write one ``parquet`` or ``csv`` file per snapshot table (one snapshot, or all if ``None``)."""
        with store_errors(self.path):
            snapshot = _optional_integer(snapshot_id, "snapshot_id")
            return exporter.export(self._con, snapshot, Path(out_dir), fmt)

    # Account discovery ---------------------------------------------------------------------------

    def get_cursor(self, deployment: str, chain_id: int) -> int | None:
        """The last block scanned for accounts, ``None`` before the first scan."""
        with store_errors(self.path):
            return discovery.get_cursor(self._con, deployment, _integer(chain_id, "chain_id"))

    def add_discovered(
        self,
        deployment: str,
        chain_id: int,
        accounts_with_first_block: discovery.AccountRows,
        scanned_to_block: int,
    ) -> int:
        """Store found accounts ``(market, account, first_block)`` and the new cursor in one
        transaction; return how many accounts were new."""
        con = self._writable()
        with store_errors(self.path):
            return discovery.add_discovered(
                con, deployment, chain_id, accounts_with_first_block, scanned_to_block
            )

    def reset_cursor(self, deployment: str, chain_id: int, scanned_to_block: int | None) -> None:
        """Put the cursor back to ``scanned_to_block`` (``None``: no cursor), e.g. after the blocks
        scanned since were replaced by a reorg; the accounts found stay stored."""
        con = self._writable()
        with store_errors(self.path):
            discovery.reset_cursor(
                con, deployment, _integer(chain_id, "chain_id"), _optional_integer(scanned_to_block, "scanned_to_block")
            )

    def discovered_accounts(self, deployment: str, chain_id: int, market: str | None = None) -> list[str]:
        """Accounts discovered so far (in ``market`` only, if given), sorted."""
        with store_errors(self.path):
            return discovery.discovered_accounts(
                self._con, deployment, _integer(chain_id, "chain_id"), market
            )
