"""One job run at a time per database: an OS lock on a file next to it.

``job_lock(database)`` takes ``flock(LOCK_EX | LOCK_NB)`` on ``<database>.lock`` and holds it for the
whole run. The kernel drops the lock when the process ends, however it ends (a crash or ``kill -9``
leaves no stale lock behind), so the file is never deleted: deleting it would let a second run lock
a fresh file while a first still holds the old one. The holder writes its PID into the file, only
for the message the next run prints.

DuckDB's own file lock still guards the database against every other writer (a hand-run
``defirisk snapshot``); this lock makes concurrent job runs wait or give up before doing any work.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from defirisk.errors import JobLocked, StoreError

#: Exit status of ``defirisk job run`` when another run holds the lock (cron/systemd can tell it apart).
EXIT_LOCKED = JobLocked.exit_code

_POLL_S = 0.1


def lock_path(database: Path) -> Path:
    """The lock file of ``database``: ``<database>.lock`` in the same folder."""
    return database.with_name(database.name + ".lock")


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (PID {text})" if text.isdigit() else ""


@contextmanager
def job_lock(
    database: Path, wait: float = 0.0, on_wait: Callable[[str], None] | None = None
) -> Iterator[Path]:
    """Hold the job lock of ``database`` for the ``with`` block; yields the lock file's path.

    While another process holds it, retry every 0.1 s for up to ``wait`` seconds (telling
    ``on_wait(message)`` once, when the waiting starts), then raise ``JobLocked`` (one line,
    naming the holder's PID). ``StoreError`` if the lock file cannot be created (its folder is
    created if missing).
    """
    path = lock_path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot create the lock file {path}: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left > 0 and not told and on_wait is not None:
                    on_wait(f"another job run holds {path}{_holder(fd)}; waiting up to {wait:g} s")
                    told = True
                if left <= 0:
                    then = f"gave up after waiting {wait:g} s" if wait > 0 else "try again later, or wait with --wait SECONDS"
                    raise JobLocked(f"another job run holds {path}{_holder(fd)}; {then}") from None
                time.sleep(min(_POLL_S, left))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield path
    finally:
        os.close(fd)
