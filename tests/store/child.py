"""A second process for the concurrency and crash tests: ``python child.py MODE DB [ARG]``.

* ``hold DB SECONDS``: open DB for writing, print ``ready``, keep it open SECONDS (or until stdin
  closes when SECONDS is ``stdin``), then close it.
* ``open DB ro|rw``: try to open DB once and print ``ok`` or the error's class and message.
* ``write DB N``: open DB, print ``ready``, then write snapshots of N positions (block 1, 2, 3, ...)
  forever, printing ``wrote <id>`` after each commit, until killed.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from defirisk.errors import StoreError  # noqa: E402
from defirisk.store import Store  # noqa: E402
from tests.store.synthetic import make_large_state  # noqa: E402


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def main(mode: str, db: str, arg: str) -> None:
    if mode == "hold":
        with Store.open(db):
            _say("ready")
            if arg == "stdin":
                sys.stdin.read()
            else:
                time.sleep(float(arg))
    elif mode == "open":
        try:
            Store.open(db, read_only=arg == "ro").close()
            _say("ok")
        except StoreError as exc:
            _say(f"{type(exc).__name__}: {exc}")
    elif mode == "write":
        state = make_large_state(int(arg))
        with Store.open(db) as store:
            _say("ready")
            block = 0
            while True:
                block += 1
                meta = dataclasses.replace(state.meta, block_number=block)
                _say(f"wrote {store.write_snapshot(dataclasses.replace(state, meta=meta))}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
