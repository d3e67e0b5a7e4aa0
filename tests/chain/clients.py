"""Client settings for tests: back-off sleeps of milliseconds and seeded jitter.

``fast_client`` waits long enough for any honest answer from anvil, so request counts are exact.
``impatient_client`` gives up after ``IMPATIENT_TIMEOUT`` seconds, for tests whose proxy holds
requests for ``HOLD`` seconds to inject timeouts; there a slow honest answer is one more retry.
"""

from __future__ import annotations

from typing import Any

from defirisk.chain.rpc import RpcClient

FAST = {
    "timeout": 10.0,
    "max_attempts": 8,
    "backoff": 0.001,
    "max_backoff": 0.01,
    "retry_after_cap": 0.01,
    "seed": 7,
}


def fast_client(url: str, **overrides: Any) -> RpcClient:
    """An ``RpcClient`` with ``FAST`` settings, overridden by ``overrides``."""
    return RpcClient(url, **{**FAST, **overrides})


IMPATIENT_TIMEOUT = 1.0
HOLD = 1.5


def impatient_client(url: str, **overrides: Any) -> RpcClient:
    """A ``fast_client`` with a timeout of ``IMPATIENT_TIMEOUT`` seconds."""
    return fast_client(url, **{"timeout": IMPATIENT_TIMEOUT, **overrides})
