"""Hypothesis strategies: random Aave v3 ``MarketState``s that exercise every rule the HF depends on.

Reserves with 6/8/18 decimals, liquidation threshold 0 for some, e-mode categories with and without
a price source, isolated assets (an account using one as collateral has nothing else enabled),
disabled collateral, accounts without debt, and amounts from one base unit (dust) to millions of
whole tokens.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import strategies as st

from defirisk.model import (
    ACCOUNT_COLUMNS,
    ASSET_COLUMNS,
    EMODE_COLUMNS,
    POSITION_COLUMNS,
    MarketState,
    SnapshotMeta,
)

MARKET = "0x87870bca3f3fd6335c3f4ce8392d69350b4fa4e2"
BASE = 10**8


def address(i: int) -> str:
    return f"0x{i + 1:040x}"


def asset_row(
    i: int, decimals: int, price_raw: int, lt: int, ltv: int, category: int, isolated: bool
) -> dict:
    return {
        "market": MARKET,
        "asset": address(1000 + i),
        "symbol": f"T{i}",
        "name": f"Token {i}",
        "decimals": decimals,
        "price_raw": price_raw,
        "price": price_raw / BASE,
        "price_usd": price_raw / BASE,
        "ltv": ltv / 1e4,
        "liquidation_threshold": lt / 1e4,
        "liquidation_bonus": 0.05,
        "protocol_fee": 0.1,
        "reserve_factor": 0.1,
        "supply_cap": 0,
        "borrow_cap": 0,
        "debt_ceiling": 1e6 if isolated else 0.0,
        "is_isolated": isolated,
        "borrowable_in_isolation": not isolated,
        "is_siloed": False,
        "usage_as_collateral_enabled": lt != 0,
        "borrowing_enabled": True,
        "is_active": True,
        "is_frozen": False,
        "is_paused": False,
        "emode_category": category,
        "extra": {},
    }


def state_of(
    assets: list[dict], emodes: list[dict], accounts: list[dict], positions: list[dict]
) -> MarketState:
    meta = SnapshotMeta(
        deployment="hypothesis",
        family="aave-v3",
        chain_id=1,
        block_number=1,
        block_hash=None,
        timestamp=0,
        adapter_version="test",
        price_source="oracle",
    )
    return MarketState(
        meta=meta,
        assets=pd.DataFrame(assets, columns=list(ASSET_COLUMNS)),
        emodes=pd.DataFrame(emodes, columns=list(EMODE_COLUMNS)),
        accounts=pd.DataFrame(accounts, columns=list(ACCOUNT_COLUMNS)),
        positions=pd.DataFrame(positions, columns=list(POSITION_COLUMNS)),
    )


def amounts(decimals: int, min_whole: float | None) -> st.SearchStrategy[int]:
    """Raw amounts: mantissa × 10^exponent, from 1 base unit (or ``min_whole`` tokens) up to ~10^7 tokens."""
    low = 0 if min_whole is None else len(str(int(min_whole * 10**decimals))) - 1
    return st.builds(lambda m, e: m * 10**e, st.integers(1, 9_999), st.integers(low, max(low, decimals + 3)))


@st.composite
def aave_states(
    draw: st.DrawFn, max_accounts: int = 6, min_whole: float | None = None, min_price_raw: int = 10**4
) -> MarketState:
    """A random Aave v3 market; ``min_whole`` (tokens) and ``min_price_raw`` keep positions above dust."""
    n_assets = draw(st.integers(1, 5))
    n_categories = draw(st.integers(0, 2))
    assets = []
    for i in range(n_assets):
        decimals = draw(st.sampled_from([6, 8, 18]))
        price_raw = draw(st.integers(min_price_raw, 10**13))
        lt = draw(st.sampled_from([0, 4100, 7800, 8000, 8250, 8300, 8600, 9500]))
        ltv = min(lt, draw(st.sampled_from([0, 3500, 7000, 7700, 8050])))
        category = draw(st.integers(0, n_categories))
        isolated = lt != 0 and draw(st.booleans()) and draw(st.booleans())
        assets.append(asset_row(i, decimals, price_raw, lt, ltv, category, isolated))
    emodes = []
    for c in range(1, n_categories + 1):
        lt = draw(st.sampled_from([9000, 9300, 9550]))
        source = draw(st.booleans())
        emodes.append(
            {
                "market": MARKET,
                "category": c,
                "label": f"cat{c}",
                "ltv": (lt - 300) / 1e4,
                "liquidation_threshold": lt / 1e4,
                "liquidation_bonus": 0.01,
                "price_source": address(5000 + c) if source else None,
                "price_raw": draw(st.integers(10**6, 10**12)) if source else None,
            }
        )
    accounts, positions = [], []
    for a in range(draw(st.integers(1, max_accounts))):
        account = address(a)
        accounts.append(
            {
                "market": MARKET,
                "account": account,
                "emode_category": draw(st.integers(0, n_categories)),
                "extra": {},
            }
        )
        used = draw(st.lists(st.integers(0, n_assets - 1), min_size=1, max_size=n_assets, unique=True))
        enabled_any = isolated_collateral = False
        for i in used:
            row = assets[i]
            supply = draw(st.one_of(st.just(0), amounts(row["decimals"], min_whole)))
            debt = draw(st.one_of(st.just(0), st.just(0), amounts(row["decimals"], min_whole)))
            if supply == 0 and debt == 0:
                supply = draw(amounts(row["decimals"], min_whole))
            enabled = supply > 0 and row["liquidation_threshold"] > 0 and draw(st.integers(0, 4)) > 0
            # Aave's isolation mode: an isolated collateral is the account's only enabled one.
            if isolated_collateral or (row["is_isolated"] and enabled_any):
                enabled = False
            enabled_any |= enabled
            isolated_collateral |= enabled and row["is_isolated"]
            positions.append(
                {
                    "market": MARKET,
                    "account": account,
                    "asset": row["asset"],
                    "collateral_raw": supply,
                    "collateral": supply / 10 ** row["decimals"],
                    "debt_raw": debt,
                    "debt": debt / 10 ** row["decimals"],
                    "collateral_enabled": enabled,
                }
            )
    return state_of(assets, emodes, accounts, positions)


FACTORS = (0.0001, 0.05, 0.3, 0.7, 0.93, 1.0, 1.07, 1.5, 3.0, 20.0)


@st.composite
def shocked_prices(
    draw: st.DrawFn, state: MarketState, choices: tuple[float, ...] = FACTORS
) -> tuple[dict[str, int], dict[int, int]]:
    """New integer oracle answers for every asset and every e-mode price source."""
    factors = st.sampled_from(choices)
    prices = {
        row.asset: max(1, round(int(row.price_raw) * draw(factors))) for row in state.assets.itertuples()
    }
    sources = {
        int(row.category): max(1, round(int(row.price_raw) * draw(factors)))
        for row in state.emodes.itertuples()
        if row.price_source
    }
    return prices, sources


#: A realistic reserve set (Aave v3 Ethereum, 2023-10-31): symbol, decimals, price, LTV, LT (bps), e-mode.
RESERVES = (
    ("WETH", 18, 181685499606, 8050, 8300, 1),
    ("wstETH", 18, 208052489524, 6900, 7950, 1),
    ("WBTC", 8, 3481414003279, 7000, 7500, 0),
    ("USDC", 6, 99997427, 7700, 8000, 0),
    ("DAI", 18, 99990004, 6300, 7700, 0),
    ("CRV", 18, 51140000, 3500, 4100, 0),
    ("GHO", 18, 100000000, 0, 0, 0),
)


def demo_state(n_accounts: int = 400, seed: int = 0) -> MarketState:
    """A deterministic Aave v3 market: mixed collateral, an e-mode, GHO debt, accounts without debt."""
    import numpy as np

    rng = np.random.default_rng(seed)
    assets = [
        asset_row(i, dec, price, lt, ltv, cat, False) | {"symbol": sym, "asset": address(2000 + i)}
        for i, (sym, dec, price, ltv, lt, cat) in enumerate(RESERVES)
    ]
    emodes = [
        {
            "market": MARKET,
            "category": 1,
            "label": "ETH correlated",
            "ltv": 0.90,
            "liquidation_threshold": 0.93,
            "liquidation_bonus": 0.01,
            "price_source": None,
            "price_raw": None,
        }
    ]
    accounts, positions = [], []
    for a in range(n_accounts):
        in_emode = rng.random() < 0.2
        accounts.append(
            {"market": MARKET, "account": address(a), "emode_category": int(in_emode), "extra": {}}
        )
        pool = [0, 1] if in_emode else [0, 1, 2, 3, 4, 5]
        chosen = rng.choice(pool, size=int(rng.integers(1, len(pool) + 1)), replace=False)
        usd = float(np.exp(rng.uniform(np.log(100), np.log(2e6))))
        power = 0.0
        held = {}
        for k, w in zip(chosen, rng.dirichlet(np.ones(len(chosen))), strict=True):
            sym, dec, price, _, lt, cat = RESERVES[int(k)]
            raw = int(usd * w / (price / BASE) * 10**dec)
            held[int(k)] = [raw, 0]
            power += raw / 10**dec * price / BASE * (0.93 if in_emode and cat == 1 else lt / 1e4)
        if rng.random() < 0.9:
            debt_pool = [0] if in_emode else [0, 3, 4, 6]
            k = int(rng.choice(debt_pool))
            sym, dec, price, *_ = RESERVES[k]
            held.setdefault(k, [0, 0])[1] = int(power * rng.uniform(0.45, 1.02) / (price / BASE) * 10**dec)
        for k, (coll, debt) in held.items():
            dec = RESERVES[k][1]
            positions.append(
                {
                    "market": MARKET,
                    "account": address(a),
                    "asset": assets[k]["asset"],
                    "collateral_raw": coll,
                    "collateral": coll / 10**dec,
                    "debt_raw": debt,
                    "debt": debt / 10**dec,
                    "collateral_enabled": coll > 0 and rng.random() < 0.95,
                }
            )
    return state_of(assets, emodes, accounts, positions)
