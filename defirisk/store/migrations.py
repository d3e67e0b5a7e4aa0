"""Schema versions: recognising a database, creating it, and upgrading it step by step.

``schema.sql`` always describes the newest schema (``SCHEMA_VERSION``). A database is, in order of
checks:

* version 0: a DuckDB database with no tables at all (a new file); ``schema.sql`` creates it;
* ours: it has ``defirisk_meta`` with ``application = 'defirisk'``; its ``schema_version`` is read;
* anything else (tables but no marker) is not ours: ``CorruptDatabase``.

A database of version ``k`` (1 ≤ k < ``SCHEMA_VERSION``) is upgraded by ``STEPS[k - 1]``,
``STEPS[k]``, ... in one transaction. To add version 2: copy the current ``schema.sql`` to
``tests/store/old_schemas/v1.sql``, edit ``schema.sql``, append a function ``_v1_to_v2(con)`` to
``STEPS`` and bump ``SCHEMA_VERSION``; the migration tests then build a version-1 database and check
that upgrading it yields exactly the catalogue ``schema.sql`` creates.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources

import duckdb

from defirisk.errors import CorruptDatabase, SchemaVersionError
from defirisk.store.duck import first_line, transaction

SCHEMA_VERSION = 1
APPLICATION = "defirisk"

#: ``STEPS[k - 1]`` upgrades a version-``k`` database to version ``k + 1`` in place.
STEPS: tuple[Callable[[duckdb.DuckDBPyConnection], None], ...] = ()

# Every object a user can create, so that a file holding only views or sequences is not taken for empty.
_OBJECTS = """
SELECT 'table', table_name FROM duckdb_tables() WHERE database_name = current_database()
UNION ALL
SELECT 'view', view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal
UNION ALL
SELECT 'sequence', sequence_name FROM duckdb_sequences() WHERE database_name = current_database()
"""


def schema_sql() -> str:
    """The DDL of the newest schema (``schema.sql``)."""
    return resources.files("defirisk.store").joinpath("schema.sql").read_text(encoding="utf-8")


def database_version(con: duckdb.DuckDBPyConnection, path: str) -> int:
    """The schema version of the open database: 0 when it has no tables.

    Raises ``CorruptDatabase`` when it has tables but is not a defirisk database (or its version is
    unreadable) and ``SchemaVersionError`` when a newer defirisk wrote it. Reads only.
    """
    objects = con.execute(_OBJECTS).fetchall()
    if not objects:
        return 0
    if ("table", "defirisk_meta") not in objects:
        raise CorruptDatabase(f"{path} is a DuckDB database but not a defirisk one (no defirisk_meta table)")
    try:
        meta = dict(con.execute("SELECT key, value FROM defirisk_meta").fetchall())
    except duckdb.Error as exc:
        raise CorruptDatabase(f"{path} has a malformed defirisk_meta table: {first_line(exc)}") from None
    if meta.get("application") != APPLICATION:
        raise CorruptDatabase(f"{path} is a DuckDB database but not a defirisk one (no application marker)")
    text = str(meta.get("schema_version", ""))
    if not text.isdecimal():
        raise CorruptDatabase(f"{path} has an unreadable schema_version {text[:40]!r}")
    version = int(text)
    if version > SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{path} has schema version {version}, newer than this defirisk's {SCHEMA_VERSION}; upgrade defirisk"
        )
    if version < 1:
        raise SchemaVersionError(f"{path} has an unknown schema version {version}")
    return version


def migrate(con: duckdb.DuckDBPyConnection, version: int) -> None:
    """Bring a database of ``version`` (0 = empty) to ``SCHEMA_VERSION`` in one transaction."""
    if version == SCHEMA_VERSION:
        return
    with transaction(con):
        if version == 0:
            con.execute(schema_sql())
            con.execute(
                "INSERT INTO defirisk_meta VALUES ('application', ?), ('created_at', ?)",
                [APPLICATION, datetime.now(UTC).isoformat(timespec="seconds")],
            )
            con.execute("INSERT INTO defirisk_meta VALUES ('schema_version', '0')")
        else:
            for step in STEPS[version - 1 :]:
                step(con)
        con.execute("UPDATE defirisk_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
