"""Morpho Blue liquidations: the family's rules object for the estimator.

``Morpho.liquidate`` (``@morpho-org/morpho-blue`` 1.0.0) in the estimator's float terms, per netting
unit (market id, account):

* liquidatable when unhealthy: ``borrowed > collateral · price · LLTV`` (``HF < 1`` with the LLTV as
  liquidation weight);
* no close factor: one call may repay any amount, up to the whole debt (``close_factor = 1``);
* the liquidator seizes ``repaid · LIF`` of collateral value, ``LIF = min(1.15, 1 / (0.3·LLTV + 0.7))``
  (the bonus ``LIF − 1`` is on each collateral row); no protocol fee;
* when a call leaves the position without collateral, the rest of its debt is realised as bad debt
  and socialised to the market's suppliers (``BadDebtPolicy.REALISE``).

The integer maths of one call, verified on chain to the wei, is ``reference.liquidate``.
"""

from __future__ import annotations

from defirisk.errors import DataError
from defirisk.liquidation.rules import BadDebtPolicy, LiquidationRules
from defirisk.model import MarketState

RULES_VERSION = "1.0"


def morpho_blue_rules(state: MarketState) -> LiquidationRules:
    """The estimator's rules for a Morpho Blue snapshot (``meta.rules_version`` must be ``"1.0"``)."""
    if state.meta.rules_version != RULES_VERSION:
        raise DataError(
            f"unknown Morpho Blue rules version {state.meta.rules_version!r} (expected {RULES_VERSION!r}: "
            "the Morpho Blue contract is immutable)"
        )
    return LiquidationRules(
        family="morpho-blue",
        version=RULES_VERSION,
        liquidation_hf=1.0,
        close_factor=1.0,
        close_factor_of_position=False,
        bad_debt=BadDebtPolicy.REALISE,
        note=(
            "Morpho Blue 1.0: liquidatable below HF 1 at the LLTV, any repay amount, "
            "seize = repay × LIF (min(1.15, 1/(0.3·LLTV + 0.7))), no protocol fee; "
            "debt left without collateral is realised and socialised to the market's suppliers"
        ),
    )
