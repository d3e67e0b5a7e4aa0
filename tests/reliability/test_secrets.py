"""An RPC URL carrying an API key (in its path and its query) is never printed, logged or stored.

Every command that takes an RPC URL runs through a real proxy to anvil whose URL holds two secrets,
on success and on failure (node down, wrong chain, a revoked key, refused requests), with the
``defirisk``, ``urllib3`` and ``requests`` loggers capturing at DEBUG as a user's logging set-up
would leave them. stdout, stderr, every log record, the database file (its bytes and every value of
every table), the job's alert file and the written reports are searched for both secrets.

urllib3 logs the request line (path and query included) at DEBUG when its own logger is set to
DEBUG; defirisk never sets it (nor any logging level, handler or ``http.client`` debug level), so
the key appears only if the user turns urllib3's debug logging on themselves: the last test shows it.
"""

from __future__ import annotations

import functools
import http.client
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import defirisk.snapshot as snapshot_module
from defirisk.chain import RpcClient
from defirisk.cli import app
from tests.chain.faultproxy import FaultProxy
from tests.jobs.helpers import job_text
from tests.reliability.conftest import CleanRun
from tests.reliability.dbcheck import text_cells
from tests.reliability.figures import record
from tests.reliability.test_rpc_faults import FAST, closed_port

pytestmark = pytest.mark.chain

KEY = "SeCrEtKeY0123456789abcdefXYZ"
KEY2 = "Zz9QUERYsecret8765432"
SECRETS = (KEY, KEY2)
LOGGERS = ("defirisk", "urllib3", "requests")
DEFIRISK = [sys.executable, "-c", "from defirisk.cli import main; main()"]


def keyed(base: str) -> str:
    return f"{base}/v2/{KEY}?apikey={KEY2}"


class Records(logging.Handler):
    """Every log record reaching the root logger, formatted."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured() -> Iterator[Records]:
    """A DEBUG handler on the root logger, and the ``defirisk`` and ``requests`` loggers at DEBUG;
    ``urllib3`` keeps its level (the root's WARNING) unless a test sets it."""
    handler = Records()
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    root.addHandler(handler)
    for name in ("defirisk", "requests"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def leaks(*texts: str) -> list[str]:
    return [secret for secret in SECRETS for text in texts if secret in text]


def file_leaks(*paths: Path) -> list[str]:
    found = []
    for path in paths:
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            data = file.read_bytes()
            found += [f"{file.name}: {s}" for s in SECRETS if s.encode() in data]
            if file.suffix == ".duckdb":
                found += [f"{file.name} value: {s}" for s in leaks(*text_cells(file))]
    return found


def test_no_command_prints_logs_or_stores_the_key(
    clean: CleanRun, tmp_path: Path, captured: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot_module, "RpcClient", functools.partial(RpcClient, **FAST))
    folder = tmp_path / "out"
    folder.mkdir()
    db = folder / "db.duckdb"
    wrong_chain = tmp_path / "wrong-chain.toml"
    wrong_chain.write_text(clean.deployment.read_text().replace("chain_id = 31337", "chain_id = 1")
                           .replace('name = "local-aave-v3"', 'name = "local-wrong-chain"'))
    runner = CliRunner()
    outputs: list[str] = []
    runs = 0

    def invoke(argv: list[str], code: int, env: dict[str, str] | None = None) -> None:
        nonlocal runs
        result = runner.invoke(app, argv, env=env)
        assert result.exit_code == code, (argv, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        outputs.append(result.output)
        runs += 1

    down = keyed(f"http://127.0.0.1:{closed_port()}")
    with FaultProxy(clean.upstream) as proxy, FaultProxy(clean.upstream, script=["http_401"]) as revoked, \
            FaultProxy(clean.upstream, rate=0.3, seed=4, kinds=["http_429", "http_503", "reset"]) as flaky:
        url = keyed(proxy.url)
        snap = ["--db", str(db), "--reorg-lag", "0"]
        invoke(["snapshot", str(clean.deployment), "--rpc-url", url, *snap], 0)
        invoke(["snapshot", str(clean.deployment), "--rpc-url", keyed(flaky.url), *snap, "--json"], 0)
        invoke(["snapshot", str(wrong_chain), "--rpc-url", url, *snap], 1)
        invoke(["snapshot", str(clean.deployment), "--rpc-url", keyed(revoked.url), *snap], 1)
        invoke(["snapshot", str(clean.deployment), "--rpc-url", f"htp://user:{KEY}@host/{KEY2}", *snap], 2)
        invoke(["snapshot", str(clean.deployment), "--rpc-url", down, *snap], 1)
        invoke(["stress", str(clean.deployment), "--rpc-url", url, "--block", "latest", "--db", str(db),
                "--shock", "WETH=-30%"], 0)
        invoke(["report", str(clean.deployment), "--rpc-url", url, "--block", "latest", "--db", str(db),
                "--paths", "0", "--eth-price", "1800", "--format", "markdown", "--out", str(folder / "r.md")], 0)
        invoke(["audit", str(clean.deployment), "--db", str(db), "--paths", "0", "--eth-price", "1800", "--json"], 1,
               env={"ETH_RPC_URL": down})
        invoke(["audit", str(clean.deployment), "--db", str(db), "--paths", "0", "--eth-price", "1800", "--block",
                "latest"], 0, env={"ETH_RPC_URL": url})
        job = folder / "job.toml"
        job.write_text(job_text(
            {"name": "secrets", "database": "db.duckdb", "reorg_lag": 0, "alert_file": "alerts.jsonl"},
            [{"deployment": str(clean.deployment), "rpc_env": "KEYED_RPC"},
             {"deployment": str(wrong_chain), "rpc_env": "KEYED_RPC"}],
            [{"metric": "accounts", "above": 0}],
        ))
        invoke(["job", "run", str(job), "--json"], 1, env={"KEYED_RPC": url})
        invoke(["job", "check", str(job), "--json"], 0, env={"KEYED_RPC": url})

        process = subprocess.run(
            [*DEFIRISK, "snapshot", str(wrong_chain), "--rpc-url", url, "--db", str(tmp_path / "x.duckdb")],
            capture_output=True, text=True, timeout=120,
        )
        assert process.returncode == 1 and "***" in process.stderr
        outputs += [process.stdout, process.stderr]
    assert flaky.injected, "the flaky proxy injected no fault"
    assert "***" in "".join(outputs), "the redacted endpoint should appear in the errors"
    assert leaks(*outputs) == [], "a secret was printed"
    assert leaks(*captured.lines) == [], "a secret was logged"
    assert file_leaks(folder) == [], "a secret was written"
    assert (folder / "alerts.jsonl").exists() and (folder / "r.md").exists()
    assert logging.getLogger("urllib3").level == logging.NOTSET, "defirisk must not set urllib3's log level"
    assert http.client.HTTPConnection.debuglevel == 0
    record(
        "secrets_1_never_shown",
        area="Secrets",
        attack="RPC URL with an API key in its path and query (`…/v2/KEY?apikey=KEY2`, through a real proxy to "
        "anvil), loggers defirisk/requests at DEBUG",
        tried=f"{runs} CLI runs + 1 process: snapshot (ok, flaky 429/503/reset, wrong chain also as a process, "
        "revoked key, malformed URL, node down), stress, report, audit (URL from the environment; node down), job run/check",
        outcome="0 occurrences of either secret in stdout/stderr, in the log records (defirisk and requests "
        f"emitted {len(captured.lines)} at DEBUG), in the database bytes and values, the alert file or the "
        "report; errors show the endpoint as http://127.0.0.1:PORT/v2/***?apikey=***",
        log_records=len(captured.lines),
    )


def test_urllib3_debug_logging_is_the_users_choice(clean: CleanRun, tmp_path: Path, captured: Records) -> None:
    """defirisk configures no logging. A user who turns urllib3's own DEBUG logging on sees request
    lines, key included: that is urllib3's behaviour, documented rather than patched."""
    with FaultProxy(clean.upstream) as proxy:
        argv = ["snapshot", str(clean.deployment), "--rpc-url", keyed(proxy.url), "--db",
                str(tmp_path / "db.duckdb"), "--reorg-lag", "0"]
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 0
        quiet = list(captured.lines)
        logging.getLogger("urllib3").setLevel(logging.DEBUG)
        result = CliRunner().invoke(app, argv)
        assert result.exit_code == 0
    loud = captured.lines[len(quiet):]
    assert leaks(*quiet) == []
    assert KEY in "".join(loud) and any("POST /v2/" in line for line in loud)
    record(
        "secrets_2_urllib3_debug",
        area="Secrets",
        attack="urllib3's own DEBUG logging switched on by the user",
        tried="the same snapshot with urllib3 at its default level and at DEBUG",
        outcome=f"default: 0 records with the key; urllib3 at DEBUG: {sum(KEY in x for x in loud)} request lines "
        "hold it (urllib3 logs the path). defirisk sets no log level, handler or http.client debug level",
    )
