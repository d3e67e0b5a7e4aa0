"""Multicall3 batching against anvil: same answers as direct eth_call, few requests, one block."""

from __future__ import annotations

import eth_abi
import pytest

from defirisk.chain.abi import decode, encode_call, selector
from defirisk.chain.blocks import pin_block
from defirisk.chain.multicall import (
    Call,
    Result,
    decode_aggregate3,
    encode_aggregate3,
    failures,
    multicall,
    revert_reason,
)
from defirisk.errors import InvalidAddress, MulticallFailed
from tests.chain.clients import HOLD, fast_client, impatient_client
from tests.chain.conftest import Chain, calldata
from tests.chain.faultproxy import FaultProxy
from tests.localchain.anvil import Anvil

pytestmark = pytest.mark.chain


def uint(data: bytes) -> int:
    (value,) = decode(["uint256"], data)
    return value


def balance_calls(chain: Chain, token: str) -> list[Call]:
    return [
        Call(token, encode_call("balanceOf(address)", [h]), allow_failure=False, decoder=uint, label=f"balance {n}")
        for n, h in enumerate(chain.holders)
    ]


def direct(chain: Chain, calls: list[Call], block: int) -> list[bytes]:
    """Plain eth_call answers of ``calls`` at ``block``, straight from anvil."""
    answers = chain.anvil.rpc.batch(
        ("eth_call", [{"to": c.target, "data": "0x" + c.calldata.hex()}, hex(block)]) for c in calls
    )
    return [bytes.fromhex(a[2:]) for a in answers]


def test_thousand_balances_match_direct_calls_in_two_requests(chain: Chain) -> None:
    block = chain.history[0] - 1  # minted, before the transfers
    calls = balance_calls(chain, chain.token_a) + balance_calls(chain, chain.token_b)
    with FaultProxy(chain.url) as proxy:
        results = multicall(fast_client(proxy.url, max_batch=100), calls, block, batch_size=100)
    # One eth_getCode, then 20 aggregate3 calls in one JSON-RPC batch.
    assert proxy.http_requests == 2
    assert proxy.methods["eth_call"] == 20 and proxy.methods["eth_getCode"] == 1
    assert all(r.success for r in results)
    assert [r.return_data for r in results] == direct(chain, calls, block)
    assert [r.value for r in results[:3]] == [10**15, 2 * 10**15, 3 * 10**15]
    assert results[1000].value == 1 and results[1001].value == 0 and results[1003].value == 8


@pytest.mark.parametrize("batch_size", [1, 7, 333, 5000])
def test_batch_size_does_not_change_answers(chain: Chain, batch_size: int) -> None:
    block = chain.history[1]
    calls = balance_calls(chain, chain.token_a)[:400]
    client = fast_client(chain.url, max_batch=50)
    results = multicall(client, calls, block, batch_size=batch_size)
    assert [r.value for r in results] == [uint(data) for data in direct(chain, calls, block)]
    assert any(r.value != (n + 1) * 10**15 for n, r in enumerate(results)), "history moved no balance"


def test_reads_stay_pinned_while_the_chain_moves(chain: Chain) -> None:
    client = fast_client(chain.url)
    pinned = pin_block(client, "latest")
    calls = balance_calls(chain, chain.token_b)[:50]
    before = multicall(client, calls, pinned)
    snapshot = chain.anvil.rpc.call("evm_snapshot")
    try:
        chain.anvil.rpc.call("eth_sendTransaction", {"from": chain.dev, "to": chain.token_b, "data": calldata("mint(address,uint256)", chain.holders[0], 10**9)})
        after_pin = multicall(client, calls, pinned)
        head = multicall(client, calls, pin_block(client, "latest"))
    finally:
        chain.anvil.rpc.call("evm_revert", snapshot)
    assert after_pin == before
    assert head[0].value == before[0].value + 10**9
    assert head[1:] == before[1:]


def test_failed_sub_calls_are_reported_not_swallowed(chain: Chain) -> None:
    block = chain.history[1]
    calls = [
        Call(chain.token_a, encode_call("totalSupply()"), decoder=uint),
        Call(chain.token_a, bytes.fromhex("deadbeef"), label="unknown selector"),
        Call(chain.holders[5], encode_call("decimals()"), decoder=uint, label="an EOA"),
        Call(chain.token_a, encode_call("transferFrom(address,address,uint256)", [chain.holders[1], chain.holders[2], 1])),
        Call(chain.token_a, encode_call("decimals()"), decoder=uint),
    ]
    results = multicall(fast_client(chain.url), calls, block)
    assert failures(results) == [1, 2, 3]
    assert results[0].success and results[0].value == uint(direct(chain, calls[:1], block)[0])
    assert results[1] == Result(False, b"", error="reverted without data")
    assert results[2].error == "undecodable answer (InsufficientDataBytes)" and results[2].return_data == b""
    assert results[3].error.startswith("reverted: 'ERC20: transfer amount exceeds allowance'")
    assert results[4].value == 18


def test_a_required_failure_raises_with_its_label(chain: Chain) -> None:
    calls = balance_calls(chain, chain.token_a)[:10] + [
        Call(chain.token_a, bytes.fromhex("deadbeef"), allow_failure=False, label="the bad one")
    ]
    with pytest.raises(MulticallFailed, match="1 required calls failed at block .*the bad one: reverted without data"):
        multicall(fast_client(chain.url), calls, chain.history[1])


def test_gas_refusals_split_the_aggregate(chain: Chain) -> None:
    block = chain.history[1]
    calls = balance_calls(chain, chain.token_a)[:300]
    expected = multicall(fast_client(chain.url), calls, block)
    with FaultProxy(chain.url, max_multicall_calls=40) as proxy:
        results = multicall(fast_client(proxy.url), calls, block, batch_size=150)
    assert results == expected
    refused = [size for size, no in proxy.multicall_sizes if no]
    accepted = [size for size, no in proxy.multicall_sizes if not no]
    assert refused and max(refused) == 150 and min(refused) > 40
    assert sum(accepted) == 300 and max(accepted) <= 40


def test_faults_during_multicall_give_the_clean_answer(chain: Chain) -> None:
    block = chain.history[1]
    calls = balance_calls(chain, chain.token_a)
    expected = multicall(fast_client(chain.url), calls, block)
    with FaultProxy(chain.url, rate=0.5, seed=11, shuffle=True, hold=HOLD) as proxy:
        results = multicall(impatient_client(proxy.url, max_attempts=12, max_batch=3), calls, block, batch_size=60)
    assert results == expected
    assert sum(proxy.injected.values()) >= 3


def test_missing_multicall3_is_a_clear_error() -> None:
    with Anvil() as bare:
        client = fast_client(bare.rpc_url)
        with pytest.raises(MulticallFailed, match="no Multicall3 contract at 0xca11.* at block 0"):
            multicall(client, [Call("0x" + "11" * 20, b"")], 0)


def test_aggregate3_encoding_round_trips() -> None:
    calls = [Call("0x" + "ab" * 20, b"\x01\x02"), Call("0x" + "cd" * 20, b"")]
    data = encode_aggregate3(calls)
    assert data[:4] == selector("aggregate3((address,bool,bytes)[])") == bytes.fromhex("82ad56cb")
    (decoded,) = eth_abi.decode(["(address,bool,bytes)[]"], data[4:])
    assert decoded == (("0x" + "ab" * 20, True, b"\x01\x02"), ("0x" + "cd" * 20, True, b""))
    answer = eth_abi.encode(["(bool,bytes)[]"], [[(True, b"\x05"), (False, b"")]])
    assert decode_aggregate3(answer, 2) == [(True, b"\x05"), (False, b"")]
    with pytest.raises(MulticallFailed):
        decode_aggregate3(answer, 3)
    with pytest.raises(MulticallFailed):
        decode_aggregate3(b"\x00" * 31, 1)


def test_revert_reasons() -> None:
    error = selector("Error(string)") + eth_abi.encode(["string"], ["no\nway"])
    assert revert_reason(error) == "reverted: 'no\\nway'"
    panic = selector("Panic(uint256)") + eth_abi.encode(["uint256"], [0x11])
    assert revert_reason(panic) == "panic 0x11"
    assert revert_reason(selector("Error(string)") + b"\xff" * 10) == "reverted with a malformed reason"
    assert revert_reason(b"\x01\x02") == "reverted"


def test_call_targets_are_normalised() -> None:
    assert Call("0x" + "AB" * 20, b"").target == "0x" + "ab" * 20
    with pytest.raises(InvalidAddress):
        Call("0x1234", b"")
