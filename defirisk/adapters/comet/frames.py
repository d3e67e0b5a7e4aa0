"""A Comet market and its accounts as canonical tables (pure).

Mapping onto the model (``defirisk.model``):

* market key = the Comet proxy address; asset rows: the base token (``extra.role = "base"``), then each
  collateral by offset (``"collateral"``);
* ``price_raw`` = the Comet's ``getPrice(feed)`` (8 decimals, in the market's price unit: USD or ETH);
  ``price`` = ``price_raw / 1e8``; ``price_usd`` = ``price`` in a USD market, NaN otherwise;
* collateral rows: ``ltv`` = borrowCollateralFactor, ``liquidation_threshold`` =
  liquidateCollateralFactor, ``liquidation_bonus`` = the collateral buyer's bonus at the storefront
  price, ``d / (1 − d)`` with ``d = storeFrontPriceFactor · (1 − liquidationFactor)`` (a buyer paying
  ``x`` of base receives ``x / (1 − d)`` of collateral value), ``supply_cap`` in whole tokens,
  ``protocol_fee`` 0 (the absorb economics are the family's, from ``extra``);
* base row: weights and bonus 0 (a base supply never backs a borrow); ``reserve_factor`` 0 (Comet has
  none: its reserves grow from the spread between the borrow and supply rate curves);
* positions: the base row holds the account's present value with interest accrued to the block,
  as supply (``principal > 0``, not collateral) or debt (``principal < 0``); a collateral row each held
  collateral. Raw principals, bitmaps, factors, totals and indexes go into ``extra``.

``is_paused`` is set on every row when any of the Comet's pause flags is (supply, transfer, withdraw,
absorb, buy: listed in the base row's ``extra.paused``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import pandas as pd

from defirisk.adapters.comet.accounts import Holding
from defirisk.adapters.comet.market import CometMarket
from defirisk.adapters.comet.maths import FACTOR_SCALE, PRICE_SCALE, present_value
from defirisk.adapters.comet.reference import storefront_discount
from defirisk.chain import TokenMetadata
from defirisk.model import (
    ACCOUNT_COLUMNS,
    ASSET_COLUMNS,
    EMODE_COLUMNS,
    POSITION_COLUMNS,
    MarketState,
    SnapshotMeta,
    empty_frame,
)

PAUSE_FLAGS = ("supply", "transfer", "withdraw", "absorb", "buy")
_OBJECT_COLUMNS = frozenset({
    "market", "asset", "account", "symbol", "name", "price_raw", "collateral_raw", "debt_raw", "extra",
})


def _frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    if not rows:
        return empty_frame(columns)
    return pd.DataFrame({
        name: pd.Series([row[name] for row in rows], dtype=object if name in _OBJECT_COLUMNS else None)
        for name in columns
    })


def paused(flags: int) -> list[str]:
    """Names of the set pause flags (bit 0 supply … bit 4 buy)."""
    return [name for bit, name in enumerate(PAUSE_FLAGS) if flags >> bit & 1]


def buyer_bonus(discount: int) -> float:
    """``d / (1 − d)`` for a 1e18 discount ``d``: the buyer's collateral value per unit paid, minus one."""
    return discount / (FACTOR_SCALE - discount)


def _row(m: CometMarket, token: TokenMetadata, decimals: int, price_raw: int, **values: object) -> dict:
    price = price_raw / PRICE_SCALE
    return {
        "market": m.comet,
        "asset": token.address,
        "symbol": token.symbol or "",
        "name": token.name or "",
        "decimals": decimals,
        "price_raw": price_raw,
        "price": price,
        "price_usd": price if m.price_unit == "USD" else float("nan"),
        "protocol_fee": 0.0,
        "reserve_factor": 0.0,
        "borrow_cap": 0.0,
        "debt_ceiling": 0.0,
        "is_isolated": False,
        "borrowable_in_isolation": False,
        "is_siloed": False,
        "is_active": True,
        "is_frozen": False,
        "is_paused": m.totals.pause_flags != 0,
        "emode_category": 0,
        **values,
    }


def base_extra(m: CometMarket) -> dict:
    """The market's raw values, kept on the base row (exact ints, lower-case addresses)."""
    return {
        "role": "base",
        "price_feed": m.base_price_feed,
        "base_scale": m.base_scale,
        "store_front_price_factor": m.store_front_price_factor,
        "target_reserves": m.target_reserves,
        "base_borrow_min": m.base_borrow_min,
        "totals_basic": asdict(m.totals),
        "indexes_accrued": asdict(m.indexes),
        "rate_model": asdict(m.rate_model),
        "base_balance": m.base_balance,
        "reserves": m.reserves,
        "reserves_read": m.reserves_read,
        "paused": paused(m.totals.pause_flags),
    }


def assets_frame(m: CometMarket) -> pd.DataFrame:
    """The base row and one row per collateral (by offset), ``ASSET_COLUMNS``."""
    rows = [_row(
        m, m.base, m.base_decimals, m.base_price,
        ltv=0.0, liquidation_threshold=0.0, liquidation_bonus=0.0, supply_cap=0.0,
        usage_as_collateral_enabled=False, borrowing_enabled=True, extra=base_extra(m),
    )]
    for info, price, token, decimals, total, held in zip(
        m.assets, m.prices, m.tokens, m.collateral_decimals, m.collateral_totals, m.collateral_reserves, strict=True
    ):
        discount = storefront_discount(m.store_front_price_factor, info.liquidation_factor)
        rows.append(_row(
            m, token, decimals, price,
            ltv=info.borrow_collateral_factor / FACTOR_SCALE,
            liquidation_threshold=info.liquidate_collateral_factor / FACTOR_SCALE,
            liquidation_bonus=buyer_bonus(discount),
            supply_cap=info.supply_cap / info.scale,
            usage_as_collateral_enabled=True,
            borrowing_enabled=False,
            extra={
                "role": "collateral",
                **asdict(info),
                "store_front_price_factor": m.store_front_price_factor,
                "storefront_discount": discount,
                "total_supply_asset": total,
                "collateral_reserves": held,
            },
        ))
    return _frame(rows, ASSET_COLUMNS)


def positions_frame(m: CometMarket, holdings: Sequence[Holding]) -> pd.DataFrame:
    """Base and collateral rows with a non-zero amount, ``POSITION_COLUMNS``.

    Whole tokens are ``raw / 10**decimals`` (int / int, correctly rounded).
    """
    decimals = dict(zip((a.asset for a in m.assets), m.collateral_decimals, strict=True))
    rows = []
    for h in holdings:
        balance = present_value(h.user.principal, m.indexes.supply, m.indexes.borrow)
        if balance:
            supplied, owed = max(balance, 0), max(-balance, 0)
            unit = 10**m.base_decimals
            rows.append({
                "market": m.comet, "account": h.account, "asset": m.base.address,
                "collateral_raw": supplied, "collateral": supplied / unit,
                "debt_raw": owed, "debt": owed / unit,
                "collateral_enabled": False,
            })
        for asset, amount in h.collateral.items():
            if amount:
                rows.append({
                    "market": m.comet, "account": h.account, "asset": asset,
                    "collateral_raw": amount, "collateral": amount / 10 ** decimals[asset],
                    "debt_raw": 0, "debt": 0.0,
                    "collateral_enabled": True,
                })
    return _frame(rows, POSITION_COLUMNS)


def accounts_frame(m: CometMarket, holdings: Sequence[Holding], holders: set[str]) -> pd.DataFrame:
    """One row per account in ``holders`` (those with a position row), ``ACCOUNT_COLUMNS``; raw ``userBasic`` in ``extra``."""
    rows = [
        {"market": m.comet, "account": h.account, "emode_category": 0, "extra": asdict(h.user)}
        for h in holdings if h.account in holders
    ]
    return _frame(rows, ACCOUNT_COLUMNS)


def market_state(meta: SnapshotMeta, m: CometMarket, holdings: Sequence[Holding]) -> MarketState:
    """The canonical snapshot of ``m`` and ``holdings``: accounts are those with a position row."""
    positions = positions_frame(m, holdings)
    return MarketState(
        meta=meta,
        assets=assets_frame(m),
        emodes=empty_frame(EMODE_COLUMNS),
        accounts=accounts_frame(m, holdings, set(positions["account"])),
        positions=positions,
    )
