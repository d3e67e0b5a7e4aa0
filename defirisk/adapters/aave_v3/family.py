"""The Aave v3 family object: canonical snapshot → engine exposures and liquidation rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from defirisk.adapters.aave_v3.revisions import V30, V32, V36, maths_of
from defirisk.errors import DataError
from defirisk.model import Exposures, MarketState

#: Highest e-mode category id (``uint8``).
MAX_CATEGORY = 255

if TYPE_CHECKING:
    from defirisk.liquidation.rules import LiquidationRules


def _row_of(keys: pd.DataFrame, table: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """For each row of ``keys``, the position in ``table`` of the row with the same ``columns``
    (the last one on duplicates, as a dict built from the table would keep); -1 where none."""
    index = table[columns].assign(_row=np.arange(len(table))).drop_duplicates(columns, keep="last")
    joined = keys[columns].merge(index, on=columns, how="left", sort=False)
    return joined["_row"].fillna(-1).to_numpy(dtype=np.int64)


def _indices(
    state: MarketState, assets: pd.DataFrame, units: pd.DataFrame, pos: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per position (P,): its asset row, its netting unit and its account's e-mode category."""
    i = _row_of(pos, assets, ["market", "asset"])
    if (i < 0).any():
        raise DataError(f"{int((i < 0).sum())} positions refer to an asset missing from the assets table")
    unit = _row_of(pos, units, ["market", "account"])
    if (unit < 0).any():
        raise DataError(f"{int((unit < 0).sum())} positions refer to an account missing from the accounts table")
    account_row = _row_of(pos, state.accounts.reset_index(drop=True), ["market", "account"])
    return i, unit, state.accounts["emode_category"].to_numpy()[account_row].astype(np.int64)


def _membership(assets: pd.DataFrame, key: str) -> np.ndarray:
    """(assets, 256) bool: asset row ``a`` is in category ``c`` by ``extra[key]`` (a list of ids)."""
    member = np.zeros((len(assets), MAX_CATEGORY + 1), dtype=bool)
    for row, extra in enumerate(assets["extra"]):
        categories = extra.get(key, []) if isinstance(extra, dict) else []
        if any(not 0 < c <= MAX_CATEGORY for c in categories):
            raise DataError(f"asset {assets['asset'].iloc[row]} lists e-mode categories out of range: {categories}")
        member[row, categories] = True
    return member


def _emode_params(state: MarketState, pos: pd.DataFrame, cat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K, 3) LTV, LT, bonus of the snapshot's categories, and each position's row in it (-1: none)."""
    emodes = state.emodes.reset_index(drop=True)
    params = emodes[["ltv", "liquidation_threshold", "liquidation_bonus"]].to_numpy(dtype=np.float64).reshape(-1, 3)
    keys = pd.DataFrame({"market": emodes["market"].astype(object), "category": emodes["category"].astype(np.int64)})
    return params, _row_of(pd.DataFrame({"market": pos["market"], "category": cat}), keys, ["market", "category"])


class AaveV3Family:
    """Aave v3 semantics for the engine, by the snapshot's Pool revision (``revisions``).

    v3.0 (revisions 1–4):

    * An account in e-mode category ``c`` values the assets of category ``c`` with the category's
      LTV, liquidation threshold and bonus, and at the category's price source when one is set
      (that source becomes a feed of its own, labelled ``emode<c>``).
    * A supply counts as collateral only if the user flag is on and the reserve's own liquidation
      threshold ≠ 0; it adds to borrowing power only if the reserve's own LTV ≠ 0 (``GenericLogic``
      tests the reserve's values, then weights with the e-mode ones).
    * The average liquidation threshold is floored to whole basis points (``weight_quantum``).

    v3.2 and later: "of category ``c``" means on ``c``'s collateral bitmap (an asset may be on several;
    ``extra["emode_collateral"]`` of the asset row), and there are no price sources. v3.2–3.4 keep the
    v3.0 tests and the floored average. v3.5 weights exactly (``HF = Σ value·LT / debt``, no floored
    average: ``weight_quantum`` 0). v3.6 counts every enabled collateral (an own LT of 0 too) and takes
    the e-mode LTV for members, 0 on the category's ltvzero bitmap, whatever the own LTV.
    """

    name = "aave-v3"

    def exposures(self, state: MarketState) -> Exposures:
        if maths_of(state.meta.market_params) == V30:
            return self._exposures_v30(state)
        return self._exposures_bitmaps(state)

    def _exposures_v30(self, state: MarketState) -> Exposures:
        assets = state.assets.reset_index(drop=True)
        base_unit = 10 ** state.meta.base_currency_decimals
        feed_symbol = list(assets["symbol"].astype(str))
        feed_asset = list(assets["asset"])
        price = [int(p) / base_unit for p in assets["price_raw"]]

        emode: dict[tuple[str, int], tuple[float, float, float, int]] = {}
        for row in state.emodes.itertuples(index=False):
            feed = -1
            if row.price_source:
                feed = len(feed_symbol)
                feed_symbol.append(f"emode{int(row.category)}")
                feed_asset.append(row.price_source)
                price.append(int(row.price_raw) / base_unit)
            emode[(row.market, int(row.category))] = (row.ltv, row.liquidation_threshold, row.liquidation_bonus, feed)

        units = state.accounts[["market", "account"]].drop_duplicates().reset_index(drop=True)
        pos = state.positions.reset_index(drop=True)
        i, unit, cat = _indices(state, assets, units, pos)

        emode_keys = pd.DataFrame(
            {
                "market": pd.Series([m for m, _ in emode], dtype=object),
                "category": pd.Series([c for _, c in emode], dtype=np.int64),
            }
        )
        params = np.array([v[:3] for v in emode.values()], dtype=np.float64).reshape(-1, 3)
        emode_feed = np.array([v[3] for v in emode.values()], dtype=np.int64)
        e = _row_of(pd.DataFrame({"market": pos["market"], "category": cat}), emode_keys, ["market", "category"])
        asset_category = assets["emode_category"].to_numpy()[i].astype(np.int64)
        in_emode = (cat != 0) & (asset_category == cat) & (e >= 0)
        e = np.where(in_emode, e, 0)

        def choose(k: int, column: str) -> np.ndarray:
            own = assets[column].to_numpy(dtype=np.float64)[i]
            return np.where(in_emode, params[e, k], own) if len(params) else own

        ltv = choose(0, "ltv")
        lt = choose(1, "liquidation_threshold")
        bonus = choose(2, "liquidation_bonus")
        source = emode_feed[e] if len(emode_feed) else np.full(len(pos), -1)
        own_lt = assets["liquidation_threshold"].to_numpy(dtype=np.float64)[i]
        own_ltv = assets["ltv"].to_numpy(dtype=np.float64)[i]
        counts = pos["collateral_enabled"].to_numpy().astype(bool) & (own_lt != 0)
        return Exposures(
            unit_market=units["market"].to_numpy(dtype=object),
            unit_account=units["account"].to_numpy(dtype=object),
            feed_symbol=np.array(feed_symbol, dtype=object),
            feed_asset=np.array(feed_asset, dtype=object),
            price=np.array(price, dtype=np.float64),
            base_usd=state.meta.base_currency_usd,
            pos_unit=unit,
            pos_feed=np.where(in_emode & (source >= 0), source, i).astype(np.int64),
            pos_asset=i,
            collateral=pos["collateral"].to_numpy(dtype=np.float64),
            debt=pos["debt"].to_numpy(dtype=np.float64),
            liq_weight=np.where(counts, lt, 0.0),
            borrow_weight=np.where(counts & (own_ltv != 0), ltv, 0.0),
            bonus=bonus,
            protocol_fee=assets["protocol_fee"].to_numpy(dtype=np.float64)[i],
            weight_quantum=1e-4,
        )

    def _exposures_bitmaps(self, state: MarketState) -> Exposures:
        maths = maths_of(state.meta.market_params)
        assets = state.assets.reset_index(drop=True)
        base_unit = 10 ** state.meta.base_currency_decimals
        units = state.accounts[["market", "account"]].drop_duplicates().reset_index(drop=True)
        pos = state.positions.reset_index(drop=True)
        i, unit, cat = _indices(state, assets, units, pos)
        collateral_of = _membership(assets, "emode_collateral")[i, cat]
        ltv_zero = _membership(assets, "emode_ltv_zero")[i, cat]
        params, e = _emode_params(state, pos, cat)
        in_emode = (cat != 0) & collateral_of & (e >= 0)
        e = np.where(in_emode, e, 0)

        def own(column: str) -> np.ndarray:
            return assets[column].to_numpy(dtype=np.float64)[i]

        def choose(k: int, column: str) -> np.ndarray:
            return np.where(in_emode, params[e, k], own(column)) if len(params) else own(column)

        enabled = pos["collateral_enabled"].to_numpy().astype(bool)
        counts = enabled if maths == V36 else enabled & (own("liquidation_threshold") != 0)
        if maths == V36:
            ltv = np.where(in_emode & ltv_zero, 0.0, choose(0, "ltv"))
        else:
            ltv = np.where(own("ltv") != 0, choose(0, "ltv"), 0.0)
        return Exposures(
            unit_market=units["market"].to_numpy(dtype=object),
            unit_account=units["account"].to_numpy(dtype=object),
            feed_symbol=assets["symbol"].astype(str).to_numpy(dtype=object),
            feed_asset=assets["asset"].to_numpy(dtype=object),
            price=np.array([int(p) / base_unit for p in assets["price_raw"]], dtype=np.float64),
            base_usd=state.meta.base_currency_usd,
            pos_unit=unit,
            pos_feed=i,
            pos_asset=i,
            collateral=pos["collateral"].to_numpy(dtype=np.float64),
            debt=pos["debt"].to_numpy(dtype=np.float64),
            liq_weight=np.where(counts, choose(1, "liquidation_threshold"), 0.0),
            borrow_weight=np.where(counts, ltv, 0.0),
            bonus=choose(2, "liquidation_bonus"),
            protocol_fee=own("protocol_fee"),
            weight_quantum=1e-4 if maths == V32 else 0.0,
        )

    def liquidation_rules(self, state: MarketState) -> LiquidationRules:
        from defirisk.adapters.aave_v3.liquidation import aave_rules

        return aave_rules(state)
