"""Synthetic Aave v3 snapshots in the canonical model, for the estimator's tests and benchmark.

Reserve parameters are the real Aave v3 Ethereum values of 2023-10-31 (a subset of
``data``'s source table); balances are random, drawn so that a share of accounts sits close to
liquidation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from defirisk.model import (
    ACCOUNT_COLUMNS,
    ASSET_COLUMNS,
    EMODE_COLUMNS,
    POSITION_COLUMNS,
    MarketState,
    SnapshotMeta,
)

MARKET = "0x87870bca3f3fd6335c3f4ce8392d69350b4fa4e2"


@dataclass(frozen=True)
class Reserve:
    symbol: str
    asset: str
    decimals: int
    price_raw: int
    ltv: int
    lt: int
    bonus: int
    fee: int
    emode: int


RESERVES = (
    Reserve("WETH", "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", 18, 181685499606, 8050, 8300, 10500, 1000, 1),
    Reserve("wstETH", "0x7f39c581f595b53c5cb19bd0b3f8da6c935e2ca0", 18, 208052489524, 7850, 8100, 10600, 1000, 1),
    Reserve("WBTC", "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599", 8, 3481414003279, 7300, 7800, 10500, 1000, 0),
    Reserve("USDC", "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", 6, 99997427, 7700, 8000, 10450, 2000, 0),
    Reserve("DAI", "0x6b175474e89094c44da98b954eedeac495271d0f", 18, 99990004, 7700, 8000, 10500, 2000, 0),
    Reserve("CRV", "0xd533a949740bb3306d119cc777fa900ba034cd52", 18, 51140000, 3500, 4100, 10830, 1000, 0),
)
EMODE = (1, "ETH correlated", 9000, 9300, 10100)


def _account(i: int) -> str:
    return f"0x{i + 1:040x}"


def make_state(
    n_accounts: int,
    seed: int = 0,
    rules_version: str = "3.0",
    emode_share: float = 0.2,
    scale: float = 1.0,
) -> MarketState:
    """An Aave v3 snapshot of ``n_accounts`` random accounts (1–3 collaterals, 1–2 debts each).

    Debt is drawn as a fraction of borrowing power (LT-weighted collateral) between 0.5 and 0.99;
    ``scale`` multiplies every balance (small scales make dust positions).
    """
    rng = np.random.default_rng(seed)
    base = 10**8
    assets = pd.DataFrame(
        [
            {
                "market": MARKET, "asset": r.asset, "symbol": r.symbol, "name": r.symbol,
                "decimals": r.decimals, "price_raw": r.price_raw, "price": r.price_raw / base,
                "price_usd": r.price_raw / base, "ltv": r.ltv / 1e4, "liquidation_threshold": r.lt / 1e4,
                "liquidation_bonus": (r.bonus - 10_000) / 1e4, "protocol_fee": r.fee / 1e4,
                "reserve_factor": 0.1, "supply_cap": 0, "borrow_cap": 0, "debt_ceiling": 0.0,
                "is_isolated": False, "borrowable_in_isolation": False, "is_siloed": False,
                "usage_as_collateral_enabled": True, "borrowing_enabled": True, "is_active": True,
                "is_frozen": False, "is_paused": False, "emode_category": r.emode, "extra": {},
            }
            for r in RESERVES
        ],
        columns=list(ASSET_COLUMNS),
    )
    cat, label, ltv, lt, bonus = EMODE
    emodes = pd.DataFrame(
        [{"market": MARKET, "category": cat, "label": label, "ltv": ltv / 1e4, "liquidation_threshold": lt / 1e4,
          "liquidation_bonus": (bonus - 10_000) / 1e4, "price_source": None, "price_raw": None}],
        columns=list(EMODE_COLUMNS),
    )
    accounts, positions = [], []
    eth_like = [i for i, r in enumerate(RESERVES) if r.emode == 1]
    for i in range(n_accounts):
        account = _account(i)
        in_emode = rng.random() < emode_share
        pool = eth_like if in_emode else list(range(len(RESERVES)))
        n_coll = int(rng.integers(1, min(3, len(pool)) + 1))
        chosen = rng.choice(pool, size=n_coll, replace=False)
        usd = float(np.exp(rng.uniform(np.log(50), np.log(5e6)))) * scale
        weights = rng.dirichlet(np.ones(n_coll))
        power = 0.0
        rows: dict[int, list[int]] = {}
        for k, w in zip(chosen, weights, strict=True):
            r = RESERVES[int(k)]
            amount = int(usd * w / (r.price_raw / base) * 10**r.decimals)
            rows[int(k)] = [amount, 0]
            weight = lt if in_emode and r.emode == cat else r.lt
            power += amount / 10**r.decimals * r.price_raw / base * weight / 1e4
        debt_usd = power * float(rng.uniform(0.5, 0.99))
        debt_pool = eth_like if in_emode else [3, 4, 0]
        n_debt = int(rng.integers(1, 3))
        debt_assets = rng.choice(debt_pool, size=min(n_debt, len(debt_pool)), replace=False)
        for k, w in zip(debt_assets, rng.dirichlet(np.ones(len(debt_assets))), strict=True):
            r = RESERVES[int(k)]
            rows.setdefault(int(k), [0, 0])[1] = int(debt_usd * w / (r.price_raw / base) * 10**r.decimals)
        accounts.append({"market": MARKET, "account": account, "emode_category": cat if in_emode else 0, "extra": {}})
        for k, (coll, debt) in rows.items():
            r = RESERVES[k]
            positions.append({
                "market": MARKET, "account": account, "asset": r.asset,
                "collateral_raw": coll, "collateral": coll / 10**r.decimals,
                "debt_raw": debt, "debt": debt / 10**r.decimals, "collateral_enabled": coll > 0,
            })
    meta = SnapshotMeta(
        deployment="synthetic", family="aave-v3", chain_id=1, block_number=None, block_hash=None,
        timestamp=None, adapter_version="test", price_source="synthetic", rules_version=rules_version,
    )
    return MarketState(
        meta=meta,
        assets=assets,
        emodes=emodes,
        accounts=pd.DataFrame(accounts, columns=list(ACCOUNT_COLUMNS)),
        positions=pd.DataFrame(positions, columns=list(POSITION_COLUMNS)),
    )
