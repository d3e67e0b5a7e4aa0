"""The integer reference of ``_isHealthy`` and ``liquidate`` (pure; checked on chain in test_snapshot_chain)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from defirisk.adapters.morpho_blue.liquidation import morpho_blue_rules
from defirisk.adapters.morpho_blue.maths import (
    ORACLE_PRICE_SCALE,
    MarketTotals,
    liquidation_incentive_factor,
    to_assets_up,
)
from defirisk.adapters.morpho_blue.reference import PositionRaw, is_healthy, liquidate, max_borrow
from defirisk.errors import DataError
from defirisk.model import (
    ACCOUNT_COLUMNS,
    ASSET_COLUMNS,
    EMODE_COLUMNS,
    POSITION_COLUMNS,
    MarketState,
    SnapshotMeta,
    empty_frame,
)
from defirisk.units import WAD

#: A 6-decimal loan token, 18-decimal collateral at 3,000 loan tokens each: price = 3000e24.
PRICE = 3000 * 10**24
LLTV = 86 * 10**16
MARKET = MarketTotals(10**13, 10**19, 4 * 10**12, 4 * 10**18, 0, 0)


def test_max_borrow_of_one_collateral_token() -> None:
    # 1e18 wei × 3000e24 / 1e36 = 3000e6 loan units; × 0.86 = 2580e6.
    assert max_borrow(10**18, PRICE, LLTV) == 2_580 * 10**6


def test_health_at_the_limit_is_inclusive() -> None:
    shares = 2_580 * 10**12  # (A + 1) / (S + 1e6) is exactly 1e-6 with these totals
    assert to_assets_up(shares, MARKET.total_borrow_assets, MARKET.total_borrow_shares) == 2_580 * 10**6
    assert is_healthy(PositionRaw(0, shares, 10**18), MARKET, PRICE, LLTV)
    # One more share rounds the debt up by one base unit: past the limit.
    assert not is_healthy(PositionRaw(0, shares + 1, 10**18), MARKET, PRICE, LLTV)
    assert is_healthy(PositionRaw(10**20, 0, 0), MARKET, PRICE, LLTV)


unhealthy = st.tuples(
    st.integers(10**6, 10**24),           # collateral
    st.integers(10**22, 10**28),          # price
    st.integers(0, WAD - 1),              # lltv
    st.integers(10**6, 10**15),           # borrow assets of the position
)


@settings(max_examples=200, deadline=None)
@given(case=unhealthy, part=st.integers(1, 1000))
def test_seizing_collateral_repays_at_least_its_value_over_the_lif(case: tuple, part: int) -> None:
    collateral, price, lltv, debt = case
    market = MarketTotals(10**16, 10**22, 10**15, 10**21, 0, 0)
    position = PositionRaw(0, debt * 10**6, collateral)
    assume(not is_healthy(position, market, price, lltv))
    seized = max(1, collateral * part // 1000)
    try:
        out = liquidate(position, market, price, lltv, seized_assets=seized)
    except DataError:
        # More shares repaid than the position owes: the contract reverts too (underflow). The two
        # round-ups of the quote and the shares' rounding put the exact value within 3 units of the debt.
        assert Fraction(seized * price, ORACLE_PRICE_SCALE) / Fraction(liquidation_incentive_factor(lltv), WAD) > \
            to_assets_up(position.borrow_shares, market.total_borrow_assets, market.total_borrow_shares) - 3
        return
    lif = Fraction(liquidation_incentive_factor(lltv), WAD)
    assert out.repaid_assets * lif >= Fraction(seized * price, ORACLE_PRICE_SCALE)
    # Value is conserved on the market's books: debt falls by what was repaid and written off.
    assert out.market.total_borrow_assets == market.total_borrow_assets - out.repaid_assets - out.bad_debt_assets
    assert out.market.total_supply_assets == market.total_supply_assets - out.bad_debt_assets
    assert (out.bad_debt_assets > 0) == (seized == collateral and out.position.borrow_shares == 0
                                         and position.borrow_shares > out.repaid_shares)


def test_liquidate_refuses_what_the_contract_refuses() -> None:
    healthy = PositionRaw(0, 10**12, 10**18)
    with pytest.raises(DataError, match="position is healthy"):
        liquidate(healthy, MARKET, PRICE, LLTV, seized_assets=1)
    with pytest.raises(DataError, match="inconsistent"):
        liquidate(healthy, MARKET, PRICE, LLTV, seized_assets=1, repaid_shares=1)


def _state(rules_version: str) -> MarketState:
    meta = SnapshotMeta("d", "morpho-blue", 1, 1, "0x" + "00" * 32, 1, "morpho-blue/1", "oracles",
                        rules_version=rules_version)
    return MarketState(meta, empty_frame(ASSET_COLUMNS), empty_frame(EMODE_COLUMNS), empty_frame(ACCOUNT_COLUMNS),
                       empty_frame(POSITION_COLUMNS))


def test_rules_need_the_known_version() -> None:
    assert morpho_blue_rules(_state("1.0")).close_factor == 1.0
    with pytest.raises(DataError):
        morpho_blue_rules(_state(""))
