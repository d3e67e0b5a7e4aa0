"""Fixtures of the audit tests: a stored synthetic Aave v3 snapshot, and the demo run once.

``defirisk.commands.report`` is imported here so that its commands are registered on ``defirisk.cli.app``
whatever ``defirisk/cli.py`` imports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import defirisk.commands.report  # noqa: F401  (registers audit, report and demo)
from defirisk.cli import app
from defirisk.model import MarketState
from defirisk.store import Store
from tests.audit.states import aave_state

runner = CliRunner()
#: Monte Carlo paths of the demo in the tests (the command's default is 1,000).
DEMO_TEST_PATHS = 40


@pytest.fixture(scope="session")
def synthetic() -> MarketState:
    return aave_state()


@pytest.fixture(scope="session")
def stored(synthetic: MarketState, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding the synthetic snapshot as id 1 (deployment ``synthetic``)."""
    path = tmp_path_factory.mktemp("db") / "audit.duckdb"
    with Store.open(path) as store:
        assert store.write_snapshot(synthetic) == 1
    return path


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    """``defirisk demo --json`` run once: (out dir, parsed JSON, stderr)."""
    out = tmp_path_factory.mktemp("demo") / "demo-out"
    result = runner.invoke(app, ["demo", "--out", str(out), "--paths", str(DEMO_TEST_PATHS), "--json"])
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout), result.stderr


@pytest.fixture(scope="session")
def may(demo_run: tuple[Path, dict[str, Any], str]) -> MarketState:
    """The May 2023 Compound v2 snapshot as the demo stored it."""
    out, document, _ = demo_run
    with Store.open(out / "demo.duckdb", read_only=True) as store:
        return store.load_state(document["snapshots"][0]["snapshot_id"])
