"""Token metadata from well-behaved, old-fashioned (bytes32) and hostile tokens."""

from __future__ import annotations

from collections.abc import Iterator

import eth_abi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.chain.abi import decode_small_uint, decode_text, dynamic_bytes, encode_call, selector
from defirisk.chain.tokens import TokenMetadata, read_token_metadata
from tests.chain.clients import fast_client
from tests.chain.conftest import Chain
from tests.chain.stubs import stub_code

pytestmark = pytest.mark.chain

SYMBOL, NAME, DECIMALS = selector("symbol()"), selector("name()"), selector("decimals()")


def string(text: str | bytes) -> bytes:
    return eth_abi.encode(["bytes"], [text.encode() if isinstance(text, str) else text])


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def error(reason: str) -> bytes:
    return selector("Error(string)") + eth_abi.encode(["string"], [reason])


STUBS: dict[str, dict[bytes, tuple[bool, bytes]]] = {
    # MKR answers bytes32 for both symbol() and name().
    "0x" + "a1" * 20: {SYMBOL: (True, b"MKR".ljust(32, b"\0")), NAME: (True, b"Maker".ljust(32, b"\0")), DECIMALS: (True, word(18))},
    # symbol() reverts with a reason, name() reverts bare, decimals() absent.
    "0x" + "a2" * 20: {SYMBOL: (False, error("nope")), NAME: (False, b"")},
    # Not UTF-8, markup and control characters, a pointer past the end, an absurd decimals().
    "0x" + "a3" * 20: {SYMBOL: (True, string(b"\xffEV\xc3IL")), NAME: (True, string("<b>\x1b[31mx</b>")), DECIMALS: (True, word(2**256 - 1))},
    "0x" + "a4" * 20: {SYMBOL: (True, word(2**200) + word(3)), NAME: (True, b"\x01\x02"), DECIMALS: (True, word(6) + word(7))},
}


@pytest.fixture(scope="module")
def stubs(chain: Chain) -> Iterator[None]:
    for address, answers in STUBS.items():
        chain.anvil.rpc.call("anvil_setCode", address, "0x" + stub_code(answers).hex())
    chain.anvil.rpc.call("evm_mine")
    yield
    for address in STUBS:
        chain.anvil.rpc.call("anvil_setCode", address, "0x")


def test_stub_answers_exactly_what_it_was_given(chain: Chain, stubs: None) -> None:
    rpc = chain.anvil.rpc
    mkr = "0x" + "a1" * 20
    assert rpc.call("eth_call", {"to": mkr, "data": "0x" + SYMBOL.hex()}, "latest") == "0x" + b"MKR".ljust(32, b"\0").hex()
    assert rpc.call("eth_call", {"to": "0x" + "a4" * 20, "data": "0x" + NAME.hex()}, "latest") == "0x0102"


def test_metadata_of_every_kind_of_token(chain: Chain, stubs: None) -> None:
    tokens = [chain.token_a, chain.token_b, *STUBS, chain.holders[0]]
    block = int(chain.anvil.rpc.call("eth_blockNumber"), 16)
    upper = ["0x" + t[2:].upper() for t in tokens]  # all-caps hex is a valid spelling too
    found = read_token_metadata(fast_client(chain.url), upper, block)
    assert list(found) == tokens
    assert found[chain.token_a] == TokenMetadata(chain.token_a, "TKA", "Token A", 18)
    assert found[chain.token_b] == TokenMetadata(chain.token_b, "TKB", "Token B", 6)
    a1, a2, a3, a4 = STUBS
    assert found[a1] == TokenMetadata(a1, "MKR", "Maker", 18)
    assert found[a2] == TokenMetadata(a2, None, None, None)
    assert found[a3] == TokenMetadata(a3, "\ufffdEV\ufffdIL", "<b>\x1b[31mx</b>", None)
    assert found[a4] == TokenMetadata(a4, None, None, None)
    # An account without code answers every call with nothing.
    assert found[chain.holders[0]] == TokenMetadata(chain.holders[0], None, None, None)


def test_decode_text_shapes() -> None:
    assert decode_text(string("USDC")) == "USDC"
    assert decode_text(string("")) == ""
    assert decode_text(b"DAI\0" + b"\0" * 28) == "DAI"
    assert decode_text(b"\0" * 32) == ""
    assert decode_text(b"") is None
    assert decode_text(b"\x01" * 31) is None
    assert decode_text(word(32) + word(2**255)) is None
    # Non-zero padding after the payload is tolerated (eth_abi itself refuses it).
    assert decode_text(word(32) + word(2) + b"OK" + b"\xee" * 30) == "OK"
    assert decode_small_uint(word(255)) == 255
    assert decode_small_uint(word(256)) is None
    assert decode_small_uint(b"\x12") is None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decode_text_never_raises(data: bytes) -> None:
    result = decode_text(data)
    assert result is None or isinstance(result, str)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([0, 1, 2, 31, 32, 33, 64, 96, 2**64, 2**255]), max_size=5),
    st.binary(max_size=40),
)
def test_decode_text_never_raises_on_crafted_words(words: list[int], tail: bytes) -> None:
    data = b"".join(word(w) for w in words) + tail
    result = decode_text(data)
    assert result is None or isinstance(result, str)
    assert (dynamic_bytes(data) is None) or result is not None


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_abi_strings_come_back_verbatim(text: str) -> None:
    assert decode_text(eth_abi.encode(["string"], [text])) == text


def test_encode_call_matches_eth_abi() -> None:
    data = encode_call("transfer(address,uint256)", ["0x" + "11" * 20, 5])
    assert data[:4].hex() == "a9059cbb"
    assert eth_abi.decode(["address", "uint256"], data[4:]) == ("0x" + "11" * 20, 5)
    nested = encode_call("f((uint256,bool)[],bytes)", [[(1, True)], b"x"])
    assert eth_abi.decode(["(uint256,bool)[]", "bytes"], nested[4:]) == (((1, True),), b"x")
