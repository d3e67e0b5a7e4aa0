"""Tiny hand-assembled contracts that answer fixed bytes per selector, for hostile-token tests.

``stub_code({selector: (returns, data)})`` builds runtime code that, for a call whose first four
calldata bytes equal ``selector``, copies ``data`` from its own code and RETURNs it (``returns``)
or REVERTs with it; any other selector reverts without data. It goes on chain with
``anvil_setCode``, so the answers are exactly the bytes a test names, however malformed.

Layout: dispatcher (selector from calldata, one compare-and-jump per entry, default revert), one
16-byte body per entry, then the data blobs.
"""

from __future__ import annotations

_PROLOGUE = bytes.fromhex("600035" "60e01c")  # PUSH1 0 CALLDATALOAD PUSH1 224 SHR
_DEFAULT = bytes.fromhex("600080fd")  # PUSH1 0 DUP1 REVERT
_ENTRY_SIZE = 11  # DUP1 PUSH4 sel EQ PUSH2 dest JUMPI
_BODY_SIZE = 16
_RETURN, _REVERT = 0xF3, 0xFD


def _u16(value: int) -> bytes:
    if not 0 <= value < 2**16:
        raise ValueError("stub too large")
    return value.to_bytes(2, "big")


def stub_code(answers: dict[bytes, tuple[bool, bytes]]) -> bytes:
    """Runtime bytecode answering each 4-byte selector with fixed data (returned or reverted)."""
    entries = list(answers.items())
    bodies_at = len(_PROLOGUE) + _ENTRY_SIZE * len(entries) + len(_DEFAULT)
    data_at = bodies_at + _BODY_SIZE * len(entries)
    dispatch = bytearray(_PROLOGUE)
    bodies = bytearray()
    blobs = bytearray()
    for n, (selector, (returns, data)) in enumerate(entries):
        if len(selector) != 4:
            raise ValueError("a selector has 4 bytes")
        dest = bodies_at + _BODY_SIZE * n
        dispatch += b"\x80\x63" + selector + b"\x14\x61" + _u16(dest) + b"\x57"
        offset = data_at + len(blobs)
        bodies += (
            b"\x5b"  # JUMPDEST
            + b"\x61" + _u16(len(data)) + b"\x61" + _u16(offset) + b"\x60\x00\x39"  # CODECOPY(0, offset, len)
            + b"\x61" + _u16(len(data)) + b"\x60\x00" + bytes([_RETURN if returns else _REVERT])
        )
        blobs += data
    dispatch += _DEFAULT
    return bytes(dispatch + bodies + blobs)
