"""CSV and Parquet tables: complete, exact numbers, formula-free CSV, verbatim Parquet."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from defirisk.report.escape import csv_cell
from defirisk.report.tables import SCHEMAS, tables, to_csv, to_parquet
from tests.report.sample import HOSTILE, sample_audit


def _csv_rows(table: pa.Table) -> list[list[str]]:
    return list(csv.reader(io.StringIO(to_csv(table), newline="")))


def test_every_row_of_the_document_is_in_a_table() -> None:
    doc = sample_audit()
    got = tables(doc)
    assert set(got) == set(SCHEMAS)
    assert got["accounts_at_risk"].num_rows == len(doc["at_risk"]) == 25
    assert got["liquidation_curves"].num_rows == sum(len(c["points"]) for c in doc["liquidation_curves"]) == 234
    assert got["stress"].num_rows == len(doc["stress"]) == 20
    assert got["hf_distribution"].num_rows == 7
    assert got["newly_liquidatable"].num_rows == len(doc["whatif"]["newly_liquidatable"]) == 6
    assert "newly_liquidatable" not in tables(sample_audit(whatif=False))
    for name, table in got.items():
        assert table.schema.equals(SCHEMAS[name]), name
        assert table.schema.metadata[b"defirisk.schema"] == b"defirisk.audit/1"
        assert json.loads(table.schema.metadata[b"defirisk.snapshot"])["block_number"] == 18_000_000


def test_csv_numbers_read_back_exactly() -> None:
    doc = sample_audit()
    rows = _csv_rows(tables(doc)["accounts_at_risk"])
    header, body = rows[0], rows[1:]
    assert header == SCHEMAS["accounts_at_risk"].names
    assert len(body) == len(doc["at_risk"])
    for row, account in zip(body, doc["at_risk"], strict=True):
        record = dict(zip(header, row, strict=True))
        assert record["account"] == account["account"]
        for key in ("health_factor", "collateral_usd", "debt_usd", "liquidation_price_usd", "liquidation_change"):
            assert float(record[key]) == account[key], key
    stress = dict(zip(*_csv_rows(tables(doc)["stress"])[:2], strict=True))
    assert json.loads(stress["worst_change"]) == doc["stress"][0]["worst_change"]
    assert int(stress["accounts_liquidatable"]) == doc["stress"][0]["accounts_liquidatable"]
    hf = _csv_rows(tables(doc)["hf_distribution"])
    assert hf[-1][hf[0].index("upper")] == ""


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_hostile_csv_cells_never_start_a_formula() -> None:
    doc = sample_audit(hostile=True)
    checked = 0
    for table in tables(doc).values():
        for row in _csv_rows(table)[1:]:
            for cell in row:
                checked += 1
                if cell and not _is_number(cell):
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
                    assert "\x1b" not in cell
    assert checked > 1_500
    stress = _csv_rows(tables(doc)["stress"])
    names = [row[0] for row in stress[1:]]
    assert names[1] == csv_cell(doc["stress"][1]["name"]) == "'=HYPERLINK(\"http://x\")"
    assert any(len(name) == 10_000 for name in names), "CSV cells are complete, not cut"


def test_parquet_keeps_strings_verbatim() -> None:
    doc = sample_audit(hostile=True)
    for name, table in tables(doc).items():
        back = pq.read_table(pa.BufferReader(to_parquet(table)))
        assert back.equals(table), name
        assert back.schema.metadata[b"defirisk.schema"] == b"defirisk.audit/1"
    stress = pq.read_table(pa.BufferReader(to_parquet(tables(doc)["stress"]))).to_pylist()
    assert [row["name"] for row in stress[:2]] == [doc["stress"][0]["name"], doc["stress"][1]["name"]]
    assert stress[1]["name"] == '=HYPERLINK("http://x")'
    assert dict(stress[0]["worst_change"]) == doc["stress"][0]["worst_change"]
    symbols = [row["main_collateral"] for row in
               pq.read_table(pa.BufferReader(to_parquet(tables(doc)["accounts_at_risk"]))).to_pylist()]
    assert set(symbols) == set(HOSTILE[:3])


def test_undecodable_bytes_are_marked_in_parquet() -> None:
    doc = sample_audit()
    doc["at_risk"][0]["main_collateral"] = b"\xff\xfeSYM".decode("utf-8", "surrogateescape")
    back = pq.read_table(pa.BufferReader(to_parquet(tables(doc)["accounts_at_risk"]))).to_pylist()
    assert back[0]["main_collateral"] == "\\udcff\\udcfeSYM"
