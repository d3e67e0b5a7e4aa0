"""Morpho Blue market parameters and their id (pure).

A market is identified by ``Id = keccak256(abi.encode(loanToken, collateralToken, oracle, irm, lltv))``
(``MarketParamsLib.id``: the hash of the five 32-byte words of ``MarketParams``). The id, lower-case
``0x`` + 64 hex digits, is the canonical market key of a Morpho Blue snapshot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import eth_abi
from eth_utils import keccak

from defirisk.addresses import normalize_address
from defirisk.errors import InvalidParameter

ZERO_ADDRESS = "0x" + "00" * 20
_ID = re.compile(r"0x[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class MarketParams:
    """``MarketParams``: token, oracle and IRM addresses (lower-case) and the LLTV (WAD)."""

    loan_token: str
    collateral_token: str
    oracle: str
    irm: str
    lltv: int

    def as_tuple(self) -> tuple[str, str, str, str, int]:
        """The ABI tuple ``(address,address,address,address,uint256)``."""
        return (self.loan_token, self.collateral_token, self.oracle, self.irm, self.lltv)

    @property
    def id(self) -> str:
        """The market id (see the module docstring)."""
        return market_id(self)

    @property
    def is_idle(self) -> bool:
        """No collateral token or no oracle: nothing can be borrowed, only supplied (vaults' idle markets)."""
        return ZERO_ADDRESS in (self.collateral_token, self.oracle)


def market_id(params: MarketParams) -> str:
    """``keccak256(abi.encode(params))`` as lower-case 0x-hex."""
    encoded = eth_abi.encode(["address", "address", "address", "address", "uint256"], list(params.as_tuple()))
    return "0x" + keccak(encoded).hex()


def params_from_tuple(values: tuple) -> MarketParams:
    """``MarketParams`` from a decoded ``(address,address,address,address,uint256)``."""
    loan, collateral, oracle, irm, lltv = values
    return MarketParams(loan.lower(), collateral.lower(), oracle.lower(), irm.lower(), int(lltv))


def normalize_market_id(text: str) -> str:
    """A market id as stored: lower-case ``0x`` + 64 hex digits; ``InvalidParameter`` otherwise."""
    value = str(text).strip()
    if not _ID.fullmatch(value):
        raise InvalidParameter(f"not a Morpho Blue market id: {value[:80]!r} (want 0x and 64 hex digits)")
    return value.lower()


def params(loan_token: str, collateral_token: str, oracle: str, irm: str, lltv: int) -> MarketParams:
    """``MarketParams`` from user-given addresses (checked, lower-cased)."""
    return MarketParams(
        normalize_address(loan_token),
        normalize_address(collateral_token),
        normalize_address(oracle),
        normalize_address(irm),
        int(lltv),
    )
