"""Canonical DataFrames to Arrow tables for the database, and back, exactly.

Each stored column has a *kind* that fixes its SQL type and its Python form:

==========  ============  =====================================================================
kind        SQL type      Python form
==========  ============  =====================================================================
address     VARCHAR       lower-case ``str`` (anything else is refused)
text        VARCHAR       ``str``, verbatim
raw         VARCHAR       exact ``int`` (Python or numpy integer); stored as a decimal string
float       DOUBLE        ``float`` (NaN kept)
int         INTEGER       ``int``; read back as ``int64``
bool        BOOLEAN       ``bool``
json        JSON          ``dict`` that survives ``json`` unchanged (str keys, lists, exact ints)
value       VARCHAR       any number or string, stored as ``str(value)``; read back as ``str``
int64       BIGINT        ``int``; read back as ``int64``
==========  ============  =====================================================================

Only the columns named in ``TableSpec.nullable`` may hold ``None``. Encoding checks every value and
raises ``DataError`` before anything reaches the database.
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from defirisk.errors import DataError
from defirisk.model import ACCOUNT_COLUMNS, ASSET_COLUMNS, EMODE_COLUMNS, POSITION_COLUMNS

_ARROW_TYPES = {
    "address": pa.string(),
    "text": pa.string(),
    "float": pa.float64(),
    "int": pa.int32(),
    "bool": pa.bool_(),
}


@dataclass(frozen=True)
class TableSpec:
    """A stored table: its columns (in order) with their kinds, its row key, its nullable columns."""

    name: str
    kinds: dict[str, str]
    key: tuple[str, ...]
    nullable: frozenset[str] = frozenset()


def _kinds(columns: dict[str, str], kinds: dict[str, str]) -> dict[str, str]:
    """``kinds`` in the model's column order; every model column must have a kind."""
    return {name: kinds[name] for name in columns}


_RATIO = "float"
ASSETS = TableSpec(
    "assets",
    _kinds(
        ASSET_COLUMNS,
        {
            "market": "address",
            "asset": "address",
            "symbol": "text",
            "name": "text",
            "decimals": "int",
            "price_raw": "raw",
            "price": "float",
            "price_usd": "float",
            "ltv": _RATIO,
            "liquidation_threshold": _RATIO,
            "liquidation_bonus": _RATIO,
            "protocol_fee": _RATIO,
            "reserve_factor": _RATIO,
            "supply_cap": "float",
            "borrow_cap": "float",
            "debt_ceiling": "float",
            "is_isolated": "bool",
            "borrowable_in_isolation": "bool",
            "is_siloed": "bool",
            "usage_as_collateral_enabled": "bool",
            "borrowing_enabled": "bool",
            "is_active": "bool",
            "is_frozen": "bool",
            "is_paused": "bool",
            "emode_category": "int",
            "extra": "json",
        },
    ),
    key=("market", "asset"),
    nullable=frozenset({"extra"}),
)
EMODES = TableSpec(
    "emodes",
    _kinds(
        EMODE_COLUMNS,
        {
            "market": "address",
            "category": "int",
            "label": "text",
            "ltv": _RATIO,
            "liquidation_threshold": _RATIO,
            "liquidation_bonus": _RATIO,
            "price_source": "address",
            "price_raw": "raw",
        },
    ),
    key=("market", "category"),
    nullable=frozenset({"price_source", "price_raw"}),
)
ACCOUNTS = TableSpec(
    "accounts",
    _kinds(
        ACCOUNT_COLUMNS, {"market": "address", "account": "address", "emode_category": "int", "extra": "json"}
    ),
    key=("market", "account"),
    nullable=frozenset({"extra"}),
)
POSITIONS = TableSpec(
    "positions",
    _kinds(
        POSITION_COLUMNS,
        {
            "market": "address",
            "account": "address",
            "asset": "address",
            "collateral_raw": "raw",
            "collateral": "float",
            "debt_raw": "raw",
            "debt": "float",
            "collateral_enabled": "bool",
        },
    ),
    key=("market", "account", "asset"),
)
MISMATCHES = TableSpec(
    "reconciliation_mismatches",
    {"market": "address", "account": "address", "field": "text", "ours": "value", "chain": "value"},
    key=("market", "account", "field"),
    nullable=frozenset({"account", "ours", "chain"}),
)
DISCOVERED = TableSpec(
    "discovered_accounts",
    {"market": "address", "account": "address", "first_block": "int64"},
    key=(),
)

#: The snapshot tables a ``MarketState`` fills, by attribute name.
STATE_TABLES: dict[str, TableSpec] = {
    "assets": ASSETS,
    "emodes": EMODES,
    "accounts": ACCOUNTS,
    "positions": POSITIONS,
}


def encode_json_values(values: list[Any], where: str) -> list[str | None]:
    """JSON text of each dict (``None`` stays ``None``); refuses what would not read back equal.

    The check decodes all texts at once and compares with the input, which catches what ``json``
    silently changes: tuples (to lists), non-string keys (to strings), NaN (refused outright).
    """
    encoder = json.JSONEncoder(allow_nan=False, separators=(",", ":"))
    texts: list[str | None] = []
    for value in values:
        if value is None:
            texts.append(None)
            continue
        if not isinstance(value, dict):
            raise DataError(f"{where} must be a dict, not {type(value).__name__}")
        try:
            texts.append(encoder.encode(value))
        except (TypeError, ValueError) as exc:
            raise DataError(f"{where} is not JSON-serialisable: {exc}") from None
    present = [value for value in values if value is not None]
    if json.loads("[" + ",".join(text for text in texts if text is not None) + "]") != present:
        raise DataError(f"{where} would not read back unchanged from JSON (tuples or non-string keys?)")
    return texts


def encode_json(value: Any, where: str) -> str | None:
    """``encode_json_values`` for one value."""
    return encode_json_values([value], where)[0]


def decode_json(text: str | None) -> Any:
    """The dict ``encode_json`` stored (``None`` for SQL NULL)."""
    return None if text is None else json.loads(text)


def _raw_text(value: Any, where: str) -> str | None:
    if type(value) is int:
        return str(value)
    if value is None:
        return None
    if isinstance(value, np.integer):
        return str(int(value))
    raise DataError(f"{where} must hold exact integers, found {type(value).__name__} {value!r:.60}")


def _value_text(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | numbers.Real | Decimal) and not isinstance(value, bool):
        return str(value)
    raise DataError(f"{where} must hold numbers or strings, found {type(value).__name__}")


def _encode_column(series: pd.Series, kind: str, where: str) -> pa.Array:
    try:
        if kind == "raw":
            return pa.array([_raw_text(v, where) for v in series.tolist()], type=pa.string())
        if kind == "json":
            return pa.array(encode_json_values(series.tolist(), where), type=pa.string())
        if kind == "value":
            return pa.array([_value_text(v, where) for v in series.tolist()], type=pa.string())
        if kind == "int64":
            return pa.array(series, type=pa.int64(), from_pandas=False)
        array = pa.array(series, type=_ARROW_TYPES[kind], from_pandas=False)
    except (ValueError, TypeError, pa.ArrowException) as exc:
        raise DataError(f"{where}: {exc}") from None
    if kind == "address":
        differs = pc.not_equal(array, pc.utf8_lower(array))
        if pc.any(differs).as_py():
            raise DataError(f"{where} must be lower-case, found {pc.filter(array, differs)[0].as_py()!r:.80}")
    return array


def encode_frame(frame: pd.DataFrame, spec: TableSpec) -> pa.Table:
    """An Arrow table of ``frame``'s columns (exactly ``spec``'s, in order), checked value by value.

    Raises ``DataError`` on a missing or foreign column, a value of the wrong kind, a ``None`` in a
    column that may not hold one, an upper-case address, or two rows with the same key.
    """
    if list(frame.columns) != list(spec.kinds):
        raise DataError(f"{spec.name} columns {list(frame.columns)} differ from {list(spec.kinds)}")
    arrays = []
    for name, kind in spec.kinds.items():
        where = f"{spec.name}.{name}"
        array = _encode_column(frame[name], kind, where)
        if array.null_count and name not in spec.nullable:
            raise DataError(f"{where} has {array.null_count} missing value(s)")
        arrays.append(array)
    if spec.key and len(frame) and frame.duplicated(list(spec.key)).any():
        first = frame.loc[frame.duplicated(list(spec.key)), list(spec.key)].iloc[0].tolist()
        raise DataError(f"{spec.name} has more than one row for {dict(zip(spec.key, first, strict=True))}")
    return pa.Table.from_arrays(arrays, names=list(spec.kinds))


def _decode_column(column: pa.ChunkedArray, kind: str) -> pd.Series:
    if kind == "raw":
        return pd.Series([None if s is None else int(s) for s in column.to_pylist()], dtype=object)
    if kind == "json":
        return pd.Series([decode_json(s) for s in column.to_pylist()], dtype=object)
    if kind in ("address", "text", "value"):
        return pd.Series(column.to_pylist(), dtype=object)
    if column.null_count:
        return pd.Series(column.to_pylist(), dtype=object)
    if kind in ("int", "int64"):
        return pd.Series(column.to_numpy().astype(np.int64))
    if kind == "bool":
        return pd.Series(column.to_numpy(zero_copy_only=False).astype(bool))
    return pd.Series(column.to_numpy(zero_copy_only=False).astype(np.float64))


def decode_table(table: pa.Table, spec: TableSpec) -> pd.DataFrame:
    """The canonical DataFrame of a table read back from the database (``spec``'s columns)."""
    return pd.DataFrame({name: _decode_column(table.column(name), kind) for name, kind in spec.kinds.items()})
