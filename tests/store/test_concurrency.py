"""One writing process at a time: a second one gets ``DatabaseLocked`` (real processes, no mocks)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from defirisk.errors import DatabaseLocked
from defirisk.store import Store
from tests.store.synthetic import make_state

CHILD = Path(__file__).with_name("child.py")


@contextmanager
def holder(db_path: Path, seconds: str = "stdin") -> Iterator[subprocess.Popen[str]]:
    """Another process holding ``db_path`` open for writing."""
    with subprocess.Popen(
        [sys.executable, str(CHILD), "hold", str(db_path), seconds],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        try:
            assert process.stdout.readline().strip() == "ready"
            yield process
        finally:
            process.stdin.close()
            process.wait(timeout=60)


def _try_open_in_child(db_path: Path, mode: str) -> str:
    result = subprocess.run(
        [sys.executable, str(CHILD), "open", str(db_path), mode],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_a_second_process_gets_database_locked(db_path: Path) -> None:
    with holder(db_path):
        for read_only in (False, True):
            with pytest.raises(DatabaseLocked) as caught:
                Store.open(db_path, read_only=read_only)
            message = str(caught.value)
            assert str(db_path) in message and "\n" not in message
    with Store.open(db_path) as store:
        assert store.list_snapshots().empty


def test_waiting_gives_up_after_the_timeout(db_path: Path) -> None:
    with holder(db_path):
        with pytest.raises(DatabaseLocked, match="gave up after waiting 0.5 s"):
            Store.open(db_path, wait=0.5)


def test_waiting_succeeds_once_the_other_process_lets_go(db_path: Path) -> None:
    with holder(db_path, seconds="1.0"):
        with Store.open(db_path, wait=60) as store:
            assert store.write_snapshot(make_state()) == 1


def test_our_writer_locks_out_other_processes(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.write_snapshot(make_state())
        for mode in ("rw", "ro"):
            reply = _try_open_in_child(db_path, mode)
            assert reply.startswith("DatabaseLocked: ") and str(db_path) in reply
    assert _try_open_in_child(db_path, "ro") == "ok"


def test_readers_in_several_processes_share_the_file(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.write_snapshot(make_state())
    with Store.open(db_path, read_only=True) as reader:
        assert _try_open_in_child(db_path, "ro") == "ok"
        assert reader.list_snapshots()["snapshot_id"].tolist() == [1]
