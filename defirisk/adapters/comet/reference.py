"""Integer reference of Comet's account checks, ``absorb`` and ``quoteCollateral`` on Python ints (pure).

Written from the semantics of compound-finance/comet ``Comet.sol``. Prices are ``getPrice(feed)``
answers (8 decimals); ``mulPrice`` turns a balance into price units, ``mulFactor`` applies a 1e18
factor. Only collaterals whose bit is set in the account's bitmap count.

Liquidity of an account with a negative principal, for collateral factor ``cf`` (liquidate or borrow)::

    liquidity = signedMulPrice(presentValue(principal), basePrice, baseScale)        (negative)
              + Σ_{i held} mulFactor(mulPrice(balance_i, price_i, scale_i), cf_i)

    isLiquidatable          ⇔ principal < 0 and liquidity(liquidateCollateralFactor) < 0
    isBorrowCollateralized  ⇔ principal ≥ 0 or liquidity(borrowCollateralFactor) ≥ 0

The view functions use the *stored* indexes (they do not accrue); ``absorb`` accrues first.

``absorb`` of a liquidatable account (at the accrued indexes): every held collateral is taken by the
protocol and the account is credited ``liquidationFactor`` of its value, in base::

    value_i      = mulPrice(balance_i, price_i, scale_i)
    deltaValue   = Σ mulFactor(value_i, liquidationFactor_i)
    deltaBalance = divPrice(deltaValue, basePrice, baseScale)
    newBalance   = max(oldBalance + deltaBalance, 0)        (a surplus stays with the account as supply)
    badDebt      = max(−(oldBalance + deltaBalance), 0)     (debt the reserves absorb)

so ``deltaBalance + badDebt − newBalance = −oldBalance`` (the debt absorbed) exactly.

``quoteCollateral`` (what ``buyCollateral`` sells for ``baseAmount`` of base from the protocol's
collateral reserves, only while reserves < ``targetReserves``)::

    discount   = mulFactor(storeFrontPriceFactor, 1e18 − liquidationFactor)
    discounted = mulFactor(assetPrice, 1e18 − discount)
    collateral = basePrice · baseAmount · assetScale / discounted / baseScale
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from defirisk.adapters.comet.maths import (
    FACTOR_SCALE,
    Indexes,
    div_price,
    mul_factor,
    mul_price,
    present_value,
    principal_value,
    signed_mul_price,
)
from defirisk.adapters.comet.structs import AssetInfo, UserBasic
from defirisk.errors import DataError


@dataclass(frozen=True)
class CometView:
    """What the account checks read from the market: base price and scale, collaterals and their prices.

    ``assets`` and ``prices`` are indexed by offset (``getAssetInfo(i)``, ``getPrice(priceFeed_i)``).
    """

    base_price: int
    base_scale: int
    assets: tuple[AssetInfo, ...]
    prices: tuple[int, ...]
    store_front_price_factor: int

    def __post_init__(self) -> None:
        if len(self.assets) != len(self.prices):
            raise DataError(f"{len(self.assets)} collaterals but {len(self.prices)} prices")
        if any(a.offset != i for i, a in enumerate(self.assets)):
            raise DataError("collaterals must be listed by offset 0, 1, 2, …")

    def held(self, user: UserBasic) -> list[int]:
        """Offsets of the collaterals the account's bitmap marks as held."""
        return [a.offset for a in self.assets if user.holds(a.offset)]


def collateral_value(view: CometView, offset: int, balance: int) -> int:
    """``mulPrice(balance, price, scale)``: a collateral balance in price units."""
    return mul_price(balance, view.prices[offset], view.assets[offset].scale)


def liquidity(view: CometView, user: UserBasic, balances: Mapping[str, int], indexes: Indexes,
              factor: str) -> int:
    """The account's liquidity in price units (module docstring); ``factor``: ``"liquidate"`` or ``"borrow"``.

    ``balances``: collateral balance per asset address (``collateralBalanceOf``); missing ones are 0.
    """
    if factor not in ("liquidate", "borrow"):
        raise DataError(f"factor must be 'liquidate' or 'borrow', not {factor!r}")
    total = signed_mul_price(present_value(user.principal, indexes.supply, indexes.borrow), view.base_price,
                             view.base_scale)
    for offset in view.held(user):
        info = view.assets[offset]
        cf = info.liquidate_collateral_factor if factor == "liquidate" else info.borrow_collateral_factor
        total += mul_factor(collateral_value(view, offset, balances.get(info.asset, 0)), cf)
    return total


def is_liquidatable(view: CometView, user: UserBasic, balances: Mapping[str, int], indexes: Indexes) -> bool:
    """``isLiquidatable(account)`` at ``indexes`` (the stored ones for the view function)."""
    return user.principal < 0 and liquidity(view, user, balances, indexes, "liquidate") < 0


def is_borrow_collateralized(view: CometView, user: UserBasic, balances: Mapping[str, int],
                             indexes: Indexes) -> bool:
    """``isBorrowCollateralized(account)`` at ``indexes``."""
    return user.principal >= 0 or liquidity(view, user, balances, indexes, "borrow") >= 0


@dataclass(frozen=True)
class AbsorbOutcome:
    """What ``absorb`` does to one account (base units unless named otherwise).

    ``seized``: collateral taken per asset address (token base units); ``values``: their value in
    price units (the ``usdValue`` of ``AbsorbCollateral``). ``debt``: the debt absorbed (−oldBalance);
    ``credit``: ``deltaBalance``; ``bad_debt``: debt beyond the credit, paid by the reserves;
    ``surplus``: credit beyond the debt, left to the account as supply (``newBalance``).
    ``base_paid_out`` = ``newBalance − oldBalance`` (the ``AbsorbDebt`` amount).
    ``new_principal``, ``repay_principal``, ``supply_principal``: the principal changes of the account
    and the market totals (``totalBorrowBase −= repay``, ``totalSupplyBase += supply``).
    """

    seized: dict[str, int]
    values: dict[str, int]
    debt: int
    credit: int
    bad_debt: int
    surplus: int
    base_paid_out: int
    new_principal: int
    repay_principal: int
    supply_principal: int


def _repay_and_supply(old: int, new: int) -> tuple[int, int]:
    """``repayAndSupplyAmount(oldPrincipal, newPrincipal)``."""
    if new < old:
        return 0, 0
    if new <= 0:
        return new - old, 0
    if old >= 0:
        return 0, new - old
    return -old, new


def absorb(view: CometView, user: UserBasic, balances: Mapping[str, int], indexes: Indexes) -> AbsorbOutcome:
    """``absorbInternal`` of one account at the accrued ``indexes`` (see the module docstring).

    ``DataError`` when the account is not liquidatable (the contract reverts ``NotLiquidatable``).
    """
    if not is_liquidatable(view, user, balances, indexes):
        raise DataError("the account is not liquidatable (NotLiquidatable)")
    old_balance = present_value(user.principal, indexes.supply, indexes.borrow)
    seized: dict[str, int] = {}
    values: dict[str, int] = {}
    delta_value = 0
    for offset in view.held(user):
        info = view.assets[offset]
        amount = balances.get(info.asset, 0)
        value = collateral_value(view, offset, amount)
        seized[info.asset], values[info.asset] = amount, value
        delta_value += mul_factor(value, info.liquidation_factor)
    credit = div_price(delta_value, view.base_price, view.base_scale)
    after = old_balance + credit
    new_balance = max(after, 0)
    new_principal = principal_value(new_balance, indexes.supply, indexes.borrow)
    repay, supply = _repay_and_supply(user.principal, new_principal)
    return AbsorbOutcome(
        seized=seized,
        values=values,
        debt=-old_balance,
        credit=credit,
        bad_debt=max(-after, 0),
        surplus=new_balance,
        base_paid_out=new_balance - old_balance,
        new_principal=new_principal,
        repay_principal=repay,
        supply_principal=supply,
    )


def storefront_discount(store_front_price_factor: int, liquidation_factor: int) -> int:
    """``mulFactor(storeFrontPriceFactor, 1e18 − liquidationFactor)``: the buyer's discount (1e18)."""
    return mul_factor(store_front_price_factor, FACTOR_SCALE - liquidation_factor)


def quote_collateral(view: CometView, offset: int, base_amount: int) -> int:
    """``quoteCollateral(asset, baseAmount)``: collateral base units sold for ``base_amount`` base units.

    ``DataError`` where the discounted price truncates to 0 (the contract divides by zero).
    """
    info = view.assets[offset]
    discount = storefront_discount(view.store_front_price_factor, info.liquidation_factor)
    discounted = mul_factor(view.prices[offset], FACTOR_SCALE - discount)
    if discounted == 0:
        raise DataError(f"the discounted price of {info.asset} is 0: quoteCollateral divides by zero and reverts")
    return view.base_price * base_amount * info.scale // discounted // view.base_scale


def buy_collateral(view: CometView, offset: int, base_amount: int, *, reserves: int, target_reserves: int,
                   collateral_reserves: int, min_amount: int = 0) -> int:
    """``buyCollateral``'s checks and amount: the collateral a buyer receives for ``base_amount``.

    ``DataError`` where the contract reverts: reserves at or above target (``NotForSale``), fewer than
    ``min_amount`` (``TooMuchSlippage``), more than the protocol holds (``InsufficientReserves``).
    """
    if reserves >= 0 and reserves >= target_reserves:
        raise DataError("reserves are at or above targetReserves: collateral is not for sale (NotForSale)")
    amount = quote_collateral(view, offset, base_amount)
    if amount < min_amount:
        raise DataError(f"the quote {amount} is below the minimum {min_amount} (TooMuchSlippage)")
    if amount > collateral_reserves:
        raise DataError(f"the quote {amount} exceeds the collateral reserves {collateral_reserves} "
                        "(InsufficientReserves)")
    return amount
