"""Comet's fixed-point maths, present values and interest accrual on Python ints (pure).

Written from the semantics of compound-finance/comet ``Comet.sol``, ``CometCore.sol`` and
``CometMath.sol``. Scales: factors and rates ``FACTOR_SCALE`` = 1e18, base indexes
``BASE_INDEX_SCALE`` = 1e15, prices ``PRICE_SCALE`` = 1e8 (every price feed has 8 decimals).
Unsigned divisions round down; a signed one (``signedMulPrice``) truncates toward zero, as Solidity's
``int`` division does. Where the contract reverts (a value past its integer width) these raise
``DataError``.

Present value of a signed principal ``p`` (base units) with the indexes ``S`` and ``B``::

    p ≥ 0:  p · S / 1e15                       (presentValueSupply, rounded down)
    p < 0:  −(−p · B / 1e15)                   (presentValueBorrow, rounded down in magnitude)

and back (``principalValue``): supply ``v · 1e15 / S`` rounded down, borrow ``v · 1e15 / B`` rounded up.

Accrual over ``Δt`` seconds since ``lastAccrualTime`` (``accruedInterestIndices``)::

    utilization = presentValueBorrow(B, totalBorrowBase) · 1e18 / presentValueSupply(S, totalSupplyBase)
    rate(u) = base + slopeLow · u / 1e18                                   (u ≤ kink)
            = base + slopeLow · kink / 1e18 + slopeHigh · (u − kink) / 1e18  (u > kink)
    S' = S + S · supplyRate · Δt / 1e18;   B' = B + B · borrowRate · Δt / 1e18
"""

from __future__ import annotations

from dataclasses import dataclass

from defirisk.adapters.comet.structs import RateModel, TotalsBasic
from defirisk.errors import DataError

FACTOR_SCALE = 10**18
BASE_INDEX_SCALE = 10**15
PRICE_SCALE = 10**8
PRICE_FEED_DECIMALS = 8
SECONDS_PER_YEAR = 31_536_000
#: Factors are stored with four decimals: ``getAssetInfo`` returns multiples of this.
FACTOR_DESCALE = FACTOR_SCALE // 10**4

UINT64_MAX = 2**64 - 1
UINT104_MAX = 2**104 - 1
INT104_MAX = 2**103 - 1
INT104_MIN = -(2**103)


def _safe(value: int, limit: int, what: str) -> int:
    if value > limit:
        raise DataError(f"{what} {value} overflows its integer width: the contract would revert")
    return value


def mul_factor(n: int, factor: int) -> int:
    """``n · factor / 1e18`` rounded down (``mulFactor``)."""
    return n * factor // FACTOR_SCALE


def mul_price(n: int, price: int, from_scale: int) -> int:
    """``n · price / fromScale`` rounded down: token base units → price units (``mulPrice``)."""
    return n * price // from_scale


def signed_mul_price(n: int, price: int, from_scale: int) -> int:
    """``n · price / fromScale`` truncated toward zero (``signedMulPrice`` on an ``int``)."""
    product = n * price
    quotient = abs(product) // from_scale
    return quotient if product >= 0 else -quotient


def div_price(n: int, price: int, to_scale: int) -> int:
    """``n · toScale / price`` rounded down: price units → token base units (``divPrice``)."""
    return n * to_scale // price


def present_value_supply(supply_index: int, principal: int) -> int:
    """``principal · baseSupplyIndex / 1e15`` rounded down (principal ≥ 0)."""
    return principal * supply_index // BASE_INDEX_SCALE


def present_value_borrow(borrow_index: int, principal: int) -> int:
    """``principal · baseBorrowIndex / 1e15`` rounded down (principal ≥ 0: the borrow's magnitude)."""
    return principal * borrow_index // BASE_INDEX_SCALE


def present_value(principal: int, supply_index: int, borrow_index: int) -> int:
    """Signed balance in base units: supply if ``principal ≥ 0``, minus the borrow otherwise."""
    if principal >= 0:
        return present_value_supply(supply_index, principal)
    return -present_value_borrow(borrow_index, -principal)


def principal_value_supply(supply_index: int, value: int) -> int:
    """``value · 1e15 / baseSupplyIndex`` rounded down (uint104)."""
    return _safe(value * BASE_INDEX_SCALE // supply_index, UINT104_MAX, "supply principal")


def principal_value_borrow(borrow_index: int, value: int) -> int:
    """``value · 1e15 / baseBorrowIndex`` rounded up (uint104)."""
    return _safe((value * BASE_INDEX_SCALE + borrow_index - 1) // borrow_index, UINT104_MAX, "borrow principal")


def principal_value(value: int, supply_index: int, borrow_index: int) -> int:
    """The signed principal (int104) of a signed balance ``value`` (``principalValue``)."""
    if value >= 0:
        return _safe(principal_value_supply(supply_index, value), INT104_MAX, "principal")
    return -_safe(principal_value_borrow(borrow_index, -value), INT104_MAX, "principal")


def utilization(totals: TotalsBasic) -> int:
    """``getUtilization()`` at the stored indexes (1e18 fixed point; 0 without supply)."""
    supplied = present_value_supply(totals.base_supply_index, totals.total_supply_base)
    borrowed = present_value_borrow(totals.base_borrow_index, totals.total_borrow_base)
    return 0 if supplied == 0 else borrowed * FACTOR_SCALE // supplied


def _kinked(u: int, kink: int, base: int, low: int, high: int, what: str) -> int:
    if u <= kink:
        rate = base + mul_factor(low, u)
    else:
        rate = base + mul_factor(low, kink) + mul_factor(high, u - kink)
    return _safe(rate, UINT64_MAX, what)


def supply_rate(model: RateModel, u: int) -> int:
    """``getSupplyRate(u)``: per-second supply rate (1e18)."""
    return _kinked(u, model.supply_kink, model.supply_base, model.supply_slope_low, model.supply_slope_high,
                   "supply rate")


def borrow_rate(model: RateModel, u: int) -> int:
    """``getBorrowRate(u)``: per-second borrow rate (1e18)."""
    return _kinked(u, model.borrow_kink, model.borrow_base, model.borrow_slope_low, model.borrow_slope_high,
                   "borrow rate")


@dataclass(frozen=True)
class Indexes:
    """Base supply and borrow indexes (1e15) at a moment."""

    supply: int
    borrow: int


def accrued_indexes(totals: TotalsBasic, model: RateModel, timestamp: int) -> Indexes:
    """``accruedInterestIndices(timestamp − lastAccrualTime)``: the indexes an accrual at ``timestamp`` sets.

    Rates come from the utilization at the stored indexes and totals, as in the contract; nothing
    changes when no time has passed (``timestamp ≤ lastAccrualTime``).
    """
    elapsed = timestamp - totals.last_accrual_time
    supply, borrow = totals.base_supply_index, totals.base_borrow_index
    if elapsed <= 0:
        return Indexes(supply, borrow)
    u = utilization(totals)
    supply += _safe(mul_factor(supply, supply_rate(model, u) * elapsed), UINT64_MAX, "supply index increase")
    borrow += _safe(mul_factor(borrow, borrow_rate(model, u) * elapsed), UINT64_MAX, "borrow index increase")
    return Indexes(_safe(supply, UINT64_MAX, "supply index"), _safe(borrow, UINT64_MAX, "borrow index"))


def reserves(base_balance: int, totals: TotalsBasic, indexes: Indexes) -> int:
    """``getReserves()``: the Comet's base balance − total supply + total borrow, at ``indexes`` (signed)."""
    return (base_balance - present_value_supply(indexes.supply, totals.total_supply_base)
            + present_value_borrow(indexes.borrow, totals.total_borrow_base))
