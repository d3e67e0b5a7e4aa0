"""ABI helpers over eth_abi: selectors, call encoding, decoding, and text from hostile tokens."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import eth_abi
from eth_abi.exceptions import DecodingError
from eth_utils import keccak

from defirisk.errors import InvalidAddress

#: What eth_abi raises on malformed data: its own errors, OverflowError for absurd lengths, and
#: UnicodeDecodeError (a ValueError) for strings that are not UTF-8.
ABI_DECODE_ERRORS: tuple[type[Exception], ...] = (DecodingError, OverflowError, ValueError)


def split_types(inner: str) -> list[str]:
    """Top-level comma-separated types: ``"address,(uint256,bool)[]"`` → ``["address", "(uint256,bool)[]"]``."""
    types: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(inner):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            types.append(inner[start:i])
            start = i + 1
    if inner[start:]:
        types.append(inner[start:])
    return types


def signature_types(signature: str) -> list[str]:
    """Argument types of a canonical signature such as ``"balanceOf(address)"``."""
    return split_types(signature[signature.index("(") + 1 : signature.rindex(")")])


def selector(signature: str) -> bytes:
    """The 4-byte function selector: ``keccak256(signature)[:4]``."""
    return keccak(text=signature)[:4]


def event_topic(signature: str) -> str:
    """topic0 of an event, 0x-hex: ``keccak256("Transfer(address,address,uint256)")``."""
    return "0x" + keccak(text=signature).hex()


def encode_call(signature: str, args: Sequence[Any] = ()) -> bytes:
    """Calldata for ``signature`` with ``args``: selector followed by the ABI-encoded arguments."""
    return selector(signature) + eth_abi.encode(signature_types(signature), list(args))


@cache
def _cached_selector(signature: str) -> bytes:
    return selector(signature)


def calldata(signature: str, args: Sequence[Any] = ()) -> bytes:
    """``encode_call`` for the snapshot hot path: the selector is cached, and a lone address argument
    (a per-account read) is written directly as 12 zero bytes and its 20 bytes."""
    if signature.endswith("(address)"):
        (address,) = args
        raw = bytes.fromhex(address[2:])
        if len(raw) != 20:
            raise InvalidAddress(f"not an address: {address[:50]!r}")
        return _cached_selector(signature) + bytes(12) + raw
    return encode_call(signature, args)


def decode(types: Sequence[str], data: bytes) -> tuple[Any, ...]:
    """ABI-decode ``data``; raises one of ``ABI_DECODE_ERRORS`` on malformed data."""
    return eth_abi.decode(list(types), data)


def dynamic_bytes(data: bytes) -> bytes | None:
    """The payload of an ABI-encoded lone ``bytes``/``string``, leniently; None if it does not fit.

    Layout: word 0 is the offset ``o`` of the length word, ``n`` bytes follow it. Padding is not
    checked (eth_abi refuses non-zero padding, which some tokens send) and nothing raises.
    """
    if len(data) < 64:
        return None
    offset = int.from_bytes(data[:32], "big")
    if offset + 32 > len(data):
        return None
    length = int.from_bytes(data[offset : offset + 32], "big")
    if offset + 32 + length > len(data):
        return None
    return data[offset + 32 : offset + 32 + length]


def decode_text(data: bytes) -> str | None:
    """A token's ``symbol()``/``name()`` answer as text, whatever shape it comes in; never raises.

    An ABI ``string`` is taken verbatim; a ``bytes32`` (as MKR returns) loses its right padding of
    NUL bytes. Bytes that are not UTF-8 become U+FFFD, so they show as marked, not dropped. Anything
    else (empty when the call reverted, odd lengths, offsets out of bounds) gives None.
    """
    raw = dynamic_bytes(data)
    if raw is not None:
        return raw.decode("utf-8", errors="replace")
    if len(data) == 32:
        return data.rstrip(b"\0").decode("utf-8", errors="replace")
    return None


def decode_small_uint(data: bytes, limit: int = 255) -> int | None:
    """A ``uint`` answer (such as ``decimals()``) no larger than ``limit``, else None; never raises."""
    if len(data) != 32:
        return None
    value = int.from_bytes(data, "big")
    return value if value <= limit else None
