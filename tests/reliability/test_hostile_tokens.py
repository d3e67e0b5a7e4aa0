"""Hostile token metadata from a real malicious ERC-20 on the local chain, end to end.

Seven ``HostileERC20`` tokens (``tests/localchain/hostile.py``) are listed as reserves of the local
Aave market, priced, supplied as collateral and borrowed. Their ``symbol()`` / ``name()`` answer
HTML and script, quotes and SQL, spreadsheet formulas, terminal escapes and bidi overrides, Rich
markup, 10,000 characters, invalid UTF-8, a bare ``bytes32`` (as MKR does), or revert. A snapshot
must store them verbatim (undecodable bytes as U+FFFD, a revert as an empty string listed in
``token_metadata_missing``), and every way out — CSV and Parquet exports, the terminal, ``--json``,
and the Markdown, HTML, CSV and JSON reports — must keep them inert.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from defirisk.cli import app
from defirisk.store import Store
from tests.localchain.contracts import calldata
from tests.localchain.helpers import LocalAave
from tests.localchain.hostile import Answer, HostileReserve, list_hostile_reserve, supply_hostile
from tests.localchain.tx import Transactor
from tests.reliability.conftest import CleanRun
from tests.reliability.figures import record

pytestmark = pytest.mark.chain

ESCAPES = "\x1b[2J\x1b[31mRED\x1b]0;pwned\x07 \u202eevil\u202c\r\nline2"
MARKDOWN = '" OR 1=1 -- | [link](javascript:alert(1)) **bold** <img src=x onerror=alert(1)>'
LONG = "A<" * 5_000
RICH = "'; DROP TABLE assets; -- [bold red]PWN[/]"
HTML = "<script>alert('x')</script>"

#: label → (symbol answer, name answer, the symbol and name a snapshot must store)
TOKENS: dict[str, tuple[Answer, Answer, str, str]] = {
    "H1": (Answer.string(HTML), Answer.string(ESCAPES), HTML, ESCAPES),
    "H2": (Answer.string(RICH), Answer.string(MARKDOWN), RICH, MARKDOWN),
    "H3": (Answer.string('=HYPERLINK("http://evil.example","x")'), Answer.string("@SUM(A1:A9)"),
           '=HYPERLINK("http://evil.example","x")', "@SUM(A1:A9)"),
    "H4": (Answer.string(LONG), Answer.string("+cmd|' /C calc'!A0"), LONG, "+cmd|' /C calc'!A0"),
    "H5": (Answer.string(b"\xff\xfeBAD\xc3("), Answer.bytes32(b"Maker"), "\ufffd\ufffdBAD\ufffd(", "Maker"),
    "H6": (Answer.bytes32(b"\x1b[31mMKR\xe2\x80\xae"), Answer.revert(), "\x1b[31mMKR\u202e", ""),
    "H7": (Answer.revert(), Answer.string("-2+3"), "", "-2+3"),
}
FORMULA = re.compile(r"^[=+\-@\t\r]")
#: Characters that must never reach a terminal raw: ESC, BEL, CR, bidi overrides and isolates.
CONTROLS = re.compile("[\x1b\x07\r\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Hostile:
    """The hostile market's snapshot: its database, id, and the listed tokens by label."""

    db: Path
    snapshot_id: int
    reserves: dict[str, HostileReserve]
    summary: dict


@pytest.fixture(scope="module")
def hostile(local_aave: LocalAave, clean: CleanRun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    aave = local_aave
    before = aave.snapshot()
    try:
        reserves = {label: list_hostile_reserve(aave.rpc, aave.deployment, label, s, n)
                    for label, (s, n, _, _) in TOKENS.items()}
        supplier = "0x" + "5e" * 20
        for reserve in reserves.values():
            supply_hostile(aave.rpc, aave.deployment, supplier, reserve.token, 10_000 * 10**18)
        usdc, weth = aave.reserves["USDC"].underlying, aave.reserves["WETH"].underlying
        borrower = "0x" + "b0" * 20
        aave.rpc.call("anvil_setBalance", borrower, hex(10**20))
        transactor = Transactor(aave.rpc)
        transactor.send([
            transactor.tx(supplier, aave.pool, calldata("Pool", "borrow", usdc, 5_000 * 10**6, 2, 0, supplier), 2_000_000),
            transactor.tx(borrower, weth, calldata("MintableERC20", "mint", 10**19), 2_000_000),
            transactor.tx(borrower, weth, calldata("MintableERC20", "approve", aave.pool, 10**19), 2_000_000),
            transactor.tx(borrower, aave.pool, calldata("Pool", "supply", weth, 10**19, borrower, 0), 2_000_000),
            *(transactor.tx(borrower, aave.pool, calldata("Pool", "borrow", r.token, 100 * 10**18, 2, 0, borrower),
                            2_000_000) for r in reserves.values()),
        ])
        db = tmp_path_factory.mktemp("hostile") / "db.duckdb"
        result = CliRunner().invoke(app, ["snapshot", str(clean.deployment), "--rpc-url", aave.rpc_url, "--db",
                                          str(db), "--reorg-lag", "0", "--json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        yield Hostile(db, summary["id"], reserves, summary)
    finally:
        assert aave.revert(before)


def by_label(hostile: Hostile, frame) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    rows = {r["asset"]: r for r in frame.to_dict("records")}
    return {label: rows[r.token] for label, r in hostile.reserves.items()}


def run(*argv: str) -> str:
    result = CliRunner().invoke(app, list(argv))
    assert result.exit_code == 0 and result.exception is None, (argv, result.output)
    return result.stdout


def test_metadata_is_stored_verbatim_or_marked(hostile: Hostile) -> None:
    assert hostile.summary["reconciliation"]["verified"]
    with Store.open(hostile.db, read_only=True) as store:
        state = store.load_state(hostile.snapshot_id)
    rows = by_label(hostile, state.assets)
    for label, (_, _, symbol, name) in TOKENS.items():
        row = rows[label]
        assert (row["symbol"], row["name"]) == (symbol, name), label
        missing = row["extra"]["token_metadata_missing"]
        assert ("symbol" in missing) == (label == "H7") and ("name" in missing) == (label == "H6"), label
    assert len(rows["H4"]["symbol"]) == 10_000
    held = set(state.positions["asset"])
    assert {r.token for r in hostile.reserves.values()} <= held
    record(
        "hostile_1_stored",
        area="Hostile on-chain data",
        attack="real malicious ERC-20s listed as Aave reserves on the local chain: symbol()/name() answering "
        "HTML/script, quotes and SQL, formulas (= + - @), terminal escapes and bidi overrides, Rich markup, "
        "10,000 characters, invalid UTF-8, bytes32 (as MKR), or reverting",
        tried=f"{len(TOKENS)} tokens × symbol and name, supplied and borrowed ({len(state.positions)} positions "
        "stored)",
        outcome=f"snapshot reconciled with the chain; {2 * len(TOKENS)}/{2 * len(TOKENS)} strings stored "
        "verbatim (10,000 characters kept whole; invalid bytes as U+FFFD; bytes32 unpadded; a revert as '' "
        "listed in token_metadata_missing)",
    )


def test_exports_neutralise_formulas_and_keep_text(hostile: Hostile, tmp_path: Path) -> None:
    run("export", "--db", str(hostile.db), "--snapshot", str(hostile.snapshot_id), "--format", "csv", "--out",
        str(tmp_path / "csv"))
    run("export", "--db", str(hostile.db), "--snapshot", str(hostile.snapshot_id), "--out", str(tmp_path / "pq"))
    cells = prefixed = 0
    for path in (tmp_path / "csv").glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                for key, value in row.items():
                    cells += 1
                    numeric = re.fullmatch(r"-?[0-9.e+-]+|-?inf|nan", value or "") is not None
                    assert numeric or not FORMULA.match(value or ""), (path.name, key, value[:40])
    with (tmp_path / "csv" / "assets.csv").open(newline="", encoding="utf-8") as handle:
        exported = {r["asset"]: r for r in csv.DictReader(handle)}
    parquet = {r["asset"]: r for r in pq.read_table(tmp_path / "pq" / "assets.parquet").to_pylist()}
    for label, (_, _, symbol, name) in TOKENS.items():
        token = hostile.reserves[label].token
        for column, text in (("symbol", symbol), ("name", name)):
            expected = "'" + text if FORMULA.match(text) else text
            assert exported[token][column] == expected, (label, column)
            prefixed += expected != text
            assert parquet[token][column] == text, (label, column)
    record(
        "hostile_2_export",
        area="Hostile on-chain data",
        attack="the hostile snapshot exported with `defirisk export` (CSV and Parquet)",
        tried=f"{cells} CSV cells in 6 tables; 14 symbol/name values checked in each format",
        outcome=f"0 CSV cells a spreadsheet would run as a formula ({prefixed} hostile values starting with = + - @ "
        "prefixed with ', the rest verbatim); Parquet verbatim",
    )


@pytest.fixture(scope="module")
def audit_document(hostile: Hostile, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, Path]:
    """``defirisk report --format json --json`` of the hostile snapshot: the document printed, and the
    file written (the stress set is computed once for every medium)."""
    out = tmp_path_factory.mktemp("hostile-report") / "r.json"
    stdout = run("report", "--snapshot", str(hostile.snapshot_id), "--db", str(hostile.db), "--paths", "0",
                 "--eth-price", "1800", "--format", "json", "--out", str(out), "--json")
    return json.loads(stdout), stdout, out


def test_terminal_and_json_output_stay_inert(hostile: Hostile, audit_document: tuple[dict, str, Path]) -> None:
    stored = ["--snapshot", str(hostile.snapshot_id), "--db", str(hostile.db)]
    addresses = [r.token for r in hostile.reserves.values()]
    terminal = {
        "audit": run("audit", *stored, "--paths", "0", "--eth-price", "1800"),
        "stress": run("stress", *stored, "--shock", ",".join(f"{a}=-90%" for a in addresses)),
        "curves": run("curves", *stored, *(x for a in addresses[:4] for x in ("--asset", a))),
        "snapshots": run("snapshots", "--db", str(hostile.db)),
    }
    for command, text in terminal.items():
        assert not CONTROLS.search(text), (command, CONTROLS.search(text))
    assert "[bold red]PWN[/]" in terminal["audit"], "Rich markup in a symbol must print as text"
    assert "\\x1b[31mMKR\\u202e" in terminal["audit"], "escapes in a symbol must show as \\x.. text"
    documents = {
        "snapshot --json": hostile.summary,
        "report --json": audit_document[0],
        "stress --json": json.loads(run("stress", *stored, "--shock", f"{addresses[0]}=-50%", "--json")),
        "curves --json": json.loads(run("curves", *stored, "--asset", addresses[3], "--json")),
    }
    text = json.dumps(documents["report --json"], ensure_ascii=False)
    assert HTML in text and "=HYPERLINK" in text, "the audit document keeps the symbols verbatim (data first)"
    record(
        "hostile_3_terminal_json",
        area="Hostile on-chain data",
        attack="the hostile snapshot shown in the terminal (audit, stress, curves, snapshots) and as --json",
        tried=f"{len(terminal)} terminal outputs, {len(documents)} JSON documents",
        outcome="0 raw ESC / BEL / CR / bidi-override characters in the terminal (a symbol's ESC and U+202E "
        "shown as \\x1b and \\u202e); "
        f"Rich markup printed as text; {len(documents)}/{len(documents)} --json outputs valid JSON keeping the "
        "strings verbatim",
    )


def test_reports_escape_every_hostile_string(audit_document: tuple[dict, str, Path], tmp_path: Path) -> None:
    """The document written by ``report --format json``, rendered by ``defirisk.report.render``."""
    from defirisk.report import render

    document, _, written = audit_document
    for fmt, out in (("markdown", "r.md"), ("html", "r.html"), ("csv", "tables")):
        render(document, fmt, tmp_path / out)
    markdown = (tmp_path / "r.md").read_text(encoding="utf-8")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    for raw in ("<script>alert", "<img src=x", "[link](javascript", "**bold**", "\x1b", "\u202e"):
        assert raw not in markdown, ("markdown", raw)
    for raw in ("<script>alert", "<img src=x", "\x1b", "\u202e"):
        assert raw not in html, ("html", raw)
    assert "&lt;script&gt;alert" in html
    assert "\\<script\\>alert" in markdown
    assert json.loads(written.read_text(encoding="ascii")) == document
    cells = 0
    for path in (tmp_path / "tables").glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for value in row:
                    cells += 1
                    numeric = re.fullmatch(r"-?[0-9.e+-]+|-?inf|nan", value) is not None
                    assert numeric or not FORMULA.match(value), (path.name, value[:40])
                    assert not CONTROLS.search(value), (path.name, value[:40])
    record(
        "hostile_4_reports",
        area="Hostile on-chain data",
        attack="the hostile snapshot's audit document (`defirisk report --format json`) rendered as Markdown, "
        "HTML and CSV (`defirisk.report.render`)",
        tried=f"4 formats; {cells} CSV report cells",
        outcome="Markdown: no raw <script>, <img>, link, emphasis, ESC or bidi override (punctuation escaped); "
        "HTML: only &lt;script&gt;; JSON file valid, equal to the printed document; CSV: 0 formula cells, 0 "
        "control characters",
    )
