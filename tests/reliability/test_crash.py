"""``kill -9`` of a ``defirisk snapshot`` process during discovery, reads and the write.

The snapshot runs as a real process through a proxy that can hold it at any request (``Gate``), so
each kill lands in a known stage; kills during the write land a seeded random delay after the last
request was answered. After every kill: no partial snapshot, the discovery cursor never claims
blocks whose accounts are not stored, and the next run succeeds and stores exactly the clean run's
snapshot (store-level SIGKILL tests are in ``tests/store/test_crash.py``).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from defirisk.snapshot import take_snapshot
from tests.reliability.conftest import WINDOW, CleanRun, small_windows
from tests.reliability.dbcheck import SNAPSHOT_TABLES, contents, snapshot_count
from tests.reliability.figures import breakdown, record
from tests.reliability.proxies import Gate, HookedProxy
from tests.store.rawdb import stray_rows

pytestmark = pytest.mark.chain

CHILD = Path(__file__).with_name("child.py")
SEED = 20240909


def snapshot_process(clean: CleanRun, url: str, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(WINDOW), "snapshot", str(clean.deployment), "--rpc-url", url,
         "--db", str(db), "--block", str(clean.block), "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _kill(process: subprocess.Popen[str]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL


def _start(clean: CleanRun, db: Path, at: int, hold: bool) -> tuple[HookedProxy, Gate, subprocess.Popen[str]]:
    """A snapshot process behind its own proxy, which gates request ``at``."""
    gate = Gate(at=at, hold=hold)
    proxy = HookedProxy(clean.upstream, before=gate).__enter__()
    return proxy, gate, snapshot_process(clean, proxy.url, db)


def check_cursor(db: Path, clean: CleanRun) -> int | None:
    """The stored cursor, after checking that every account first seen at or before it is stored."""
    stored = contents(db)
    cursor = [row[2] for row in stored["discovery_cursor"]]
    assert len(cursor) <= 1
    found = {(market, account) for _, _, market, account, _ in stored["discovered_accounts"]}
    everything = {(row[2], row[3]): row[4] for row in clean.contents["discovered_accounts"]}
    assert found <= set(everything)
    if cursor:
        owed = {key for key, first in everything.items() if first <= cursor[0]}
        assert owed <= found, f"cursor {cursor[0]} is ahead of {len(owed - found)} stored accounts"
    return cursor[0] if cursor else None


@pytest.fixture(scope="module")
def write_window(clean: CleanRun, tmp_path_factory: pytest.TempPathFactory) -> float:
    """Seconds from the last request of a clean snapshot process to its exit (the write and the
    summary); the process's snapshot must equal the in-process clean one."""
    db = tmp_path_factory.mktemp("timing") / "db.duckdb"
    gate = Gate(at=len(clean.trace), hold=False)
    with HookedProxy(clean.upstream, before=gate) as proxy:
        process = snapshot_process(clean, proxy.url, db)
        assert gate.reached.wait(timeout=120)
        reached = time.monotonic()
        _, err = process.communicate(timeout=120)
        window = time.monotonic() - reached
    assert process.returncode == 0, err
    assert contents(db) == clean.contents
    return window


def test_kill_9_at_seeded_points_leaves_no_partial_snapshot(
    at_clean_block: CleanRun, write_window: float, tmp_path: Path
) -> None:
    clean = at_clean_block
    rng = random.Random(SEED)
    stages = clean.stages
    discovery = [k for k in range(1, len(stages) + 1) if stages[k - 1] == "discovery"]
    reads = [k for k in range(1, len(stages) + 1) if stages[k - 1] in ("accounts", "positions")]
    plan = [("discovery", k, 0.0) for k in sorted(rng.sample(discovery, 3))]
    plan += [("reads", k, 0.0) for k in sorted(rng.sample(reads, 2))]
    plan += [("write", len(stages), rng.uniform(0.0, write_window / 3)) for _ in range(3)]
    landed: Counter[str] = Counter()
    cursors = []
    # Processes held at a gate are started together (they wait there); timed kills run one at a time.
    held = [_start(clean, tmp_path / f"kill{n}.duckdb", at, hold=True) for n, (stage, at, _) in enumerate(plan)
            if stage != "write"]
    for n, (stage, at, delay) in enumerate(plan):
        db = tmp_path / f"kill{n}.duckdb"
        proxy, gate, process = held.pop(0) if stage != "write" else _start(clean, db, at, hold=False)
        try:
            assert gate.reached.wait(timeout=120), f"{stage}: the process never reached request {at}"
            time.sleep(delay)
            _kill(process)
        finally:
            gate.release.set()
            proxy.close()
        assert db.exists(), "the database is opened before discovery starts"
        assert stray_rows(db) == dict.fromkeys(SNAPSHOT_TABLES, 0)
        complete, partial = snapshot_count(db)
        assert partial == 0 and complete in (0, 1)
        if complete:
            assert contents(db) == clean.contents, "a snapshot that survived a kill differs from the clean one"
            landed["after the commit"] += 1
        else:
            landed[f"in {stage}"] += 1
        cursors.append(check_cursor(db, clean))

        with small_windows():
            summary = take_snapshot(str(clean.deployment), clean.upstream, db_path=db, block=clean.block)
        assert snapshot_count(db) == (complete + 1, 0)
        assert contents(db, summary.snapshot_id) == {t: clean.contents[t] for t in SNAPSHOT_TABLES}
        final = contents(db)
        for table in ("discovered_accounts", "discovery_cursor"):
            assert final[table] == clean.contents[table], f"after the kill in {stage}: {table} differs"
    assert landed["in discovery"] == 3 and landed["in reads"] == 2
    record(
        "crash_kill_9",
        area="Crashes",
        attack="kill -9 of a `defirisk snapshot` process (discovery saving its cursor every "
        f"{WINDOW} blocks)",
        tried=f"{len(plan)} kills (seed {SEED}): 3 during discovery, 2 during the account reads, 3 at random "
        f"0–{write_window * 1000 / 3:.0f} ms after the last request (write)",
        outcome=f"landed {breakdown(landed)}; 0 partial snapshots, 0 stray rows; cursor never ahead of the "
        f"stored accounts (cursors left: {cursors}); {len(plan)}/{len(plan)} next runs stored the clean "
        "snapshot and discovered every account",
        plan=plan, landed=dict(landed), cursors=cursors, write_window_s=write_window,
    )
