"""Comet markets and accounts built without a chain, from a real configuration of ``comet_params.csv``.

``make_market`` gives the Ethereum cUSDCv3 collaterals of the deployment-time configuration (COMP,
LINK, UNI, WBTC, WETH: their factors, scales and the market's storefront factor and rate curve).
Prices, totals and indexes are illustrative values chosen here (stated in ``PRICES`` and
``TOTALS``), not readings of the chain. ``random_holdings`` draws accounts whose bitmaps and
balances are consistent, as the contract keeps them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from defirisk.adapters.comet.accounts import Holding
from defirisk.adapters.comet.frames import market_state
from defirisk.adapters.comet.market import CometMarket
from defirisk.adapters.comet.maths import accrued_indexes, reserves
from defirisk.adapters.comet.structs import TotalsBasic, UserBasic
from defirisk.chain import TokenMetadata
from defirisk.model import MarketState, SnapshotMeta
from tests.adapters.comet import configs

COMET = "0xc3d688b66703497daa19211eedff47f25384cdc3"
USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"
#: Illustrative getPrice answers (8 decimals) per symbol.
PRICES = {"USDC": 100_000_000, "COMP": 50 * 10**8, "LINK": 15 * 10**8, "UNI": 7 * 10**8,
          "WBTC": 60_000 * 10**8, "WETH": 3_000 * 10**8}
#: Illustrative totals: indexes above 1e15 after some interest, 80 % utilization, accrued 12 s ago.
TOTALS = TotalsBasic(
    base_supply_index=1_050_000_000_000_000, base_borrow_index=1_100_000_000_000_000,
    tracking_supply_index=0, tracking_borrow_index=0,
    total_supply_base=1_000_000 * 10**6, total_borrow_base=763_636 * 10**6,
    last_accrual_time=1_700_000_000, pause_flags=0,
)
TIMESTAMP = TOTALS.last_accrual_time + 12
#: Illustrative base token balance of the Comet; ``getReserves`` is made consistent with it.
BASE_BALANCE = 5_000_000 * 10**6


def make_market(prices: dict[str, int] | None = None, *, price_unit: str | None = "USD",
                timestamp: int = TIMESTAMP) -> CometMarket:
    """The Ethereum cUSDCv3 deployment-time configuration with illustrative prices and totals."""
    prices = {**PRICES, **(prices or {})}
    rows = configs.markets()[("mainnet", "usdc")]
    assets = tuple(configs.asset_info(row, i) for i, row in enumerate(rows))
    model = configs.rate_model(rows[0])
    indexes = accrued_indexes(TOTALS, model, timestamp)
    return CometMarket(
        comet=COMET,
        base=TokenMetadata(USDC, "USDC", "USD Coin", 6),
        base_decimals=6,
        base_price_feed=rows[0]["price_feed"].lower(),
        base_price=prices["USDC"],
        base_scale=10**6,
        store_front_price_factor=configs.factor(rows[0]["store_front_price_factor"]),
        target_reserves=int(configs.exact(rows[0]["target_reserves_config"])),
        base_borrow_min=int(configs.exact(rows[0]["base_borrow_min_config"])),
        totals=TOTALS,
        rate_model=model,
        indexes=indexes,
        assets=assets,
        prices=tuple(prices[row["asset"]] for row in rows),
        tokens=tuple(TokenMetadata(a.asset, row["asset"], row["asset"], int(row["asset_decimals"]))
                     for a, row in zip(assets, rows, strict=True)),
        collateral_decimals=tuple(int(row["asset_decimals"]) for row in rows),
        collateral_totals=tuple(10**6 * a.scale for a in assets),
        collateral_reserves=(0,) * len(assets),
        reserves_read=reserves(BASE_BALANCE, TOTALS, indexes),
        base_balance=BASE_BALANCE,
        price_unit=price_unit,
    )


def account(i: int) -> str:
    return f"0x{i + 1:040x}"


def random_holdings(market: CometMarket, n: int, seed: int) -> list[Holding]:
    """``n`` accounts: a random subset of collaterals, worth 100–100,000 USD each, and a borrow of
    30–110 % of the liquidation-weighted collateral value (a tenth of them suppliers instead)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        held = sorted(rng.choice(len(market.assets), size=int(rng.integers(1, 4)), replace=False).tolist())
        balances, weighted = {}, 0.0
        for k in held:
            info = market.assets[k]
            usd = float(rng.uniform(100, 100_000))
            amount = int(usd / (market.prices[k] / 1e8) * info.scale)
            balances[info.asset] = amount
            weighted += amount / info.scale * market.prices[k] / 1e8 * info.liquidate_collateral_factor / 1e18
        if rng.random() < 0.1:
            principal = int(rng.uniform(1, 10_000) * 10**6)
        else:
            debt = weighted * rng.uniform(0.3, 1.1) * 10**6
            principal = -int(debt * 10**15 / market.totals.base_borrow_index)
        bitmap = sum(1 << k for k in held)
        out.append(Holding(account(i), UserBasic(principal, 0, 0, bitmap), balances))
    return out


def meta(market: CometMarket, **changes: object) -> SnapshotMeta:
    """A snapshot meta as the adapter writes it for ``market`` (block fields illustrative)."""
    base = SnapshotMeta(
        deployment="compound-v3-ethereum-usdc", family="comet", chain_id=1, block_number=18_000_000,
        block_hash="0x" + "ab" * 32, timestamp=TIMESTAMP, adapter_version="comet/1",
        price_source="Comet.getPrice", base_currency="USD", base_currency_decimals=8,
        base_currency_usd=1.0, rules_version="1.0",
    )
    return replace(base, **changes)


def make_state(n: int = 60, seed: int = 0, market: CometMarket | None = None) -> tuple[MarketState, CometMarket,
                                                                                       list[Holding]]:
    """A canonical snapshot of ``n`` random accounts of ``make_market()``."""
    market = market or make_market()
    holdings = random_holdings(market, n, seed)
    return market_state(meta(market), market, holdings), market, holdings

