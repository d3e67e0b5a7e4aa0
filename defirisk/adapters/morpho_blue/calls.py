"""Which contract reads a Morpho Blue snapshot makes, and how each answer is decoded (pure, no I/O).

Signatures are those of ``@morpho-org/morpho-blue`` 1.0.0 (``IMorphoStaticTyping``, ``IOracle``,
``IIrm``). Decoders check the answer's length and raise ``ValueError`` (one of
``defirisk.chain.abi.ABI_DECODE_ERRORS``) on anything else, so a foreign contract's answer counts as
a failed call instead of a wrong number.

The health probe is ``liquidate(marketParams, borrower, 0, 1, "")`` sent by Multicall3 inside
``eth_call``: the contract accrues interest and runs its own ``_isHealthy`` with the oracle's price,
and reverts with ``"position is healthy"`` exactly when the position is healthy. An unhealthy one
gets past the check and then fails (Multicall3 holds no loan tokens) or succeeds; nothing is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import eth_abi

from defirisk.adapters.morpho_blue.ids import MarketParams, params_from_tuple
from defirisk.adapters.morpho_blue.maths import MarketTotals
from defirisk.adapters.morpho_blue.reference import PositionRaw
from defirisk.chain import Call, Result, encode_call, selector

PARAMS_TYPE = "(address,address,address,address,uint256)"
MARKET_TYPE = "(uint128,uint128,uint128,uint128,uint128,uint128)"
HEALTHY_POSITION = "position is healthy"
_ERROR_STRING = selector("Error(string)")
#: Revert data of ``require(..., ErrorsLib.HEALTHY_POSITION)``.
HEALTHY_REVERT = _ERROR_STRING + eth_abi.encode(["string"], [HEALTHY_POSITION])


def _words(data: bytes, n: int) -> tuple[int, ...]:
    if len(data) != 32 * n:
        raise ValueError(f"expected {32 * n} bytes, got {len(data)}")
    return tuple(int.from_bytes(data[i : i + 32], "big") for i in range(0, 32 * n, 32))


def _uint(data: bytes) -> int:
    return _words(data, 1)[0]


def _bytes32(data: bytes) -> str:
    if len(data) != 32:
        raise ValueError(f"expected 32 bytes, got {len(data)}")
    return "0x" + data.hex()


def _address(data: bytes) -> str:
    (word,) = _words(data, 1)
    if word >> 160:
        raise ValueError("not an address")
    return "0x" + data[12:].hex()


def decode_market_params(data: bytes) -> MarketParams:
    """``idToMarketParams(id)``: four addresses and the LLTV."""
    words = _words(data, 5)
    if any(w >> 160 for w in words[:4]):
        raise ValueError("not four addresses")
    return params_from_tuple(tuple(["0x" + w.to_bytes(20, "big").hex() for w in words[:4]] + [words[4]]))


def decode_market(data: bytes) -> MarketTotals:
    """``market(id)``: six ``uint128`` (supply assets and shares, borrow assets and shares, lastUpdate, fee)."""
    words = _words(data, 6)
    if any(w >> 128 for w in words):
        raise ValueError("not six uint128")
    return MarketTotals(*words)


def decode_position(data: bytes) -> PositionRaw:
    """``position(id, user)``: supply shares (uint256), borrow shares and collateral (uint128)."""
    supply_shares, borrow_shares, collateral = _words(data, 3)
    if borrow_shares >> 128 or collateral >> 128:
        raise ValueError("borrow shares or collateral wider than uint128")
    return PositionRaw(supply_shares, borrow_shares, collateral)


def _call(target: str, signature: str, args: tuple[Any, ...], decoder: Callable[[bytes], Any] | None,
          label: str, allow_failure: bool = False) -> Call:
    return Call(target, encode_call(signature, args), allow_failure=allow_failure, decoder=decoder, label=label)


def singleton_calls(morpho: str) -> list[Call]:
    """``DOMAIN_SEPARATOR``, ``owner``, ``feeRecipient``: allowed to fail (a foreign contract is reported)."""
    return [
        _call(morpho, "DOMAIN_SEPARATOR()", (), _bytes32, "Morpho.DOMAIN_SEPARATOR", allow_failure=True),
        _call(morpho, "owner()", (), _address, "Morpho.owner", allow_failure=True),
        _call(morpho, "feeRecipient()", (), _address, "Morpho.feeRecipient", allow_failure=True),
    ]


def market_calls(morpho: str, market_id: str) -> list[Call]:
    """``idToMarketParams(id)`` and ``market(id)``."""
    raw = bytes.fromhex(market_id[2:])
    return [
        _call(morpho, "idToMarketParams(bytes32)", (raw,), decode_market_params, f"Morpho.idToMarketParams({market_id})"),
        _call(morpho, "market(bytes32)", (raw,), decode_market, f"Morpho.market({market_id})"),
    ]


def price_call(oracle: str, market_id: str) -> Call:
    """``IOracle.price()``, allowed to fail (the market is then left out, with a note)."""
    return _call(oracle, "price()", (), _uint, f"oracle {oracle}.price() of {market_id}", allow_failure=True)


def borrow_rate_call(params: MarketParams, market: MarketTotals, market_id: str) -> Call:
    """``IIrm.borrowRateView(marketParams, market)``: WAD per second at the stored totals; may fail."""
    return _call(
        params.irm,
        f"borrowRateView({PARAMS_TYPE},{MARKET_TYPE})",
        (params.as_tuple(), market.as_tuple()),
        _uint,
        f"irm {params.irm}.borrowRateView of {market_id}",
        allow_failure=True,
    )


def position_call(morpho: str, market_id: str, user: str) -> Call:
    """``position(id, user)``."""
    return _call(morpho, "position(bytes32,address)", (bytes.fromhex(market_id[2:]), user), decode_position,
                 f"Morpho.position({market_id}, {user})")


def health_probe_call(morpho: str, params: MarketParams, user: str) -> Call:
    """``liquidate(params, user, 0, 1, "")``: the protocol's own health check (module docstring)."""
    return _call(morpho, f"liquidate({PARAMS_TYPE},address,uint256,uint256,bytes)",
                 (params.as_tuple(), user, 0, 1, b""), None, f"Morpho.liquidate probe of {user}", allow_failure=True)


def probe_says_healthy(result: Result) -> bool:
    """True when the probe reverted with exactly ``"position is healthy"``."""
    return not result.success and result.return_data == HEALTHY_REVERT
