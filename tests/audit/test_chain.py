"""``defirisk audit`` against the local Aave v3 market: snapshot and audit in one command, then the same
snapshot reused without an RPC URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from defirisk.cli import app
from defirisk.report.schema import errors
from tests.localchain.helpers import LocalAave

pytestmark = pytest.mark.chain
runner = CliRunner()


def test_snapshot_and_audit_in_one_command(local_aave: LocalAave, tmp_path: Path) -> None:
    toml = tmp_path / "local-aave-v3.toml"
    local_aave.write_deployment_toml(toml)
    db = tmp_path / "chain.duckdb"
    # The local tokens are not at mainnet addresses, so gas needs an ETH price.
    args = ["audit", str(toml), "--db", str(db), "--paths", "10", "--eth-price", "2000", "--json", "--quiet"]
    result = runner.invoke(app, [*args, "--rpc-url", local_aave.rpc_url, "--block", "latest"], env={"ETH_RPC_URL": ""})
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert errors(document) == []
    snap = document["snapshot"]
    assert snap["deployment"] == "local-aave-v3" and snap["chain_id"] == local_aave.chain_id
    assert snap["block_number"] is not None and snap["offline"] is False
    seeded = {a.address.lower() for a in local_aave.seeded_accounts}
    assert document["market"]["accounts"] >= len(seeded)
    reconciled = next(c for c in document["checks"] if c["name"] == "reconciled with the protocol's own view")
    assert reconciled["ok"] is True
    assert f"--block {snap['block_number']}" in document["method"]["command"]
    assert local_aave.rpc_url not in result.output

    again = runner.invoke(app, ["audit", str(toml), "--db", str(db), "--paths", "0", "--eth-price", "2000", "--json"],
                          env={"ETH_RPC_URL": ""})
    assert again.exit_code == 0, again.output
    assert "No RPC URL" in again.stderr
    reused = json.loads(again.stdout)
    assert reused["snapshot"]["snapshot_id"] == snap["snapshot_id"]
    assert reused["market"] == document["market"]
