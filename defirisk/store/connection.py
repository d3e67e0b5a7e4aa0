"""Opening the database file: where it lives, who holds its lock, and whether it is ours.

DuckDB lets one process write a file, or several read it. A second process that tries to open a file
another one holds gets an IO error about a lock, which becomes ``DatabaseLocked``. An existing file is
always inspected through a read-only connection first, so a file that is not ours (a foreign DuckDB
database, a non-DuckDB file, a newer schema) is refused without a single byte of it being written.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from defirisk.errors import CorruptDatabase, DatabaseLocked, StoreError
from defirisk.store.duck import CONNECTION_CONFIG, first_line
from defirisk.store.migrations import SCHEMA_VERSION, database_version, migrate

ENV_VAR = "DEFIRISK_DB"
MEMORY = ":memory:"

_POLL_S = 0.1

T = TypeVar("T")


def default_db_path() -> Path:
    """``$DEFIRISK_DB`` if set, else ``~/.local/share/defirisk/defirisk.duckdb``."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".local" / "share" / "defirisk" / "defirisk.duckdb"


def _locked(path: Path, exc: BaseException) -> DatabaseLocked:
    holder = re.search(r"\(PID (\d+)\)", str(exc))
    by = f" (PID {holder.group(1)})" if holder else ""
    return DatabaseLocked(f"database {path} is in use by another process{by}; wait for it to finish")


def _has_duckdb_header(path: Path) -> bool:
    """Whether the file starts like a DuckDB database (magic ``DUCK`` after an 8-byte checksum).

    Checked before DuckDB sees the file, which would otherwise try to open e.g. a SQLite file
    through an extension.
    """
    with path.open("rb") as handle:
        return handle.read(12)[8:12] == b"DUCK"


def _connect(path: Path, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """A connection and whether it is read-only.

    When this process already has the file open for writing, DuckDB refuses a read-only connection
    to it; the writable instance is shared instead and the caller keeps read-only by itself.
    """
    try:
        return duckdb.connect(str(path), read_only=read_only, config=CONNECTION_CONFIG), read_only
    except duckdb.ConnectionException as exc:
        if "different configuration" not in str(exc):
            raise StoreError(f"cannot open {path}: {first_line(exc)}") from None
        if not read_only:
            raise DatabaseLocked(f"database {path} is open read-only elsewhere in this process") from None
    except duckdb.IOException as exc:
        if "Could not set lock" in str(exc):
            raise _locked(path, exc) from None
        if "not a valid DuckDB database" in str(exc):
            raise CorruptDatabase(f"{path} is not a DuckDB database") from None
        raise CorruptDatabase(f"cannot open {path}: {first_line(exc)}") from None
    except duckdb.Error as exc:
        raise CorruptDatabase(f"cannot open {path}: {first_line(exc)}") from None
    return _connect(path, read_only=False)[0], False


def _version(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    try:
        return database_version(con, str(path))
    except duckdb.Error as exc:
        raise CorruptDatabase(f"cannot read {path}: {first_line(exc)}") from None


def _migrated(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyConnection:
    try:
        migrate(con, _version(con, path))
    except duckdb.Error as exc:
        raise StoreError(f"cannot set up the schema in {path}: {first_line(exc)}") from None
    return con


def _open_once(path: Path, read_only: bool) -> tuple[duckdb.DuckDBPyConnection, bool]:
    if str(path) == MEMORY:
        return _migrated(duckdb.connect(MEMORY, config=CONNECTION_CONFIG), path), False
    if not path.exists():
        if read_only:
            raise StoreError(f"no database at {path} (nothing has been stored there yet)")
        path.parent.mkdir(parents=True, exist_ok=True)
        con, _ = _connect(path, read_only=False)
        return _closing_on_error(con, lambda: _migrated(con, path)), False
    if not path.is_file():
        raise StoreError(f"{path} is not a file")
    if not _has_duckdb_header(path):
        raise CorruptDatabase(f"{path} is not a DuckDB database")
    con, con_read_only = _connect(path, read_only=True)
    version = _closing_on_error(con, lambda: _version(con, path))
    if read_only:
        if version < SCHEMA_VERSION:
            con.close()
            raise StoreError(
                f"{path} has schema version {version}; open it once for writing to upgrade it to {SCHEMA_VERSION}"
            )
        return con, True
    if con_read_only:
        con.close()
        con, _ = _connect(path, read_only=False)
    return _closing_on_error(con, lambda: _migrated(con, path)), False


def _closing_on_error(con: duckdb.DuckDBPyConnection, action: Callable[[], T]) -> T:
    """``action()``, closing ``con`` if it raises."""
    done = False
    try:
        result = action()
        done = True
        return result
    finally:
        if not done:
            con.close()


def open_connection(path: Path, read_only: bool, wait: float) -> tuple[duckdb.DuckDBPyConnection, bool]:
    """A connection to ``path`` with the schema at ``SCHEMA_VERSION``, and whether it is read-only.

    A missing file is created (with its parent folders) unless ``read_only``. While another process
    holds the lock, retries for up to ``wait`` seconds, then raises ``DatabaseLocked``.
    """
    deadline = time.monotonic() + wait
    while True:
        try:
            return _open_once(path, read_only)
        except OSError as exc:
            raise StoreError(f"cannot open {path}: {exc.strerror or exc}") from None
        except DatabaseLocked as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                if wait > 0:
                    raise DatabaseLocked(f"{exc}; gave up after waiting {wait:g} s") from None
                raise
            time.sleep(min(_POLL_S, left))
