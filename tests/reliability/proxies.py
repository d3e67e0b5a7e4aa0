"""The fault proxy (``tests.chain.faultproxy``) with hooks on the requests it forwards.

``HookedProxy`` numbers every request it forwards to the node (1, 2, ...; requests failed early by
an injected fault never reach the node and are not numbered) and keeps the methods of each in
``trace``. Before forwarding it calls ``before(n, items)``, which may block (a ``Gate`` holding a
snapshot at a chosen request while the test kills it) or act on the chain (a real reorg); after,
``rewrite(n, items, answers)`` may change the answers (a node that reports another block hash).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from eth_utils import keccak

from tests.chain.faultproxy import FaultProxy

Items = list[dict[str, Any]]
Before = Callable[[int, Items], None]
Rewrite = Callable[[int, Items, Items], Items]


class HookedProxy(FaultProxy):
    """``FaultProxy`` plus ``before`` / ``rewrite`` hooks and a ``trace`` of forwarded methods."""

    def __init__(self, upstream: str, *, before: Before | None = None, rewrite: Rewrite | None = None,
                 **kwargs: Any) -> None:
        super().__init__(upstream, **kwargs)
        self.before = before
        self.rewrite = rewrite
        self.trace: list[tuple[str, ...]] = []

    @property
    def forwarded(self) -> int:
        return len(self.trace)

    def _forward(self, items: Items) -> Items | None:
        with self._lock:
            self.trace.append(tuple(str(item.get("method")) for item in items))
            n = len(self.trace)
        if self.before is not None:
            self.before(n, items)
        answers = super()._forward(items)
        if answers is not None and self.rewrite is not None:
            answers = self.rewrite(n, items, answers)
        return answers


class Gate:
    """A ``before`` hook that fires at forwarded request ``at``: sets ``reached`` and, if ``hold``,
    keeps the request (and so the client) waiting until ``release`` is set."""

    def __init__(self, at: int, hold: bool = True) -> None:
        self.at = at
        self.hold = hold
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, n: int, items: Items) -> None:
        if n != self.at:
            return
        self.reached.set()
        if self.hold:
            self.release.wait(timeout=120)


def other_hash(block_hash: str) -> str:
    """A different, well-formed block hash derived from ``block_hash``."""
    return "0x" + keccak(text=f"replaced:{block_hash}").hex()


class HashSwitch:
    """A ``rewrite`` hook: from forwarded request ``after + 1`` on, every block the node returns
    has another hash, as if the chain had reorganised under the pinned block."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.switched = 0

    def __call__(self, n: int, items: Items, answers: Items) -> Items:
        if n <= self.after:
            return answers
        out = []
        for item, answer in zip(items, answers, strict=True):
            result = answer.get("result")
            if item.get("method") == "eth_getBlockByNumber" and isinstance(result, dict):
                answer = {**answer, "result": {**result, "hash": other_hash(result["hash"])}}
                self.switched += 1
            out.append(answer)
        return out


def stage_of_requests(requests: dict[str, int]) -> list[str]:
    """The stage of each HTTP request of a clean snapshot, from ``SnapshotSummary.requests``
    (``market``, ``discovery``, ``accounts``, ``positions``, ``verify``, in that order)."""
    stages: list[str] = []
    for stage in ("market", "discovery", "accounts", "positions", "verify"):
        stages += [stage] * requests.get(stage, 0)
    return stages
