"""The retry executor on scripted attempts: back-off, Retry-After, splitting, and its bounds."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.chain.executor import Executor, RetryPolicy
from defirisk.chain.faults import TransientFault
from defirisk.chain.rpc import halves
from defirisk.errors import InvalidParameter, RpcError, RpcUnavailable

ENDPOINT = "https://node.example/v2/***"


class Sleeps(list[float]):
    """Records the delays the executor asks for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def executor(sleeps: Sleeps, **policy: object) -> Executor:
    return Executor(RetryPolicy(**policy), ENDPOINT, sleeps)  # type: ignore[arg-type]


def failing(times: int, fault: TransientFault, value: str = "ok"):
    calls = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise fault
        return value

    return attempt, calls


def test_retries_until_success_with_growing_jittered_delays() -> None:
    sleeps = Sleeps()
    attempt, calls = failing(4, TransientFault("HTTP 502"))
    assert executor(sleeps, max_attempts=5, backoff=1.0, max_backoff=4.0, seed=3).run(attempt, "x") == "ok"
    assert len(calls) == 5
    ceilings = [1.0, 2.0, 4.0, 4.0]
    assert len(sleeps) == 4
    for delay, ceiling in zip(sleeps, ceilings, strict=True):
        assert 0.5 * ceiling <= delay <= ceiling


def test_jitter_is_reproducible_from_the_seed() -> None:
    runs = []
    for seed in (11, 11, 12):
        sleeps = Sleeps()
        attempt, _ = failing(3, TransientFault("timeout"))
        executor(sleeps, seed=seed).run(attempt, "x")
        runs.append(list(sleeps))
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_gives_up_after_max_attempts_with_one_line_message() -> None:
    sleeps = Sleeps()
    attempt, calls = failing(100, TransientFault("connection refused or host unknown"))
    with pytest.raises(RpcUnavailable) as info:
        executor(sleeps, max_attempts=4, backoff=0.5, max_backoff=1.0).run(attempt, "eth_chainId")
    assert len(calls) == 4
    assert len(sleeps) == 3
    assert sum(sleeps) <= 3 * 1.0
    message = str(info.value)
    assert "\n" not in message
    assert ENDPOINT in message and "eth_chainId" in message and "connection refused" in message
    assert type(info.value) is RpcUnavailable


def test_retry_after_is_honoured_and_capped() -> None:
    sleeps = Sleeps()
    script = iter([TransientFault("429", retry_after=2.0), TransientFault("429", retry_after=120.0)])

    def attempt() -> str:
        fault = next(script, None)
        if fault is not None:
            raise fault
        return "ok"

    executor(sleeps, retry_after_cap=30.0).run(attempt, "x")
    assert sleeps == [2.0, 30.0]


def test_too_big_splits_at_once_without_sleeping() -> None:
    sleeps = Sleeps()
    seen = []

    def attempt(piece: list[int]) -> list[int]:
        seen.append(len(piece))
        if len(piece) > 3:
            raise TransientFault("413", too_big=True)
        return piece

    items = list(range(20))
    pieces = executor(sleeps).run_split(items, attempt, halves, "batch")
    assert [x for piece in pieces for x in piece] == items
    assert all(len(p) <= 3 for p in pieces)
    assert sleeps == []
    assert seen[:3] == [20, 10, 5]


def test_too_big_for_a_single_item_is_final() -> None:
    def attempt(piece: list[int]) -> list[int]:
        raise TransientFault("range refused", too_big=True)

    with pytest.raises(RpcError, match="refuses even the smallest request"):
        executor(Sleeps()).run_split([1, 2, 3], attempt, halves, "logs")


def test_shrinkable_faults_halve_the_piece_after_sleeping() -> None:
    sleeps = Sleeps()
    sizes = []

    def attempt(piece: list[int]) -> list[int]:
        sizes.append(len(piece))
        if len(piece) > 4:
            raise TransientFault("no answer within 1 s", shrink=True)
        return piece

    pieces = executor(sleeps, max_attempts=3).run_split(list(range(16)), attempt, halves, "batch")
    assert [x for p in pieces for x in p] == list(range(16))
    assert sizes == [16, 8, 4, 4, 8, 4, 4]
    assert len(sleeps) == 3


def test_failure_streak_resets_after_each_success() -> None:
    """Each piece fails twice then succeeds: 30 pieces, 60 faults, no give-up at max_attempts=3."""
    failures: dict[int, int] = {}

    def attempt(piece: int) -> int:
        failures[piece] = failures.get(piece, 0) + 1
        if failures[piece] <= 2:
            raise TransientFault("HTTP 503")
        return piece

    ex = executor(Sleeps(), max_attempts=3)
    assert [ex.run(lambda n=n: attempt(n), "x") for n in range(30)] == list(range(30))


def test_dead_node_costs_max_attempts_even_for_a_large_splittable_batch() -> None:
    calls = []

    def attempt(piece: list[int]) -> list[int]:
        calls.append(len(piece))
        raise TransientFault("no answer within 1 s", shrink=True)

    with pytest.raises(RpcUnavailable):
        executor(Sleeps(), max_attempts=5).run_split(list(range(1024)), attempt, halves, "batch")
    assert calls == [1024, 512, 256, 128, 64]


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(InvalidParameter):
        RetryPolicy(max_attempts=0)
    with pytest.raises(InvalidParameter):
        RetryPolicy(backoff=-1)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 300),
    limit=st.integers(1, 64),
    flake_seed=st.integers(0, 2**32),
    flake_rate=st.floats(0, 0.4),
)
def test_split_results_always_reassemble_the_work(n: int, limit: int, flake_seed: int, flake_rate: float) -> None:
    """Whatever the node's size limit and random transient faults, the pieces are the items in order."""
    flakes = random.Random(flake_seed)

    def attempt(piece: list[int]) -> list[int]:
        if len(piece) > limit:
            raise TransientFault("too big", too_big=True)
        if flakes.random() < flake_rate:
            raise TransientFault("flaky", shrink=flakes.random() < 0.5)
        return piece

    pieces = executor(Sleeps(), max_attempts=40).run_split(list(range(n)), attempt, halves, "batch")
    assert [x for p in pieces for x in p] == list(range(n))
    assert all(1 <= len(p) <= limit for p in pieces)
