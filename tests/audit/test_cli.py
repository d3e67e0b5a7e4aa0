"""``defirisk audit`` and ``defirisk report`` through the CLI: output, schema, files and exit codes
(0 ok, 1 failure, 2 usage error, 3 a held gate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from defirisk.cli import app
from defirisk.report.schema import errors

runner = CliRunner()
NO_RPC = {"ETH_RPC_URL": ""}


def run(*args: str) -> Result:
    return runner.invoke(app, list(args), env=NO_RPC)


def audit(db: Path, *args: str) -> Result:
    return run("audit", "--snapshot", "1", "--db", str(db), "--paths", "10", "--seed", "3", *args)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_audit_json_is_a_valid_document(stored: Path) -> None:
    result = audit(stored, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert errors(document) == []
    assert document["snapshot"]["snapshot_id"] == 1
    assert document["risk_metrics"]["paths"] == 10
    assert document["method"]["command"].startswith(
        f"defirisk audit --snapshot 1 --db {stored} --paths 10 --horizon 24h --seed 3"
    )


def test_audit_prints_tables_and_the_rerun_command(stored: Path) -> None:
    result = audit(stored)
    assert result.exit_code == 0, result.output
    for text in ("Market today", "Borrowers by health factor", "Stress set", "WETH -30%", "Monte Carlo",
                 "Concentration", "Rerun: defirisk audit --snapshot 1"):
        assert text in result.stdout


def test_a_deployment_without_an_rpc_url_uses_its_latest_stored_snapshot(stored: Path) -> None:
    result = run("audit", "synthetic", "--db", str(stored), "--paths", "0", "--json")
    assert result.exit_code == 0, result.output
    assert "No RPC URL" in result.stderr and "stored snapshot 1 of synthetic" in result.stderr
    assert json.loads(result.stdout)["snapshot"]["snapshot_id"] == 1


def test_a_held_gate_exits_3_after_printing_the_audit(stored: Path) -> None:
    result = audit(stored, "--json", "--fail-on", "accounts>0", "--fail-on", "bad_debt_usd>1e30")
    assert result.exit_code == 3, result.output
    document = json.loads(result.stdout)
    assert errors(document) == []
    assert [(g["expr"], g["failed"]) for g in document["gates"]] == [("accounts>0", True), ("bad_debt_usd>1e30", False)]
    assert "Error: 1 --fail-on gate(s) held: accounts>0" in result.stderr


def test_gates_that_hold_not_exit_0(stored: Path) -> None:
    result = audit(stored, "--fail-on", "var99_bad_debt_usd>1e30", "--fail-on", "accounts<0")
    assert result.exit_code == 0, result.output
    assert "Gates (--fail-on)" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["audit"],
        ["audit", "synthetic", "--snapshot", "1"],
        ["audit", "--snapshot", "1", "--fail-on", "nope>1"],
        ["audit", "--snapshot", "1", "--fail-on", "bad_debt_usd>"],
        ["audit", "--snapshot", "1", "--paths", "0", "--fail-on", "var99_bad_debt_usd>1"],
        ["audit", "--snapshot", "1", "--fail-on", "whatif_newly_liquidatable>0"],
        ["audit", "--snapshot", "1", "--set", "WETH.colour=1"],
        ["audit", "--snapshot", "1", "--set", "NOPE.ltv=50%"],
        ["audit", "--snapshot", "1", "--set", "WETH.liquidation_threshold=83"],
        ["audit", "--snapshot", "1", "--max-change", "ltv=abc"],
        ["audit", "--snapshot", "1", "--horizon", "soon"],
        ["audit", "--snapshot", "1", "--paths", "-1"],
        ["audit", "synthetic", "--block", "abc"],
        ["report", "--snapshot", "1", "--out", "x.pdf", "--format", "pdf"],
        ["report", "--snapshot", "1"],
    ],
)
def test_usage_errors_exit_2_in_one_line(stored: Path, args: list[str]) -> None:
    result = run(*args, "--db", str(stored))
    assert result.exit_code == 2, result.output
    no_traceback(result)
    assert result.stdout == ""


@pytest.mark.parametrize(
    "args",
    [["audit", "--snapshot", "7"], ["audit", "nobody"], ["report", "--snapshot", "7", "--out", "r.md"]],
)
def test_failures_exit_1(stored: Path, args: list[str]) -> None:
    result = run(*args, "--db", str(stored))
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ")
    no_traceback(result)


def test_a_missing_database_exits_1(tmp_path: Path) -> None:
    result = run("audit", "--snapshot", "1", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 1 and "no database" in result.stderr


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=40).filter(lambda t: not t.startswith("-")))
def test_fail_on_never_gives_a_traceback(tmp_path: Path, text: str) -> None:
    result = run("audit", "--snapshot", "1", "--db", str(tmp_path / "none.duckdb"), "--fail-on", text)
    no_traceback(result)
    # A malformed gate is refused before the database is opened (2); a good one then fails to open it (1).
    assert result.exit_code in (1, 2)


@pytest.mark.parametrize(("fmt", "name"), [("markdown", "r.md"), ("html", "r.html"), ("json", "r.json")])
def test_report_writes_each_format(stored: Path, tmp_path: Path, fmt: str, name: str) -> None:
    out = tmp_path / name
    result = run("report", "--snapshot", "1", "--db", str(stored), "--paths", "10", "--format", fmt, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.stdout
    text = out.read_text(encoding="utf-8")
    assert "WETH -30%" in text or "WETH \\-30\\%" in text
    if fmt == "json":
        assert errors(json.loads(text)) == []


def test_report_tables_and_a_proposal(stored: Path, tmp_path: Path) -> None:
    folder = tmp_path / "tables"
    result = run("report", "--snapshot", "1", "--db", str(stored), "--paths", "0", "--format", "csv", "--out",
                 str(folder), "--set", "WETH.liquidation_threshold=78%", "--set", "WETH.ltv=76%", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert errors(document) == []
    whatif = document["whatif"]
    assert {(c["parameter"], c["proposed"]) for c in whatif["changes"]} == {("liquidation_threshold", 0.78),
                                                                             ("ltv", 0.76)}
    assert (folder / "newly_liquidatable.csv").read_text().count("\n") == len(whatif["newly_liquidatable"]) + 1
    assert "--set WETH.liquidation_threshold=78%" in document["method"]["command"]
    markdown = tmp_path / "proposal.md"
    result = run("report", "--snapshot", "1", "--db", str(stored), "--paths", "0", "--out", str(markdown),
                 "--set", "WETH.liquidation_threshold=70%", "--set", "WETH.ltv=70%", "--fail-on", "whatif_outside_bounds>0")
    assert result.exit_code == 3, result.output
    text = markdown.read_text(encoding="utf-8")
    assert "Proposed parameter changes" in text and "outside risk-steward bounds" in text


@pytest.mark.parametrize("command", ["audit", "report", "demo"])
def test_every_command_has_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "Usage" in result.stdout and "--json" in result.stdout
