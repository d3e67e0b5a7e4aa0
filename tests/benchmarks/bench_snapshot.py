"""Snapshot speed on the 5,000-account local Aave market, against naive baselines in the same run.

    make bench        (or: pytest -s -o python_files='bench_*.py' tests/benchmarks/bench_snapshot.py)

Ours: ``take_snapshot`` end to end (market discovery, event scan, both Multicall3 passes,
reconciliation of every account, the DuckDB write), timed twice: into a new database (the event
scan covers the whole chain) and again into the same database (the scan covers only new blocks, as
every scheduled snapshot after the first does). "Account reads" is the part between the event scan
and the last position read.

The baselines are what a straightforward script does: one ``AaveProtocolDataProvider.
getUserReserveData`` ``eth_call`` per account and reserve, one after the other, each its own HTTP
request, at the same block. It only reads positions (no discovery, no reconciliation). Two forms:
plain JSON-RPC over a keep-alive session (the fastest a one-call-at-a-time script can be) and
web3.py's contract call (what such a script usually is). Both are timed on a sample of accounts
(``DEFIRISK_BENCH_BASELINE_ACCOUNTS``, default 500; web3.py a fifth of it), since their cost is
linear in accounts. ``DEFIRISK_BENCH_ACCOUNTS`` sets the market size (default 5,000). The node is
warmed by one untimed snapshot first, so nothing is timed cold.

Printed: accounts per second, HTTP requests per 1,000 accounts, and speed ratios. Asserted: exact
reconciliation and at most 5 HTTP requests per 1,000 accounts for the account reads (counts, not
times); speed is reported, never asserted.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from web3 import Web3

from defirisk.chain import RpcClient, encode_call
from defirisk.snapshot import SnapshotSummary, take_snapshot
from tests.localchain.artifacts import artifact
from tests.localchain.helpers import DEFAULT_SEED, LocalAave
from tests.localchain.market import RESERVES

ACCOUNTS = int(os.environ.get("DEFIRISK_BENCH_ACCOUNTS", "5000"))
BASELINE_ACCOUNTS = int(os.environ.get("DEFIRISK_BENCH_BASELINE_ACCOUNTS", "500"))
TARGET_REQUESTS_PER_1000 = 5
TARGET_SPEEDUP = 20


def naive_json_rpc(aave: LocalAave, accounts: list[str], block: int) -> tuple[float, int]:
    """Seconds and HTTP requests: one plain ``eth_call`` per (account, reserve)."""
    assets = [aave.reserves[r.symbol].underlying for r in RESERVES]
    with RpcClient(aave.rpc_url) as client:
        started = time.perf_counter()
        for account in accounts:
            for asset in assets:
                data = encode_call("getUserReserveData(address,address)", (asset, account))
                client.call("eth_call", [{"to": aave.data_provider, "data": "0x" + data.hex()}, hex(block)])
        return time.perf_counter() - started, client.http_requests


def naive_web3(aave: LocalAave, accounts: list[str], block: int) -> tuple[float, int]:
    """Seconds and calls: web3.py ``contract.functions.getUserReserveData(...).call()`` per pair."""
    w3 = Web3(Web3.HTTPProvider(aave.rpc_url))
    provider = w3.eth.contract(address=Web3.to_checksum_address(aave.data_provider),
                               abi=artifact("AaveProtocolDataProvider").abi)
    assets = [Web3.to_checksum_address(aave.reserves[r.symbol].underlying) for r in RESERVES]
    started = time.perf_counter()
    calls = 0
    for account in accounts:
        for asset in assets:
            provider.functions.getUserReserveData(asset, Web3.to_checksum_address(account)).call(
                block_identifier=block)
            calls += 1
    return time.perf_counter() - started, calls


def timed_snapshot(aave: LocalAave, toml: Path, db: Path) -> tuple[SnapshotSummary, float, float]:
    """A snapshot, its seconds, and the seconds of its account reads (progress timestamps)."""
    marks: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        marks[stage] = time.perf_counter()  # when the stage last advanced

    started = time.perf_counter()
    summary = take_snapshot(str(toml), aave.rpc_url, db_path=db, reorg_lag=0, on_progress=progress)
    elapsed = time.perf_counter() - started
    return summary, elapsed, marks["positions"] - marks.get("discovery", marks["market"])


def line(label: str, seconds: float, accounts: int, requests_per_1000: float, note: str = "") -> str:
    return (f"{label:<34} {seconds:8.2f} s {accounts / seconds:9.1f} accounts/s "
            f"{requests_per_1000:9.2f} HTTP requests / 1,000 accounts {note}")


def test_snapshot_speed_against_naive_baselines(tmp_path: Path) -> None:
    with LocalAave.start(ACCOUNTS, DEFAULT_SEED) as aave:
        toml = tmp_path / "local.toml"
        aave.write_deployment_toml(toml)
        take_snapshot(str(toml), aave.rpc_url, db_path=tmp_path / "warm-up.duckdb", reorg_lag=0)
        db = tmp_path / "bench.duckdb"
        cold, cold_s, cold_reads_s = timed_snapshot(aave, toml, db)
        aave.mine()
        steady, steady_s, steady_reads_s = timed_snapshot(aave, toml, db)

        sample = sorted(a.address.lower() for a in aave.seeded_accounts)[:BASELINE_ACCOUNTS]
        web3_sample = sample[: max(1, len(sample) // 5)]
        rpc_s, rpc_requests = naive_json_rpc(aave, sample, steady.block_number)
        web3_s, web3_calls = naive_web3(aave, web3_sample, steady.block_number)

    n = cold.accounts_read

    def reads_per_1000(s: SnapshotSummary) -> float:
        return 1000 * (s.requests["accounts"] + s.requests["positions"]) / s.accounts_read

    rates: dict[str, float] = {
        "first snapshot": n / cold_s, "next snapshot": n / steady_s, "account reads": n / steady_reads_s,
    }
    baselines: dict[str, float] = {"JSON-RPC": len(sample) / rpc_s, "web3.py": len(web3_sample) / web3_s}

    def show(s: SnapshotSummary) -> str:
        return f"(all stages {1000 * s.requests['total'] / n:.2f})"

    print()
    print(f"market: {n} accounts read, {cold.accounts} stored, {cold.positions} positions, {cold.reserves} "
          f"reserves; reconciliation {cold.reconciliation}; requests by stage {cold.requests}")
    print(line("ours, first snapshot (new db)", cold_s, n, reads_per_1000(cold), show(cold)))
    print(line("ours, next snapshot (incremental)", steady_s, n, reads_per_1000(steady), show(steady)))
    print(line("ours, account reads only", steady_reads_s, n, reads_per_1000(steady)))
    print(line(f"naive JSON-RPC ({len(sample)} accounts)", rpc_s, len(sample), 1000 * rpc_requests / len(sample)))
    print(line(f"naive web3.py ({len(web3_sample)} accounts)", web3_s, len(web3_sample),
               1000 * web3_calls / len(web3_sample), "(calls)"))
    for name, base in baselines.items():
        ratios = ", ".join(f"{label} {rate / base:6.1f}x" for label, rate in rates.items())
        print(f"speed-up over naive {name:<9} {ratios}   (target >= {TARGET_SPEEDUP}x)")
    print(f"target <= {TARGET_REQUESTS_PER_1000} HTTP requests / 1,000 accounts for the account reads: "
          f"{reads_per_1000(cold):.2f}")

    for summary in (cold, steady):
        assert summary.reconciliation == {"checked": summary.accounts, "mismatches": 0, "verified": True}
        assert reads_per_1000(summary) <= TARGET_REQUESTS_PER_1000
    assert steady.discovery.from_block == cold.block_number + 1
