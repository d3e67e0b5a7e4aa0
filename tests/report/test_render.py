"""``render`` writes every format, and never leaves a half-written or stray file behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from defirisk.errors import DataError, InvalidParameter, OutputError
from defirisk.report import FORMATS, render, render_html, render_markdown
from defirisk.report import write as write_module
from defirisk.report.tables import SCHEMAS
from tests.report.sample import sample_audit


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("hostile", [False, True])
def test_every_format_is_written(tmp_path: Path, hostile: bool) -> None:
    doc = sample_audit(hostile=hostile)
    assert render(doc, "markdown", tmp_path / "r.md") == [tmp_path / "r.md"]
    assert (tmp_path / "r.md").read_text(encoding="utf-8") == render_markdown(doc)
    render(doc, "html", tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == render_html(doc)
    render(doc, "json", tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text(encoding="ascii")) == doc
    csv_files = render(doc, "csv", tmp_path / "csv")
    assert sorted(p.name for p in csv_files) == sorted(f"{name}.csv" for name in SCHEMAS)
    parquet_files = render(doc, "parquet", tmp_path / "parquet")
    rows = pq.read_table(tmp_path / "parquet" / "accounts_at_risk.parquet").num_rows
    assert rows == len(doc["at_risk"]) and len(parquet_files) == len(SCHEMAS)
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert (tmp_path / "r.md").stat().st_mode & 0o777 == 0o644
    assert set(FORMATS) == {"markdown", "html", "json", "csv", "parquet"}


def test_an_invalid_document_writes_nothing(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("previous report")
    doc = sample_audit()
    doc["market"]["debt_usd"] = float("nan")
    for fmt, out in (("markdown", target), ("csv", tmp_path / "tables")):
        with pytest.raises(DataError, match="/market/debt_usd"):
            render(doc, fmt, out)
    assert target.read_text() == "previous report"
    assert _listing(tmp_path) == ["report.md"]


def test_usage_errors(tmp_path: Path) -> None:
    doc = sample_audit()
    with pytest.raises(InvalidParameter, match="unknown report format 'pdf'"):
        render(doc, "pdf", tmp_path / "r.pdf")
    with pytest.raises(InvalidParameter, match="does not exist"):
        render(doc, "markdown", tmp_path / "missing" / "r.md")
    with pytest.raises(InvalidParameter, match="does not exist"):
        render(doc, "csv", tmp_path / "missing" / "tables")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidParameter, match="is a file"):
        render(doc, "parquet", tmp_path / "file")
    with pytest.raises(InvalidParameter, match="is a folder"):
        render(doc, "html", tmp_path)
    assert _listing(tmp_path) == ["file"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("previous report")
    target.chmod(0o600)

    def disk_full(descriptor: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(write_module.os, "fsync", disk_full)
    with pytest.raises(OutputError, match="No space left on device"):
        render(sample_audit(), "html", target)
    assert target.read_text() == "previous report"
    assert _listing(tmp_path) == ["report.html"]
    monkeypatch.undo()
    render(sample_audit(), "html", target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert target.stat().st_mode & 0o777 == 0o600, "a replaced report keeps its permissions"


def test_table_files_are_all_staged_before_any_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "tables"
    render(sample_audit(whatif=False), "csv", folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    staged_when_replacing: list[int] = []
    real_replace = os.replace

    def watching_replace(source: str, destination: Path) -> None:
        staged_when_replacing.append(sum(1 for p in folder.iterdir() if p.name.endswith(".tmp")))
        if len(staged_when_replacing) == 1:
            raise OSError(5, "Input/output error", str(destination))
        real_replace(source, destination)

    monkeypatch.setattr(write_module.os, "replace", watching_replace)
    with pytest.raises(OutputError, match="Input/output error"):
        render(sample_audit(), "csv", folder)
    assert staged_when_replacing == [len(SCHEMAS)], "every file was written before the first replace"
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
