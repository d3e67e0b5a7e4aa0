"""The Aave v3 family object: canonical snapshot → engine exposures and liquidation rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from defirisk.model import Exposures, MarketState

if TYPE_CHECKING:
    from defirisk.liquidation.rules import LiquidationRules


class AaveV3Family:
    """Aave v3 semantics for the engine.

    * An account in e-mode category ``c`` values the assets of category ``c`` with the category's
      LTV, liquidation threshold and bonus, and at the category's price source when one is set
      (that source becomes a feed of its own, labelled ``emode<c>``).
    * A supply counts as collateral only if the user flag is on and its liquidation threshold ≠ 0.
    """

    name = "aave-v3"

    def exposures(self, state: MarketState) -> Exposures:
        assets = state.assets.reset_index(drop=True)
        base_unit = 10 ** state.meta.base_currency_decimals
        feed_symbol = list(assets["symbol"].astype(str))
        feed_asset = list(assets["asset"])
        price = [int(p) / base_unit for p in assets["price_raw"]]
        asset_row = {(m, a): i for i, (m, a) in enumerate(zip(assets["market"], assets["asset"], strict=True))}

        emode = {}
        for row in state.emodes.itertuples(index=False):
            feed = None
            if row.price_source:
                feed = len(feed_symbol)
                feed_symbol.append(f"emode{int(row.category)}")
                feed_asset.append(row.price_source)
                price.append(int(row.price_raw) / base_unit)
            emode[(row.market, int(row.category))] = (row.ltv, row.liquidation_threshold, row.liquidation_bonus, feed)

        units = state.accounts[["market", "account"]].drop_duplicates().reset_index(drop=True)
        unit_index = {(m, a): i for i, (m, a) in enumerate(zip(units["market"], units["account"], strict=True))}
        user_emode = {(r.market, r.account): int(r.emode_category) for r in state.accounts.itertuples(index=False)}

        pos = state.positions
        n = len(pos)
        pos_unit = np.empty(n, dtype=np.int64)
        pos_feed = np.empty(n, dtype=np.int64)
        pos_asset = np.empty(n, dtype=np.int64)
        collateral = np.empty(n)
        debt = np.empty(n)
        liq_weight = np.empty(n)
        borrow_weight = np.empty(n)
        bonus = np.empty(n)
        protocol_fee = np.empty(n)
        for k, row in enumerate(pos.itertuples(index=False)):
            i = asset_row[(row.market, row.asset)]
            a = assets.iloc[i]
            cat = user_emode.get((row.market, row.account), 0)
            ltv, lt, bon, feed = a.ltv, a.liquidation_threshold, a.liquidation_bonus, i
            if cat != 0 and int(a.emode_category) == cat and (row.market, cat) in emode:
                ltv, lt, bon, emode_feed = emode[(row.market, cat)]
                feed = i if emode_feed is None else emode_feed
            counts = bool(row.collateral_enabled) and lt != 0
            pos_unit[k] = unit_index[(row.market, row.account)]
            pos_feed[k] = feed
            pos_asset[k] = i
            collateral[k] = row.collateral
            debt[k] = row.debt
            liq_weight[k] = lt if counts else 0.0
            borrow_weight[k] = ltv if counts else 0.0
            bonus[k] = bon
            protocol_fee[k] = a.protocol_fee
        return Exposures(
            unit_market=units["market"].to_numpy(dtype=object),
            unit_account=units["account"].to_numpy(dtype=object),
            feed_symbol=np.array(feed_symbol, dtype=object),
            feed_asset=np.array(feed_asset, dtype=object),
            price=np.array(price, dtype=np.float64),
            base_usd=state.meta.base_currency_usd,
            pos_unit=pos_unit,
            pos_feed=pos_feed,
            pos_asset=pos_asset,
            collateral=collateral,
            debt=debt,
            liq_weight=liq_weight,
            borrow_weight=borrow_weight,
            bonus=bonus,
            protocol_fee=protocol_fee,
        )

    def liquidation_rules(self, state: MarketState) -> LiquidationRules:
        from defirisk.adapters.aave_v3.liquidation import aave_rules

        return aave_rules(state)
