"""Morpho Blue markets and positions as canonical tables (pure).

Mapping onto the model (``defirisk.model``):

* market key = the market id; each market has two asset rows, its loan token and its collateral
  token (an idle market, without collateral token, only the loan row);
* **base currency = each market's own loan token**: Morpho's oracles price the collateral in loan
  tokens and nothing on chain prices either in USD, so ``price_usd`` is NaN. ``price_raw`` keeps the
  oracle's own unit, loan base units per token base unit × 1e36 (``ORACLE_PRICE_SCALE``): the
  collateral row holds ``oracle.price()``, the loan row exactly 1e36. ``price`` is whole loan tokens
  per whole token: ``price_raw · 10^(d_token − d_loan) / 1e36`` (1.0 for the loan token);
* collateral row: liquidation threshold = LTV = LLTV; bonus = LIF − 1; protocol fee 0;
* loan row: weights and bonus 0 (a supply never backs a borrow), reserve factor = the market fee;
* positions: the loan row holds the supply (``toAssetsDown``, not collateral) and the debt
  (``toAssetsUp``), both with interest accrued to the block; the collateral row the collateral.
  Shares and raw totals go into ``extra``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from defirisk.adapters.morpho_blue.market import BlueMarket, MorphoDeployment
from defirisk.adapters.morpho_blue.maths import ORACLE_PRICE_SCALE
from defirisk.adapters.morpho_blue.reference import PositionRaw, borrowed_assets, supplied_assets
from defirisk.chain import TokenMetadata
from defirisk.model import ACCOUNT_COLUMNS, ASSET_COLUMNS, POSITION_COLUMNS, empty_frame
from defirisk.units import WAD

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


def whole_price(price_raw: int, token_decimals: int, loan_decimals: int) -> float:
    """``price_raw · 10^(token − loan) / 1e36``: whole loan tokens per whole token (correctly rounded)."""
    return (price_raw * 10**token_decimals) / (ORACLE_PRICE_SCALE * 10**loan_decimals)


def market_extra(m: BlueMarket) -> dict:
    """The market's raw values, kept on both asset rows (exact ints, lower-case addresses)."""
    return {
        "market_params": {
            "loan_token": m.params.loan_token,
            "collateral_token": m.params.collateral_token,
            "oracle": m.params.oracle,
            "irm": m.params.irm,
            "lltv": m.params.lltv,
        },
        "market_stored": dict(zip(_TOTAL_FIELDS, m.stored.as_tuple(), strict=True)),
        "market_accrued": dict(zip(_TOTAL_FIELDS, m.totals.as_tuple(), strict=True)),
        "borrow_rate": m.borrow_rate,
        "oracle_price": m.price,
        "liquidation_incentive_factor": m.lif,
    }


_TOTAL_FIELDS = ("total_supply_assets", "total_supply_shares", "total_borrow_assets", "total_borrow_shares",
                 "last_update", "fee")


def _asset_row(m: BlueMarket, token: TokenMetadata, role: str, decimals: int) -> dict:
    collateral = role == "collateral"
    price_raw = (m.price or 0) if collateral else ORACLE_PRICE_SCALE
    lltv = m.params.lltv / WAD if collateral else 0.0
    return {
        "market": m.id,
        "asset": token.address,
        "symbol": token.symbol or "",
        "name": token.name or "",
        "decimals": decimals,
        "price_raw": price_raw,
        "price": whole_price(price_raw, decimals, m.loan_decimals),
        "price_usd": float("nan"),
        "ltv": lltv,
        "liquidation_threshold": lltv,
        "liquidation_bonus": (m.lif - WAD) / WAD if collateral else 0.0,
        "protocol_fee": 0.0,
        "reserve_factor": 0.0 if collateral else m.totals.fee / WAD,
        "supply_cap": 0.0,
        "borrow_cap": 0.0,
        "debt_ceiling": 0.0,
        "is_isolated": False,
        "borrowable_in_isolation": False,
        "is_siloed": False,
        "usage_as_collateral_enabled": collateral,
        "borrowing_enabled": not collateral and not m.params.is_idle,
        "is_active": True,
        "is_frozen": False,
        "is_paused": False,
        "emode_category": 0,
        "extra": {"role": role, **market_extra(m)},
    }


def assets_frame(deployment: MorphoDeployment) -> pd.DataFrame:
    """Loan and collateral rows of every market, ``ASSET_COLUMNS``."""
    rows = []
    for m in deployment.markets:
        rows.append(_asset_row(m, m.loan, "loan", m.loan_decimals))
        if m.collateral is not None and m.collateral_decimals is not None:
            rows.append(_asset_row(m, m.collateral, "collateral", m.collateral_decimals))
    return _frame(rows, ASSET_COLUMNS)


@dataclass(frozen=True)
class Holding:
    """One account's position in one market: the raw ``position(id, user)`` and its assets at the block."""

    market: BlueMarket
    account: str
    position: PositionRaw

    @property
    def supplied(self) -> int:
        return supplied_assets(self.position, self.market.totals)

    @property
    def borrowed(self) -> int:
        return borrowed_assets(self.position, self.market.totals)

    @property
    def holds_something(self) -> bool:
        """Some non-zero amount in assets: supply (rounded down), debt or collateral."""
        return bool(self.supplied or self.borrowed or self.position.collateral)


def accounts_frame(holdings: Sequence[Holding]) -> pd.DataFrame:
    """One row per (market, account), ``ACCOUNT_COLUMNS``; ``extra`` keeps the raw shares."""
    rows = [
        {
            "market": h.market.id,
            "account": h.account,
            "emode_category": 0,
            "extra": {
                "supply_shares": h.position.supply_shares,
                "borrow_shares": h.position.borrow_shares,
                "collateral": h.position.collateral,
            },
        }
        for h in holdings
    ]
    return _frame(rows, ACCOUNT_COLUMNS)


def positions_frame(holdings: Sequence[Holding]) -> pd.DataFrame:
    """Loan-token and collateral rows with a non-zero amount, ``POSITION_COLUMNS``.

    Whole tokens are ``raw / 10**decimals`` (int / int, correctly rounded).
    """
    rows = []
    for h in holdings:
        m = h.market
        supplied, borrowed = h.supplied, h.borrowed
        if supplied or borrowed:
            unit = 10**m.loan_decimals
            rows.append({
                "market": m.id, "account": h.account, "asset": m.params.loan_token,
                "collateral_raw": supplied, "collateral": supplied / unit,
                "debt_raw": borrowed, "debt": borrowed / unit,
                "collateral_enabled": False,
            })
        if h.position.collateral and m.collateral_decimals is not None:
            unit = 10**m.collateral_decimals
            rows.append({
                "market": m.id, "account": h.account, "asset": m.params.collateral_token,
                "collateral_raw": h.position.collateral, "collateral": h.position.collateral / unit,
                "debt_raw": 0, "debt": 0.0,
                "collateral_enabled": True,
            })
    return _frame(rows, POSITION_COLUMNS)
