"""`defirisk job run` against the local Aave v3 market: idempotent, resumable, pruned, alerting, locked."""

from __future__ import annotations

import json
import os

import pytest

from defirisk.jobs.lock import EXIT_LOCKED, lock_path
from defirisk.store import Store
from tests.jobs.gate import Gate
from tests.jobs.helpers import RPC_ENV, ChainJob, json_lines

pytestmark = pytest.mark.chain

WAD = 10**18


def test_runs_take_skip_and_resume_discovery_behind_the_tip(chain_job: ChainJob) -> None:
    aave = chain_job.aave
    chain_job.write_job(reorg_lag=2, retention={"keep_last": 1})
    # The node reloaded from its state file serves no state before the head it loaded at.
    aave.mine(2)
    head = aave.block_number()

    result, first, _ = chain_job.run_json()
    assert result.exit_code == 0, result.output
    (run,) = first["deployments"]
    assert (run["status"], run["block_number"], run["chain_id"]) == ("taken", head - 2, aave.chain_id)
    assert (run["discovery"]["from_block"], run["discovery"]["to_block"]) == (aave.start_block, head - 2)
    assert run["discovery"]["new_accounts"] == run["metrics"]["accounts"] > 0
    assert run["previous_snapshot_id"] is None and run["pruned"] == []

    result, again, _ = chain_job.run_json()
    assert result.exit_code == 0, result.output
    (skipped,) = again["deployments"]
    assert (skipped["status"], skipped["snapshot_id"], skipped["block_number"]) == (
        "skipped", run["snapshot_id"], head - 2,
    )
    assert skipped["discovery"] is None and skipped["metrics"] is None
    assert chain_job.snapshot_ids() == [run["snapshot_id"]]

    aave.mine(4)
    result, later, _ = chain_job.run_json()
    assert result.exit_code == 0, result.output
    (taken,) = later["deployments"]
    assert (taken["status"], taken["block_number"]) == ("taken", head + 2)
    # Only the blocks after the first run's scan are read again.
    assert (taken["discovery"]["from_block"], taken["discovery"]["to_block"]) == (head - 1, head + 2)
    assert taken["previous_snapshot_id"] == run["snapshot_id"]
    assert taken["pruned"] == [run["snapshot_id"]]
    assert chain_job.snapshot_ids() == [taken["snapshot_id"]]
    with Store.open(chain_job.db, read_only=True) as store:
        assert store.get_cursor("local-aave-v3", aave.chain_id) == head + 2


def _chain_liquidatable(chain_job: ChainJob, snapshot_id: int) -> tuple[int, float]:
    """Accounts with HF < 1 and their debt (USD) by ``getUserAccountData`` at the snapshot's block."""
    with Store.open(chain_job.db, read_only=True) as store:
        state = store.load_state(snapshot_id)
    accounts = sorted(set(state.accounts["account"]))
    data = chain_job.aave.get_users_account_data(accounts, block=hex(state.meta.block_number))
    below = [d for d in data if d[1] > 0 and d[5] < WAD]
    return len(below), sum(d[1] for d in below) / 1e8


def test_an_alert_fires_on_a_price_drop_and_not_without_a_change(chain_job: ChainJob) -> None:
    aave = chain_job.aave
    chain_job.write_job(alerts=[
        {"metric": "accounts_hf_below_1", "above": 0},
        {"metric": "debt_hf_below_1_usd", "change_above": 10_000},
        {"metric": "debt_usd", "change_below": -1e12},
    ])
    result, first, alerts = chain_job.run_json()
    assert result.exit_code == 0, result.output
    assert first["deployments"][0]["metrics"]["accounts_hf_below_1"] == 0
    assert alerts == [] and chain_job.alert_file.read_text() == ""

    aave.mine(1)
    result = chain_job.run("--quiet")
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and chain_job.alert_file.read_text() == ""
    assert len(chain_job.snapshot_ids()) == 2

    aave.set_price("WETH", 1000)
    aave.mine(1)
    result = chain_job.run("--quiet")
    assert result.exit_code == 0, result.output
    printed = json_lines(result.stdout)
    stored = json_lines(chain_job.alert_file.read_text())
    assert printed == stored
    assert [(a["type"], a["metric"], a["comparison"]) for a in printed] == [
        ("alert", "accounts_hf_below_1", "above"), ("alert", "debt_hf_below_1_usd", "change_above"),
    ]
    count, debt = _chain_liquidatable(chain_job, printed[0]["snapshot_id"])
    accounts_alert, debt_alert = printed
    assert accounts_alert["value"] == count > 0 and accounts_alert["previous"] == 0
    assert debt_alert["value"] == pytest.approx(debt, rel=1e-9) and debt_alert["value"] > 10_000
    assert debt_alert["change"] == debt_alert["value"] and debt_alert["previous"] == 0
    assert debt_alert["previous_snapshot_id"] == chain_job.snapshot_ids()[1]
    assert debt_alert["block_number"] == aave.block_number()

    aave.mine(1)
    result = chain_job.run("--quiet")
    assert result.exit_code == 0 and result.stdout == ""
    assert json_lines(chain_job.alert_file.read_text()) == stored


def test_a_failing_deployment_does_not_stop_the_others(chain_job: ChainJob) -> None:
    unset = chain_job.deployment_variant("unset.toml", name="local-unset")
    wrong = chain_job.deployment_variant("wrong.toml", name="local-wrong-chain", chain_id=1)
    chain_job.write_job(deployments=[
        {"deployment": unset, "rpc_env": "DEFIRISK_TEST_UNSET_RPC"},
        {"deployment": wrong, "rpc_env": RPC_ENV},
        {"deployment": "dep.toml", "rpc_env": RPC_ENV},
    ])
    secret = "s3cr3tKEYs3cr3tKEY"
    env = {RPC_ENV: f"{chain_job.aave.rpc_url}/?apikey={secret}"}
    result = chain_job.run("--json", env=env)
    assert result.exit_code == 1
    run = json_lines(result.stdout)[-1]
    assert [(d["deployment"], d["status"], d["error_type"]) for d in run["deployments"]] == [
        ("local-unset", "failed", "UsageError"),
        ("local-wrong-chain", "failed", "WrongChain"),
        ("local-aave-v3", "taken", None),
    ]
    assert run["ok"] is False
    assert "DEFIRISK_TEST_UNSET_RPC" in run["deployments"][0]["error"]
    errors = result.stderr.splitlines()
    assert errors[0].startswith("Error: local-unset: UsageError: environment variable DEFIRISK_TEST_UNSET_RPC")
    assert errors[1].startswith("Error: local-wrong-chain: WrongChain: ") and len(errors) == 2
    assert secret not in result.output
    assert chain_job.snapshot_ids() == [run["deployments"][2]["snapshot_id"]]


def test_two_concurrent_runs_write_once(chain_job: ChainJob) -> None:
    """Real processes: the first holds the lock (its RPC held at a gate); a second without --wait
    fails at once with exit status 4; a third with --wait waits, then finds the block done."""
    chain_job.write_job()
    base_env = {k: v for k, v in os.environ.items() if k != RPC_ENV}
    started = []
    with Gate(chain_job.aave.rpc_url) as gate:
        first = chain_job.process("--json", env={**base_env, RPC_ENV: gate.url})
        started.append(first)
        try:
            assert gate.arrived.wait(60), "the first run never reached the node"
            assert lock_path(chain_job.db).read_text().strip() == str(first.pid)

            refused = chain_job.process("--json", env={**base_env, RPC_ENV: chain_job.aave.rpc_url})
            started.append(refused)
            out, err = refused.communicate(timeout=60)
            assert refused.returncode == EXIT_LOCKED
            assert out == ""
            assert err.splitlines() == [err.strip()] and f"(PID {first.pid})" in err and err.startswith("Error: ")

            waiting = chain_job.process("--json", "--wait", "120",
                                        env={**base_env, RPC_ENV: chain_job.aave.rpc_url})
            started.append(waiting)
            assert waiting.stderr is not None
            told = waiting.stderr.readline()
            assert "waiting up to 120 s" in told and f"(PID {first.pid})" in told
            assert waiting.poll() is None
            gate.open()
            first_out, first_err = first.communicate(timeout=120)
            waited_out, _ = waiting.communicate(timeout=120)
        finally:
            for process in started:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=30)
    assert first.returncode == 0, first_err
    assert waiting.returncode == 0
    (taken,) = json.loads(first_out.splitlines()[-1])["deployments"]
    waited = json.loads(waited_out.splitlines()[-1])
    (skipped,) = waited["deployments"]
    assert taken["status"] == "taken" and skipped["status"] == "skipped"
    assert skipped["snapshot_id"] == taken["snapshot_id"] and skipped["block_number"] == taken["block_number"]
    assert chain_job.snapshot_ids() == [taken["snapshot_id"]]
