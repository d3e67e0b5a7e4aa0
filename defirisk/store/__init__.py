"""The DuckDB snapshot store: one DDL file (``schema.sql``), atomic writes, exact reads, export.

``Store`` is the public entry point; ``default_db_path()`` says where the database lives by default.
"""

from defirisk.store.connection import default_db_path
from defirisk.store.export import EXPORT_TABLES, FORMATS
from defirisk.store.migrations import SCHEMA_VERSION
from defirisk.store.store import Store

__all__ = ["EXPORT_TABLES", "FORMATS", "SCHEMA_VERSION", "Store", "default_db_path"]
