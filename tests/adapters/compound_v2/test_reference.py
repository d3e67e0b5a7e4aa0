"""The integer Comptroller reference on hand-computed cases (getHypotheticalAccountLiquidity,
liquidateCalculateSeizeTokens, maxClose, seizeInternal, the cToken's stored balances)."""

from __future__ import annotations

import pytest

from defirisk.adapters.compound_v2.reference import (
    NO_ERROR,
    PRICE_ERROR,
    PROTOCOL_SEIZE_SHARE_MANTISSA,
    Holding,
    MarketParams,
    borrow_balance_stored,
    exchange_rate_stored,
    hypothetical_account_liquidity,
    liquidate_calculate_seize_tokens,
    max_close,
    oracle_price_mantissa,
    seize_split,
    tokens_to_denom,
)
from defirisk.errors import DataError

E18 = 10**18
# cETH-like: CF 75 %, 0.02 ETH per cToken (mantissa 0.02·1e28), price 1 ETH (36 − 18 scale).
CETH = MarketParams(collateral_factor=75 * 10**16, exchange_rate=2 * 10**26, price=E18)
# cUSDC-like: CF 0, 0.02 USDC per cToken (0.02·1e16), price 1/2000 ETH per USDC (0.0005·1e30).
CUSDC = MarketParams(collateral_factor=0, exchange_rate=2 * 10**14, price=5 * 10**26)
MARKETS = {"ceth": CETH, "cusdc": CUSDC}


def test_tokens_to_denom() -> None:
    assert tokens_to_denom(CETH) == 15 * 10**25  # 0.75 · 0.02 ETH per cToken base unit ×1e18
    assert tokens_to_denom(CUSDC) == 0


def test_liquidity_of_a_healthy_account() -> None:
    # 50 cETH = 1 ETH → 0.75 ETH borrowing power; 1,400 USDC debt = 0.7 ETH.
    holdings = [Holding("ceth", 50 * 10**8, 0), Holding("cusdc", 0, 1_400 * 10**6)]
    result = hypothetical_account_liquidity(holdings, MARKETS)
    assert (result.error, result.liquidity, result.shortfall) == (NO_ERROR, 5 * 10**16, 0)
    assert (result.sum_collateral, result.sum_borrow) == (75 * 10**16, 70 * 10**16)


def test_hypothetical_borrow_to_exactly_zero_and_redeem_into_shortfall() -> None:
    holdings = [Holding("ceth", 50 * 10**8, 0), Holding("cusdc", 0, 1_400 * 10**6)]
    # Borrowing 100 USDC more makes the sums equal: neither liquidity nor shortfall.
    equal = hypothetical_account_liquidity(holdings, MARKETS, modify="cusdc", borrow_amount=100 * 10**6)
    assert (equal.liquidity, equal.shortfall) == (0, 0)
    # Redeeming 5 cETH (0.1 ETH, 0.075 ETH of borrowing power) leaves a 0.025 ETH shortfall.
    redeem = hypothetical_account_liquidity(holdings, MARKETS, modify="ceth", redeem_tokens=5 * 10**8)
    assert (redeem.liquidity, redeem.shortfall) == (0, 25 * 10**15)


def test_each_position_is_truncated_separately() -> None:
    # Price 3 (3e-18 ETH per base unit), 1 unit each in two markets: each term truncates to 0.
    tiny = MarketParams(collateral_factor=E18, exchange_rate=2 * 10**17, price=3)
    result = hypothetical_account_liquidity([Holding("a", 1, 1), Holding("b", 1, 1)], {"a": tiny, "b": tiny})
    assert (result.sum_collateral, result.sum_borrow) == (0, 0)
    assert (result.liquidity, result.shortfall) == (0, 0)


def test_zero_price_is_a_price_error() -> None:
    broken = MarketParams(collateral_factor=E18, exchange_rate=E18, price=0)
    result = hypothetical_account_liquidity(
        [Holding("ceth", 10, 0), Holding("x", 1, 0)], {**MARKETS, "x": broken}
    )
    assert (result.error, result.liquidity, result.shortfall) == (PRICE_ERROR, 0, 0)


def test_seize_tokens_hand_computed() -> None:
    # Repay 1,000 USDC (0.5 ETH) × 1.08 = 0.54 ETH of cETH at 0.02 ETH per cToken = 27 cETH.
    error, seize = liquidate_calculate_seize_tokens(5 * 10**26, E18, 2 * 10**26, 108 * 10**16, 1_000 * 10**6)
    assert (error, seize) == (NO_ERROR, 27 * 10**8)
    split = seize_split(seize, 2 * 10**26)
    assert split.protocol_tokens == 75_600_000  # 2.8 % of 27 cETH
    assert split.liquidator_tokens == 2_624_400_000
    assert split.protocol_amount == 15_120_000_000_000_000  # 0.01512 ETH to reserves


def test_seize_tokens_truncate_to_zero() -> None:
    # ratio = 1/3 (truncated to 0.333…333e18): repaying 3 base units seizes nothing.
    assert liquidate_calculate_seize_tokens(E18, 3 * E18, E18, E18, 3) == (NO_ERROR, 0)
    assert liquidate_calculate_seize_tokens(E18, 3 * E18, E18, E18, 4) == (NO_ERROR, 1)
    assert liquidate_calculate_seize_tokens(0, E18, E18, E18, 10) == (PRICE_ERROR, 0)


def test_protocol_seize_share_truncates() -> None:
    split = seize_split(35, E18)  # 35 · 0.028 = 0.98 → 0
    assert (split.protocol_tokens, split.liquidator_tokens) == (0, 35)
    split = seize_split(36, E18)  # 1.008 → 1
    assert (split.protocol_tokens, split.liquidator_tokens) == (1, 35)
    assert PROTOCOL_SEIZE_SHARE_MANTISSA == 28 * 10**15


def test_max_close_truncates() -> None:
    assert max_close(5 * 10**17, 3) == 1
    assert max_close(5 * 10**17, 1_000) == 500


def test_stored_balances_of_the_ctoken() -> None:
    assert borrow_balance_stored(100, 11 * 10**17, E18) == 110
    assert borrow_balance_stored(0, 11 * 10**17, 0) == 0
    assert borrow_balance_stored(3, 10**18 + 1, 2 * 10**18) == 1  # 1.5000…05 truncated
    # 140 USDC of net assets over 7,000 cTokens: 0.02 USDC per cToken = 2e14 as a mantissa.
    assert exchange_rate_stored(100 * 10**6, 50 * 10**6, 10 * 10**6, 7_000 * 10**8, 123) == 2 * 10**14
    assert exchange_rate_stored(5, 5, 0, 0, 123) == 123


def test_oracle_price_scale_is_36_minus_decimals() -> None:
    # 0.0005 ETH per USDC, canonical price_raw with 18 decimals → getUnderlyingPrice 5e26.
    assert oracle_price_mantissa(5 * 10**14, 6, 18) == 5 * 10**26
    assert oracle_price_mantissa(15 * E18, 8, 18) == 15 * 10**28
    assert oracle_price_mantissa(E18, 18, 18) == E18
    assert oracle_price_mantissa(2 * 10**6, 24, 18) == 2
    with pytest.raises(DataError):
        oracle_price_mantissa(2 * 10**6 + 1, 24, 18)
