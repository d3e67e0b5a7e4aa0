"""Hand-built ``MarketState``s for the store tests: several markets, e-modes, uint256 extremes and
hostile token symbols, plus a comparison that insists on an exact round trip."""

from __future__ import annotations

import dataclasses
import random

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
from defirisk.units import RAY, UINT256_MAX

#: Symbols and names a token contract may return; all must be stored and read back verbatim.
HOSTILE_TEXT = (
    "WETH",
    'O\'Reilly "USD"',
    "<script>alert('x')</script>",
    "x'); DROP TABLE snapshots; --",
    "Ünïcødé 🚀 稳定币",
    '=HYPERLINK("http://evil.example","click")',
    "+SUM(1,2)",
    "-1+1",
    "@cmd",
    "\tTAB",
    "\rCR",
    "nul\x00byte",
    "",
    "a\nb",
)

#: Raw amounts at the edges of uint256.
EXTREME_RAW = (0, 1, 2**64, 2**128 + 7, 2**255, UINT256_MAX)


def address(n: int) -> str:
    """A lower-case 20-byte address derived from ``n``."""
    return f"0x{n:040x}"


def market_id(n: int) -> str:
    """A lower-case 32-byte market id (Morpho Blue style)."""
    return f"0x{n:064x}"


def _asset_row(market: str, asset: str, i: int, emode: int) -> dict:
    decimals = (18, 6, 8, 0, 27)[i % 5]
    price_raw = 2**255 if i == 3 else (i + 1) * 10**8 + 12345
    return {
        "market": market,
        "asset": asset,
        "symbol": HOSTILE_TEXT[i % len(HOSTILE_TEXT)],
        "name": HOSTILE_TEXT[(i + 5) % len(HOSTILE_TEXT)] + " token",
        "decimals": decimals,
        "price_raw": price_raw,
        "price": price_raw / 10**8,
        "price_usd": price_raw / 10**8 * 1.0001,
        "ltv": 0.8 - 0.01 * i,
        "liquidation_threshold": 0.83 - 0.01 * i,
        "liquidation_bonus": 0.05 + 0.005 * i,
        "protocol_fee": 0.1,
        "reserve_factor": 0.15,
        "supply_cap": float(1_000_000 * (i + 1)),
        "borrow_cap": 0.0 if i % 2 else 123_456.5,
        "debt_ceiling": 0.0 if i != 2 else 2_000_000.25,
        "is_isolated": i == 2,
        "borrowable_in_isolation": i % 2 == 0,
        "is_siloed": i == 4,
        "usage_as_collateral_enabled": i != 1,
        "borrowing_enabled": True,
        "is_active": True,
        "is_frozen": i == 5,
        "is_paused": False,
        "emode_category": emode,
        "extra": {
            "liquidity_index": RAY + 31415926535 * (i + 1),
            "configuration": UINT256_MAX - i,
            "nested": {"list": [1, 2**200, -(2**255)], "text": HOSTILE_TEXT[i % len(HOSTILE_TEXT)], "f": 0.1},
            "flag": i % 2 == 0,
            "none": None,
        }
        if i != 1
        else None,
    }


def make_state(
    *,
    seed: int = 0,
    n_markets: int = 3,
    assets_per_market: int = 5,
    accounts_per_market: int = 6,
    deployment: str = "synthetic-mainnet",
    chain_id: int | None = 1,
    block_number: int | None = 19_000_000,
    label: str = "",
) -> MarketState:
    """A small, varied snapshot: the first market has two e-modes (one with its own price source),
    the last is keyed by a 32-byte id; positions include every value of ``EXTREME_RAW``."""
    rng = random.Random(seed)
    markets = [address(0xA000 + m) for m in range(n_markets - 1)] + [market_id(0xB000 + seed)]
    assets, emodes, accounts, positions = [], [], [], []
    extremes = list(EXTREME_RAW)
    for m, market in enumerate(markets):
        categories = [1, 2] if m == 0 else []
        if m == 0:
            emodes.append(
                {
                    "market": market,
                    "category": 1,
                    "label": "ETH correlated <b>",
                    "ltv": 0.93,
                    "liquidation_threshold": 0.95,
                    "liquidation_bonus": 0.01,
                    "price_source": None,
                    "price_raw": None,
                }
            )
            emodes.append(
                {
                    "market": market,
                    "category": 2,
                    "label": "Stablecoins'; --",
                    "ltv": 0.97,
                    "liquidation_threshold": 0.975,
                    "liquidation_bonus": 0.01,
                    "price_source": address(0xFEED),
                    "price_raw": 2**255 + 1,
                }
            )
        market_assets = [address(0xC000 + 16 * m + i) for i in range(assets_per_market)]
        for i, asset in enumerate(market_assets):
            emode = categories[i % len(categories)] if categories and i < 2 else 0
            assets.append(_asset_row(market, asset, i + m, emode))
        decimals = {row["asset"]: row["decimals"] for row in assets if row["market"] == market}
        for a in range(accounts_per_market):
            account = address(0xD000 + 100 * seed + a)
            accounts.append(
                {
                    "market": market,
                    "account": account,
                    "emode_category": rng.choice([0, *categories]),
                    "extra": {"configuration": rng.getrandbits(256), "user": "x'y"} if a % 3 else None,
                }
            )
            for asset in rng.sample(market_assets, k=min(len(market_assets), 1 + a % 3)):
                collateral_raw = (
                    extremes.pop() if extremes else rng.choice([0, rng.getrandbits(rng.randint(1, 256))])
                )
                debt_raw = rng.choice([0, rng.getrandbits(rng.randint(1, 256)), UINT256_MAX])
                positions.append(
                    {
                        "market": market,
                        "account": account,
                        "asset": asset,
                        "collateral_raw": collateral_raw,
                        "collateral": collateral_raw / 10 ** decimals[asset],
                        "debt_raw": debt_raw,
                        "debt": debt_raw / 10 ** decimals[asset],
                        "collateral_enabled": rng.random() < 0.7,
                    }
                )
    meta = SnapshotMeta(
        deployment=deployment,
        family="aave-v3",
        chain_id=chain_id,
        block_number=block_number,
        block_hash=None if block_number is None else f"0x{rng.getrandbits(256):064x}",
        timestamp=None if block_number is None else 1_700_000_000 + block_number,
        adapter_version="0.1.0+test",
        price_source="protocol-oracle",
        base_currency="USD",
        base_currency_decimals=8,
        base_currency_usd=1.0,
        rules_version="3.3",
        label=label,
        offline=block_number is None,
        market_params={"close_factor": 0.5, "threshold_raw": 2**255, "symbols": list(HOSTILE_TEXT[:4])},
        note="synthetic <note> with 'quotes'",
    )
    return MarketState(
        meta=meta,
        assets=frame(assets, ASSET_COLUMNS),
        emodes=frame(emodes, EMODE_COLUMNS),
        accounts=frame(accounts, ACCOUNT_COLUMNS),
        positions=frame(positions, POSITION_COLUMNS),
    )


def frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    """A DataFrame of ``rows`` with exactly the canonical ``columns`` (raw ints kept as Python ints)."""
    if not rows:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
    data = {name: [row[name] for row in rows] for name in columns}
    return pd.DataFrame(
        {name: pd.Series(values, dtype=_dtype(name, values)) for name, values in data.items()}
    )


def _dtype(name: str, values: list) -> object:
    if name.endswith("_raw") or name == "extra" or any(v is None for v in values):
        return object
    return None


def make_large_state(n_positions: int, seed: int = 0) -> MarketState:
    """One market, 4 assets, ``n_positions`` positions over ``n_positions // 2`` accounts."""
    rng = np.random.default_rng(seed)
    base = make_state(seed=seed, n_markets=1, assets_per_market=4, accounts_per_market=1)
    market = base.assets["market"].iloc[0]
    assets = base.assets["asset"].tolist()
    decimals = dict(zip(base.assets["asset"], base.assets["decimals"], strict=True))
    n_accounts = n_positions // 2
    account_ids = [address(0x10_0000 + a) for a in range(n_accounts)]
    per_account = np.array([(a * 2 + rng.integers(0, 2)) % 4 for a in range(n_accounts)])
    pos_account = [account_ids[i // 2] for i in range(n_positions)]
    pos_asset = [assets[(per_account[i // 2] + i % 2) % 4] for i in range(n_positions)]
    high = rng.integers(0, 2**62, size=n_positions).tolist()
    low = rng.integers(0, 2**62, size=n_positions).tolist()
    collateral_raw = [(h << 62) + lo for h, lo in zip(high, low, strict=True)]
    debt_raw = [lo * 3 for lo in low]
    scale = np.array([10.0 ** decimals[a] for a in pos_asset])
    positions = pd.DataFrame(
        {
            "market": pd.Series([market] * n_positions, dtype=object),
            "account": pd.Series(pos_account, dtype=object),
            "asset": pd.Series(pos_asset, dtype=object),
            "collateral_raw": pd.Series(collateral_raw, dtype=object),
            "collateral": np.array(collateral_raw, dtype=np.float64) / scale,
            "debt_raw": pd.Series(debt_raw, dtype=object),
            "debt": np.array(debt_raw, dtype=np.float64) / scale,
            "collateral_enabled": rng.random(n_positions) < 0.8,
        }
    )
    accounts = pd.DataFrame(
        {
            "market": pd.Series([market] * n_accounts, dtype=object),
            "account": pd.Series(account_ids, dtype=object),
            "emode_category": np.zeros(n_accounts, dtype=np.int64),
            "extra": pd.Series([{"configuration": (a << 200) + 1} for a in range(n_accounts)], dtype=object),
        }
    )
    return dataclasses.replace(base, accounts=accounts, positions=positions)


_SORT_KEYS = {
    "assets": ["market", "asset"],
    "emodes": ["market", "category"],
    "accounts": ["market", "account"],
    "positions": ["market", "account", "asset"],
}


def assert_same_state(expected: MarketState, got: MarketState, snapshot_id: int) -> None:
    """``got`` equals ``expected`` exactly: meta (plus its id), every cell, raw amounts as Python ints
    of the same value, floats bit for bit (NaN where NaN), extras as equal dicts."""
    assert got.meta == dataclasses.replace(expected.meta, snapshot_id=snapshot_id)
    for name, keys in _SORT_KEYS.items():
        want = getattr(expected, name).sort_values(keys, kind="stable").reset_index(drop=True)
        have = getattr(got, name)
        assert list(have.columns) == list(want.columns), name
        assert len(have) == len(want), name
        for column in want.columns:
            w, h = want[column].tolist(), have[column].tolist()
            if column.endswith("_raw"):
                assert all(v is None or type(v) is int for v in h), f"{name}.{column} not Python ints"
            if pd.api.types.is_float_dtype(want[column]):
                assert np.array_equal(np.asarray(w), np.asarray(h), equal_nan=True), f"{name}.{column}"
                assert have[column].dtype == np.float64
            else:
                assert h == w, f"{name}.{column}"
                if want[column].dtype == object:
                    assert [type(v) for v in h] == [type(v) for v in w], f"{name}.{column} types"
                else:
                    assert have[column].dtype == want[column].dtype, f"{name}.{column} dtype"
