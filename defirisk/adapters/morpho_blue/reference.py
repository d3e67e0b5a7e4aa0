"""Integer reference of Morpho Blue's health check and ``liquidate`` (``Morpho.sol`` 1.0.0), on Python ints.

Health (``_isHealthy`` with the oracle's ``price()``, scale 1e36: loan base units per collateral
base unit × 1e36), after interest is accrued to the block::

    borrowed  = borrowShares.toAssetsUp(totalBorrowAssets, totalBorrowShares)
    maxBorrow = collateral.mulDivDown(price, 1e36).wMulDown(lltv)
    healthy   ⇔ maxBorrow ≥ borrowed

``liquidate`` (one of ``seized_assets`` / ``repaid_shares`` non-zero, on an unhealthy position)::

    LIF = min(1.15, WAD.wDivDown(WAD − 0.3.wMulDown(WAD − lltv)))
    given seizedAssets:  repaidShares = seizedAssets.mulDivUp(price, 1e36).wDivUp(LIF).toSharesUp(B, BS)
    given repaidShares:  seizedAssets = repaidShares.toAssetsDown(B, BS).wMulDown(LIF).mulDivDown(1e36, price)
    repaidAssets = repaidShares.toAssetsUp(B, BS)
    totalBorrowShares −= repaidShares;  totalBorrowAssets = zeroFloorSub(B, repaidAssets)
    collateral −= seizedAssets
    if collateral == 0:  badDebtShares = borrowShares left;
                         badDebtAssets = min(B', badDebtShares.toAssetsUp(B', BS'))
                         B', S (supply assets) and BS' fall by them: the loss is realised and
                         socialised to the market's suppliers.

``B``, ``BS``: total borrow assets and shares after accrual; ``B'``, ``BS'``: after the repayment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from defirisk.adapters.morpho_blue.maths import (
    ORACLE_PRICE_SCALE,
    MarketTotals,
    liquidation_incentive_factor,
    mul_div_down,
    mul_div_up,
    to_assets_down,
    to_assets_up,
    to_shares_up,
    w_div_up,
    w_mul_down,
    zero_floor_sub,
)
from defirisk.errors import DataError


@dataclass(frozen=True)
class PositionRaw:
    """``Morpho.position(id, user)``: supply shares, borrow shares, collateral (base units)."""

    supply_shares: int
    borrow_shares: int
    collateral: int


def borrowed_assets(position: PositionRaw, market: MarketTotals) -> int:
    """The debt in loan base units, rounded up."""
    return to_assets_up(position.borrow_shares, market.total_borrow_assets, market.total_borrow_shares)


def supplied_assets(position: PositionRaw, market: MarketTotals) -> int:
    """The supply in loan base units, rounded down."""
    return to_assets_down(position.supply_shares, market.total_supply_assets, market.total_supply_shares)


def max_borrow(collateral: int, price: int, lltv: int) -> int:
    """``collateral.mulDivDown(price, ORACLE_PRICE_SCALE).wMulDown(lltv)``, loan base units."""
    return w_mul_down(mul_div_down(collateral, price, ORACLE_PRICE_SCALE), lltv)


def is_healthy(position: PositionRaw, market: MarketTotals, price: int, lltv: int) -> bool:
    """``Morpho._isHealthy``: ``maxBorrow ≥ borrowed`` (always true without borrow shares)."""
    if position.borrow_shares == 0:
        return True
    return max_borrow(position.collateral, price, lltv) >= borrowed_assets(position, market)


@dataclass(frozen=True)
class LiquidationOutcome:
    """What one ``liquidate`` does, in base units and shares, and the state it leaves."""

    seized_assets: int
    repaid_shares: int
    repaid_assets: int
    bad_debt_assets: int
    bad_debt_shares: int
    position: PositionRaw
    market: MarketTotals


def liquidate(
    position: PositionRaw,
    market: MarketTotals,
    price: int,
    lltv: int,
    *,
    seized_assets: int = 0,
    repaid_shares: int = 0,
) -> LiquidationOutcome:
    """One ``Morpho.liquidate`` on accrued ``market`` totals (see the module docstring).

    ``DataError`` where the contract reverts: both or neither amount given, a healthy position,
    more shares or collateral taken than the position holds.
    """
    if (seized_assets == 0) == (repaid_shares == 0):
        raise DataError("give exactly one of seized_assets and repaid_shares (inconsistent input)")
    borrow_shares = position.borrow_shares
    healthy = max_borrow(position.collateral, price, lltv) >= to_assets_up(
        borrow_shares, market.total_borrow_assets, market.total_borrow_shares
    )
    if healthy:
        raise DataError("position is healthy")
    lif = liquidation_incentive_factor(lltv)
    total_assets, total_shares = market.total_borrow_assets, market.total_borrow_shares
    if seized_assets > 0:
        quoted = mul_div_up(seized_assets, price, ORACLE_PRICE_SCALE)
        repaid_shares = to_shares_up(w_div_up(quoted, lif), total_assets, total_shares)
    else:
        seized_assets = mul_div_down(
            w_mul_down(to_assets_down(repaid_shares, total_assets, total_shares), lif), ORACLE_PRICE_SCALE, price
        )
    repaid_assets = to_assets_up(repaid_shares, total_assets, total_shares)
    if repaid_shares > borrow_shares or seized_assets > position.collateral:
        raise DataError("the liquidation takes more than the position holds (arithmetic underflow)")
    borrow_shares -= repaid_shares
    total_shares -= repaid_shares
    total_assets = zero_floor_sub(total_assets, repaid_assets)
    collateral = position.collateral - seized_assets
    supply_assets = market.total_supply_assets
    bad_shares = bad_assets = 0
    if collateral == 0:
        bad_shares = borrow_shares
        bad_assets = min(total_assets, to_assets_up(bad_shares, total_assets, total_shares))
        total_assets -= bad_assets
        supply_assets -= bad_assets
        total_shares -= bad_shares
        borrow_shares = 0
    return LiquidationOutcome(
        seized_assets=seized_assets,
        repaid_shares=repaid_shares,
        repaid_assets=repaid_assets,
        bad_debt_assets=bad_assets,
        bad_debt_shares=bad_shares,
        position=replace(position, borrow_shares=borrow_shares, collateral=collateral),
        market=replace(
            market,
            total_supply_assets=supply_assets,
            total_borrow_assets=total_assets,
            total_borrow_shares=total_shares,
        ),
    )
