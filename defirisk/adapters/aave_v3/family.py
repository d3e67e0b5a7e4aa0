"""The Aave v3 family object: canonical snapshot → engine exposures and liquidation rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from defirisk.errors import DataError
from defirisk.model import Exposures, MarketState

if TYPE_CHECKING:
    from defirisk.liquidation.rules import LiquidationRules


def _row_of(keys: pd.DataFrame, table: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """For each row of ``keys``, the position in ``table`` of the row with the same ``columns``
    (the last one on duplicates, as a dict built from the table would keep); -1 where none."""
    index = table[columns].assign(_row=np.arange(len(table))).drop_duplicates(columns, keep="last")
    joined = keys[columns].merge(index, on=columns, how="left", sort=False)
    return joined["_row"].fillna(-1).to_numpy(dtype=np.int64)


class AaveV3Family:
    """Aave v3 semantics for the engine.

    * An account in e-mode category ``c`` values the assets of category ``c`` with the category's
      LTV, liquidation threshold and bonus, and at the category's price source when one is set
      (that source becomes a feed of its own, labelled ``emode<c>``).
    * A supply counts as collateral only if the user flag is on and the reserve's own liquidation
      threshold ≠ 0; it adds to borrowing power only if the reserve's own LTV ≠ 0 (``GenericLogic``
      tests the reserve's values, then weights with the e-mode ones).
    * The average liquidation threshold is floored to whole basis points (``weight_quantum``).
    """

    name = "aave-v3"

    def exposures(self, state: MarketState) -> Exposures:
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
        i = _row_of(pos, assets, ["market", "asset"])
        if (i < 0).any():
            raise DataError(f"{int((i < 0).sum())} positions refer to an asset missing from the assets table")
        unit = _row_of(pos, units, ["market", "account"])
        if (unit < 0).any():
            raise DataError(f"{int((unit < 0).sum())} positions refer to an account missing from the accounts table")
        account_row = _row_of(pos, state.accounts.reset_index(drop=True), ["market", "account"])
        cat = state.accounts["emode_category"].to_numpy()[account_row].astype(np.int64)

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

    def liquidation_rules(self, state: MarketState) -> LiquidationRules:
        from defirisk.adapters.aave_v3.liquidation import aave_rules

        return aave_rules(state)
