"""DuckDB plumbing shared by the store's modules: connection settings, transactions, and how
DuckDB's exceptions become the project's (``StoreError`` and its subclasses)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from defirisk.errors import CorruptDatabase, StoreError

#: Settings of every connection: never fetch or load extensions behind the user's back (DuckDB
#: would otherwise download one just to look at a file with a SQLite header).
CONNECTION_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (DuckDB's run to several, with a caret diagram)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def store_errors(path: Path | str) -> Iterator[None]:
    """Re-raise DuckDB errors as ``CorruptDatabase`` (damaged storage) or ``StoreError``."""
    try:
        yield
    except duckdb.Error as exc:
        message = first_line(exc)
        damaged = any(word in message.lower() for word in ("checksum", "corrupt"))
        raise (CorruptDatabase if damaged else StoreError)(f"{path}: {message}") from exc


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Commit when the block ends normally; roll back if it (or the commit) raises, then re-raise."""
    con.begin()
    committed = False
    try:
        yield
        con.commit()
        committed = True
    finally:
        if not committed:
            # A commit that failed has already ended the transaction; the original error matters.
            with suppress(duckdb.TransactionException):
                con.rollback()
