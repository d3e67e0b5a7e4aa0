"""Compound III liquidations: ``absorb`` and ``buyCollateral`` as the estimator's rules object.

A Comet has no liquidation call with a close factor. When an account's liquidation health factor
(collateral × liquidateCollateralFactor ÷ debt) falls below 1, anyone may call ``absorb``: the
protocol takes *all* the account's collateral and credits the account ``liquidationFactor`` (LF) of
its value in base; debt beyond that credit is paid by the reserves (bad debt), a credit beyond the
debt stays with the account as supply. The absorber earns nothing directly: liquidators profit by then
buying the absorbed collateral from the protocol with ``buyCollateral`` at the storefront discount
``d = storeFrontPriceFactor (SF) · (1 − LF)`` (offered while the reserves are below ``targetReserves``).

In the estimator's terms (``defirisk.liquidation.rules``), for a unit absorbed with collateral value
``S`` in one asset, the family's exposures carry ``bonus = 1/LF − 1`` and ``protocol_fee = 1 − SF``
on that collateral, so the generic seizure gives exactly the absorb-and-buy values::

    repay (debt extinguished)   = S · LF                       (the absorb credit)
    protocol fee                = S · (1 − LF) · (1 − SF)      (the reserves' gain on the sale)
    to the buyer                = S · (LF + d)
    buyer's gain                = S · d                        (bought at S · (1 − d), worth S)

``max_repay`` is the whole debt (the account is absorbed entirely, no close factor), and a unit left
with debt and no collateral has that debt written off to the reserves (``write_off``).

Approximations, all in the estimator only (the integer ``reference.absorb`` is exact):

* the buyer re-sells ``S · (LF + d)``, not ``S``: the liquidity curves see a volume smaller by
  ``S · (1 − LF)(1 − SF)`` (at most 10 % of ``S`` in the bundled configurations, 0 where SF = 1);
* an absorb happens in the model only where buying the collateral pays the buyer (gain − slippage −
  gas > 0); on chain any account may absorb at the cost of gas, and collateral is sold only while the
  reserves are below ``targetReserves``;
* the estimator absorbs one collateral asset per call (up to ``max_calls_per_step`` calls per step),
  the contract all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from defirisk.errors import DataError
from defirisk.liquidation.rules import BadDebtPolicy, LiquidationRules
from defirisk.model import FloatArray, MarketState

RULES_VERSION = "1.0"


@dataclass(frozen=True)
class CometRules(LiquidationRules):
    """``LiquidationRules`` with absorb semantics (module docstring)."""

    def max_repay(
        self,
        hf: FloatArray,
        reserve_debt: FloatArray,
        total_debt: FloatArray,
        reserve_collateral: FloatArray,
    ) -> FloatArray:
        """The whole debt: ``absorb`` takes the account entirely; the collateral cap applies in ``seize``."""
        return np.asarray(reserve_debt, dtype=np.float64).copy()

    def write_off(self, hf: FloatArray, collateral_left: FloatArray, debt_left: FloatArray) -> np.ndarray:
        """Units with debt and no collateral left: the reserves pay that debt (absorb's bad debt)."""
        return (np.asarray(collateral_left) <= 0) & (np.asarray(debt_left) > 0)


def comet_rules(state: MarketState) -> CometRules:
    """The estimator's rules for a Comet snapshot (``meta.rules_version`` must be ``"1.0"``)."""
    if state.meta.rules_version != RULES_VERSION:
        raise DataError(
            f"unknown Compound III rules version {state.meta.rules_version!r} (expected {RULES_VERSION!r})"
        )
    return CometRules(
        family="comet",
        version=RULES_VERSION,
        liquidation_hf=1.0,
        close_factor=1.0,
        bad_debt=BadDebtPolicy.DEFICIT,
        note=(
            "Compound III absorb: liquidatable below HF 1 at the liquidateCollateralFactor; the protocol "
            "takes all collateral and credits liquidationFactor of its value, the reserves pay the rest "
            "(bad debt); buyers of the absorbed collateral gain the storefront discount "
            "storeFrontPriceFactor × (1 − liquidationFactor)"
        ),
    )
