"""The CLI's root options and error mapping."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from defirisk import __version__
from defirisk.cli import app

runner = CliRunner()


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"defirisk {__version__}"


def test_protocols_json_lists_every_bundled_file() -> None:
    result = runner.invoke(app, ["protocols", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert len(rows) >= 7
    assert all(r["family"] and r["chain_id"] > 0 for r in rows)


def test_protocols_table_shows_full_checksummed_addresses() -> None:
    result = runner.invoke(app, ["protocols"])
    assert result.exit_code == 0
    assert "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e" in result.output
