"""The structs a Comet returns, as plain frozen dataclasses of exact ints (pure).

Field names and widths follow ``CometCore.AssetInfo`` and ``CometStorage`` (compound-finance/comet):
factors are ``FACTOR_SCALE`` (1e18) fixed point, indexes ``BASE_INDEX_SCALE`` (1e15), amounts token
base units, addresses lower-case.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Bits 0–15 of an account's collateral bitmap live in ``UserBasic.assetsIn``; Comets with the extended
#: asset list (up to 24 collaterals) keep bits 16–23 in ``UserBasic._reserved``.
ASSETS_IN_BITS = 16
MAX_ASSET_OFFSET = 24


@dataclass(frozen=True)
class AssetInfo:
    """``getAssetInfo(i)``: one collateral's configuration.

    ``scale`` is ``10**decimals``; the three factors are 1e18 fixed point (stored by the contract with
    four decimals, so each is a multiple of 1e14); ``supply_cap`` in token base units (stored in whole
    tokens, so a multiple of ``scale``).
    """

    offset: int
    asset: str
    price_feed: str
    scale: int
    borrow_collateral_factor: int
    liquidate_collateral_factor: int
    liquidation_factor: int
    supply_cap: int

    def as_tuple(self) -> tuple[int, str, str, int, int, int, int, int]:
        """The ABI tuple ``(uint8,address,address,uint64,uint64,uint64,uint64,uint128)``."""
        return (self.offset, self.asset, self.price_feed, self.scale, self.borrow_collateral_factor,
                self.liquidate_collateral_factor, self.liquidation_factor, self.supply_cap)


@dataclass(frozen=True)
class TotalsBasic:
    """``totalsBasic()``: market indexes (1e15), principal totals (base units), last accrual (s), pause flags."""

    base_supply_index: int
    base_borrow_index: int
    tracking_supply_index: int
    tracking_borrow_index: int
    total_supply_base: int
    total_borrow_base: int
    last_accrual_time: int
    pause_flags: int

    def as_tuple(self) -> tuple[int, ...]:
        return (self.base_supply_index, self.base_borrow_index, self.tracking_supply_index,
                self.tracking_borrow_index, self.total_supply_base, self.total_borrow_base,
                self.last_accrual_time, self.pause_flags)


@dataclass(frozen=True)
class UserBasic:
    """``userBasic(account)``: signed base principal (int104) and the collateral bitmap.

    ``assets_in`` joins ``assetsIn`` (bits 0–15) and ``_reserved`` (bits 16–23, extended asset list
    only; always 0 on the original Comet, which never writes it): bit ``i`` is set exactly when the
    account holds a non-zero balance of the collateral at offset ``i``.
    """

    principal: int
    base_tracking_index: int
    base_tracking_accrued: int
    assets_in: int

    def holds(self, offset: int) -> bool:
        """Whether the bitmap marks the collateral at ``offset`` as held."""
        return offset < MAX_ASSET_OFFSET and bool(self.assets_in >> offset & 1)


@dataclass(frozen=True)
class RateModel:
    """The kink interest-rate model: per-second rates and kinks, all 1e18 fixed point.

    The constructor divides the configured per-year rates by ``SECONDS_PER_YEAR``; the getters
    (``supplyPerSecondInterestRateBase()`` …) return the per-second values used here.
    """

    supply_kink: int
    supply_slope_low: int
    supply_slope_high: int
    supply_base: int
    borrow_kink: int
    borrow_slope_low: int
    borrow_slope_high: int
    borrow_base: int
