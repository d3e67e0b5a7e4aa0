"""`defirisk job check`, `job run` exit statuses that need no node, and `defirisk history`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from defirisk.cli import app
from defirisk.jobs.lock import EXIT_LOCKED, job_lock
from defirisk.jobs.metrics import METRICS, snapshot_metrics
from defirisk.store import Store
from tests.jobs.helpers import job_text, json_lines
from tests.store.synthetic import make_state

runner = CliRunner()
SECRET_URL = "https://eth-mainnet.example.org/v2/abcDEF0123456789secretKEY"


@pytest.fixture
def job_file(tmp_path: Path) -> Path:
    path = tmp_path / "job.toml"
    path.write_text(job_text(
        {"name": "offline", "database": "db.duckdb", "cadence": "*/15 * * * *", "alert_file": "alerts.jsonl"},
        [{"deployment": "aave-v3-ethereum", "rpc_env": "DEFIRISK_TEST_RPC"},
         {"deployment": "aave-v3-base", "rpc_env": "DEFIRISK_TEST_UNSET"}],
        [{"metric": "accounts_hf_below_1", "above": 3, "deployments": ["aave-v3-base"]}],
        {"keep_last": 4},
    ))
    return path


def test_check_shows_the_job_and_whether_each_variable_is_set_never_its_value(job_file: Path) -> None:
    env = {"DEFIRISK_TEST_RPC": SECRET_URL}
    result = runner.invoke(app, ["job", "check", str(job_file), "--json"], env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["database"] == str(job_file.parent / "db.duckdb")
    assert [(d["deployment"], d["rpc_env"], d["rpc_env_set"]) for d in document["deployments"]] == [
        ("aave-v3-ethereum", "DEFIRISK_TEST_RPC", True), ("aave-v3-base", "DEFIRISK_TEST_UNSET", False),
    ]
    assert document["retention"] == {"keep_last": 4, "max_age_days": None}
    table = runner.invoke(app, ["job", "check", str(job_file)], env=env)
    assert table.exit_code == 0
    for text in ("aave-v3-base", "DEFIRISK_TEST_UNSET", "accounts_hf_below_1", "*/15 * * * *"):
        assert text in table.stdout
    assert "secretKEY" not in result.output + table.output


@pytest.mark.parametrize("command", ["run", "check"])
def test_an_invalid_job_file_exits_2_with_one_line(tmp_path: Path, command: str) -> None:
    path = tmp_path / "job.toml"
    path.write_text(job_text({"name": "x", "database": "db.duckdb"},
                             [{"deployment": "aave-v3-ethereum", "rpc_env": SECRET_URL}]))
    result = runner.invoke(app, ["job", command, str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1
    assert "rpc_env names an environment variable" in result.stderr and "secretKEY" not in result.stderr
    assert not (tmp_path / "db.duckdb").exists()


def test_a_run_refused_by_the_lock_exits_4_before_any_work(job_file: Path) -> None:
    database = job_file.parent / "db.duckdb"
    with job_lock(database):
        started = time.monotonic()
        result = runner.invoke(app, ["job", "run", str(job_file), "--wait", "0.3"])
    assert result.exit_code == EXIT_LOCKED
    assert time.monotonic() - started >= 0.3
    told, error = result.stderr.splitlines()
    assert result.stdout == "" and "waiting up to 0.3 s" in told
    assert error.startswith("Error: another job run holds") and error.endswith("gave up after waiting 0.3 s")
    assert not database.exists()


def test_deployments_without_their_variable_fail_and_the_run_says_so(job_file: Path) -> None:
    result = runner.invoke(app, ["job", "run", str(job_file), "--json"], env={"DEFIRISK_TEST_RPC": ""})
    assert result.exit_code == 1
    (run,) = json_lines(result.stdout)
    assert run["ok"] is False and run["job"] == "offline" and run["cadence"] == "*/15 * * * *"
    assert [(d["deployment"], d["status"], d["error_type"]) for d in run["deployments"]] == [
        ("aave-v3-ethereum", "failed", "UsageError"), ("aave-v3-base", "failed", "UsageError"),
    ]
    assert result.stderr.splitlines() == [
        "Error: aave-v3-ethereum: UsageError: environment variable DEFIRISK_TEST_RPC (rpc_env of aave-v3-ethereum) is not set",
        "Error: aave-v3-base: UsageError: environment variable DEFIRISK_TEST_UNSET (rpc_env of aave-v3-base) is not set",
    ]


def test_a_malformed_url_in_the_variable_fails_that_deployment_without_showing_it(job_file: Path) -> None:
    result = runner.invoke(app, ["job", "run", str(job_file), "--quiet"],
                           env={"DEFIRISK_TEST_RPC": "ftp://user:secretKEY@host/path"})
    assert result.exit_code == 1 and result.stdout == ""
    assert "Error: aave-v3-ethereum: UsageError: RPC endpoint" in result.stderr
    assert "secretKEY" not in result.stderr


# history --------------------------------------------------------------------------------------------


@pytest.fixture
def history_db(tmp_path: Path) -> tuple[Path, list]:
    """Three snapshots of one deployment stored out of block order, one offline, one of another."""
    path = tmp_path / "db.duckdb"
    states = [
        make_state(seed=1, block_number=300, n_markets=1, accounts_per_market=4),
        make_state(seed=2, block_number=100, n_markets=1, accounts_per_market=5),
        make_state(seed=3, block_number=None, n_markets=1, accounts_per_market=3),
        make_state(seed=4, block_number=200, n_markets=1, accounts_per_market=2, deployment="other"),
    ]
    with Store.open(path) as store:
        for state in states:
            store.write_snapshot(state)
    return path, states


def test_history_lists_every_metric_oldest_first(history_db: tuple[Path, list]) -> None:
    path, states = history_db
    result = runner.invoke(app, ["history", "synthetic-mainnet", "--db", str(path), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["deployment"] == "synthetic-mainnet" and document["metrics"] == list(METRICS)
    rows = document["snapshots"]
    # Offline (no block) first, then by block: ids 3, 2, 1.
    assert [(r["snapshot_id"], r["block_number"]) for r in rows] == [(3, None), (2, 100), (1, 300)]
    for row, state in zip(rows, (states[2], states[1], states[0]), strict=True):
        expected = snapshot_metrics(state)
        assert {name: row[name] for name in METRICS} == pytest.approx(expected, rel=1e-12)
        assert row["block_timestamp"] == state.meta.timestamp


def test_history_selects_metrics_and_the_newest_snapshots(history_db: tuple[Path, list]) -> None:
    path, states = history_db
    result = runner.invoke(app, ["history", "synthetic-mainnet", "--db", str(path), "--json", "--last", "2",
                                 "-m", "debt_usd", "--metric", "accounts", "-m", "debt_usd"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["metrics"] == ["debt_usd", "accounts"]
    assert [(r["snapshot_id"], r["accounts"]) for r in document["snapshots"]] == [(2, 5), (1, 4)]
    assert set(document["snapshots"][0]) == {"snapshot_id", "block_number", "block_timestamp", "created_at",
                                             "debt_usd", "accounts"}
    table = runner.invoke(app, ["history", "synthetic-mainnet", "--db", str(path), "-m", "accounts"])
    assert table.exit_code == 0
    assert "History of synthetic-mainnet" in table.stdout and "2023-11-14" in table.stdout


def test_history_names_the_metrics(history_db: tuple[Path, list]) -> None:
    result = runner.invoke(app, ["history", "x", "--metric", "list", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == METRICS


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["synthetic-mainnet", "-m", "debt_below_1"], 2, "unknown metric 'debt_below_1'; did you mean"),
        (["nobody"], 1, "no snapshot of 'nobody'"),
        (["synthetic-mainnet", "--last", "0"], 2, ""),
    ],
)
def test_history_errors(history_db: tuple[Path, list], args: list[str], code: int, message: str) -> None:
    path, _ = history_db
    result = runner.invoke(app, ["history", *args, "--db", str(path)])
    assert result.exit_code == code
    assert message in result.stderr and result.stdout == ""
