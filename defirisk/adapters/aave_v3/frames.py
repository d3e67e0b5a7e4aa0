"""An Aave v3 market and its account reads as canonical tables (pure).

Unit conversions (``defirisk.model`` conventions): basis points → fractions (``ltv / 10⁴``); the
liquidation bonus, kept by Aave as ``10⁴ + bonus``, → ``bonus / 10⁴`` (0 when unset); caps stay in
whole tokens; the debt ceiling (USD with 2 decimals) → USD; prices → ``price_raw / BASE_CURRENCY_UNIT``.
Aave-specific raw values (configuration word, RAY indexes, token addresses, scaled balances, the
user configuration bitmap) go into ``extra`` as exact integers and lower-case addresses.

E-mode membership: before v3.2 a reserve names its one category (``emode_category``). From v3.2 on
(Pool revision ≥ 5) an asset may belong to several categories, as collateral, as borrowable, or
(v3.6) on a category's ltvzero bitmap; the asset row then has ``emode_category`` 0 (the old field is
deprecated and not read by the Pool) and ``extra`` lists the categories:
``emode_collateral``, ``emode_borrowable`` and ``emode_ltv_zero`` (sorted category ids).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from defirisk.adapters.aave_v3.config import DEBT_CEILING_DECIMALS
from defirisk.adapters.aave_v3.market import AaveMarket, Reserve
from defirisk.adapters.aave_v3.revisions import uses_bitmaps
from defirisk.model import ACCOUNT_COLUMNS, ASSET_COLUMNS, EMODE_COLUMNS, POSITION_COLUMNS, empty_frame

BPS = 10_000


def fraction(bps: int) -> float:
    """Basis points as a fraction."""
    return bps / BPS


def bonus_fraction(bonus_bps: int) -> float:
    """Aave's ``10⁴ + bonus`` encoding as the bonus fraction (0 when unset)."""
    return max(bonus_bps - BPS, 0) / BPS


#: Columns holding exact integers, addresses, text or dicts: kept as Python objects, never numpy.
_OBJECT_COLUMNS = frozenset({
    "market", "asset", "account", "symbol", "name", "label", "price_source", "price_raw",
    "collateral_raw", "debt_raw", "extra",
})


def _frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    """Rows as a DataFrame with exactly ``columns``; numbers and flags get numpy dtypes."""
    if not rows:
        return empty_frame(columns)
    return pd.DataFrame({
        name: pd.Series([row[name] for row in rows], dtype=object if name in _OBJECT_COLUMNS else None)
        for name in columns
    })


def emode_membership(market: AaveMarket, reserve_id: int) -> dict[str, list[int]]:
    """The categories whose collateral, borrowable and ltvzero bitmaps have bit ``reserve_id`` set."""
    def member(bitmap: int | None) -> bool:
        return bitmap is not None and bitmap >> reserve_id & 1 == 1

    return {
        "emode_collateral": [e.category for e in market.emodes if member(e.collateral_bitmap)],
        "emode_borrowable": [e.category for e in market.emodes if member(e.borrowable_bitmap)],
        "emode_ltv_zero": [e.category for e in market.emodes if member(e.ltv_zero_bitmap)],
    }


def _reserve_extra(reserve: Reserve) -> dict:
    data = dict(reserve.data)
    return {
        "reserve_id": reserve.id,
        **{k: v for k, v in data.items() if k != "id"},
        "config": reserve.config.as_dict(),
        "normalized_income": reserve.normalized_income,
        "normalized_variable_debt": reserve.normalized_debt,
        "oracle_source": reserve.price_source,
        "token_decimals": reserve.token.decimals,
        "token_metadata_missing": [
            name for name in ("symbol", "name", "decimals") if getattr(reserve.token, name) is None
        ],
    }


def assets_frame(market: AaveMarket, base_usd: float) -> pd.DataFrame:
    """One row per reserve with ``ASSET_COLUMNS``; ``base_usd`` is USD per base-currency unit."""
    unit = market.base_currency_unit
    bitmaps = uses_bitmaps(market.maths)
    rows = []
    for r in market.reserves:
        c = r.config
        price = r.price_raw / unit
        rows.append({
            "market": market.key,
            "asset": r.asset,
            "symbol": r.token.symbol or "",
            "name": r.token.name or "",
            "decimals": c.decimals,
            "price_raw": r.price_raw,
            "price": price,
            "price_usd": price * base_usd,
            "ltv": fraction(c.ltv),
            "liquidation_threshold": fraction(c.liquidation_threshold),
            "liquidation_bonus": bonus_fraction(c.liquidation_bonus),
            "protocol_fee": fraction(c.liquidation_protocol_fee),
            "reserve_factor": fraction(c.reserve_factor),
            "supply_cap": float(c.supply_cap),
            "borrow_cap": float(c.borrow_cap),
            "debt_ceiling": c.debt_ceiling / 10**DEBT_CEILING_DECIMALS,
            "is_isolated": c.debt_ceiling != 0,
            "borrowable_in_isolation": c.borrowable_in_isolation,
            "is_siloed": c.siloed_borrowing,
            "usage_as_collateral_enabled": c.liquidation_threshold != 0,
            "borrowing_enabled": c.borrowing_enabled,
            "is_active": c.active,
            "is_frozen": c.frozen,
            "is_paused": c.paused,
            "emode_category": 0 if bitmaps else c.emode_category,
            "extra": _reserve_extra(r) | (emode_membership(market, r.id) if bitmaps else {}),
        })
    return _frame(rows, ASSET_COLUMNS)


def emodes_frame(market: AaveMarket) -> pd.DataFrame:
    """One row per configured e-mode category with ``EMODE_COLUMNS``."""
    rows = [
        {
            "market": market.key,
            "category": e.category,
            "label": e.label,
            "ltv": fraction(e.ltv),
            "liquidation_threshold": fraction(e.liquidation_threshold),
            "liquidation_bonus": bonus_fraction(e.liquidation_bonus),
            "price_source": e.price_source,
            "price_raw": e.price_raw,
        }
        for e in market.emodes
    ]
    return _frame(rows, EMODE_COLUMNS)


@dataclass(frozen=True)
class ReserveBalances:
    """What one account holds in one reserve its configuration bitmap marks; token base units.

    ``collateral`` / ``collateral_scaled``: the aToken balance as the Pool computes it (scaled balance
    ``rayMul`` normalized income) and the scaled balance; 0 when the collateral bit is off (not read).
    ``variable_debt`` / ``variable_debt_scaled``: likewise with the normalized variable debt;
    ``stable_debt`` / ``stable_debt_principal``: the stable debt token's ``balanceOf`` and
    ``principalBalanceOf``; all 0 when the borrowing bit is off.
    """

    asset: str
    uses_as_collateral: bool
    borrows: bool
    collateral: int = 0
    collateral_scaled: int = 0
    variable_debt: int = 0
    variable_debt_scaled: int = 0
    stable_debt: int = 0
    stable_debt_principal: int = 0

    @property
    def debt(self) -> int:
        return self.variable_debt + self.stable_debt


@dataclass(frozen=True)
class AccountRead:
    """One account at the block: e-mode, configuration bitmap, balances per marked reserve."""

    account: str
    emode_category: int
    user_configuration: int
    reserves: tuple[ReserveBalances, ...]


def accounts_frame(market: AaveMarket, reads: Sequence[AccountRead]) -> pd.DataFrame:
    """One row per account with ``ACCOUNT_COLUMNS``; ``extra`` keeps the bitmap and scaled balances."""
    rows = [
        {
            "market": market.key,
            "account": a.account,
            "emode_category": a.emode_category,
            "extra": {
                "user_configuration": a.user_configuration,
                "reserves": {
                    b.asset: {
                        "collateral_scaled": b.collateral_scaled,
                        "variable_debt_scaled": b.variable_debt_scaled,
                        "stable_debt_principal": b.stable_debt_principal,
                        "variable_debt": b.variable_debt,
                        "stable_debt": b.stable_debt,
                    }
                    for b in a.reserves
                },
            },
        }
        for a in reads
    ]
    return _frame(rows, ACCOUNT_COLUMNS)


def positions_frame(market: AaveMarket, reads: Sequence[AccountRead]) -> pd.DataFrame:
    """One row per (account, reserve) with a non-zero collateral or debt, ``POSITION_COLUMNS``.

    ``collateral = collateral_raw / 10**decimals`` (whole tokens; Python's int / int is correctly
    rounded), likewise ``debt``.
    """
    decimals = {r.asset: r.config.decimals for r in market.reserves}
    rows = []
    for a in reads:
        for b in a.reserves:
            if b.collateral == 0 and b.debt == 0:
                continue
            unit = 10 ** decimals[b.asset]
            rows.append({
                "market": market.key,
                "account": a.account,
                "asset": b.asset,
                "collateral_raw": b.collateral,
                "collateral": b.collateral / unit,
                "debt_raw": b.debt,
                "debt": b.debt / unit,
                "collateral_enabled": b.uses_as_collateral,
            })
    return _frame(rows, POSITION_COLUMNS)
