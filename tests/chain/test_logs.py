"""Chunked log scanning: whatever the node refuses, the logs equal one big query."""

from __future__ import annotations

import pytest

from defirisk.chain.abi import event_topic
from defirisk.chain.logs import Log, parse_log, scan_logs, split_range
from defirisk.errors import InvalidParameter, RpcError
from tests.chain.clients import HOLD, fast_client, impatient_client
from tests.chain.conftest import Chain
from tests.chain.faultproxy import RANGE_STYLES, FaultProxy

pytestmark = pytest.mark.chain

TRANSFER = event_topic("Transfer(address,address,uint256)")
APPROVAL = event_topic("Approval(address,address,uint256)")


def one_big_query(chain: Chain, **spec: object) -> list[Log]:
    """All logs of the history in one eth_getLogs straight to anvil (it has no range limit)."""
    start, end = chain.history
    raw = chain.anvil.rpc.call("eth_getLogs", {"fromBlock": hex(start), "toBlock": hex(end), **spec})
    return [parse_log(item) for item in raw]


@pytest.fixture(scope="module")
def everything(chain: Chain) -> list[Log]:
    logs = one_big_query(chain, address=chain.token_a, topics=[[TRANSFER, APPROVAL]])
    assert len(logs) == 320
    assert len({log.block_number for log in logs}) > 100
    return logs


def test_history_constants() -> None:
    assert TRANSFER == "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
    assert APPROVAL == "0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"


@pytest.mark.parametrize("chunk", [1, 7, 50, 10_000])
def test_any_chunk_size_gives_the_big_query(chain: Chain, everything: list[Log], chunk: int) -> None:
    start, end = chain.history
    got = list(scan_logs(fast_client(chain.url), start, end, address=chain.token_a, topics=[[TRANSFER, APPROVAL]], chunk=chunk))
    assert got == everything


@pytest.mark.parametrize("style", sorted(RANGE_STYLES))
def test_refused_ranges_shrink_and_regrow(chain: Chain, everything: list[Log], style: str) -> None:
    start, end = chain.history
    limit = 40 if style == "timeout" else 16
    with FaultProxy(chain.url, max_log_range=limit, range_style=style, hold=HOLD) as proxy:
        client = impatient_client(proxy.url, max_attempts=6)
        got = list(scan_logs(client, start, end, address=chain.token_a, topics=[[TRANSFER, APPROVAL]], chunk=100))
    assert got == everything
    ranges = proxy.log_ranges
    assert ranges[0] == (start, start + 99, True)
    refused = [(a, b) for a, b, no in ranges if no]
    accepted = [(a, b) for a, b, no in ranges if not no]
    assert all(b - a + 1 > limit for a, b in refused)
    # The accepted ranges tile the span exactly, in order.
    assert accepted[0][0] == start and accepted[-1][1] == end
    assert all(b1 + 1 == a2 for (_, b1), (a2, _) in zip(accepted, accepted[1:], strict=False))
    # After shrinking, the chunk grows back: some accepted range is larger than the first one.
    sizes = [b - a + 1 for a, b in accepted]
    assert max(sizes[1:]) > sizes[0]
    # ... and keeps probing larger ranges after success, so refusals recur after the first.
    assert any(no for _, _, no in ranges[ranges.index((*accepted[1], False)) :])


def test_filters_select_events(chain: Chain, everything: list[Log]) -> None:
    start, end = chain.history
    client = fast_client(chain.url)
    transfers = list(scan_logs(client, start, end, address=[chain.token_a], topics=[TRANSFER], chunk=30))
    approvals = list(scan_logs(client, start, end, topics=[APPROVAL], chunk=30))
    assert {log.topics[0] for log in transfers} == {TRANSFER}
    assert {log.topics[0] for log in approvals} == {APPROVAL}
    assert sorted(transfers + approvals, key=lambda log: (log.block_number, log.log_index)) == everything
    assert len(approvals) == 8 * 14
    to_holder_1 = list(scan_logs(client, start, end, topics=[TRANSFER, None, "0x" + "00" * 12 + chain.holders[1][2:]]))
    assert len(to_holder_1) == 1 and to_holder_1[0].data == (10**12 + 1).to_bytes(32, "big")


def test_logs_come_in_block_order_with_progress(chain: Chain, everything: list[Log]) -> None:
    start, end = chain.history
    progress: list[tuple[int, int]] = []
    got = list(
        scan_logs(fast_client(chain.url), start, end, topics=[[TRANSFER, APPROVAL]], chunk=25, on_progress=lambda d, t: progress.append((d, t)))
    )
    keys = [(log.block_number, log.log_index) for log in got]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    total = end - start + 1
    assert progress[-1] == (total, total)
    assert all(t == total for _, t in progress)
    done = [d for d, _ in progress]
    assert done == sorted(done) and len(set(done)) == len(done)


def test_a_node_refusing_single_blocks_is_an_error(chain: Chain) -> None:
    start, _ = chain.history
    with FaultProxy(chain.url, max_log_range=0) as proxy:
        with pytest.raises(RpcError, match="refuses even the smallest request"):
            list(scan_logs(fast_client(proxy.url), start, start + 9, topics=[TRANSFER]))
    assert [b - a + 1 for a, b, _ in proxy.log_ranges] == [10, 5, 3, 2, 1]


def test_faults_during_a_scan_give_the_big_query(chain: Chain, everything: list[Log]) -> None:
    start, end = chain.history
    with FaultProxy(chain.url, rate=0.4, seed=21, max_log_range=30, hold=HOLD) as proxy:
        client = impatient_client(proxy.url, max_attempts=12)
        got = list(scan_logs(client, start, end, address=chain.token_a, topics=[[TRANSFER, APPROVAL]], chunk=64))
    assert got == everything
    assert sum(proxy.injected.values()) >= 3


def test_bad_arguments(chain: Chain) -> None:
    client = fast_client(chain.url)
    with pytest.raises(InvalidParameter):
        list(scan_logs(client, 10, 9))
    with pytest.raises(InvalidParameter):
        list(scan_logs(client, 0, 9, chunk=0))
    with pytest.raises(InvalidParameter, match="not a 32-byte topic"):
        list(scan_logs(client, 0, 9, topics=["0x1234"]))


def test_split_range() -> None:
    assert split_range((5, 5)) is None
    assert split_range((0, 9)) == ((0, 4), (5, 9))
    assert split_range((4, 5)) == ((4, 4), (5, 5))
