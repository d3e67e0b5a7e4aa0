"""Small hand-made Compound v2 snapshots for property tests (built the way the importer builds them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from defirisk.adapters.compound_v2.reference import oracle_price_mantissa
from defirisk.model import ASSET_COLUMNS, EMODE_COLUMNS, MarketState, SnapshotMeta, empty_frame

COMPTROLLER = "0x3d9819210a31b4961b30ef54be2aed79b9c9cd3b"


@dataclass(frozen=True)
class Market:
    ctoken: str
    underlying: str
    decimals: int
    cf: int  # mantissa
    rate: int  # exchange rate mantissa
    price_raw: int  # ETH wei per whole token


def make_state(markets: list[Market], holdings: dict[str, dict[str, tuple[int, int]]]) -> MarketState:
    """A snapshot of ``markets`` with ``holdings``: account → cToken → (raw cTokens, raw debt)."""
    assets = pd.DataFrame(
        [
            {
                "market": COMPTROLLER,
                "asset": m.ctoken,
                "symbol": f"T{i}",
                "name": f"token {i}",
                "decimals": m.decimals,
                "price_raw": m.price_raw,
                "price": m.price_raw / 1e18,
                "price_usd": m.price_raw / 1e18 * 2_000.0,
                "ltv": m.cf / 1e18,
                "liquidation_threshold": m.cf / 1e18,
                "liquidation_bonus": 0.08,
                "protocol_fee": 0.378,
                "reserve_factor": np.nan,
                "supply_cap": np.nan,
                "borrow_cap": np.nan,
                "debt_ceiling": 0.0,
                "is_isolated": False,
                "borrowable_in_isolation": False,
                "is_siloed": False,
                "usage_as_collateral_enabled": m.cf > 0,
                "borrowing_enabled": True,
                "is_active": True,
                "is_frozen": False,
                "is_paused": False,
                "emode_category": 0,
                "extra": {
                    "underlying": m.underlying,
                    "collateral_factor_mantissa": m.cf,
                    "exchange_rate_mantissa": m.rate,
                    "price_mantissa": oracle_price_mantissa(m.price_raw, m.decimals, 18),
                },
            }
            for i, m in enumerate(markets)
        ],
        columns=list(ASSET_COLUMNS),
    )
    assets["price_raw"] = pd.Series([m.price_raw for m in markets], dtype=object)
    by_ctoken = {m.ctoken: m for m in markets}
    rows = []
    for account, held in holdings.items():
        for ctoken, (ctokens, debt) in held.items():
            m = by_ctoken[ctoken]
            if ctokens == 0 and debt == 0:
                continue
            rows.append(
                {
                    "market": COMPTROLLER,
                    "account": account,
                    "asset": ctoken,
                    "collateral_raw": ctokens * m.rate // 10**18,
                    "collateral": ctokens * m.rate / 10 ** (18 + m.decimals),
                    "debt_raw": debt,
                    "debt": debt / 10**m.decimals,
                    "collateral_enabled": ctokens > 0,
                }
            )
    positions = pd.DataFrame(
        rows,
        columns=[
            "market",
            "account",
            "asset",
            "collateral_raw",
            "collateral",
            "debt_raw",
            "debt",
            "collateral_enabled",
        ],
    )
    for column in ("collateral_raw", "debt_raw"):
        positions[column] = positions[column].astype(object)
    accounts = pd.DataFrame(
        {
            "market": COMPTROLLER,
            "account": list(holdings),
            "emode_category": 0,
            "extra": [
                {"ctoken_balances": {c: b for c, (b, _) in held.items() if b > 0}}
                for held in holdings.values()
            ],
        }
    )
    meta = SnapshotMeta(
        deployment="synthetic",
        family="compound-v2",
        chain_id=1,
        block_number=None,
        block_hash=None,
        timestamp=None,
        adapter_version="test",
        price_source="test",
        base_currency="ETH",
        base_currency_decimals=18,
        base_currency_usd=2_000.0,
        rules_version="compound-v2",
        offline=True,
        market_params={"close_factor_mantissa": 5 * 10**17},
    )
    state = MarketState(meta, assets, empty_frame(EMODE_COLUMNS), accounts, positions)
    state.validate()
    return state
