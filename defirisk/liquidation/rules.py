"""Per-family liquidation rules: a small object the estimator asks, instead of branching on protocols.

Every family returns one ``LiquidationRules`` from ``Family.liquidation_rules(state)``. The estimator
works on float values in the market's base currency (whole-token balance × price) and asks the rules
five questions, each vectorised over arrays of the same shape:

* ``liquidatable(hf)`` — may this unit be liquidated at all;
* ``max_repay(hf, reserve_debt, total_debt, reserve_collateral)`` — the most debt value one call may
  repay (close factor, full-liquidation thresholds);
* ``seize(repay, collateral, bonus, protocol_fee)`` — what one call takes: the collateral seized for a
  repaid value, capped by the collateral balance (the repaid value then shrinks), and its split into
  the liquidator's part and the protocol's fee;
* ``repay_options(...)`` — which repay amounts the protocol accepts near the position's end (Aave v3.3
  forbids leaving dust);
* ``write_off(hf, collateral_left, debt_left)`` — which units' remaining debt leaves the account as bad
  debt (Aave v3.3 deficit, Morpho Blue realised loss) instead of staying on it (Aave v3.0).

Seizure, in base-currency values, for bonus ``b`` and protocol fee share ``f`` (both fractions)::

    seized      = min(repay · (1 + b), collateral)        (repay = seized / (1 + b) when capped)
    fee         = (seized − seized / (1 + b)) · f         (the protocol's cut of the bonus part)
    liquidator  = seized − fee
    repay + (liquidator − repay) + fee = seized           (value is conserved)

Families whose mechanics do not fit these parameters subclass ``LiquidationRules`` and override the
methods; the estimator only calls the methods. The hooks left for them: Compound III ``absorb`` (the
protocol itself takes every liquidatable account's collateral and debt: override ``write_off`` to
write off units with ``hf < 1`` and ``max_repay`` to 0), Morpho Blue (``BadDebtPolicy.REALISE``: the
loss is socialised to the market's suppliers when a position's collateral reaches zero).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from defirisk.model import FloatArray


class BadDebtPolicy(StrEnum):
    """What happens to the debt an account keeps once its collateral is gone."""

    #: Aave v3.0–v3.2: the debt stays on the account; nobody repays it.
    KEEP = "keep"
    #: Aave v3.3+: the account's whole remaining debt is burned into the reserves' ``deficit``.
    DEFICIT = "deficit"
    #: Morpho Blue: the loss is realised and socialised to the market's suppliers.
    REALISE = "realise"


@dataclass(frozen=True)
class Seizure:
    """The values one liquidation call moves (base currency, arrays of one shape)."""

    repay: FloatArray
    seized: FloatArray
    to_liquidator: FloatArray
    protocol_fee: FloatArray

    @property
    def liquidator_bonus(self) -> FloatArray:
        """Value the liquidator gains before costs: ``to_liquidator − repay``."""
        return self.to_liquidator - self.repay


@dataclass(frozen=True)
class LiquidationRules:
    """Parameters of one family's liquidation mechanics, with vectorised helpers.

    Values (``full_close_below``, ``min_leftover``) are in the market's base currency; health factors
    and ``close_factor`` are plain fractions.

    * ``liquidation_hf`` — a unit is liquidatable when ``HF < liquidation_hf``.
    * ``close_factor`` — share of the debt one call may repay; of the debt reserve's balance when
      ``close_factor_of_position`` is false (Aave v3.0), of the position's total debt value (capped by
      the reserve's balance) when true (Aave v3.3).
    * ``full_close_hf`` — at or below this health factor one call may repay everything (Aave 0.95;
      0 disables it).
    * ``full_close_below`` — a reserve whose collateral or debt value is below this may be repaid in full
      (Aave v3.3: 2,000 base units).
    * ``min_leftover`` — a call that repays neither all the debt nor all the collateral must leave at
      least this much of both (Aave v3.3: 1,000 base units), or it reverts.
    """

    family: str
    version: str
    liquidation_hf: float = 1.0
    close_factor: float = 0.5
    full_close_hf: float = 0.0
    close_factor_of_position: bool = False
    full_close_below: float = 0.0
    min_leftover: float = 0.0
    bad_debt: BadDebtPolicy = BadDebtPolicy.KEEP
    note: str = ""

    def liquidatable(self, hf: FloatArray) -> np.ndarray:
        """``HF < liquidation_hf``; same shape as ``hf``."""
        return np.asarray(hf) < self.liquidation_hf

    def max_repay(
        self,
        hf: FloatArray,
        reserve_debt: FloatArray,
        total_debt: FloatArray,
        reserve_collateral: FloatArray,
    ) -> FloatArray:
        """Most debt value one call may repay, before the collateral cap.

        ``reserve_debt``: value of the debt being repaid; ``total_debt``: the unit's whole debt value;
        ``reserve_collateral``: value of the collateral being seized. All base currency, one shape.
        """
        hf = np.asarray(hf, dtype=np.float64)
        reserve_debt = np.asarray(reserve_debt, dtype=np.float64)
        full = hf <= self.full_close_hf
        if self.full_close_below > 0:
            full = full | (reserve_debt < self.full_close_below) | (reserve_collateral < self.full_close_below)
        if self.close_factor_of_position:
            partial = np.minimum(reserve_debt, self.close_factor * np.asarray(total_debt, dtype=np.float64))
        else:
            partial = self.close_factor * reserve_debt
        return np.where(full, reserve_debt, partial)

    def seize(
        self,
        repay: FloatArray,
        collateral: FloatArray,
        bonus: FloatArray,
        protocol_fee: FloatArray,
    ) -> Seizure:
        """Collateral taken for ``repay`` (see the module docstring); all values base currency."""
        repay = np.asarray(repay, dtype=np.float64)
        gross = 1.0 + np.asarray(bonus, dtype=np.float64)
        seized = np.minimum(repay * gross, collateral)
        capped = seized < repay * gross
        repay = np.where(capped, seized / gross, repay)
        fee = (seized - seized / gross) * protocol_fee
        return Seizure(repay=repay, seized=seized, to_liquidator=seized - fee, protocol_fee=fee)

    def repay_options(
        self,
        desired: FloatArray,
        max_repay: FloatArray,
        reserve_debt: FloatArray,
        reserve_collateral: FloatArray,
        bonus: FloatArray,
    ) -> tuple[FloatArray, FloatArray]:
        """Two repay values the protocol accepts around ``desired`` (NaN where none exists).

        Without a leftover rule both equal ``desired``. With ``min_leftover = L`` (Aave v3.3), a call
        leaving less than ``L`` of debt or of collateral (but not clearing either) reverts, so the
        liquidator either clears the position (the smaller of all the debt and the debt that buys all
        the collateral, if the close factor allows it) or repays less, leaving ``L`` of both. The
        estimator picks the more profitable of the two.
        """
        desired = np.asarray(desired, dtype=np.float64)
        if self.min_leftover <= 0:
            return desired, desired
        gross = 1.0 + np.asarray(bonus, dtype=np.float64)
        buys_all_collateral = reserve_collateral / gross
        clears = (desired >= reserve_debt) | (desired >= buys_all_collateral)
        leaves_dust = ~clears & (
            (reserve_debt - desired < self.min_leftover)
            | (reserve_collateral - desired * gross < self.min_leftover)
        )
        full = np.minimum(reserve_debt, buys_all_collateral)
        full = np.where(full <= max_repay, full, np.nan)
        smaller = np.minimum(reserve_debt - self.min_leftover, (reserve_collateral - self.min_leftover) / gross)
        smaller = np.where(smaller > 0, smaller, np.nan)
        return np.where(leaves_dust, smaller, desired), np.where(leaves_dust, full, desired)

    def write_off(self, hf: FloatArray, collateral_left: FloatArray, debt_left: FloatArray) -> np.ndarray:
        """Units whose remaining debt leaves the account now (as deficit or realised loss).

        Asked once per step, after the step's calls, for every unit that was liquidatable at the step's
        start: ``hf`` its health factor now, ``collateral_left`` the value of collateral that can still be
        seized, ``debt_left`` its debt value. KEEP writes nothing off; DEFICIT and REALISE write off a unit
        with debt and no collateral left (Aave v3.3 burns every debt reserve of that account; Morpho Blue
        realises the loss when the position's collateral reaches zero).
        """
        if self.bad_debt is BadDebtPolicy.KEEP:
            return np.zeros(np.shape(debt_left), dtype=bool)
        return (np.asarray(collateral_left) <= 0) & (np.asarray(debt_left) > 0)
