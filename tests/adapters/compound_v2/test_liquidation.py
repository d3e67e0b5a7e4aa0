"""Compound v2 liquidation rules and seize maths: value conservation in float and integer form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.adapters.compound_v2.family import CompoundV2Family
from defirisk.adapters.compound_v2.reference import (
    NO_ERROR,
    PROTOCOL_SEIZE_SHARE_MANTISSA,
    liquidate_calculate_seize_tokens,
    seize_split,
)
from defirisk.errors import DataError
from defirisk.liquidation.rules import BadDebtPolicy
from defirisk.model import MarketState

E18 = 10**18


def test_rules_object(may_state: MarketState) -> None:
    rules = CompoundV2Family().liquidation_rules(may_state)
    assert (rules.family, rules.version) == ("compound-v2", "compound-v2")
    assert rules.close_factor == 0.5 and rules.close_factor_of_position is False
    assert rules.full_close_hf == 0.0 and rules.bad_debt is BadDebtPolicy.KEEP
    assert list(rules.liquidatable(np.array([0.99, 1.0, 1.2]))) == [True, False, False]
    # Half of the repaid market's borrow balance, whatever the rest of the account owes.
    assert list(
        rules.max_repay(np.array([0.5]), np.array([100.0]), np.array([1_000.0]), np.array([1.0]))
    ) == [50.0]


def test_unknown_rules_version_is_refused(may_state: MarketState) -> None:
    from dataclasses import replace

    other = replace(may_state, meta=replace(may_state.meta, rules_version="venus-v4"))
    with pytest.raises(DataError, match="rules version"):
        CompoundV2Family().liquidation_rules(other)


@settings(max_examples=100, deadline=None)
@given(repay=st.floats(1e-6, 1e9), collateral=st.floats(1e-6, 1e9))
def test_float_seizure_conserves_value(may_state: MarketState, repay: float, collateral: float) -> None:
    """Repaid × incentive = seized value, of which 2.8 % goes to reserves (when not capped)."""
    rules = CompoundV2Family().liquidation_rules(may_state)
    bonus = float(may_state.assets["liquidation_bonus"].iloc[0])
    fee = float(may_state.assets["protocol_fee"].iloc[0])
    out = rules.seize(np.array([repay]), np.array([collateral]), np.array([bonus]), np.array([fee]))
    assert out.seized[0] == pytest.approx(out.repay[0] * 1.08, rel=1e-12)
    assert out.protocol_fee[0] == pytest.approx(0.028 * out.seized[0], rel=1e-12)
    assert out.to_liquidator[0] + out.protocol_fee[0] == pytest.approx(out.seized[0], rel=1e-12)
    assert out.seized[0] <= collateral * (1 + 1e-12)
    assert out.liquidator_bonus[0] == pytest.approx(out.repay[0] * (1.08 * 0.972 - 1), rel=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    repay=st.integers(1, 10**24),
    price_borrowed=st.integers(10**6, 10**32),
    price_collateral=st.integers(10**6, 10**32),
    exchange_rate=st.integers(10**14, 10**28),
)
def test_integer_seizure_conserves_value(
    repay: int, price_borrowed: int, price_collateral: int, exchange_rate: int
) -> None:
    """Every step truncates: with ``D = ⌊priceCollateral · exchangeRate / 1e18⌋`` the seized cTokens
    never buy more than ``repay · incentive`` at ``D`` (``seize · D · 1e18 ≤ repay · incentive ·
    priceBorrowed``), match it within 1e-5 once the intermediate values are large, and the liquidator's
    and the reserves' cTokens add up to the seized cTokens."""
    incentive = 108 * 10**16
    error, seize = liquidate_calculate_seize_tokens(
        price_borrowed, price_collateral, exchange_rate, incentive, repay
    )
    assert error == NO_ERROR
    exact = repay * incentive * price_borrowed  # repaid value × incentive, wei × 1e36
    denominator = price_collateral * exchange_rate // E18
    assert seize * denominator * E18 <= exact
    numerator = incentive * price_borrowed // E18
    ratio = numerator * E18 // denominator
    if min(numerator, denominator, ratio, seize) > 10**6:
        seized_value = seize * exchange_rate * price_collateral  # wei × 1e36
        assert seized_value == pytest.approx(exact, rel=1e-5)
    split = seize_split(seize, exchange_rate)
    assert split.liquidator_tokens + split.protocol_tokens == seize
    assert split.protocol_tokens == seize * PROTOCOL_SEIZE_SHARE_MANTISSA // E18
    assert split.protocol_amount == exchange_rate * split.protocol_tokens // E18
