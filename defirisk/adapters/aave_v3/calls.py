"""Which contract reads an Aave v3 snapshot makes, and how each answer is decoded (pure, no I/O).

Every builder returns ``defirisk.chain.Call`` objects for Multicall3; their decoders raise
``eth_abi.exceptions.DecodingError`` on malformed data (an EOA answers nothing, a foreign contract
something else), which ``multicall`` turns into a failed result. Signatures are those of
``@aave/core-v3`` (Aave v3.0; later 3.x versions keep them).
"""

from __future__ import annotations

from typing import Any

import eth_abi

from defirisk.chain import Call
from defirisk.chain.multicall import read_call

#: ``Pool.getReserveData`` answer, ``DataTypes.ReserveData`` flattened: configuration, liquidityIndex,
#: currentLiquidityRate, variableBorrowIndex, currentVariableBorrowRate, currentStableBorrowRate,
#: lastUpdateTimestamp, id, aToken, stableDebtToken, variableDebtToken, interestRateStrategy,
#: accruedToTreasury, unbacked, isolationModeTotalDebt.
RESERVE_DATA_TYPES = (
    "uint256", "uint128", "uint128", "uint128", "uint128", "uint128", "uint40", "uint16",
    "address", "address", "address", "address", "uint128", "uint128", "uint128",
)
RESERVE_DATA_FIELDS = (
    "configuration", "liquidity_index", "current_liquidity_rate", "variable_borrow_index",
    "current_variable_borrow_rate", "current_stable_borrow_rate", "last_update_timestamp", "id",
    "a_token", "stable_debt_token", "variable_debt_token", "interest_rate_strategy",
    "accrued_to_treasury", "unbacked", "isolation_mode_total_debt",
)
#: ``Pool.getUserAccountData``: base-currency units, bps, bps, WAD.
ACCOUNT_DATA_FIELDS = (
    "total_collateral_base", "total_debt_base", "available_borrows_base",
    "current_liquidation_threshold", "ltv", "health_factor",
)
#: Highest e-mode category id (``uint8``).
MAX_EMODE_CATEGORY = 255


def _address(data: bytes) -> str:
    (value,) = eth_abi.decode(["address"], data)
    return value.lower()


def _addresses(data: bytes) -> list[str]:
    (values,) = eth_abi.decode(["address[]"], data)
    return [v.lower() for v in values]


def _reserve_data(data: bytes) -> dict[str, Any]:
    values = eth_abi.decode(list(RESERVE_DATA_TYPES), data)
    out = dict(zip(RESERVE_DATA_FIELDS, values, strict=True))
    for key in ("a_token", "stable_debt_token", "variable_debt_token", "interest_rate_strategy"):
        out[key] = out[key].lower()
    return out


def _emode(data: bytes) -> dict[str, Any]:
    # One struct with a dynamic member (the label) is encoded behind an offset, hence the tuple. The
    # label is decoded as bytes (same encoding as string) so that invalid UTF-8 is marked, not fatal.
    ((ltv, lt, bonus, source, label),) = eth_abi.decode(["(uint16,uint16,uint16,address,bytes)"], data)
    return {"ltv": ltv, "liquidation_threshold": lt, "liquidation_bonus": bonus,
            "price_source": source.lower(), "label": label.decode("utf-8", errors="replace")}


def _UINT(data: bytes) -> int:
    """One ``uint256`` answer; the per-account hot path, so without eth_abi's generic machinery."""
    if len(data) != 32:
        raise ValueError(f"expected 32 bytes, got {len(data)}")
    return int.from_bytes(data, "big")


def _account_data(data: bytes) -> tuple[int, ...]:
    """``getUserAccountData``'s six ``uint256`` words."""
    if len(data) != 192:
        raise ValueError(f"expected 192 bytes, got {len(data)}")
    return tuple(int.from_bytes(data[i : i + 32], "big") for i in range(0, 192, 32))


# The addresses provider and the contracts it names.

def provider_calls(provider: str) -> list[Call]:
    """getPool, getPriceOracle, getPoolDataProvider: allowed to fail (a foreign contract is reported)."""
    return [
        read_call(provider, f"{name}()", (), _address, f"PoolAddressesProvider.{name}", allow_failure=True)
        for name in ("getPool", "getPriceOracle", "getPoolDataProvider")
    ]


def pool_calls(pool: str, oracle: str) -> list[Call]:
    """Pool.ADDRESSES_PROVIDER, getReservesList; oracle ADDRESSES_PROVIDER, BASE_CURRENCY, BASE_CURRENCY_UNIT."""
    return [
        read_call(pool, "ADDRESSES_PROVIDER()", (), _address, "Pool.ADDRESSES_PROVIDER", allow_failure=True),
        read_call(pool, "getReservesList()", (), _addresses, "Pool.getReservesList", allow_failure=True),
        read_call(oracle, "ADDRESSES_PROVIDER()", (), _address, "AaveOracle.ADDRESSES_PROVIDER", allow_failure=True),
        read_call(oracle, "BASE_CURRENCY()", (), _address, "AaveOracle.BASE_CURRENCY", allow_failure=True),
        read_call(oracle, "BASE_CURRENCY_UNIT()", (), _UINT, "AaveOracle.BASE_CURRENCY_UNIT", allow_failure=True),
    ]


def revision_call(pool: str) -> Call:
    """``Pool.POOL_REVISION()``, allowed to fail (forks may lack it)."""
    return read_call(pool, "POOL_REVISION()", (), _UINT, "Pool.POOL_REVISION", allow_failure=True)


def reserve_calls(pool: str, oracle: str, asset: str) -> list[Call]:
    """Per reserve: getReserveData (its word 0 is the configuration), normalized income and debt, price, source."""
    return [
        read_call(pool, "getReserveData(address)", (asset,), _reserve_data, f"Pool.getReserveData({asset})"),
        read_call(pool, "getReserveNormalizedIncome(address)", (asset,), _UINT,
              f"Pool.getReserveNormalizedIncome({asset})"),
        read_call(pool, "getReserveNormalizedVariableDebt(address)", (asset,), _UINT,
              f"Pool.getReserveNormalizedVariableDebt({asset})"),
        read_call(oracle, "getAssetPrice(address)", (asset,), _UINT, f"AaveOracle.getAssetPrice({asset})"),
        read_call(oracle, "getSourceOfAsset(address)", (asset,), _address, f"AaveOracle.getSourceOfAsset({asset})"),
    ]


def emode_calls(pool: str) -> list[Call]:
    """``getEModeCategoryData(id)`` for every id 1…255 (unset categories answer zeros)."""
    return [
        read_call(pool, "getEModeCategoryData(uint8)", (i,), _emode, f"Pool.getEModeCategoryData({i})")
        for i in range(1, MAX_EMODE_CATEGORY + 1)
    ]


def emode_bitmap_calls(pool: str, category: int, ltv_zero: bool) -> list[Call]:
    """A category's collateral and borrowable bitmaps (v3.2+), and its ltvzero bitmap (v3.6+).

    Bit ``i`` of each ``uint128`` is the reserve with id ``i``.
    """
    names = ["Collateral", "Borrowable", *(["Ltvzero"] if ltv_zero else [])]
    return [
        read_call(pool, f"getEModeCategory{name}Bitmap(uint8)", (category,), _UINT,
              f"Pool.getEModeCategory{name}Bitmap({category})")
        for name in names
    ]


def price_call(oracle: str, source: str) -> Call:
    """``AaveOracle.getAssetPrice(source)``: how the Pool prices an e-mode category's price source."""
    return read_call(oracle, "getAssetPrice(address)", (source,), _UINT, f"AaveOracle.getAssetPrice({source})")


# Accounts.

def account_calls(pool: str, user: str) -> list[Call]:
    """getUserEMode, getUserConfiguration and getUserAccountData of one account."""
    return [
        read_call(pool, "getUserEMode(address)", (user,), _UINT, f"Pool.getUserEMode({user})"),
        read_call(pool, "getUserConfiguration(address)", (user,), _UINT, f"Pool.getUserConfiguration({user})"),
        read_call(pool, "getUserAccountData(address)", (user,), _account_data, f"Pool.getUserAccountData({user})"),
    ]


def collateral_calls(a_token: str, user: str) -> list[Call]:
    """aToken ``scaledBalanceOf``: what ``GenericLogic`` reads (the balance is computed from it)."""
    return [read_call(a_token, "scaledBalanceOf(address)", (user,), _UINT, f"aToken {a_token}.scaledBalanceOf({user})")]


def debt_calls(variable_token: str, stable_token: str | None, user: str) -> list[Call]:
    """Variable debt ``scaledBalanceOf``; stable debt ``balanceOf`` (what the Pool reads) and
    ``principalBalanceOf`` (its scaled twin), unless the reserve has no stable debt token (None)."""
    calls = [read_call(variable_token, "scaledBalanceOf(address)", (user,), _UINT,
                   f"variableDebt {variable_token}.scaledBalanceOf({user})")]
    if stable_token is not None:
        calls += [
            read_call(stable_token, "balanceOf(address)", (user,), _UINT, f"stableDebt {stable_token}.balanceOf({user})"),
            read_call(stable_token, "principalBalanceOf(address)", (user,), _UINT,
                  f"stableDebt {stable_token}.principalBalanceOf({user})"),
        ]
    return calls
