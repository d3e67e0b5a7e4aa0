"""Morpho Blue's integer maths on Python ints, operation by operation as ``@morpho-org/morpho-blue`` 1.0.0.

``MathLib`` (WAD = 1e18, every operation truncates or rounds up as named), ``SharesMathLib`` (virtual
shares and assets), the liquidation incentive factor of ``Morpho.liquidate`` and the interest
accrual of ``MorphoBalancesLib.expectedMarketBalances``. Units: assets in token base units, shares
as the contract keeps them (1 asset ≈ 10⁶ shares at the start), rates and factors in WAD.

Rounding always favours the protocol: supplies are converted down, debts up::

    toAssetsDown(s) = ⌊s · (A + 1) / (S + 10⁶)⌋    toAssetsUp(s) = ⌈s · (A + 1) / (S + 10⁶)⌉
    toSharesDown(a) = ⌊a · (S + 10⁶) / (A + 1)⌋    toSharesUp(a) = ⌈a · (S + 10⁶) / (A + 1)⌉

with ``A``, ``S`` the market's total assets and shares (supply or borrow side).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from defirisk.units import WAD

VIRTUAL_SHARES = 10**6
VIRTUAL_ASSETS = 1
ORACLE_PRICE_SCALE = 10**36
LIQUIDATION_CURSOR = 3 * 10**17
MAX_LIQUIDATION_INCENTIVE_FACTOR = 115 * 10**16
MAX_FEE = 25 * 10**16
UINT128_MAX = 2**128 - 1


def mul_div_down(x: int, y: int, d: int) -> int:
    """``x · y / d`` rounded down (``MathLib.mulDivDown``)."""
    return x * y // d


def mul_div_up(x: int, y: int, d: int) -> int:
    """``x · y / d`` rounded up (``MathLib.mulDivUp``: ``(x · y + d − 1) / d``)."""
    return (x * y + d - 1) // d


def w_mul_down(x: int, y: int) -> int:
    """``x · y / WAD`` rounded down."""
    return mul_div_down(x, y, WAD)


def w_div_down(x: int, y: int) -> int:
    """``x · WAD / y`` rounded down."""
    return mul_div_down(x, WAD, y)


def w_div_up(x: int, y: int) -> int:
    """``x · WAD / y`` rounded up."""
    return mul_div_up(x, WAD, y)


def w_taylor_compounded(x: int, n: int) -> int:
    """``e^(x·n) − 1`` by its first three Taylor terms (WAD), as ``MathLib.wTaylorCompounded``."""
    first = x * n
    second = mul_div_down(first, first, 2 * WAD)
    third = mul_div_down(second, first, 3 * WAD)
    return first + second + third


def to_assets_down(shares: int, total_assets: int, total_shares: int) -> int:
    """Assets of ``shares``, rounded down (supply balances)."""
    return mul_div_down(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def to_assets_up(shares: int, total_assets: int, total_shares: int) -> int:
    """Assets of ``shares``, rounded up (debt balances)."""
    return mul_div_up(shares, total_assets + VIRTUAL_ASSETS, total_shares + VIRTUAL_SHARES)


def to_shares_down(assets: int, total_assets: int, total_shares: int) -> int:
    """Shares of ``assets``, rounded down."""
    return mul_div_down(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def to_shares_up(assets: int, total_assets: int, total_shares: int) -> int:
    """Shares of ``assets``, rounded up."""
    return mul_div_up(assets, total_shares + VIRTUAL_SHARES, total_assets + VIRTUAL_ASSETS)


def zero_floor_sub(x: int, y: int) -> int:
    """``max(x − y, 0)`` (``UtilsLib.zeroFloorSub``)."""
    return x - y if x > y else 0


def liquidation_incentive_factor(lltv: int) -> int:
    """``min(1.15, 1 / (1 − 0.3 · (1 − LLTV)))`` in WAD, with ``Morpho.liquidate``'s roundings.

    ``WAD.wDivDown(WAD − LIQUIDATION_CURSOR.wMulDown(WAD − lltv))``, capped at
    ``MAX_LIQUIDATION_INCENTIVE_FACTOR``; ``lltv`` in WAD (< 1e18).
    """
    return min(MAX_LIQUIDATION_INCENTIVE_FACTOR, w_div_down(WAD, WAD - w_mul_down(LIQUIDATION_CURSOR, WAD - lltv)))


@dataclass(frozen=True)
class MarketTotals:
    """``Morpho.market(id)``: totals in base units and shares, ``last_update`` (s), ``fee`` (WAD)."""

    total_supply_assets: int
    total_supply_shares: int
    total_borrow_assets: int
    total_borrow_shares: int
    last_update: int
    fee: int

    def as_tuple(self) -> tuple[int, int, int, int, int, int]:
        return (
            self.total_supply_assets,
            self.total_supply_shares,
            self.total_borrow_assets,
            self.total_borrow_shares,
            self.last_update,
            self.fee,
        )


def accrue_interest(market: MarketTotals, borrow_rate: int, timestamp: int, has_irm: bool = True) -> MarketTotals:
    """The totals with interest accrued to ``timestamp``, as ``MorphoBalancesLib.expectedMarketBalances``.

    ``borrow_rate``: the IRM's ``borrowRateView(marketParams, market)`` (WAD per second) at the same
    state. With ``elapsed = timestamp − last_update``::

        interest = totalBorrowAssets.wMulDown(wTaylorCompounded(rate, elapsed))
        totalBorrowAssets += interest;  totalSupplyAssets += interest
        feeShares = (interest.wMulDown(fee)).toSharesDown(totalSupplyAssets − feeAmount, totalSupplyShares)
        totalSupplyShares += feeShares

    Nothing changes when ``elapsed`` is 0, the market has no borrows, or no IRM (``irm == 0``). The
    returned ``last_update`` is ``timestamp``, as after ``Morpho.accrueInterest``.
    """
    elapsed = timestamp - market.last_update
    if elapsed <= 0 or market.total_borrow_assets == 0 or not has_irm:
        return replace(market, last_update=max(timestamp, market.last_update))
    interest = w_mul_down(market.total_borrow_assets, w_taylor_compounded(borrow_rate, elapsed))
    supply_assets = market.total_supply_assets + interest
    supply_shares = market.total_supply_shares
    if market.fee != 0:
        fee_amount = w_mul_down(interest, market.fee)
        supply_shares += to_shares_down(fee_amount, supply_assets - fee_amount, supply_shares)
    return MarketTotals(
        total_supply_assets=supply_assets,
        total_supply_shares=supply_shares,
        total_borrow_assets=market.total_borrow_assets + interest,
        total_borrow_shares=market.total_borrow_shares,
        last_update=timestamp,
        fee=market.fee,
    )
