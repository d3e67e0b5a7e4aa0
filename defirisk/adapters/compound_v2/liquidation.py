"""Compound v2 liquidations: the family's rules object for the estimator.

``Comptroller.liquidateBorrowAllowed`` and ``CToken.liquidateBorrowFresh`` / ``seizeInternal``
(compound-finance/compound-protocol @a3214f67), in the estimator's float terms:

* liquidatable when the account has a shortfall (``HF < 1``);
* one call repays at most ``closeFactor`` (0.5) of the borrow balance of *one* borrowed market
  (``maxClose = closeFactor · borrowBalanceStored``), any number of calls may follow;
* it seizes ``repay · liquidationIncentive`` (1.08) of value in one collateral market, and reverts
  when the borrower holds fewer cTokens (``LIQUIDATE_SEIZE_TOO_MUCH``: the repay must shrink, which is
  the generic cap);
* ``protocolSeizeShare`` (2.8 %) of the seized cTokens go to the reserves. The canonical
  ``protocol_fee`` is a share of the bonus, ``f = seizeShare · incentive / (incentive − 1)``, so the
  generic fee ``(seized − seized / incentive) · f`` is exactly ``seizeShare · seized``;
* there is no bad-debt mechanism: debt left without collateral stays on the account (KEEP).

Not expressible in the generic rules: a *deprecated* market (CF 0, borrowing paused, reserve factor
100 %; cREP, cSAI, cFEI) may be liquidated whatever the account's health, up to its whole borrow
balance. Those debts are valued but the estimator treats them like any other.
The integer maths of one call is in ``reference`` (``liquidate_calculate_seize_tokens``,
``max_close``, ``seize_split``).
"""

from __future__ import annotations

from defirisk.adapters.compound_v2.exponential import EXP_SCALE
from defirisk.errors import DataError
from defirisk.liquidation.rules import BadDebtPolicy, LiquidationRules
from defirisk.model import MarketState

DEFAULT_CLOSE_FACTOR_MANTISSA = 5 * 10**17


def compound_v2_rules(state: MarketState) -> LiquidationRules:
    """The estimator's rules for a Compound v2 snapshot (close factor from ``meta.market_params``)."""
    if state.meta.rules_version != "compound-v2":
        raise DataError(
            f"unknown Compound v2 rules version {state.meta.rules_version!r} (expected 'compound-v2')"
        )
    close_factor = int(state.meta.market_params.get("close_factor_mantissa", DEFAULT_CLOSE_FACTOR_MANTISSA))
    return LiquidationRules(
        family="compound-v2",
        version="compound-v2",
        liquidation_hf=1.0,
        close_factor=close_factor / EXP_SCALE,
        close_factor_of_position=False,
        bad_debt=BadDebtPolicy.KEEP,
        note=(
            "Compound v2: shortfall > 0, close factor of one borrow balance per call, "
            "seize = repay × incentive, protocolSeizeShare of the seized cTokens to reserves; "
            "deprecated-market liquidations (any health, full balance) not modelled"
        ),
    )
