"""Which contract reads a Compound v2 snapshot makes, and how each answer is decoded (pure, no I/O).

Signatures are those of compound-finance/compound-protocol (``ComptrollerG7``, ``CToken``) and of
its fork Venus (``@venusprotocol/venus-protocol`` 5.x: the Diamond's facets and ``VToken``); a read
that only one of them serves is built with ``allow_failure=True`` and decodes to ``None`` where the
other reverts. Decoders raise ``eth_abi`` decoding errors (or ``ValueError``) on malformed data,
which ``defirisk.chain.multicall`` turns into a failed result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import eth_abi

from defirisk.chain import Call
from defirisk.chain.multicall import read_call

#: ``Comptroller.getAccountLiquidity`` answer: error code, liquidity, shortfall (base currency · 1e18).
LIQUIDITY_FIELDS = ("error", "liquidity", "shortfall")
#: Venus ``ComptrollerStorage.Action`` values read per market (Compound has per-market guardians).
VENUS_ACTIONS = {"mint": 0, "borrow": 2, "seize": 4, "liquidate": 5}
#: Comptroller reads every fork answers; any failure means the root is not a Comptroller.
REQUIRED_COMPTROLLER = ("getAllMarkets", "oracle", "closeFactorMantissa", "liquidationIncentiveMantissa")
#: Comptroller reads only some forks answer: Venus's Liquidator and VAI, Compound's global seize pause.
OPTIONAL_COMPTROLLER = ("liquidatorContract", "vaiController", "comptrollerLens", "protocolPaused",
                        "seizeGuardianPaused")
#: cToken reads of the market's accounting at the block, all uint256.
CTOKEN_UINTS = ("exchangeRateStored", "totalBorrows", "totalReserves", "getCash", "totalSupply",
                "reserveFactorMantissa", "borrowIndex")
#: cToken reads that not every fork (or every cToken generation) answers.
OPTIONAL_CTOKEN_UINTS = ("accrualBlockNumber", "borrowRatePerBlock", "supplyRatePerBlock",
                         "protocolSeizeShareMantissa")


def _uint(data: bytes) -> int:
    if len(data) != 32:
        raise ValueError(f"expected 32 bytes, got {len(data)}")
    return int.from_bytes(data, "big")


def _bool(data: bytes) -> bool:
    value = _uint(data)
    if value > 1:
        raise ValueError(f"not a bool: {value}")
    return bool(value)


def _address(data: bytes) -> str:
    (value,) = eth_abi.decode(["address"], data)
    return value.lower()


def _addresses(data: bytes) -> list[str]:
    (values,) = eth_abi.decode(["address[]"], data)
    return [v.lower() for v in values]


def _market(data: bytes) -> tuple[bool, int]:
    """``markets(cToken)``: the leading ``(isListed, collateralFactorMantissa)`` words.

    Compound answers three words (``isComped``), Venus 5.x three (``isVenus``), later forks more;
    the first two mean the same everywhere.
    """
    if len(data) < 64:
        raise ValueError(f"expected at least 64 bytes, got {len(data)}")
    return _bool(data[:32]), _uint(data[32:64])


def _words(n: int) -> Callable[[bytes], tuple[int, ...]]:
    def decode(data: bytes) -> tuple[int, ...]:
        if len(data) != 32 * n:
            raise ValueError(f"expected {32 * n} bytes, got {len(data)}")
        return tuple(int.from_bytes(data[i : i + 32], "big") for i in range(0, 32 * n, 32))

    return decode


_COMPTROLLER_DECODERS: dict[str, Callable[[bytes], Any]] = {
    "getAllMarkets": _addresses, "oracle": _address, "closeFactorMantissa": _uint,
    "liquidationIncentiveMantissa": _uint, "liquidatorContract": _address, "vaiController": _address,
    "comptrollerLens": _address, "protocolPaused": _bool, "seizeGuardianPaused": _bool,
}


def comptroller_calls(comptroller: str) -> list[Call]:
    """``REQUIRED_COMPTROLLER`` then ``OPTIONAL_COMPTROLLER`` reads; all allowed to fail (the
    caller reports a failed required one as ``NotTheProtocol``)."""
    return [
        read_call(comptroller, f"{name}()", (), _COMPTROLLER_DECODERS[name], f"Comptroller.{name}", allow_failure=True)
        for name in (*REQUIRED_COMPTROLLER, *OPTIONAL_COMPTROLLER)
    ]


def market_calls(comptroller: str, oracle: str, ctoken: str) -> dict[str, Call]:
    """Every read about one market, by name.

    Required: ``markets``, the cToken's ``comptroller``/``decimals`` and ``CTOKEN_UINTS``, and the
    oracle's ``getUnderlyingPrice``. Allowed to fail: ``underlying`` (native-currency markets such as
    cETH and vBNB have none), ``OPTIONAL_CTOKEN_UINTS``, Compound's ``borrowCaps``,
    ``mintGuardianPaused``, ``borrowGuardianPaused`` and ``isDeprecated``, Venus's ``supplyCaps``,
    ``isForcedLiquidationEnabled`` and ``actionPaused`` (``VENUS_ACTIONS``).
    """
    c, m = comptroller, ctoken
    out = {
        "market": read_call(c, "markets(address)", (m,), _market, f"Comptroller.markets({m})"),
        "comptroller": read_call(m, "comptroller()", (), _address, f"cToken {m}.comptroller", allow_failure=True),
        "decimals": read_call(m, "decimals()", (), _uint, f"cToken {m}.decimals"),
        "underlying": read_call(m, "underlying()", (), _address, f"cToken {m}.underlying", allow_failure=True),
        "price": read_call(oracle, "getUnderlyingPrice(address)", (m,), _uint, f"oracle.getUnderlyingPrice({m})"),
    }
    out |= {name: read_call(m, f"{name}()", (), _uint, f"cToken {m}.{name}") for name in CTOKEN_UINTS}
    out |= {name: read_call(m, f"{name}()", (), _uint, f"cToken {m}.{name}", allow_failure=True)
            for name in OPTIONAL_CTOKEN_UINTS}
    out |= {name: read_call(c, f"{name}(address)", (m,), decoder, f"Comptroller.{name}({m})", allow_failure=True)
            for name, decoder in (("borrowCaps", _uint), ("supplyCaps", _uint), ("mintGuardianPaused", _bool),
                                  ("borrowGuardianPaused", _bool), ("isDeprecated", _bool),
                                  ("isForcedLiquidationEnabled", _bool))}
    out |= {f"{action}Paused": read_call(c, "actionPaused(address,uint8)", (m, code), _bool,
                                     f"Comptroller.actionPaused({m},{action})", allow_failure=True)
            for action, code in VENUS_ACTIONS.items()}
    return out


def treasury_percent_call(liquidator: str) -> Call:
    """Venus ``Liquidator.treasuryPercentMantissa()``: the treasury's share of seized vTokens × incentive."""
    return read_call(liquidator, "treasuryPercentMantissa()", (), _uint, f"Liquidator {liquidator}.treasuryPercentMantissa")


def vai_address_call(vai_controller: str) -> Call:
    """Venus ``VAIController.getVAIAddress()``: the VAI token whose minted debt counts as borrow."""
    return read_call(vai_controller, "getVAIAddress()", (), _address, f"VAIController {vai_controller}.getVAIAddress")


# Accounts.

def account_calls(comptroller: str, account: str, vai_controller: str | None) -> list[Call]:
    """``getAssetsIn``, ``getAccountLiquidity`` and, with a VAI controller, ``getVAIRepayAmount``."""
    out = [
        read_call(comptroller, "getAssetsIn(address)", (account,), _addresses, f"Comptroller.getAssetsIn({account})"),
        read_call(comptroller, "getAccountLiquidity(address)", (account,), _words(3),
              f"Comptroller.getAccountLiquidity({account})"),
    ]
    if vai_controller is not None:
        out.append(read_call(vai_controller, "getVAIRepayAmount(address)", (account,), _uint,
                         f"VAIController.getVAIRepayAmount({account})"))
    return out


def snapshot_call(ctoken: str, account: str) -> Call:
    """``getAccountSnapshot(account)``: error, cToken balance, ``borrowBalanceStored``, ``exchangeRateStored``."""
    return read_call(ctoken, "getAccountSnapshot(address)", (account,), _words(4),
                 f"cToken {ctoken}.getAccountSnapshot({account})")
