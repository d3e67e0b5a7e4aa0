"""The local market's parameters: real Aave v3 Ethereum values of 2023-10-31.

Copied from ``shared/data/aave_v3_ethereum_2023-10-31/reserves.csv``, ``emodes.csv`` and
``interest_rate_strategies.csv`` (extracted from bgd-labs/aave-proposals-v3, MIT, report
``AaveV3Ethereum_UpgradeAaveV3ETHPooolWETHParameters_20231031_before.json``). The tests must not
read ``shared/`` at run time, so the rows used are kept here. Units as in the CSV: basis points,
oracle answers in USD with 8 decimals, caps in whole tokens, debt ceiling in USD with 2 decimals,
interest-rate parameters as fractions (converted to RAY when deployed).

Not in the source: ``stableRateExcessOffset`` (stable borrowing is disabled on every reserve, so it
is set to 0) and token names (the CSV has symbols only).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

RAY = 10**27
ORACLE_DECIMALS = 8


@dataclass(frozen=True)
class RateStrategy:
    """DefaultReserveInterestRateStrategy parameters as fractions (``0.038`` = 3.8 % a year)."""

    optimal_usage_ratio: str
    base_variable_borrow_rate: str
    variable_rate_slope1: str
    variable_rate_slope2: str
    stable_rate_slope1: str
    stable_rate_slope2: str
    base_stable_borrow_rate: str
    optimal_stable_to_total_debt_ratio: str

    def constructor_args(self) -> list[int]:
        """The strategy constructor's RAY arguments after the provider, in declaration order.

        Aave v3.0 stores ``baseStableRateOffset`` = base stable rate - variable slope 1.
        """

        def ray(value: str | Decimal) -> int:
            return int(Decimal(value) * RAY)

        stable_offset = Decimal(self.base_stable_borrow_rate) - Decimal(self.variable_rate_slope1)
        return [
            ray(self.optimal_usage_ratio),
            ray(self.base_variable_borrow_rate),
            ray(self.variable_rate_slope1),
            ray(self.variable_rate_slope2),
            ray(self.stable_rate_slope1),
            ray(self.stable_rate_slope2),
            ray(stable_offset),
            0,
            ray(self.optimal_stable_to_total_debt_ratio),
        ]


@dataclass(frozen=True)
class Reserve:
    """One reserve's configuration, as in one row of ``reserves.csv``."""

    symbol: str
    name: str
    decimals: int
    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int
    liquidation_protocol_fee_bps: int
    reserve_factor_bps: int
    emode_category: int
    price: int
    supply_cap: int
    borrow_cap: int
    debt_ceiling: int
    borrowing_enabled: bool
    borrowable_in_isolation: bool
    flashloanable: bool
    rates: RateStrategy

    @property
    def isolated(self) -> bool:
        """A reserve with a debt ceiling is an isolation-mode collateral."""
        return self.debt_ceiling > 0


@dataclass(frozen=True)
class EModeCategory:
    """One row of ``emodes.csv``, restricted to the members deployed here."""

    category_id: int
    label: str
    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int
    members: tuple[str, ...]


# Fields in Reserve's order: symbol, name, decimals, LTV, liquidation threshold, liquidation bonus,
# protocol fee, reserve factor, e-mode category, price, supply cap, borrow cap, debt ceiling,
# borrowing enabled, borrowable in isolation, flash-loanable, rate strategy.
RESERVES: tuple[Reserve, ...] = (
    Reserve(
        "WETH", "Wrapped Ether", 18, 8050, 8300, 10500, 1000, 1500, 1, 181685499606,
        1_800_000, 1_400_000, 0, True, False, True,
        RateStrategy("0.9", "0.0", "0.038", "0.8", "0.04", "0.8", "0.068", "0.2"),
    ),
    Reserve(
        "wstETH", "Wrapped liquid staked Ether 2.0", 18, 7850, 8100, 10600, 1000, 1500, 1,
        208052489524, 850_000, 24_000, 0, True, False, True,
        RateStrategy("0.45", "0.0025", "0.045", "0.8", "0.04", "0.8", "0.075", "0.2"),
    ),
    Reserve(
        "WBTC", "Wrapped BTC", 8, 7300, 7800, 10500, 1000, 2000, 0, 3481414003279,
        43_000, 28_000, 0, True, False, True,
        RateStrategy("0.45", "0.0", "0.04", "3.0", "0.07", "3.0", "0.06", "0.2"),
    ),
    Reserve(
        "USDC", "USD Coin", 6, 7700, 8000, 10450, 2000, 1000, 0, 99997427,
        1_760_000_000, 1_580_000_000, 0, True, True, True,
        RateStrategy("0.9", "0.0", "0.035", "0.6", "0.005", "0.6", "0.045", "0.2"),
    ),
    Reserve(
        "USDT", "Tether USD", 6, 7400, 7600, 10450, 1000, 1000, 0, 100017686,
        600_000_000, 500_000_000, 0, True, True, True,
        RateStrategy("0.8", "0.0", "0.04", "0.75", "0.04", "0.72", "0.05", "0.2"),
    ),
    Reserve(
        "DAI", "Dai Stablecoin", 18, 7700, 8000, 10500, 2000, 1000, 0, 99990004,
        338_000_000, 271_000_000, 0, True, True, True,
        RateStrategy("0.9", "0.0", "0.05", "0.75", "0.005", "0.75", "0.06", "0.2"),
    ),
    Reserve(
        "CRV", "Curve DAO Token", 18, 3500, 4100, 10830, 1000, 3500, 0, 51140000,
        51_000_000, 7_700_000, 500_000_000, False, False, True,
        RateStrategy("0.7", "0.03", "0.14", "3.0", "0.08", "3.0", "0.17", "0.2"),
    ),
)

EMODE = EModeCategory(1, "ETH correlated", 9000, 9300, 10100, ("WETH", "wstETH"))

BY_SYMBOL = {reserve.symbol: reserve for reserve in RESERVES}
