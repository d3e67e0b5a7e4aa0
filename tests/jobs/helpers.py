"""Writing job files and running `defirisk job` for the tests, in-process or as real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from defirisk.cli import app
from defirisk.store import Store
from tests.localchain.helpers import LocalAave

#: `defirisk` as a real process (the job commands registered whether or not cli.py imports them yet).
DEFIRISK = [sys.executable, "-c", "import defirisk.commands.jobs; from defirisk.cli import main; main()"]

RPC_ENV = "LOCAL_RPC"


def toml_value(value: Any) -> str:
    """``value`` as a TOML literal (strings, numbers, booleans, lists of those)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def job_text(
    job: dict[str, Any],
    deployments: list[dict[str, Any]],
    alerts: list[dict[str, Any]] = (),
    retention: dict[str, Any] | None = None,
) -> str:
    """A job file with these tables."""
    lines = ["[job]", *(f"{k} = {toml_value(v)}" for k, v in job.items())]
    if retention is not None:
        lines += ["[job.retention]", *(f"{k} = {toml_value(v)}" for k, v in retention.items())]
    for table, rows in (("deployments", deployments), ("alerts", alerts)):
        for row in rows:
            lines += [f"[[{table}]]", *(f"{k} = {toml_value(v)}" for k, v in row.items())]
    return "\n".join(lines) + "\n"


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of ``text`` parsed as JSON (fails on any line that is not)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@dataclass
class ChainJob:
    """A job folder for the local market: ``dep.toml`` (its deployment), ``job.toml``, ``db.duckdb``."""

    aave: LocalAave
    folder: Path
    runner: CliRunner

    @classmethod
    def create(cls, aave: LocalAave, folder: Path) -> ChainJob:
        aave.write_deployment_toml(folder / "dep.toml")
        return cls(aave, folder, CliRunner())

    @property
    def job_file(self) -> Path:
        return self.folder / "job.toml"

    @property
    def db(self) -> Path:
        return self.folder / "db.duckdb"

    @property
    def alert_file(self) -> Path:
        return self.folder / "alerts.jsonl"

    @property
    def env(self) -> dict[str, str]:
        return {RPC_ENV: self.aave.rpc_url}

    def write_job(
        self,
        *,
        reorg_lag: int = 0,
        alerts: list[dict[str, Any]] = (),
        retention: dict[str, Any] | None = None,
        deployments: list[dict[str, Any]] | None = None,
    ) -> Path:
        job = {"name": "local", "database": "db.duckdb", "reorg_lag": reorg_lag, "alert_file": "alerts.jsonl"}
        rows = deployments if deployments is not None else [{"deployment": "dep.toml", "rpc_env": RPC_ENV}]
        self.job_file.write_text(job_text(job, rows, alerts, retention))
        return self.job_file

    def deployment_variant(self, file_name: str, **changes: Any) -> str:
        """A copy of ``dep.toml`` with some fields changed (``name``, ``chain_id``); returns its file name."""
        lines = []
        for line in (self.folder / "dep.toml").read_text().splitlines():
            key = line.split("=", 1)[0].strip()
            lines.append(f"{key} = {toml_value(changes[key])}" if key in changes else line)
        (self.folder / file_name).write_text("\n".join(lines) + "\n")
        return file_name

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        """`defirisk job run job.toml ARGS` in this process."""
        return self.runner.invoke(app, ["job", "run", str(self.job_file), *args], env=self.env if env is None else env)

    def run_json(self, *args: str) -> tuple[Result, dict[str, Any], list[dict[str, Any]]]:
        """A ``--json`` run: the result, its run document and its alert lines."""
        result = self.run("--json", *args)
        lines = json_lines(result.stdout)
        assert lines and lines[-1]["type"] == "run", result.output
        assert all(line["type"] == "alert" for line in lines[:-1])
        return result, lines[-1], lines[:-1]

    def snapshot_ids(self) -> list[int]:
        with Store.open(self.db, read_only=True) as store:
            return [int(i) for i in store.list_snapshots()["snapshot_id"]]

    def process(self, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
        """`defirisk job run job.toml ARGS` as a real process (text pipes)."""
        return subprocess.Popen(
            [*DEFIRISK, "job", "run", str(self.job_file), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
