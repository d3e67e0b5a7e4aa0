"""What the local Aave v3.6 market holds: reserves, e-mode categories and the accounts to seed (pure).

Parameters are realistic rather than copied: odd prices (so that every ``//`` in the maths rounds), a
reserve in two e-mode categories (wstETH is collateral in 1 and 2, WETH in 1 and 3), an isolated
reserve with a debt ceiling, and ``EMC``, a reserve that is collateral *only* inside e-mode 2 (its own
LTV and liquidation threshold are 0: the v3.6 case where v3.5's maths would ignore the collateral).
After seeding, WETH is put on e-mode 3's ``ltvzeroBitmap`` (v3.6), the offboarding case.

Accounts are named plans: the e-mode to enter, whole-token supplies, and borrows as fractions of
the borrowing power left at the time of the borrow (the seeding raises every LTV to its liquidation
threshold first, so 0.995 of it leaves a health factor near 1.005 once the real LTVs are back).
``random_accounts`` adds a deterministic batch of mixed portfolios across all e-modes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

ORACLE_DECIMALS = 8


@dataclass(frozen=True)
class RateData:
    """``DefaultReserveInterestRateStrategyV2.InterestRateData``, all in basis points."""

    optimal_usage_ratio: int
    base_variable_borrow_rate: int
    variable_rate_slope1: int
    variable_rate_slope2: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.optimal_usage_ratio, self.base_variable_borrow_rate, self.variable_rate_slope1,
                self.variable_rate_slope2)


VOLATILE = RateData(8000, 0, 330, 8000)
STABLE = RateData(9000, 0, 600, 4000)


@dataclass(frozen=True)
class OriginReserve:
    """One reserve: bps for ratios, the bonus as 10⁴ + bonus, price in USD with 8 decimals, caps in
    whole tokens, the debt ceiling in USD cents."""

    symbol: str
    decimals: int
    price: int
    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    protocol_fee: int
    reserve_factor: int
    borrowing_enabled: bool
    rates: RateData
    supply_cap: int = 0
    borrow_cap: int = 0
    debt_ceiling: int = 0
    borrowable_in_isolation: bool = False

    @property
    def name(self) -> str:
        return f"Origin Test {self.symbol}"


RESERVES = (
    OriginReserve("WETH", 18, 201_234_567_890, 8050, 8300, 10500, 1000, 1500, True, VOLATILE),
    OriginReserve("wstETH", 18, 238_170_123_456, 7850, 8100, 10600, 1000, 500, True, VOLATILE),
    OriginReserve("USDC", 6, 99_990_000, 7500, 7800, 10450, 1000, 1000, True, STABLE, borrowable_in_isolation=True),
    OriginReserve("USDT", 6, 100_030_000, 7400, 7600, 10450, 1000, 1000, True, STABLE, borrowable_in_isolation=True),
    OriginReserve("WBTC", 8, 6_412_345_670_000, 7300, 7800, 10650, 1000, 2000, True, VOLATILE,
                  supply_cap=20_000, borrow_cap=5_000),
    OriginReserve("ISO", 18, 1_234_500_000, 5000, 6000, 11000, 2000, 2000, False, VOLATILE,
                  debt_ceiling=100_000_000),
    OriginReserve("EMC", 18, 105_000_000, 0, 0, 0, 1000, 1000, False, STABLE),
)
BY_SYMBOL = {r.symbol: r for r in RESERVES}


@dataclass(frozen=True)
class EModeSpec:
    """An e-mode category: bps, bonus as 10⁴ + bonus, member symbols per bitmap."""

    category: int
    label: str
    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    collateral: tuple[str, ...]
    borrowable: tuple[str, ...]
    ltv_zero: tuple[str, ...] = ()


EMODES = (
    EModeSpec(1, "ETH correlated", 9000, 9300, 10100, ("WETH", "wstETH"), ("WETH", "wstETH")),
    EModeSpec(2, "LST & stables <i>", 8200, 8500, 10400, ("wstETH", "USDC", "EMC"), ("USDC", "USDT")),
    EModeSpec(3, "BTC", 8000, 8400, 10500, ("WBTC", "WETH"), ("USDC", "USDT", "WBTC"), ltv_zero=("WETH",)),
)
BY_CATEGORY = {e.category: e for e in EMODES}


@dataclass(frozen=True)
class AccountPlan:
    """A seeded account: e-mode, whole-token supplies (collateral unless ``isolated``, which enables
    the isolated reserve by hand), borrows as fractions of the borrowing power left."""

    label: str
    kind: str
    emode: int = 0
    supplies: tuple[tuple[str, Decimal], ...] = ()
    borrows: tuple[tuple[str, Decimal], ...] = ()
    isolated: bool = False


def _d(text: str) -> Decimal:
    return Decimal(text)


LIQUIDITY = AccountPlan("liquidity", "liquidity", supplies=(
    ("WETH", _d("20000")), ("wstETH", _d("20000")), ("USDC", _d("80000000")), ("USDT", _d("80000000")),
    ("WBTC", _d("600")),
))

NAMED = (
    AccountPlan("single", "single-debt", supplies=(("WETH", _d("40")),), borrows=(("USDC", _d("0.6")),)),
    AccountPlan("single-near", "single-debt", supplies=(("WETH", _d("25.5")),), borrows=(("USDC", _d("0.995")),)),
    AccountPlan("single-btc-near", "single-debt", supplies=(("WBTC", _d("3.2")),), borrows=(("USDT", _d("0.995")),)),
    AccountPlan("multi", "multi-debt", supplies=(("WETH", _d("30")), ("WBTC", _d("1.25")), ("USDC", _d("50000"))),
                borrows=(("USDC", _d("0.4")), ("USDT", _d("0.3")), ("wstETH", _d("0.2")))),
    AccountPlan("multi-near", "multi-debt", supplies=(("WETH", _d("60")),),
                borrows=(("USDC", _d("0.7")), ("USDT", _d("0.2")), ("WBTC", _d("0.095")))),
    AccountPlan("emode1", "emode1", emode=1, supplies=(("wstETH", _d("100")),), borrows=(("WETH", _d("0.8")),)),
    AccountPlan("emode1-near", "emode1", emode=1, supplies=(("wstETH", _d("55")), ("WETH", _d("3"))),
                borrows=(("WETH", _d("0.995")),)),
    AccountPlan("emode1-mixed", "emode1", emode=1, supplies=(("wstETH", _d("20")), ("USDC", _d("30000"))),
                borrows=(("WETH", _d("0.9")),)),
    AccountPlan("emode2", "emode2", emode=2, supplies=(("wstETH", _d("70")),), borrows=(("USDC", _d("0.7")),)),
    AccountPlan("emode2-near", "emode2", emode=2, supplies=(("wstETH", _d("40")), ("USDC", _d("25000"))),
                borrows=(("USDT", _d("0.6")), ("USDC", _d("0.395")))),
    AccountPlan("emode2-emc", "emode2-emc", emode=2, supplies=(("EMC", _d("150000")),),
                borrows=(("USDT", _d("0.99")),)),
    AccountPlan("emode2-emc-mixed", "emode2-emc", emode=2, supplies=(("EMC", _d("80000")), ("WETH", _d("12"))),
                borrows=(("USDC", _d("0.9")),)),
    AccountPlan("emode3", "emode3", emode=3, supplies=(("WBTC", _d("2")), ("WETH", _d("15"))),
                borrows=(("USDC", _d("0.9")),)),
    AccountPlan("emode3-near", "emode3", emode=3, supplies=(("WBTC", _d("1.5")),), borrows=(("USDT", _d("0.995")),)),
    AccountPlan("isolated", "isolated", supplies=(("ISO", _d("10000")),), borrows=(("USDC", _d("0.6")),),
                isolated=True),
    AccountPlan("isolated-near", "isolated", supplies=(("ISO", _d("4000")),), borrows=(("USDT", _d("0.995")),),
                isolated=True),
    AccountPlan("small", "dust", supplies=(("WETH", _d("0.9")),), borrows=(("USDC", _d("0.99")),)),
    AccountPlan("small-multi", "dust", supplies=(("WETH", _d("1.1")),),
                borrows=(("USDC", _d("0.5")), ("USDT", _d("0.49")))),
    AccountPlan("supply-only", "zero-debt", supplies=(("USDT", _d("12345.678901")), ("WETH", _d("1.5")))),
    AccountPlan("emode-only", "zero-debt", emode=1, supplies=(("wstETH", _d("3.3")),)),
)

#: What each e-mode may use, for random portfolios (collateral outside the bitmap included).
_COLLATERAL = {
    0: ("WETH", "wstETH", "USDC", "USDT", "WBTC"),
    1: ("WETH", "wstETH", "USDC", "WBTC"),
    2: ("wstETH", "USDC", "EMC", "WETH"),
    3: ("WBTC", "WETH", "USDT"),
}
_BORROWABLE = {0: ("WETH", "wstETH", "USDC", "USDT", "WBTC"), 1: ("WETH", "wstETH"), 2: ("USDC", "USDT"),
               3: ("USDC", "USDT", "WBTC")}


def _whole(symbol: str, usd: float) -> Decimal:
    """``usd`` of ``symbol`` in whole tokens, at most 6 decimals."""
    price = Decimal(BY_SYMBOL[symbol].price) / 10**ORACLE_DECIMALS
    return (Decimal(repr(usd)) / price).quantize(Decimal("0.000001"))


def random_accounts(n: int, seed: int) -> tuple[AccountPlan, ...]:
    """``n`` mixed portfolios: random e-mode, 1–3 collaterals of $1k–$150k, 0–2 debts."""
    rng = random.Random(seed)
    plans = []
    for i in range(n):
        emode = rng.choice((0, 0, 1, 2, 3))
        collateral = rng.sample(_COLLATERAL[emode], k=rng.randint(1, min(3, len(_COLLATERAL[emode]))))
        supplies = tuple((s, _whole(s, rng.uniform(1_000, 150_000))) for s in collateral)
        debts = rng.sample(_BORROWABLE[emode], k=rng.choice((0, 1, 1, 2)))
        total = Decimal(repr(round(rng.uniform(0.05, 0.99), 4)))
        shares = [Decimal(1)] if len(debts) == 1 else [Decimal("0.6"), Decimal("0.4")]
        borrows = tuple((s, (total * w).quantize(Decimal("0.0001"))) for s, w in zip(debts, shares, strict=False))
        plans.append(AccountPlan(f"random-{i}", "random", emode=emode, supplies=supplies, borrows=borrows))
    return tuple(plans)


DEFAULT_RANDOM = 40
DEFAULT_SEED = 36


def plans(n_random: int = DEFAULT_RANDOM, seed: int = DEFAULT_SEED) -> tuple[AccountPlan, ...]:
    """Every account to seed, the liquidity provider first."""
    return (LIQUIDITY, *NAMED, *random_accounts(n_random, seed))
