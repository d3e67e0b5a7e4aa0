"""The JSON-RPC client against anvil through the fault proxy: every fault retried, same answers."""

from __future__ import annotations

import socket
import traceback
from typing import Any

import pytest

from defirisk.chain.abi import encode_call
from defirisk.chain.faults import NodeError, error_for_node_error, fault_from_node_error
from defirisk.chain.rpc import RpcClient
from defirisk.errors import BlockNotAvailable, RpcError, RpcUnavailable
from tests.chain.clients import HOLD, fast_client, impatient_client
from tests.chain.conftest import Chain
from tests.chain.faultproxy import FAULTS, FaultProxy

pytestmark = pytest.mark.chain

SECRET = "SeCrEt0123456789abcdefXYZ"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def keyed(url: str) -> str:
    """The proxy's URL with an API key in the path and query, as a provider URL would have."""
    return f"{url}/v2/{SECRET}?apikey={SECRET}"


def workload(client: RpcClient, chain: Chain, block: int) -> list[Any]:
    """250 balance reads (three JSON-RPC batches of at most 100) and one block, at ``block``."""
    requests_ = [
        ("eth_call", [{"to": chain.token_a, "data": "0x" + encode_call("balanceOf(address)", [h]).hex()}, hex(block)])
        for h in chain.holders[:250]
    ]
    return [*client.batch(requests_), client.call("eth_getBlockByNumber", [hex(block), False])]


@pytest.fixture(scope="module")
def clean(chain: Chain) -> tuple[int, list[Any]]:
    block = chain.history[1]
    with FaultProxy(chain.url) as proxy:
        results = workload(fast_client(proxy.url), chain, block)
        assert proxy.http_requests == 4
    return block, results


def test_clean_answers_are_the_node_answers(chain: Chain, clean: tuple[int, list[Any]]) -> None:
    block, results = clean
    direct = chain.anvil.rpc
    assert results[0] == direct.call("eth_call", {"to": chain.token_a, "data": "0x70a08231" + "00" * 12 + chain.holders[0][2:]}, hex(block))
    assert int(results[0], 16) == 10**15
    assert int(results[249], 16) == 250 * 10**15
    assert results[-1]["hash"] == direct.call("eth_getBlockByNumber", hex(block), False)["hash"]


@pytest.mark.parametrize("kind", FAULTS)
def test_each_fault_is_retried_to_the_same_answer(chain: Chain, clean: tuple[int, list[Any]], kind: str) -> None:
    block, expected = clean
    # Faults hit the first batch twice and later the single block request once.
    script = [kind, kind, None, None, kind]
    with FaultProxy(chain.url, script=script, hold=HOLD, seed=3) as proxy:
        client = impatient_client(keyed(proxy.url))
        assert workload(client, chain, block) == expected
    assert proxy.injected[kind] == 3
    assert client.http_requests == proxy.http_requests >= 4 + 3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_fault_schedule_gives_the_clean_answer(chain: Chain, clean: tuple[int, list[Any]], seed: int) -> None:
    block, expected = clean
    with FaultProxy(chain.url, rate=0.4, seed=seed, shuffle=True, hold=HOLD) as proxy:
        assert workload(impatient_client(proxy.url, max_attempts=12, seed=seed), chain, block) == expected
    assert sum(proxy.injected.values()) >= 2


def test_shuffled_batch_answers_are_matched_by_id_without_retrying(chain: Chain, clean: tuple[int, list[Any]]) -> None:
    block, expected = clean
    with FaultProxy(chain.url, shuffle=True, seed=5) as proxy:
        assert workload(fast_client(proxy.url), chain, block) == expected
        assert proxy.http_requests == 4


def test_max_batch_one_sends_no_batches(chain: Chain, clean: tuple[int, list[Any]]) -> None:
    block, expected = clean
    with FaultProxy(chain.url) as proxy:
        assert workload(fast_client(proxy.url, max_batch=1), chain, block) == expected
    assert proxy.http_requests == 251 and proxy.batch_bodies == 0


def test_retry_after_is_honoured_up_to_the_cap(chain: Chain) -> None:
    sleeps = Sleeps()
    with FaultProxy(chain.url, script=["http_429_retry_after"], retry_after="7") as proxy:
        client = fast_client(proxy.url, retry_after_cap=0.02, sleep=sleeps)
        assert int(client.call("eth_chainId"), 16) == 31337
    assert sleeps == [0.02]
    sleeps.clear()
    with FaultProxy(chain.url, script=["http_429_retry_after"], retry_after="0") as proxy:
        fast_client(proxy.url, retry_after_cap=5.0, sleep=sleeps).call("eth_chainId")
    assert sleeps == [0.0]
    sleeps.clear()
    with FaultProxy(chain.url, script=["http_429"]) as proxy:
        fast_client(proxy.url, backoff=0.004, sleep=sleeps).call("eth_chainId")
    assert len(sleeps) == 1 and 0.002 <= sleeps[0] <= 0.004


def test_unauthorised_is_final_and_redacted(chain: Chain) -> None:
    with FaultProxy(chain.url, script=["http_401"]) as proxy:
        client = fast_client(keyed(proxy.url))
        with pytest.raises(RpcError, match="HTTP 401") as info:
            client.call("eth_chainId")
    assert proxy.http_requests == 1
    assert SECRET not in str(info.value) and "/v2/***" in str(info.value)


def test_node_errors_are_final_and_returned_or_raised(chain: Chain) -> None:
    with FaultProxy(chain.url) as proxy:
        client = fast_client(keyed(proxy.url))
        bad_call = {"to": chain.token_a, "data": "0xdeadbeef"}
        reply = client.request("eth_call", [bad_call, "latest"])
        assert reply.result is None and reply.error is not None and "revert" in reply.error.message
        with pytest.raises(RpcError) as info:
            client.call("eth_call", [bad_call, "latest"])
        with pytest.raises(RpcError):
            client.batch([("eth_chainId", []), ("no_such_method", [])])
    assert proxy.http_requests == 3
    assert SECRET not in str(info.value) and "/v2/***" in str(info.value)


def test_node_error_classification() -> None:
    assert fault_from_node_error("eth_call", NodeError(-32005, "rate limit exceeded")) is not None
    assert fault_from_node_error("eth_call", NodeError(-32000, "header not found")) is not None
    assert fault_from_node_error("eth_call", NodeError(3, "execution reverted")) is None
    range_fault = fault_from_node_error("eth_getLogs", NodeError(-32005, "query returned more than 10000 results"))
    assert range_fault is not None and range_fault.too_big
    rate_fault = fault_from_node_error("eth_getLogs", NodeError(-32005, "project ID request rate exceeded, rate limit"))
    assert rate_fault is not None and not rate_fault.too_big
    pruned = error_for_node_error("eth_call", NodeError(-32000, "missing trie node abc (path )"), "http://n/***")
    assert isinstance(pruned, BlockNotAvailable) and "archive" in str(pruned)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_node_is_rpc_unavailable_after_bounded_attempts() -> None:
    sleeps = Sleeps()
    client = fast_client(keyed(f"http://127.0.0.1:{_closed_port()}"), max_attempts=4, max_backoff=0.01, sleep=sleeps)
    with pytest.raises(RpcUnavailable) as info:
        client.call("eth_chainId")
    assert client.http_requests == 4
    assert len(sleeps) == 3 and sum(sleeps) <= 3 * 0.01
    message = str(info.value)
    assert "\n" not in message and "connection refused" in message
    assert "/v2/***?apikey=***" in message
    rendered = "".join(traceback.format_exception(info.value))
    assert SECRET not in rendered
    assert SECRET not in repr(client)


def test_hanging_node_is_rpc_unavailable_after_bounded_attempts(chain: Chain) -> None:
    with FaultProxy(chain.url, rate=1.0, kinds=["timeout"], hold=HOLD) as proxy:
        client = impatient_client(keyed(proxy.url), max_attempts=3)
        with pytest.raises(RpcUnavailable, match=r"no answer within 1 s") as info:
            client.batch([("eth_chainId", []), ("eth_blockNumber", [])])
    # A batch of two halves once before the attempts run out.
    assert proxy.http_requests == 3
    assert SECRET not in "".join(traceback.format_exception(info.value))
