"""The report's tables as data: accounts at risk, liquidation curves, stress results, the HF
distribution and (with a proposal) the newly liquidatable accounts, for CSV and Parquet.

``tables`` builds Arrow tables with the document's values verbatim (strings too, except lone
surrogates, see ``escape.parquet_text``): Parquet is read by programs, not spreadsheets. ``to_csv``
is for spreadsheets, so every string cell goes through ``escape.csv_cell`` (no formula can start a
cell; control characters are visible). Numbers are written in full precision (``repr``), lists and
symbol → change maps as JSON text.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from defirisk.report.escape import csv_cell, parquet_text

Doc = dict[str, Any]

_F = pa.float64()
_S = pa.string()
_I = pa.int64()
_SYMBOLS = pa.list_(_S)
_CHANGES = pa.map_(_S, _F)

SCHEMAS: dict[str, pa.Schema] = {
    "accounts_at_risk": pa.schema(
        [("account", _S), ("market", _S), ("health_factor", _F), ("collateral_usd", _F), ("debt_usd", _F),
         ("main_collateral", _S), ("liquidation_price_usd", _F), ("liquidation_change", _F)]
    ),
    "liquidation_curves": pa.schema(
        [("curve", _S), ("kind", _S), ("members", _SYMBOLS), ("change", _F), ("liquidatable_debt_usd", _F),
         ("liquidatable_collateral_usd", _F)]
    ),
    "stress": pa.schema(
        [("name", _S), ("kind", _S), ("description", _S), ("worst_change", _CHANGES), ("liquidatable_debt_usd", _F),
         ("liquidated_debt_usd", _F), ("bad_debt_usd", _F), ("unliquidatable_debt_usd", _F),
         ("liquidation_cost_usd", _F), ("accounts_liquidatable", _I), ("unmapped_assets", _SYMBOLS)]
    ),
    "hf_distribution": pa.schema(
        [("bucket", _S), ("lower", _F), ("upper", _F), ("count", _I), ("debt_usd", _F), ("collateral_usd", _F)]
    ),
    "newly_liquidatable": pa.schema(
        [("account", _S), ("health_factor_before", _F), ("health_factor_after", _F), ("debt_usd", _F)]
    ),
}


def _text(value: str | None) -> str | None:
    return None if value is None else parquet_text(value)


def _changes(mapping: dict[str, float]) -> list[tuple[str, float]]:
    return [(parquet_text(k), v) for k, v in mapping.items()]


def _rows(document: Doc) -> dict[str, list[Doc]]:
    whatif = document["whatif"]
    rows = {
        "accounts_at_risk": [
            {**a, "account": _text(a["account"]), "market": _text(a["market"]),
             "main_collateral": _text(a["main_collateral"])}
            for a in document["at_risk"]
        ],
        "liquidation_curves": [
            {"curve": _text(c["name"]), "kind": c["kind"], "members": [parquet_text(m) for m in c["members"]], **p}
            for c in document["liquidation_curves"]
            for p in c["points"]
        ],
        "stress": [
            {**s, "name": _text(s["name"]), "description": _text(s["description"]),
             "worst_change": _changes(s["worst_change"]),
             "unmapped_assets": [parquet_text(m) for m in s["unmapped_assets"]]}
            for s in document["stress"]
        ],
        "hf_distribution": [{**b, "bucket": _text(b["bucket"])} for b in document["hf_distribution"]["buckets"]],
    }
    if whatif is not None:
        rows["newly_liquidatable"] = [{**r, "account": _text(r["account"])} for r in whatif["newly_liquidatable"]]
    return rows


def tables(document: Doc) -> dict[str, pa.Table]:
    """One Arrow table per name in ``SCHEMAS`` (``newly_liquidatable`` only with a proposal), with
    ``defirisk.*`` schema metadata: the document schema id, the snapshot (JSON) and the command."""
    metadata = {
        b"defirisk.schema": document["schema"].encode(),
        b"defirisk.snapshot": json.dumps(document["snapshot"], allow_nan=False).encode(),
        b"defirisk.command": json.dumps(document["method"]["command"]).encode(),
    }
    return {
        name: pa.Table.from_pylist(rows, schema=SCHEMAS[name].with_metadata(metadata))
        for name, rows in _rows(document).items()
    }


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_cell(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list) and all(isinstance(item, tuple) for item in value):
        return csv_cell(json.dumps(dict(value), ensure_ascii=False))
    return csv_cell(json.dumps(value, ensure_ascii=False))


def to_csv(table: pa.Table) -> str:
    """The table as CSV text (RFC 4180 quoting, a header row, ``\\r\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow([_csv_value(row[name]) for name in table.column_names])
    return out.getvalue()


def to_parquet(table: pa.Table) -> bytes:
    """The table as a Parquet file (zstd), in memory."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()
