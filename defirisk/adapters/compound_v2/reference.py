"""Integer reference of the Compound v2 Comptroller's account and liquidation maths.

Slow and obviously correct: Python ints, the contracts' operation order and truncation
(``exponential``). Written from compound-finance/compound-protocol @a3214f67:

* ``Comptroller.getHypotheticalAccountLiquidityInternal`` — for each market the account has entered
  (``accountAssets``), with ``(cTokenBalance, borrowBalance, exchangeRateMantissa)`` from
  ``CToken.getAccountSnapshot`` and the oracle's ``getUnderlyingPrice``::

      tokensToDenom        = mul_(mul_(collateralFactor, exchangeRate), oraclePrice)      (Exp, truncating)
      sumCollateral       += ⌊tokensToDenom · cTokenBalance / 1e18⌋        (mul_ScalarTruncateAddUInt)
      sumBorrowPlusEffects += ⌊oraclePrice · borrowBalance / 1e18⌋
      (for cTokenModify:    += ⌊tokensToDenom · redeemTokens / 1e18⌋ + ⌊oraclePrice · borrowAmount / 1e18⌋)
      → (liquidity, shortfall) = (sumCollateral − sumBorrow, 0) if sumCollateral > sumBorrow
                                 else (0, sumBorrow − sumCollateral)

  A zero oracle price returns ``(PRICE_ERROR, 0, 0)``. ``getAccountLiquidity`` is the same with no
  modification; an account is liquidatable when ``shortfall > 0``.
* ``Comptroller.liquidateCalculateSeizeTokens``::

      seizeTokens = ⌊ div_(mul_(liquidationIncentive, priceBorrowed), mul_(priceCollateral, exchangeRate))
                      · actualRepayAmount / 1e18 ⌋
* ``Comptroller.liquidateBorrowAllowed``: ``maxClose = ⌊closeFactor · borrowBalanceStored / 1e18⌋``.
* ``CToken.seizeInternal``: ``protocolSeizeTokens = ⌊seizeTokens · protocolSeizeShare / 1e18⌋``
  (``protocolSeizeShareMantissa`` = 2.8e16 since Proposal 048), the liquidator receives the rest, and
  the reserves grow by ``⌊exchangeRate · protocolSeizeTokens / 1e18⌋`` underlying.

Units. Balances are raw integers (cTokens have 8 decimals; borrow balances are underlying base
units). ``exchangeRateMantissa`` is underlying base units per cToken base unit × 1e18 (so a whole-token
rate ``r`` is ``r · 10^(18 − 8 + d)`` for an underlying with ``d`` decimals). The oracle price is base
currency per underlying *base unit* × 1e18, i.e. ``price per whole token · 10^(36 − d)``, so the sums
carry 18 decimals of the base currency (ETH wei for an ETH-denominated oracle, USD·1e18 for Compound's
USD oracle).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from defirisk.adapters.compound_v2.exponential import (
    div_exp,
    mul_exp,
    mul_scalar_truncate,
    mul_scalar_truncate_add_uint,
    mul_uint_exp,
)
from defirisk.errors import DataError
from defirisk.model import MarketState

#: ``ComptrollerErrorReporter.Error`` codes used here (``ErrorReporter.sol``).
NO_ERROR = 0
INSUFFICIENT_SHORTFALL = 3
PRICE_ERROR = 13
TOO_MUCH_REPAY = 17

#: ``CTokenStorage.protocolSeizeShareMantissa`` (2.8 %, Compound v2 Ethereum since Proposal 048).
PROTOCOL_SEIZE_SHARE_MANTISSA = 28 * 10**15
CTOKEN_DECIMALS = 8


@dataclass(frozen=True)
class MarketParams:
    """What the Comptroller reads for one cToken market (all mantissas scaled 1e18)."""

    collateral_factor: int
    exchange_rate: int
    price: int


@dataclass(frozen=True)
class Holding:
    """``getAccountSnapshot`` of one entered market: raw cToken balance and raw borrow balance."""

    market: str
    ctoken_balance: int
    borrow_balance: int


@dataclass(frozen=True)
class AccountLiquidity:
    """``getAccountLiquidity``'s ``(error, liquidity, shortfall)`` plus the two sums behind them.

    ``sum_collateral`` and ``sum_borrow`` are base currency with 18 decimals.
    """

    error: int
    liquidity: int
    shortfall: int
    sum_collateral: int
    sum_borrow: int


@dataclass(frozen=True)
class SeizeSplit:
    """How ``seizeInternal`` splits seized cTokens; ``protocol_amount`` is underlying base units."""

    liquidator_tokens: int
    protocol_tokens: int
    protocol_amount: int


def tokens_to_denom(params: MarketParams) -> int:
    """``mul_(mul_(collateralFactor, exchangeRate), oraclePrice)`` (an Exp mantissa)."""
    return mul_exp(mul_exp(params.collateral_factor, params.exchange_rate), params.price)


def hypothetical_account_liquidity(
    holdings: Iterable[Holding],
    markets: Mapping[str, MarketParams],
    modify: str | None = None,
    redeem_tokens: int = 0,
    borrow_amount: int = 0,
) -> AccountLiquidity:
    """``getHypotheticalAccountLiquidityInternal`` over the account's entered markets (in order)."""
    sum_collateral = 0
    sum_borrow = 0
    for holding in holdings:
        params = markets[holding.market]
        if params.price == 0:
            return AccountLiquidity(PRICE_ERROR, 0, 0, 0, 0)
        denom = tokens_to_denom(params)
        sum_collateral = mul_scalar_truncate_add_uint(denom, holding.ctoken_balance, sum_collateral)
        sum_borrow = mul_scalar_truncate_add_uint(params.price, holding.borrow_balance, sum_borrow)
        if holding.market == modify:
            sum_borrow = mul_scalar_truncate_add_uint(denom, redeem_tokens, sum_borrow)
            sum_borrow = mul_scalar_truncate_add_uint(params.price, borrow_amount, sum_borrow)
    if sum_collateral > sum_borrow:
        return AccountLiquidity(NO_ERROR, sum_collateral - sum_borrow, 0, sum_collateral, sum_borrow)
    return AccountLiquidity(NO_ERROR, 0, sum_borrow - sum_collateral, sum_collateral, sum_borrow)


def liquidate_calculate_seize_tokens(
    price_borrowed: int,
    price_collateral: int,
    exchange_rate_collateral: int,
    liquidation_incentive: int,
    actual_repay_amount: int,
) -> tuple[int, int]:
    """``liquidateCalculateSeizeTokens``: ``(error, seizeTokens)`` in raw collateral cTokens."""
    if price_borrowed == 0 or price_collateral == 0:
        return PRICE_ERROR, 0
    numerator = mul_exp(liquidation_incentive, price_borrowed)
    denominator = mul_exp(price_collateral, exchange_rate_collateral)
    ratio = div_exp(numerator, denominator)
    return NO_ERROR, mul_scalar_truncate(ratio, actual_repay_amount)


def max_close(close_factor: int, borrow_balance: int) -> int:
    """Most underlying one ``liquidateBorrow`` may repay: ``mul_ScalarTruncate(closeFactor, borrowBalance)``."""
    return mul_scalar_truncate(close_factor, borrow_balance)


def seize_split(
    seize_tokens: int, exchange_rate: int, protocol_seize_share: int = PROTOCOL_SEIZE_SHARE_MANTISSA
) -> SeizeSplit:
    """``seizeInternal``'s split of ``seize_tokens`` between liquidator and reserves."""
    protocol_tokens = mul_uint_exp(seize_tokens, protocol_seize_share)
    return SeizeSplit(
        liquidator_tokens=seize_tokens - protocol_tokens,
        protocol_tokens=protocol_tokens,
        protocol_amount=mul_scalar_truncate(exchange_rate, protocol_tokens),
    )


def borrow_balance_stored(principal: int, borrow_index: int, interest_index: int) -> int:
    """``borrowBalanceStoredInternal``: ``principal · borrowIndex / interestIndex`` (0 without principal)."""
    if principal == 0:
        return 0
    return principal * borrow_index // interest_index


def exchange_rate_stored(
    total_cash: int, total_borrows: int, total_reserves: int, total_supply: int, initial_exchange_rate: int
) -> int:
    """``exchangeRateStoredInternal``: ``(cash + borrows − reserves) · 1e18 / totalSupply``."""
    if total_supply == 0:
        return initial_exchange_rate
    return (total_cash + total_borrows - total_reserves) * 10**18 // total_supply


def oracle_price_mantissa(price_raw: int, decimals: int, base_currency_decimals: int) -> int:
    """``getUnderlyingPrice`` scale (``price per whole token · 10^(36 − decimals)``) from a canonical
    ``price_raw`` (base currency per whole token with ``base_currency_decimals`` decimals)."""
    shift = 36 - decimals - base_currency_decimals
    if shift >= 0:
        return price_raw * 10**shift
    unit = 10**-shift
    if price_raw % unit:
        raise DataError(f"price {price_raw} cannot be rescaled exactly to the oracle's 36 − {decimals} scale")
    return price_raw // unit


class CompoundV2Reference:
    """Recomputes ``getAccountLiquidity`` for the accounts of one Compound v2 ``MarketState``.

    Reads per market (asset row) ``extra["collateral_factor_mantissa"]``,
    ``extra["exchange_rate_mantissa"]`` (``None`` only where the factor is 0) and the oracle price
    (``extra["price_mantissa"]``, else derived from ``price_raw``); per account the raw cToken balances
    in ``accounts.extra["ctoken_balances"]`` and the raw borrow balances (``positions.debt_raw``).
    Entered markets are ``accounts.extra["entered_markets"]`` when present (a live snapshot's
    ``getAssetsIn``), else every market where the account holds cTokens or owes a debt. ``prices``
    overrides oracle mantissas (cToken address → ``getUnderlyingPrice`` value), for scenarios.
    """

    def __init__(self, state: MarketState, prices: Mapping[str, int] | None = None) -> None:
        prices = prices or {}
        base_decimals = state.meta.base_currency_decimals
        self.markets: dict[str, MarketParams] = {}
        for row in state.assets.itertuples(index=False):
            extra = row.extra or {}
            if "collateral_factor_mantissa" not in extra:
                raise DataError(f"market {row.asset} lacks extra['collateral_factor_mantissa']")
            cf = int(extra["collateral_factor_mantissa"])
            rate = extra.get("exchange_rate_mantissa")
            if rate is None and cf != 0:
                raise DataError(f"market {row.asset} has a collateral factor but no exchange rate")
            price = extra.get("price_mantissa")
            if price is None:
                price = oracle_price_mantissa(int(row.price_raw), int(row.decimals), base_decimals)
            self.markets[row.asset] = MarketParams(cf, int(rate or 0), int(prices.get(row.asset, price)))
        self._accounts: dict[tuple[str, str], dict] = {
            (m, a): (extra or {})
            for m, a, extra in zip(
                state.accounts["market"], state.accounts["account"], state.accounts["extra"], strict=True
            )
        }
        self._positions: dict[tuple[str, str], list[tuple[str, int, bool]]] = {}
        pos = state.positions
        for m, a, asset, debt, enabled, collateral in zip(
            pos["market"],
            pos["account"],
            pos["asset"],
            pos["debt_raw"],
            pos["collateral_enabled"],
            pos["collateral_raw"],
            strict=True,
        ):
            self._positions.setdefault((m, a), []).append(
                (asset, int(debt), bool(enabled) and int(collateral) > 0)
            )

    def holdings(self, market: str, account: str) -> list[Holding]:
        """The account's entered markets with their raw cToken and borrow balances."""
        extra = self._accounts.get((market, account), {})
        balances = {k: int(v) for k, v in (extra.get("ctoken_balances") or {}).items()}
        rows = self._positions.get((market, account), [])
        debts = {asset: debt for asset, debt, _ in rows}
        entered = extra.get("entered_markets")
        if entered is None:
            entered = list(balances) + [
                asset for asset, debt, _ in rows if debt > 0 and asset not in balances
            ]
        for asset, _, supplies in rows:
            if supplies and asset not in balances:
                raise DataError(f"account {account} supplies {asset} but its cToken balance is not recorded")
        return [Holding(asset, balances.get(asset, 0), debts.get(asset, 0)) for asset in entered]

    def account_liquidity(self, market: str, account: str) -> AccountLiquidity:
        """The reference ``getAccountLiquidity`` of one account."""
        return hypothetical_account_liquidity(self.holdings(market, account), self.markets)

    def all_accounts(self) -> pd.DataFrame:
        """Reference values for every account: market, account, error, liquidity, shortfall,
        sum_collateral, sum_borrow (ints, 18 decimals of the base currency)."""
        rows = []
        for market, account in self._accounts:
            result = self.account_liquidity(market, account)
            rows.append(
                (
                    market,
                    account,
                    result.error,
                    result.liquidity,
                    result.shortfall,
                    result.sum_collateral,
                    result.sum_borrow,
                )
            )
        return pd.DataFrame(
            rows,
            columns=["market", "account", "error", "liquidity", "shortfall", "sum_collateral", "sum_borrow"],
        )
