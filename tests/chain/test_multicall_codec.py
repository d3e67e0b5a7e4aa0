"""The hand-written aggregate3 codec equals eth_abi's encoding and decoding, and refuses garbage."""

from __future__ import annotations

import eth_abi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.chain.multicall import AGGREGATE3, Call, decode_aggregate3, encode_aggregate3
from defirisk.errors import MulticallFailed

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
calls = st.lists(st.builds(Call, target=addresses, calldata=st.binary(max_size=200)), max_size=12)
results = st.lists(st.tuples(st.booleans(), st.binary(max_size=200)), max_size=12)


@settings(max_examples=200, deadline=None)
@given(calls)
def test_encoding_is_eth_abi_byte_for_byte(batch: list[Call]) -> None:
    expected = AGGREGATE3 + eth_abi.encode(["(address,bool,bytes)[]"], [[(c.target, True, c.calldata) for c in batch]])
    assert encode_aggregate3(batch) == expected


@settings(max_examples=200, deadline=None)
@given(results)
def test_decoding_inverts_eth_abi(pairs: list[tuple[bool, bytes]]) -> None:
    data = eth_abi.encode(["(bool,bytes)[]"], [pairs])
    assert decode_aggregate3(data, len(pairs)) == pairs


@settings(max_examples=300, deadline=None)
@given(results, st.data())
def test_corrupted_answers_fail_cleanly(pairs: list[tuple[bool, bytes]], data: st.DataObject) -> None:
    raw = bytearray(eth_abi.encode(["(bool,bytes)[]"], [pairs]))
    cut = data.draw(st.integers(0, len(raw)))
    flip = data.draw(st.integers(0, max(len(raw) - 1, 0)))
    if raw:
        raw[flip] ^= 0xFF
    try:
        decoded = decode_aggregate3(bytes(raw[:cut]), len(pairs))
    except MulticallFailed:
        return
    assert len(decoded) == len(pairs)


def test_wrong_count_is_refused() -> None:
    data = eth_abi.encode(["(bool,bytes)[]"], [[(True, b"x")]])
    with pytest.raises(MulticallFailed):
        decode_aggregate3(data, 2)
