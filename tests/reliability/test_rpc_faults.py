"""Snapshots through a faulty node: random faults change nothing, a dead node fails fast and writes
nothing, a reorg of the pinned block fails clearly without losing an account, and refused log ranges
lose no account.

Every run goes through ``take_snapshot`` (discovery, reads, reconciliation, write) against the local
Aave market, with a real HTTP proxy (``tests.chain.faultproxy``) between it and anvil, and compares
every table of the resulting database with the clean run's (``conftest.clean``).
"""

from __future__ import annotations

import functools
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import defirisk.snapshot as snapshot_module
from defirisk.chain import RpcClient
from defirisk.errors import ReorgDetected, RpcError, RpcUnavailable
from defirisk.snapshot import take_snapshot
from defirisk.store import Store
from tests.chain.faultproxy import FAULTS, RANGE_STYLES
from tests.localchain.contracts import calldata
from tests.localchain.helpers import LocalAave
from tests.reliability.conftest import CleanRun, small_windows
from tests.reliability.dbcheck import contents, snapshot_count
from tests.reliability.figures import breakdown, record
from tests.reliability.proxies import HashSwitch, HookedProxy
from tests.store.rawdb import folder_bytes

pytestmark = pytest.mark.chain

SEEDS = range(6)
RATE = 0.2
#: The retry policy's sleeps are shortened (the number of attempts is not): these tests are about
#: what is stored, not about how long the back-off waits.
FAST = {"backoff": 0.02, "max_backoff": 0.1, "retry_after_cap": 0.1}
DEFIRISK = [sys.executable, "-c", "from defirisk.cli import main; main()"]


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshot_module, "RpcClient", functools.partial(RpcClient, **FAST))


def closed_port() -> int:
    """A local TCP port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_random_faults_leave_the_snapshot_identical(
    at_clean_block: CleanRun, tmp_path: Path, fast_retries: None
) -> None:
    clean = at_clean_block
    injected: Counter[str] = Counter()
    requests = identical = 0
    for seed in SEEDS:
        db = tmp_path / f"seed{seed}.duckdb"
        proxy = HookedProxy(clean.upstream, rate=RATE, seed=seed, shuffle=True, kinds=FAULTS, hold=0.2)
        with small_windows(), proxy:
            summary = take_snapshot(str(clean.deployment), proxy.url, db_path=db, block=clean.block)
        assert summary.block_hash == clean.summary.block_hash
        assert contents(db) == clean.contents, f"seed {seed}: the stored snapshot differs from the clean run's"
        assert proxy.http_requests > len(clean.trace)
        injected.update(proxy.injected)
        requests += proxy.http_requests
        identical += 1
    assert len(injected) >= 10, injected
    record(
        "rpc_1_random_faults",
        area="Faulty RPC",
        attack="20 % of HTTP requests faulted at random from 12 kinds (timeout, reset, 429 with and without "
        "Retry-After, 502, 503, truncated body, HTML body, cut JSON, JSON-RPC rate limit, header not found, "
        "batch answer missing an id); every batch answer shuffled",
        tried=f"{len(SEEDS)} seeds; {requests} HTTP requests, {sum(injected.values())} faults: "
        f"{breakdown(injected)}",
        outcome=f"{identical}/{len(SEEDS)} snapshots identical to the clean run in all 8 tables "
        f"({clean.summary.accounts} accounts, {clean.summary.positions} positions, discovery cursor)",
        seeds=list(SEEDS), requests=requests, injected=dict(injected), clean_requests=len(clean.trace),
    )


def test_refused_log_ranges_still_discover_every_account(
    at_clean_block: CleanRun, tmp_path: Path, fast_retries: None
) -> None:
    """The node refuses any ``eth_getLogs`` over more than one block, in each provider's words (or
    by holding the request until the connection drops)."""
    clean = at_clean_block
    asked = refused = 0
    for style in sorted(RANGE_STYLES):
        db = tmp_path / f"{style}.duckdb"
        proxy = HookedProxy(clean.upstream, max_log_range=1, range_style=style, hold=0.2)
        with small_windows(), proxy:
            take_snapshot(str(clean.deployment), proxy.url, db_path=db, block=clean.block)
        no = sum(1 for _, _, refusal in proxy.log_ranges if refusal)
        assert no > 0, style
        assert contents(db) == clean.contents, f"{style}: the snapshot differs from the clean run's"
        asked, refused = asked + len(proxy.log_ranges), refused + no
    record(
        "rpc_2_log_ranges",
        area="Faulty RPC",
        attack="eth_getLogs over more than 1 block refused, in the words of geth ('block range too large'), "
        "Infura ('query returned more than 10000 results'), Alchemy ('Log response size exceeded…'), QuickNode "
        "('limited to a 10,000 range'), or by a request held until the connection drops",
        tried=f"{len(RANGE_STYLES)} styles; {asked} ranges asked, {refused} refused and split",
        outcome=f"{len(RANGE_STYLES)}/{len(RANGE_STYLES)}: all {len(clean.contents['discovered_accounts'])} "
        "accounts discovered, snapshot identical to the clean run",
        asked=asked, refused=refused,
    )


def test_a_permanent_error_fails_at_once_and_stores_nothing(at_clean_block: CleanRun, tmp_path: Path) -> None:
    clean = at_clean_block
    db = tmp_path / "db.duckdb"
    outcomes = []
    for at in (3, len(clean.trace) - 1):
        with small_windows(), HookedProxy(clean.upstream, script=[None] * (at - 1) + ["http_401"]) as proxy:
            with pytest.raises(RpcError) as caught:
                take_snapshot(str(clean.deployment), proxy.url, db_path=db, block=clean.block)
        assert proxy.http_requests == at, "a 401 must not be retried"
        assert "\n" not in str(caught.value) and "HTTP 401" in str(caught.value)
        outcomes.append(str(caught.value))
    assert not db.exists() or snapshot_count(db) == (0, 0)
    record(
        "rpc_3_permanent_error",
        area="Faulty RPC",
        attack="HTTP 401 (a revoked key) at the 3rd request and at the last one",
        tried="2 runs",
        outcome="RpcError after exactly 1 attempt each, one line (e.g. "
        f"{outcomes[0][:70]!r}); 0 snapshots stored",
    )


def test_a_dead_node_fails_fast_with_one_line_and_writes_nothing(
    clean: CleanRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the real retry policy, as a process: bounded time, one line, no database created. Then, in
    process with short back-off sleeps: an existing database is left byte-identical."""
    url = f"http://127.0.0.1:{closed_port()}"
    fresh = tmp_path / "new" / "db.duckdb"
    started = time.monotonic()
    process = subprocess.run(
        [*DEFIRISK, "snapshot", str(clean.deployment), "--rpc-url", url, "--db", str(fresh)],
        capture_output=True, text=True, timeout=120,
    )
    elapsed = time.monotonic() - started
    assert process.returncode == 1
    assert process.stdout == "" and "Traceback" not in process.stderr
    assert process.stderr.count("\n") == 1 and process.stderr.startswith("Error: ")
    assert "failed 5 times in a row" in process.stderr and "connection refused" in process.stderr
    assert not fresh.parent.exists(), "a failed snapshot created the database folder"
    # The policy's bound: 5 refused connections, 4 back-off sleeps of at most 0.5·2^(k-1) s; the rest
    # is the interpreter starting (generous: CI machines are slow).
    bound = 0.5 + 1 + 2 + 4
    assert elapsed < bound + 30

    existing = tmp_path / "old"
    existing.mkdir()
    db = existing / "db.duckdb"
    db.write_bytes(clean.db.read_bytes())
    before = folder_bytes(existing)
    monkeypatch.setattr(snapshot_module, "RpcClient", functools.partial(RpcClient, **FAST))
    with pytest.raises(RpcUnavailable) as caught:
        take_snapshot(str(clean.deployment), url, db_path=db)
    assert "\n" not in str(caught.value)
    assert folder_bytes(existing) == before, "a failed snapshot changed the existing database"
    record(
        "rpc_4_node_gone",
        area="Faulty RPC",
        attack="node gone (RPC URL on a closed port)",
        tried="`defirisk snapshot` process with a new database path (real retry policy); library call with "
        "an existing database",
        outcome=f"RpcUnavailable after 5 attempts: process exited 1 after {elapsed:.1f} s (back-off bound "
        f"{bound:g} s + start-up), one stderr line; no database or folder created; existing database "
        "byte-identical",
        elapsed_s=elapsed, stderr=process.stderr,
    )


def test_a_node_reporting_another_block_hash_fails_the_snapshot(
    at_clean_block: CleanRun, tmp_path: Path
) -> None:
    """From request ``k + 1`` on, the node reports another hash for every block (as after a reorg).

    ``k`` is drawn in every stage, after the block was pinned (request 2) and before the last check:
    each run must raise ``ReorgDetected`` and leave no snapshot and no discovery cursor; a switch
    after the last request changes nothing.
    """
    clean = at_clean_block
    rng = random.Random(8)
    stages = clean.stages
    # Request k + 1 (1-based) is stages[k]; the block is pinned by request 2.
    points = sorted({
        *(rng.choice([k for k in range(2, len(stages)) if stages[k] == s]) for s in sorted(set(stages[2:]))),
        *rng.sample(range(2, len(stages)), 4),
        len(stages) - 1,
    })
    by_stage: Counter[str] = Counter()
    for k in points:
        db = tmp_path / f"switch{k}.duckdb"
        switch = HashSwitch(after=k)
        with small_windows(), HookedProxy(clean.upstream, rewrite=switch) as proxy:
            with pytest.raises(ReorgDetected) as caught:
                take_snapshot(str(clean.deployment), proxy.url, db_path=db, block=clean.block)
        assert switch.switched >= 1 and "\n" not in str(caught.value)
        assert clean.summary.block_hash in str(caught.value)
        if db.exists():
            stored = contents(db)
            assert stored["snapshots"] == [] and stored["discovery_cursor"] == [], f"switch after {k}"
        by_stage[stages[k]] += 1
    with small_windows(), HookedProxy(clean.upstream, rewrite=HashSwitch(after=len(stages))) as proxy:
        take_snapshot(str(clean.deployment), proxy.url, db_path=tmp_path / "late.duckdb", block=clean.block)
    assert contents(tmp_path / "late.duckdb") == clean.contents
    record(
        "rpc_5_reorg_hash_switch",
        area="Faulty RPC",
        attack="node switches to another hash for the pinned block mid-snapshot (proxy rewrites "
        "eth_getBlockByNumber from request k+1 on)",
        tried=f"{len(points)} switch points k in {len(stages)} requests ({breakdown(by_stage)} by stage of "
        "request k+1)",
        outcome=f"{len(points)}/{len(points)} raised ReorgDetected (one line naming both hashes); 0 snapshots, "
        "no discovery cursor left; a switch after the last request: identical snapshot",
        points=points,
    )


def _supply_tx(aave: LocalAave, sender: str, nonce: int) -> list[dict]:
    """Mint, approve and supply 1,000 USDC from ``sender`` (transaction requests for anvil_reorg)."""
    usdc, amount = aave.reserves["USDC"].underlying, 1_000 * 10**6
    calls = [
        (usdc, calldata("MintableERC20", "mint", amount)),
        (usdc, calldata("MintableERC20", "approve", aave.pool, amount)),
        (aave.pool, calldata("Pool", "supply", usdc, amount, sender, 0)),
    ]
    return [{"from": sender, "to": to, "data": data, "gas": hex(1_000_000), "nonce": hex(nonce + i)}
            for i, (to, data) in enumerate(calls)]


def test_a_real_reorg_mid_snapshot_never_mixes_blocks_nor_loses_an_account(
    reverting_aave: LocalAave, clean: CleanRun, tmp_path: Path
) -> None:
    """anvil replaces the pinned block with one holding a new supplier's transactions while the
    snapshot runs (``anvil_reorg`` sent from the proxy before request ``k``). The snapshot must fail
    with ``ReorgDetected``, and the next snapshot must find the new supplier (the discovery cursor
    must not claim the replaced block)."""
    aave = reverting_aave
    newcomer = aave.deployment.treasury.lower()
    rng = random.Random(11)
    points = sorted({3, *rng.sample(range(4, len(clean.stages)), 5), len(clean.stages)})
    outcomes: Counter[str] = Counter()
    for k in points:
        before_case = aave.snapshot()
        aave.mine()
        nonce = int(aave.rpc.call("eth_getTransactionCount", newcomer, "latest"), 16)

        def reorg(n: int, items: list, k: int = k, nonce: int = nonce) -> None:
            if n == k:
                aave.rpc.call("anvil_reorg", 1, [[tx, 0] for tx in _supply_tx(aave, newcomer, nonce)])

        db = tmp_path / f"reorg{k}.duckdb"
        with small_windows(), HookedProxy(clean.upstream, before=reorg) as proxy:
            with pytest.raises(ReorgDetected):
                take_snapshot(str(clean.deployment), proxy.url, db_path=db, block="latest")
        assert not db.exists() or snapshot_count(db) == (0, 0)
        with small_windows():
            summary = take_snapshot(str(clean.deployment), clean.upstream, db_path=db, block="latest")
        with Store.open(db, read_only=True) as store:
            stored = set(store.load_state(summary.snapshot_id).accounts["account"])
        assert newcomer in stored, f"reorg before request {k}: the new supplier was lost"
        assert summary.reconciliation["verified"]
        outcomes["ReorgDetected, then found"] += 1
        assert aave.revert(before_case)
    record(
        "rpc_6_reorg_real",
        area="Faulty RPC",
        attack="real reorg on anvil (anvil_reorg) replacing the pinned block with one holding a new "
        "supplier, sent before request k",
        tried=f"{len(points)} points k = {points}",
        outcome=f"{outcomes['ReorgDetected, then found']}/{len(points)}: ReorgDetected, no snapshot; the next "
        "snapshot discovers the new supplier and reconciles",
        points=points,
    )
