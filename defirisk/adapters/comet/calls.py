"""Which contract reads a Comet snapshot makes, and how each answer is decoded (pure, no I/O).

Signatures are those of compound-finance/comet ``CometMainInterface`` and ``CometExtInterface``
(the Comet proxy answers both: the extension functions through its fallback). Every struct a Comet
returns is static, so its ABI encoding is one 32-byte word per field. Decoders check the answer's
length and each field's width and raise ``ValueError`` (one of ``defirisk.chain.abi.ABI_DECODE_ERRORS``)
on anything else, so a foreign contract's answer counts as a failed call instead of a wrong number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from defirisk.adapters.comet.maths import INT104_MAX, INT104_MIN
from defirisk.adapters.comet.structs import ASSETS_IN_BITS, AssetInfo, RateModel, TotalsBasic, UserBasic
from defirisk.chain import Call, encode_call

ASSET_INFO_TYPE = "(uint8,address,address,uint64,uint64,uint64,uint64,uint128)"
TOTALS_BASIC_TYPE = "(uint64,uint64,uint64,uint64,uint104,uint104,uint40,uint8)"
#: ``userBasic(account)`` getter outputs: principal, baseTrackingIndex, baseTrackingAccrued, assetsIn, _reserved.
USER_BASIC_TYPES = ("int104", "uint64", "uint64", "uint16", "uint8")

#: The rate-model getters, in ``RateModel`` field order.
RATE_GETTERS = (
    "supplyKink()",
    "supplyPerSecondInterestRateSlopeLow()",
    "supplyPerSecondInterestRateSlopeHigh()",
    "supplyPerSecondInterestRateBase()",
    "borrowKink()",
    "borrowPerSecondInterestRateSlopeLow()",
    "borrowPerSecondInterestRateSlopeHigh()",
    "borrowPerSecondInterestRateBase()",
)


def words(data: bytes, n: int) -> tuple[int, ...]:
    """The ``n`` unsigned 32-byte words of ``data``; ``ValueError`` for any other length."""
    if len(data) != 32 * n:
        raise ValueError(f"expected {32 * n} bytes, got {len(data)}")
    return tuple(int.from_bytes(data[i : i + 32], "big") for i in range(0, 32 * n, 32))


def _fits(value: int, bits: int, what: str) -> int:
    if value >> bits:
        raise ValueError(f"{what} wider than uint{bits}")
    return value


def _address_word(word: int) -> str:
    _fits(word, 160, "address")
    return "0x" + word.to_bytes(20, "big").hex()


def _signed_word(word: int) -> int:
    return word - 2**256 if word >> 255 else word


def decode_uint(data: bytes) -> int:
    """One ``uint256``."""
    return words(data, 1)[0]


def decode_uint8(data: bytes) -> int:
    """One ``uint8`` (``numAssets``, ``decimals``)."""
    return _fits(words(data, 1)[0], 8, "value")


def decode_int(data: bytes) -> int:
    """One ``int256`` (``getReserves``)."""
    return _signed_word(words(data, 1)[0])


def decode_address(data: bytes) -> str:
    """One ``address``, lower-case."""
    return _address_word(words(data, 1)[0])


def decode_bool(data: bytes) -> bool:
    """One ``bool``: the word must be 0 or 1."""
    (word,) = words(data, 1)
    if word > 1:
        raise ValueError("not a bool")
    return bool(word)


def decode_asset_info(data: bytes) -> AssetInfo:
    """``getAssetInfo(i)``: the eight fields of ``AssetInfo``."""
    offset, asset, feed, scale, bcf, lcf, lf, cap = words(data, 8)
    return AssetInfo(
        offset=_fits(offset, 8, "offset"),
        asset=_address_word(asset),
        price_feed=_address_word(feed),
        scale=_fits(scale, 64, "scale"),
        borrow_collateral_factor=_fits(bcf, 64, "borrowCollateralFactor"),
        liquidate_collateral_factor=_fits(lcf, 64, "liquidateCollateralFactor"),
        liquidation_factor=_fits(lf, 64, "liquidationFactor"),
        supply_cap=_fits(cap, 128, "supplyCap"),
    )


def decode_totals_basic(data: bytes) -> TotalsBasic:
    """``totalsBasic()``: four uint64 indexes, two uint104 totals, uint40 time, uint8 flags."""
    w = words(data, 8)
    for value, bits in zip(w, (64, 64, 64, 64, 104, 104, 40, 8), strict=True):
        _fits(value, bits, "totalsBasic field")
    return TotalsBasic(*w)


def decode_user_basic(data: bytes) -> UserBasic:
    """``userBasic(account)``: int104 principal, two uint64, uint16 ``assetsIn``, uint8 ``_reserved``."""
    principal_word, index, accrued, assets_in, reserved = words(data, 5)
    principal = _signed_word(principal_word)
    if not INT104_MIN <= principal <= INT104_MAX:
        raise ValueError("principal wider than int104")
    return UserBasic(
        principal=principal,
        base_tracking_index=_fits(index, 64, "baseTrackingIndex"),
        base_tracking_accrued=_fits(accrued, 64, "baseTrackingAccrued"),
        assets_in=_fits(assets_in, 16, "assetsIn") | _fits(reserved, 8, "_reserved") << ASSETS_IN_BITS,
    )


def decode_totals_collateral(data: bytes) -> int:
    """``totalsCollateral(asset)``: the ``totalSupplyAsset`` (uint128) of the pair it returns."""
    total, reserved = words(data, 2)
    _fits(reserved, 128, "_reserved")
    return _fits(total, 128, "totalSupplyAsset")


def decode_uint128(data: bytes) -> int:
    """One ``uint128`` (``collateralBalanceOf``)."""
    return _fits(words(data, 1)[0], 128, "value")


def rate_model(values: list[int]) -> RateModel:
    """A ``RateModel`` from the answers of ``RATE_GETTERS``, in order."""
    return RateModel(*values)


def call(target: str, signature: str, args: tuple[Any, ...], decoder: Callable[[bytes], Any], label: str,
         allow_failure: bool = False) -> Call:
    """A ``Call`` of ``signature`` on ``target``."""
    return Call(target, encode_call(signature, args), allow_failure=allow_failure, decoder=decoder, label=label)


#: Market-wide reads, in order: (signature, decoder). ``factorScale``, ``baseIndexScale`` and
#: ``priceScale`` are constants every Comet answers; with the others they tell a Comet from anything else.
MARKET_READS: tuple[tuple[str, Callable[[bytes], Any]], ...] = (
    ("baseToken()", decode_address),
    ("baseTokenPriceFeed()", decode_address),
    ("numAssets()", decode_uint8),
    ("baseScale()", decode_uint),
    ("storeFrontPriceFactor()", decode_uint),
    ("targetReserves()", decode_uint),
    ("baseBorrowMin()", decode_uint),
    ("totalsBasic()", decode_totals_basic),
    ("factorScale()", decode_uint),
    ("baseIndexScale()", decode_uint),
    ("priceScale()", decode_uint),
    *((getter, decode_uint) for getter in RATE_GETTERS),
)


def market_calls(comet: str) -> list[Call]:
    """``MARKET_READS`` on ``comet``, all allowed to fail (a foreign contract is reported, not raised)."""
    return [call(comet, sig, (), dec, f"Comet.{sig}", allow_failure=True) for sig, dec in MARKET_READS]


def asset_info_call(comet: str, offset: int) -> Call:
    """``getAssetInfo(offset)``."""
    return call(comet, "getAssetInfo(uint8)", (offset,), decode_asset_info, f"Comet.getAssetInfo({offset})")


def price_call(comet: str, feed: str) -> Call:
    """``getPrice(feed)``: the feed's answer as the Comet uses it (8 decimals; reverts on a price ≤ 0)."""
    return call(comet, "getPrice(address)", (feed,), decode_uint, f"Comet.getPrice({feed})")


def collateral_totals_calls(comet: str, asset: str) -> list[Call]:
    """``totalsCollateral(asset)`` and ``getCollateralReserves(asset)``."""
    return [
        call(comet, "totalsCollateral(address)", (asset,), decode_totals_collateral, f"Comet.totalsCollateral({asset})"),
        call(comet, "getCollateralReserves(address)", (asset,), decode_uint, f"Comet.getCollateralReserves({asset})"),
    ]


def reserves_calls(comet: str, base_token: str) -> list[Call]:
    """``getReserves()`` and the base token's ``balanceOf(comet)`` (which our reserves are computed from)."""
    return [
        call(comet, "getReserves()", (), decode_int, "Comet.getReserves()"),
        call(base_token, "balanceOf(address)", (comet,), decode_uint, f"base token balanceOf({comet})"),
    ]


def account_calls(comet: str, account: str) -> list[Call]:
    """Pass 1 per account: ``userBasic``, ``borrowBalanceOf``, ``balanceOf`` (both accrued to the block)."""
    return [
        call(comet, "userBasic(address)", (account,), decode_user_basic, f"Comet.userBasic({account})"),
        call(comet, "borrowBalanceOf(address)", (account,), decode_uint, f"Comet.borrowBalanceOf({account})"),
        call(comet, "balanceOf(address)", (account,), decode_uint, f"Comet.balanceOf({account})"),
    ]


def health_calls(comet: str, account: str) -> list[Call]:
    """Pass 2 per held account: ``isLiquidatable`` and ``isBorrowCollateralized``."""
    return [
        call(comet, "isLiquidatable(address)", (account,), decode_bool, f"Comet.isLiquidatable({account})"),
        call(comet, "isBorrowCollateralized(address)", (account,), decode_bool,
             f"Comet.isBorrowCollateralized({account})"),
    ]


def collateral_balance_call(comet: str, account: str, asset: str) -> Call:
    """``collateralBalanceOf(account, asset)``."""
    return call(comet, "collateralBalanceOf(address,address)", (account, asset), decode_uint128,
                f"Comet.collateralBalanceOf({account}, {asset})")
