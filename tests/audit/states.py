"""Snapshots for the audit tests: a synthetic Aave v3 market and a hand-built Morpho Blue one.

The Morpho snapshot has two markets lending the same token against the same collateral token (so
labels must tell the markets apart) and no USD rate, as Morpho snapshots have.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from defirisk.model import (
    ACCOUNT_COLUMNS,
    ASSET_COLUMNS,
    EMODE_COLUMNS,
    POSITION_COLUMNS,
    MarketState,
    SnapshotMeta,
    empty_frame,
)
from tests.liquidation.factory import make_state

WETH = "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
MORPHO_MARKETS = ("0x" + "a1" * 32, "0x" + "b2" * 32)


def aave_state(n_accounts: int = 120, seed: int = 11) -> MarketState:
    """Synthetic Aave v3 (real Ethereum reserve parameters, random balances, an e-mode)."""
    return make_state(n_accounts, seed=seed)


def _morpho_asset(market: str, token: str, symbol: str, collateral: bool, lltv: float, price: float) -> dict:
    return {
        "market": market, "asset": token, "symbol": symbol, "name": symbol, "decimals": 18 if collateral else 6,
        "price_raw": int(price * 1e24), "price": price, "price_usd": float("nan"),
        "ltv": lltv if collateral else 0.0, "liquidation_threshold": lltv if collateral else 0.0,
        "liquidation_bonus": min(0.15, 1 / (0.3 * lltv + 0.7) - 1) if collateral else 0.0, "protocol_fee": 0.0,
        "reserve_factor": 0.0, "supply_cap": 0.0, "borrow_cap": 0.0, "debt_ceiling": 0.0, "is_isolated": False,
        "borrowable_in_isolation": False, "is_siloed": False, "usage_as_collateral_enabled": collateral,
        "borrowing_enabled": not collateral, "is_active": True, "is_frozen": False, "is_paused": False,
        "emode_category": 0, "extra": {"role": "collateral" if collateral else "loan"},
    }


def morpho_state(n_accounts: int = 40, seed: int = 5) -> MarketState:
    """Two Morpho Blue markets (WETH collateral, USDC loan; LLTV 86 % and 77 %), no USD rate."""
    rng = np.random.default_rng(seed)
    price = 3000.0
    assets, accounts, positions = [], [], []
    for m, (market, lltv) in enumerate(zip(MORPHO_MARKETS, (0.86, 0.77), strict=True)):
        assets.append(_morpho_asset(market, USDC, "USDC", False, 0.0, 1.0))
        assets.append(_morpho_asset(market, WETH, "WETH", True, lltv, price))
        for i in range(n_accounts):
            account = f"0x{m + 1:08x}{i + 1:032x}"
            collateral = float(rng.uniform(0.5, 50.0))
            debt = collateral * price * lltv * float(rng.uniform(0.5, 1.02))
            accounts.append({"market": market, "account": account, "emode_category": 0, "extra": {}})
            positions.append({"market": market, "account": account, "asset": WETH, "collateral_raw": int(collateral * 1e18),
                              "collateral": collateral, "debt_raw": 0, "debt": 0.0, "collateral_enabled": True})
            positions.append({"market": market, "account": account, "asset": USDC, "collateral_raw": 0,
                              "collateral": 0.0, "debt_raw": int(debt * 1e6), "debt": debt, "collateral_enabled": False})
    meta = SnapshotMeta(
        deployment="morpho-test", family="morpho-blue", chain_id=1, block_number=20_000_000, block_hash="0x" + "cd" * 32,
        timestamp=1_720_000_000, adapter_version="morpho-blue/1", price_source="each market's oracle",
        base_currency=USDC, base_currency_decimals=36, base_currency_usd=float("nan"), rules_version="1.0",
        label="Morpho test markets",
    )
    return MarketState(
        meta,
        pd.DataFrame(assets, columns=list(ASSET_COLUMNS)),
        empty_frame(EMODE_COLUMNS),
        pd.DataFrame(accounts, columns=list(ACCOUNT_COLUMNS)),
        pd.DataFrame(positions, columns=list(POSITION_COLUMNS)),
    )
