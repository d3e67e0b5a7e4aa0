"""Two ``defirisk snapshot`` processes against one database: the second fails with one clear line,
nothing is corrupted, and every end state is a valid database holding only complete snapshots.

(Two ``job run`` processes are covered in ``tests/jobs/test_run_chain.py``; the store's own lock in
``tests/store/test_concurrency.py``.)
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from tests.reliability.conftest import CleanRun
from tests.reliability.dbcheck import SNAPSHOT_TABLES, contents, snapshot_count
from tests.reliability.figures import breakdown, record
from tests.reliability.proxies import Gate, HookedProxy
from tests.reliability.test_crash import snapshot_process
from tests.store.rawdb import stray_rows

pytestmark = pytest.mark.chain

ROUNDS = 4
LOCKED = re.compile(r"Error: database \S+ is in use by another process \(PID \d+\); wait for it to finish\n")


def check_valid(db: Path, clean: CleanRun, snapshots: int) -> None:
    """``db`` holds exactly ``snapshots`` complete snapshots, each the clean one, and nothing partial."""
    assert snapshot_count(db) == (snapshots, 0)
    assert stray_rows(db) == dict.fromkeys(SNAPSHOT_TABLES, 0)
    stored = contents(db)
    for table in SNAPSHOT_TABLES:
        assert stored[table] == sorted(clean.contents[table] * snapshots, key=repr), table
    assert stored["discovered_accounts"] == clean.contents["discovered_accounts"]


def test_a_second_process_fails_in_one_line_while_the_first_writes(at_clean_block: CleanRun, tmp_path: Path) -> None:
    clean = at_clean_block
    db = tmp_path / "db.duckdb"
    reads = clean.stages.index("accounts") + 2
    gate = Gate(at=reads)
    with HookedProxy(clean.upstream, before=gate) as proxy:
        first = snapshot_process(clean, proxy.url, db)
        try:
            assert gate.reached.wait(timeout=120)
            second = snapshot_process(clean, clean.upstream, db)
            out, err = second.communicate(timeout=120)
        finally:
            gate.release.set()
        first_out, first_err = first.communicate(timeout=120)
    assert second.returncode == 1 and out == ""
    assert LOCKED.fullmatch(err) and f"(PID {first.pid})" in err, err
    assert first.returncode == 0, first_err
    check_valid(db, clean, 1)
    record(
        "concurrency_1_held",
        area="Concurrency",
        attack="second `defirisk snapshot` on a database another snapshot process is writing (the first "
        "held mid-read)",
        tried="1 pair of real processes",
        outcome=f"second exits 1 with one line ({err.strip().replace(str(db), 'DB')!r}); first completes; 1 "
        "snapshot, identical to the clean run",
    )


def test_simultaneous_processes_never_corrupt_the_database(at_clean_block: CleanRun, tmp_path: Path) -> None:
    """Both started at once, on a new database (racing to create it) and on an existing one."""
    clean = at_clean_block
    outcomes: Counter[str] = Counter()
    for n in range(ROUNDS):
        db = tmp_path / f"round{n}" / "db.duckdb"
        if n % 2:
            db.parent.mkdir()
            db.write_bytes(clean.db.read_bytes())
        pair = [snapshot_process(clean, clean.upstream, db) for _ in range(2)]
        results = [(p.wait(timeout=120), *p.communicate(timeout=120)) for p in pair]
        codes = sorted(code for code, _, _ in results)
        for code, _, err in results:
            assert code in (0, 1) and "Traceback" not in err
            if code == 1:
                assert LOCKED.fullmatch(err), err
        assert codes[0] == 0
        taken = codes.count(0)
        check_valid(db, clean, taken + (n % 2))
        outcomes["both stored (one after the other)" if taken == 2 else "one refused (database in use)"] += 1
    record(
        "concurrency_2_race",
        area="Concurrency",
        attack="two `defirisk snapshot` processes started at the same moment on one database",
        tried=f"{ROUNDS} rounds (2 on a new database, racing to create it; 2 on an existing one)",
        outcome=f"{breakdown(outcomes)}; every refusal the one-line 'in use by another process' error; "
        f"{ROUNDS}/{ROUNDS} databases valid, every snapshot complete and identical to the clean run",
        outcomes=dict(outcomes),
    )


def test_a_job_run_beside_a_hand_run_snapshot_fails_that_deployment_only(
    at_clean_block: CleanRun, tmp_path: Path
) -> None:
    """The job lock does not know a hand-run snapshot; the database's own lock does."""
    from tests.jobs.helpers import DEFIRISK, job_text

    clean = at_clean_block
    db = tmp_path / "db.duckdb"
    job = tmp_path / "job.toml"
    job.write_text(job_text(
        {"name": "beside", "database": str(db), "reorg_lag": 0},
        [{"deployment": str(clean.deployment), "rpc_env": "BESIDE_RPC"}],
    ))
    gate = Gate(at=clean.stages.index("accounts") + 2)
    with HookedProxy(clean.upstream, before=gate) as proxy:
        hand = snapshot_process(clean, proxy.url, db)
        try:
            assert gate.reached.wait(timeout=120)
            run = subprocess.run([*DEFIRISK, "job", "run", str(job), "--quiet"], capture_output=True, text=True,
                                 timeout=120, env={"BESIDE_RPC": clean.upstream, "PATH": "/usr/bin:/bin"})
        finally:
            gate.release.set()
        _, hand_err = hand.communicate(timeout=120)
    assert hand.returncode == 0, hand_err
    assert run.returncode == 1 and "Traceback" not in run.stderr
    (line,) = run.stderr.splitlines()
    assert "DatabaseLocked" in line and f"(PID {hand.pid})" in line
    check_valid(db, clean, 1)
    record(
        "concurrency_3_job_beside_snapshot",
        area="Concurrency",
        attack="`defirisk job run` while a hand-run `defirisk snapshot` writes the same database",
        tried="1 pair of real processes",
        outcome="job exits 1 with one line naming DatabaseLocked and the holder's PID; the snapshot "
        "completes; database valid with 1 snapshot",
    )
