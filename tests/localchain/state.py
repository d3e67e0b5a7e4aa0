"""Build the deployed and seeded chain once, cache anvil's state file, and reload it.

Cache entries live in ``.cache/localchain/`` at the repository root, keyed on the anvil, core-v3
and solc versions, a hash of this package's code, the number of accounts and the seed. An entry
is a state file (``--load-state`` input) plus a metadata file (addresses, seeded accounts,
timings); the metadata is written last, so an entry without it is incomplete and is rebuilt. A
file lock keeps two processes from building the same entry at once; building an entry removes
older entries for the same accounts and seed.

Why the state is post-processed: anvil dumps every mined transaction with its receipt *and* its
full call trace; the traces are about 80 % of the file (365 MB for 5,000 accounts). The receipts
must stay, because ``eth_getLogs`` after a reload is answered from them and account discovery
reads the Pool's ``Supply``/``Borrow`` logs. So the dump is written by anvil itself on exit
(``--dump-state``: plain JSON, several times faster than ``anvil_dumpState``'s gzip+hex answer)
and each transaction's ``"traces":[...]`` is emptied at the byte level, without parsing the JSON.
Blocks, receipts, logs and the head block stay; a reloaded node answers ``eth_getLogs``,
receipts and ``eth_call`` at the head block. Calls at earlier blocks are not available (anvil
keeps no historical states across a dump).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.localchain.aave import Deployment, deploy_market
from tests.localchain.anvil import Anvil, AnvilError
from tests.localchain.portfolio import SeededAccount
from tests.localchain.seed import seed_accounts
from tests.localchain.toolchain import CACHE_DIR, cache_key
from tests.localchain.tx import Transactor

_TRACES = b'"traces":['
# serde writes the field after "traces" as "exit"; no key inside a trace is called "exit", and a
# quote inside a JSON string is escaped, so this marks the end of the traces array.
_AFTER_TRACES = b'],"exit":'


@dataclass(frozen=True)
class CachedChain:
    """A complete cache entry: the state file and what was deployed and seeded into it."""

    state_file: Path
    deployment: Deployment
    accounts: list[SeededAccount]
    liquidity_provider: str
    timings: dict[str, float]
    built: bool

    @property
    def state_bytes(self) -> int:
        """Size of the state file."""
        return self.state_file.stat().st_size


def strip_traces(dump: bytes) -> bytes:
    """Empty every transaction's call-trace array in an anvil state dump, keeping all else."""
    parts = []
    pos = 0
    while (start := dump.find(_TRACES, pos)) != -1:
        end = dump.find(_AFTER_TRACES, start)
        if end == -1:
            raise ValueError("unexpected anvil dump layout: traces array without a following exit field")
        parts += [dump[pos : start + len(_TRACES)], _AFTER_TRACES]
        pos = end + len(_AFTER_TRACES)
    parts.append(dump[pos:])
    return b"".join(parts)


def _build(n: int, seed: int, state_file: Path) -> dict[str, Any]:
    raw = state_file.with_suffix(".raw.json")
    timings = {}
    started = time.perf_counter()
    node = Anvil(dump_state=raw)
    try:
        transactor = Transactor(node.rpc)
        deployment = deploy_market(node.rpc, transactor)
        timings["deploy_s"] = time.perf_counter() - started
        accounts, liquidity_provider = seed_accounts(node.rpc, transactor, deployment, n, seed)
        timings["seed_s"] = time.perf_counter() - started - timings["deploy_s"]
    finally:
        dump_started = time.perf_counter()
        node.stop()
    if node.process.returncode != 0 or not raw.exists():
        raise AnvilError(f"anvil exited with {node.process.returncode} without writing {raw}")
    state_file.write_bytes(strip_traces(raw.read_bytes()))
    raw.unlink()
    timings["dump_s"] = time.perf_counter() - dump_started
    return {
        "n": n,
        "seed": seed,
        "deployment": deployment.to_json(),
        "accounts": [a.to_json() for a in accounts],
        "liquidity_provider": liquidity_provider,
        "timings": timings,
    }


def load_or_build(n: int, seed: int, cache_dir: Path = CACHE_DIR) -> CachedChain:
    """Return the cache entry for (``n``, ``seed``), building it first if it is missing."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    stem = cache_dir / f"aave-{cache_key(n, seed)}-n{n}-s{seed}"
    state_file, meta_file = stem.with_suffix(".state.json"), stem.with_suffix(".meta.json")
    with open(stem.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = not meta_file.exists()
        if built:
            meta = _build(n, seed, state_file)
            tmp = meta_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(meta))
            os.replace(tmp, meta_file)
            _remove_stale(stem, f"aave-*-n{n}-s{seed}.*")
        else:
            meta = json.loads(meta_file.read_text())
    return CachedChain(
        state_file=state_file,
        deployment=Deployment.from_json(meta["deployment"]),
        accounts=[SeededAccount(**a) for a in meta["accounts"]],
        liquidity_provider=meta["liquidity_provider"],
        timings=meta["timings"],
        built=built,
    )


def _remove_stale(current: Path, pattern: str) -> None:
    """Delete the files matching ``pattern`` that do not belong to the entry ``current``: entries
    for the same accounts and seed left by older versions (tens of MB each for 5,000 accounts)."""
    for path in current.parent.glob(pattern):
        if not path.name.startswith(current.name + "."):
            path.unlink(missing_ok=True)


def start_node(chain: CachedChain) -> Anvil:
    """Start anvil from the cached state with its clock one second after the head block.

    Without ``anvil_setTime`` the next block would take the wall-clock time, and interest would
    jump by however long ago the cache was built. From there the clock runs with wall time.
    """
    node = Anvil(load_state=chain.state_file)
    head = node.rpc.call("eth_getBlockByNumber", "latest", False)
    node.rpc.call("anvil_setTime", int(head["timestamp"], 16) + 1)
    return node
