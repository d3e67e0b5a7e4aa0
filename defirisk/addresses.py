"""Address parsing: one stored form (lower-case hex) and strict EIP-55 checking of user input."""

from __future__ import annotations

import re

from eth_utils import is_checksum_address, to_checksum_address

from defirisk.errors import InvalidAddress

_HEX40 = re.compile(r"0x[0-9a-fA-F]{40}")


def normalize_address(text: str) -> str:
    """The lower-case form of ``text``; mixed case must be a valid EIP-55 checksum."""
    value = text.strip()
    if not _HEX40.fullmatch(value):
        raise InvalidAddress(f"not an address: {text[:60]!r} (want 0x and 40 hex digits)")
    body = value[2:]
    if body != body.lower() and body != body.upper() and not is_checksum_address(value):
        raise InvalidAddress(f"bad EIP-55 checksum in {value} (expected {to_checksum_address(value)})")
    return value.lower()


def display_address(address: str) -> str:
    """The checksummed form, for people."""
    return to_checksum_address(address)
