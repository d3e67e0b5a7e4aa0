"""The one retry/back-off executor every node request goes through.

Work is a piece (a JSON-RPC batch, a list of Multicall3 batches, a block range) and a function that
makes one attempt at it. An attempt either returns or raises ``TransientFault`` (see
``defirisk.chain.faults`` for what counts as transient); anything else propagates untouched.

After a fault:

* ``too_big``: the piece is split in two at once, without sleeping; an unsplittable piece the node
  still refuses raises ``RpcError``. Splits strictly shrink pieces, so this ends.
* ``shrink``: sleep, then retry the two halves of the piece (or the piece, if unsplittable).
* otherwise: sleep, then retry the same piece.

Sleeping uses exponential back-off with jitter, ``min(max_backoff, backoff·2^(k-1))·U(0.5, 1)``
for the k-th consecutive failure, from a seeded RNG; a server's ``Retry-After`` replaces it, capped
at ``retry_after_cap``. Failures count consecutively across pieces and any success resets the count;
the ``max_attempts``-th consecutive failure raises ``RpcUnavailable``. So a dead node costs at most
``max_attempts`` attempts and ``max_attempts - 1`` sleeps of at most ``max(max_backoff,
retry_after_cap)`` seconds: each attempt is bounded by the transport's timeout.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from defirisk.chain.faults import TransientFault
from defirisk.errors import InvalidParameter, RpcError, RpcUnavailable

W = TypeVar("W")
R = TypeVar("R")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry. Times in seconds."""

    max_attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 8.0
    retry_after_cap: float = 30.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise InvalidParameter(f"max_attempts must be at least 1, got {self.max_attempts}")
        for name in ("backoff", "max_backoff", "retry_after_cap"):
            if getattr(self, name) < 0:
                raise InvalidParameter(f"{name} must not be negative, got {getattr(self, name)}")


class Executor:
    """Runs attempts under a ``RetryPolicy``; ``endpoint`` (already redacted) names the node in errors."""

    def __init__(
        self, policy: RetryPolicy, endpoint: str, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.policy = policy
        self.endpoint = endpoint
        self._sleep = sleep
        self._rng = random.Random(policy.seed)

    def delay(self, failures: int, fault: TransientFault) -> float:
        """Seconds to wait after the ``failures``-th consecutive failure."""
        if fault.retry_after is not None:
            return min(fault.retry_after, self.policy.retry_after_cap)
        ceiling = min(self.policy.max_backoff, self.policy.backoff * 2 ** (failures - 1))
        return ceiling * (0.5 + 0.5 * self._rng.random())

    def run(self, attempt: Callable[[], R], what: str) -> R:
        """Retry one unsplittable attempt; ``what`` names it in errors."""
        (result,) = self.run_split(None, lambda _: attempt(), lambda _: None, what)
        return result

    def run_split(
        self,
        work: W,
        attempt: Callable[[W], R],
        split: Callable[[W], tuple[W, W] | None],
        what: str,
    ) -> list[R]:
        """Run ``attempt`` over ``work``, splitting pieces that keep failing; results in work order.

        ``split(piece)`` returns the two halves of a piece, in order, or None when it cannot shrink.
        """
        results: list[R] = []
        pending = [work]
        streak = 0
        while pending:
            piece = pending.pop()
            try:
                results.append(attempt(piece))
            except TransientFault as fault:
                halves = split(piece) if (fault.too_big or fault.shrink) else None
                if fault.too_big:
                    if halves is None:
                        raise RpcError(
                            f"{what}: {self.endpoint} refuses even the smallest request ({fault.reason})"
                        ) from None
                    pending.extend(reversed(halves))
                    continue
                streak += 1
                if streak >= self.policy.max_attempts:
                    raise RpcUnavailable(
                        f"{what}: {self.endpoint} failed {streak} times in a row (last: {fault.reason})"
                    ) from None
                self._sleep(self.delay(streak, fault))
                pending.extend(reversed(halves) if halves is not None else [piece])
            else:
                streak = 0
        return results
