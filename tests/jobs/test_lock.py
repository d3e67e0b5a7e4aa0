"""The job lock between real processes: one holder, a clear refusal, waiting, and no stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from defirisk.errors import DatabaseLocked
from defirisk.jobs.lock import job_lock, lock_path

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from defirisk.jobs.lock import job_lock
    with job_lock(Path(sys.argv[1])):
        print("ready", flush=True)
        if sys.argv[2] == "stdin":
            sys.stdin.read()
        else:
            time.sleep(float(sys.argv[2]))
    """
)


@contextmanager
def holder(database: Path, hold: str = "stdin") -> Iterator[subprocess.Popen[str]]:
    """Another process holding the job lock of ``database`` (until stdin closes, or ``hold`` s)."""
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(database), hold],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stdin is not None
        assert process.stdout.readline().strip() == "ready"
        try:
            yield process
        finally:
            process.stdin.close()
            process.wait(timeout=30)


def test_the_lock_file_sits_next_to_the_database(tmp_path: Path) -> None:
    assert lock_path(tmp_path / "x" / "defirisk.duckdb") == tmp_path / "x" / "defirisk.duckdb.lock"
    with job_lock(tmp_path / "x" / "defirisk.duckdb") as path:
        assert path.read_text().strip() == str(os.getpid())
    assert path.exists()


def test_a_second_process_is_refused_in_one_line_naming_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    with holder(db) as process:
        with pytest.raises(DatabaseLocked) as caught:
            with job_lock(db):
                pytest.fail("entered a lock another process holds")
        message = str(caught.value)
        assert f"(PID {process.pid})" in message and str(lock_path(db)) in message and "\n" not in message
        assert "--wait" in message
    with job_lock(db):
        pass


def test_waiting_gives_up_after_the_limit_and_says_so_once(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    told: list[str] = []
    with holder(db):
        started = time.monotonic()
        with pytest.raises(DatabaseLocked, match=r"gave up after waiting 0\.5 s"):
            with job_lock(db, wait=0.5, on_wait=told.append):
                pytest.fail("entered a lock another process holds")
        assert time.monotonic() - started >= 0.5
    assert len(told) == 1 and "waiting up to 0.5 s" in told[0]


def test_waiting_gets_the_lock_when_the_holder_finishes(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    with holder(db, hold="1.0"):
        started = time.monotonic()
        with job_lock(db, wait=60):
            assert time.monotonic() - started >= 0.9, "got the lock while the other process still held it"


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    db = tmp_path / "db.duckdb"
    with holder(db) as process:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        with job_lock(db):
            assert lock_path(db).read_text().strip() == str(os.getpid())
