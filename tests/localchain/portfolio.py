"""Plan seeded accounts: random multi-asset portfolios with target health factors.

Planning is pure (no node): ``plan_accounts(n, seed)`` is deterministic. Portfolios are sized in
USD at the oracle prices of ``market.py``; the debt is then set so that the health factor,
Σ collateral value × liquidation threshold / Σ debt value, hits a target drawn log-uniformly in
[1.01, 10] (e-mode accounts use the e-mode threshold for WETH/wstETH). Kinds (``KINDS``): one
debt, several debts, e-mode (WETH/wstETH loops), isolated (CRV collateral only, stablecoin debt),
supply only, and dust. Amounts stay inside a share of each reserve's supply and borrow caps and of
the isolation debt ceiling: a portfolio that would not fit is halved until it does, and planning
fails if that is not enough (with the real caps and the default seed, past about 12,000 accounts).
"""

from __future__ import annotations

import math
import random
from dataclasses import asdict, dataclass
from decimal import Decimal

from eth_utils import keccak, to_checksum_address

from tests.localchain.market import BY_SYMBOL, EMODE, ORACLE_DECIMALS, RESERVES, Reserve

KINDS = ("single-debt", "multi-debt", "emode", "isolated", "zero-debt", "dust")
KIND_WEIGHTS = (28, 22, 20, 10, 12, 8)
HEALTH_FACTOR_RANGE = (1.01, 10.0)
SIZE_USD = {"dust": (0.5, 20.0), "isolated": (200.0, 20_000.0)}
DEFAULT_SIZE_USD = (500.0, 250_000.0)
# A portfolio halved this often no longer resembles its kind: the caps are exhausted.
MAX_HALVINGS = 8
# Share of each cap and of the debt ceiling that all seeded accounts together may use, leaving room
# for tests that borrow more; the liquidity provider supplies within the rest of the supply caps.
SUPPLY_CAP_SHARE = Decimal("0.3")
BORROW_CAP_SHARE = Decimal("0.6")
DEBT_CEILING_SHARE = Decimal("0.8")

PLAIN_COLLATERAL = tuple(r.symbol for r in RESERVES if r.borrowing_enabled and not r.isolated)
BORROWABLE = tuple(r.symbol for r in RESERVES if r.borrowing_enabled)
ISOLATED_COLLATERAL = tuple(r.symbol for r in RESERVES if r.isolated)
ISOLATION_BORROWABLE = tuple(r.symbol for r in RESERVES if r.borrowable_in_isolation)


@dataclass(frozen=True)
class SeededAccount:
    """A seeded account: its kind, target health factor (None without debt) and raw positions."""

    address: str
    kind: str
    target_health_factor: float | None
    supplies: dict[str, int]
    borrows: dict[str, int]

    def to_json(self) -> dict:
        """Plain-dict form, for the cache's metadata file."""
        return asdict(self)


def account_address(seed: int, index: int) -> str:
    """Deterministic address of seeded account ``index`` (nobody holds its key; it is impersonated)."""
    return to_checksum_address(keccak(text=f"defirisk-localchain:{seed}:{index}")[12:])


def _value_base(symbol: str, raw: int) -> int:
    """Value of ``raw`` units of ``symbol`` in the oracle's base currency (USD, 8 decimals)."""
    reserve = BY_SYMBOL[symbol]
    return raw * reserve.price // 10**reserve.decimals


def raw_from_base(symbol: str, base: Decimal) -> int:
    """Raw units of ``symbol`` worth ``base`` in the oracle's base currency (rounded down)."""
    reserve = BY_SYMBOL[symbol]
    return int(base * 10**reserve.decimals / reserve.price)


def _threshold_bps(reserve: Reserve, emode: bool) -> int:
    if emode and reserve.emode_category == EMODE.category_id:
        return EMODE.liquidation_threshold_bps
    return reserve.liquidation_threshold_bps


class _Budget:
    """Room left under supply caps, borrow caps and isolation debt ceilings (raw units)."""

    def __init__(self) -> None:
        self.supplied = {r.symbol: 0 for r in RESERVES}
        self.borrowed = {r.symbol: 0 for r in RESERVES}
        self.isolated_debt = {r.symbol: 0 for r in RESERVES if r.isolated}

    def fits(self, supplies: dict[str, int], borrows: dict[str, int], isolated: bool) -> bool:
        for symbol, raw in supplies.items():
            reserve = BY_SYMBOL[symbol]
            if self.supplied[symbol] + raw > SUPPLY_CAP_SHARE * reserve.supply_cap * 10**reserve.decimals:
                return False
        for symbol, raw in borrows.items():
            reserve = BY_SYMBOL[symbol]
            if self.borrowed[symbol] + raw > BORROW_CAP_SHARE * reserve.borrow_cap * 10**reserve.decimals:
                return False
        if isolated:
            (collateral,) = supplies
            ceiling = BY_SYMBOL[collateral].debt_ceiling
            # Debt ceilings count USD with 2 decimals at par, as IsolationModeLogic does.
            debt = sum(raw // 10 ** (BY_SYMBOL[s].decimals - 2) for s, raw in borrows.items())
            return self.isolated_debt[collateral] + debt <= DEBT_CEILING_SHARE * ceiling
        return True

    def take(self, supplies: dict[str, int], borrows: dict[str, int], isolated: bool) -> None:
        for symbol, raw in supplies.items():
            self.supplied[symbol] += raw
        for symbol, raw in borrows.items():
            self.borrowed[symbol] += raw
        if isolated:
            (collateral,) = supplies
            self.isolated_debt[collateral] += sum(
                raw // 10 ** (BY_SYMBOL[s].decimals - 2) for s, raw in borrows.items()
            )


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _split(rng: random.Random, total: Decimal, symbols: list[str]) -> dict[str, Decimal]:
    weights = [Decimal(rng.uniform(0.2, 1.0)) for _ in symbols]
    return {s: total * w / sum(weights) for s, w in zip(symbols, weights, strict=True)}


def _assets(rng: random.Random, kind: str) -> tuple[list[str], list[str]]:
    """Collateral and debt symbols for one account of ``kind``."""
    if kind == "isolated":
        return list(ISOLATED_COLLATERAL[:1]), rng.sample(ISOLATION_BORROWABLE, rng.randint(1, 2))
    if kind == "emode":
        return rng.sample(EMODE.members, rng.randint(1, 2)), rng.sample(EMODE.members, rng.randint(1, 2))
    collateral = rng.sample(PLAIN_COLLATERAL, 1 if kind == "dust" else rng.randint(1, 3))
    others = [s for s in BORROWABLE if s not in collateral]
    debts = {"zero-debt": 0, "multi-debt": rng.randint(2, 3)}.get(kind, 1)
    return collateral, rng.sample(others, debts)


def _plan_one(rng: random.Random, address: str, kind: str, budget: _Budget) -> SeededAccount:
    collateral, debts = _assets(rng, kind)
    size = Decimal(_log_uniform(rng, *SIZE_USD.get(kind, DEFAULT_SIZE_USD))) * 10**ORACLE_DECIMALS
    collateral_base = _split(rng, size, collateral)
    debt_share = _split(rng, Decimal(1), debts)
    target = _log_uniform(rng, *HEALTH_FACTOR_RANGE) if debts else None
    emode, isolated = kind == "emode", kind == "isolated"
    for _ in range(MAX_HALVINGS + 1):
        supplies = {s: raw_from_base(s, base) for s, base in collateral_base.items()}
        weighted = sum(
            Decimal(_value_base(s, raw)) * _threshold_bps(BY_SYMBOL[s], emode) / 10_000
            for s, raw in supplies.items()
        )
        borrows = {s: raw_from_base(s, weighted / Decimal(target) * share) for s, share in debt_share.items()}
        if budget.fits(supplies, borrows, isolated):
            budget.take(supplies, borrows, isolated)
            return SeededAccount(address, kind, target, supplies, borrows)
        collateral_base = {s: base / 2 for s, base in collateral_base.items()}
    raise ValueError(f"caps exhausted at a {kind} account: seed fewer accounts")


def plan_accounts(n: int, seed: int) -> list[SeededAccount]:
    """Plan ``n`` accounts deterministically from ``seed``; the first six cover every kind."""
    rng = random.Random(seed)
    budget = _Budget()
    accounts = []
    for index in range(n):
        kind = KINDS[index] if index < len(KINDS) else rng.choices(KINDS, KIND_WEIGHTS)[0]
        accounts.append(_plan_one(rng, account_address(seed, index), kind, budget))
    return accounts
