"""A writer killed with SIGKILL at a random moment leaves a usable database with no partial snapshot."""

from __future__ import annotations

import dataclasses
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from defirisk.store import Store
from tests.store.rawdb import stray_rows
from tests.store.synthetic import assert_same_state, make_large_state

CHILD = Path(__file__).with_name("child.py")
N_POSITIONS = 20_000


def _kill_writer_at_random(db_path: Path, rng: random.Random) -> set[int]:
    """Start a writer, SIGKILL it after a random delay, return the ids it reported committed."""
    with subprocess.Popen(
        [sys.executable, str(CHILD), "write", str(db_path), str(N_POSITIONS)],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 1.5))
        os.kill(process.pid, signal.SIGKILL)
        output = process.stdout.read()
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    return {int(line.split()[1]) for line in output.splitlines() if line.startswith("wrote ")}


def test_killed_writers_leave_only_complete_snapshots(db_path: Path) -> None:
    expected = make_large_state(N_POSITIONS)
    reported: set[int] = set()
    for seed in range(5):
        reported |= _kill_writer_at_random(db_path, random.Random(seed))
        assert stray_rows(db_path) == dict.fromkeys(stray_rows(db_path), 0)
        with Store.open(db_path, read_only=True) as store:
            listed = store.list_snapshots()
            assert reported <= set(listed["snapshot_id"])
            assert set(listed["n_positions"]) <= {N_POSITIONS}
    with Store.open(db_path) as store:
        for snapshot_id, block in store.list_snapshots()[["snapshot_id", "block_number"]].itertuples(
            index=False
        ):
            meta = dataclasses.replace(expected.meta, block_number=int(block))
            assert_same_state(
                dataclasses.replace(expected, meta=meta), store.load_state(snapshot_id), snapshot_id
            )
        next_id = store.write_snapshot(expected)
        assert next_id > max(reported, default=0)
        assert_same_state(expected, store.load_state(next_id), next_id)
