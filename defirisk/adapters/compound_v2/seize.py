"""One ``liquidateBorrow`` of a Compound v2 (or fork) snapshot, predicted in integers (pure).

The checks and amounts of ``Comptroller.liquidateBorrowAllowed``, ``liquidateCalculateSeizeTokens`` and
the seize, on the snapshot's stored values (the call itself accrues interest first, so it sees them
only if no block passed or no interest accrued in between):

* the borrowed market's liquidate action and the collateral's seize action must not be paused;
* a market under Venus's forced liquidation (``isForcedLiquidationEnabled``) may be repaid up to the
  whole borrow balance whatever the account's health; otherwise the account needs a shortfall
  (``reconcile.account_liquidity``, VAI included) and the repay is capped at
  ``maxClose = ⌊closeFactor · borrowBalanceStored / 1e18⌋``;
* ``seizeTokens`` by ``reference.liquidate_calculate_seize_tokens``, which must not exceed the
  borrower's cTokens (``LIQUIDATE_SEIZE_TOO_MUCH``);
* the protocol's part of the seized cTokens: with a Venus Liquidator ``⌊seize · treasuryPercent /
  liquidationIncentive⌋`` (``Liquidator._splitLiquidationIncentive``), with Compound's
  ``protocolSeizeShareMantissa`` ``⌊seize · share / 1e18⌋`` (``reference.seize_split``), else none.
"""

from __future__ import annotations

from dataclasses import dataclass

from defirisk.adapters.compound_v2.reconcile import account_liquidity
from defirisk.adapters.compound_v2.reference import (
    NO_ERROR,
    CompoundV2Reference,
    liquidate_calculate_seize_tokens,
    max_close,
    seize_split,
)
from defirisk.errors import DataError
from defirisk.model import MarketState

OK = "ok"


@dataclass(frozen=True)
class LiquidationCall:
    """The outcome of one call: ``outcome`` is ``"ok"`` or why the contracts refuse it (``"paused"``,
    ``"insufficient shortfall"``, ``"zero repay"``, ``"too much repay"``, ``"price error"``,
    ``"seize too much"``).

    ``repay``: underlying base units of the borrowed market; ``max_repay``: the most this call may repay;
    ``seize_tokens``: collateral cTokens taken from the borrower, of which ``protocol_tokens`` go to
    the reserves or treasury and ``liquidator_tokens`` to the liquidator.
    """

    outcome: str
    repay: int
    max_repay: int
    seize_tokens: int = 0
    protocol_tokens: int = 0
    liquidator_tokens: int = 0


def _row(state: MarketState, asset: str) -> dict:
    rows = state.assets[state.assets["asset"] == asset]
    if len(rows) != 1:
        raise DataError(f"{asset} is not one market of the snapshot")
    return rows.iloc[0].to_dict()


def _balances(state: MarketState, market: str, account: str) -> dict:
    rows = state.accounts[(state.accounts["market"] == market) & (state.accounts["account"] == account)]
    if len(rows) != 1:
        raise DataError(f"{account} is not one account of the snapshot")
    return rows["extra"].iloc[0] or {}


def predict_liquidation(state: MarketState, account: str, borrowed: str, collateral: str,
                        repay: int | None = None) -> LiquidationCall:
    """Predict ``liquidateBorrow(account, repay, collateral)`` on the market ``borrowed`` (cToken keys);
    ``repay`` None means the most allowed."""
    params = state.meta.market_params
    market = params["comptroller"]
    incentive = int(params["liquidation_incentive_mantissa"])
    b, c = _row(state, borrowed)["extra"], _row(state, collateral)["extra"]
    pos = state.positions
    debt = pos[(pos["market"] == market) & (pos["account"] == account) & (pos["asset"] == borrowed)]["debt_raw"]
    borrow_balance = int(debt.iloc[0]) if len(debt) else 0
    forced = bool(b.get("isForcedLiquidationEnabled"))
    limit = borrow_balance if forced else max_close(int(params["close_factor_mantissa"]), borrow_balance)
    amount = limit if repay is None else repay

    def refused(outcome: str) -> LiquidationCall:
        return LiquidationCall(outcome, amount, limit)

    if b.get("liquidate_paused") or c.get("seize_paused"):
        return refused("paused")
    if not forced:
        reference = CompoundV2Reference(state)
        liquidity = account_liquidity(reference, state, market, account)
        if liquidity.error != NO_ERROR:
            return refused("price error")
        if liquidity.shortfall == 0:
            return refused("insufficient shortfall")
    if amount == 0:
        return refused("zero repay")
    if amount > limit:
        return refused("too much repay")
    error, seize = liquidate_calculate_seize_tokens(
        int(b["price_mantissa"]), int(c["price_mantissa"]), int(c["exchange_rate_mantissa"]), incentive, amount)
    if error != NO_ERROR:
        return refused("price error")
    if seize > int(_balances(state, market, account).get("ctoken_balances", {}).get(collateral, 0)):
        return LiquidationCall("seize too much", amount, limit, seize)
    treasury = params.get("treasury_percent_mantissa")
    if treasury is not None:
        protocol = seize * int(treasury) // incentive
    elif c.get("protocolSeizeShareMantissa") is not None:
        protocol = seize_split(seize, int(c["exchange_rate_mantissa"]), int(c["protocolSeizeShareMantissa"])).protocol_tokens
    else:
        protocol = 0
    return LiquidationCall(OK, amount, limit, seize, protocol, seize - protocol)
