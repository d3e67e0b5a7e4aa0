"""The Morpho Blue family object: canonical snapshot → engine exposures and liquidation rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from defirisk.model import Exposures, MarketState

if TYPE_CHECKING:
    from defirisk.liquidation.rules import LiquidationRules


class MorphoBlueFamily:
    """Morpho Blue semantics for the engine.

    * Netting unit = (market id, account): markets are isolated, so a position nets only against the
      same market's other row (one collateral asset and one loan asset per market).
    * One price feed per asset row, i.e. per (market, token): each market's oracle prices its own
      collateral in its own loan token (the base currency of that market; ``price`` of the loan row
      is 1). A shock by symbol moves that token's feeds in every market.
    * Collateral rows weigh ``LLTV`` (as liquidation and borrow weight) with bonus ``LIF − 1``; the
      loan row's supply never counts as collateral (weight 0).

    Values are in each market's loan token, so an account's health factor is exact in the model's
    sense, but sums across markets mix loan tokens unless all markets share one: ``base_usd`` is the
    snapshot's ``base_currency_usd`` (NaN when no USD rate is known).
    """

    name = "morpho-blue"

    def exposures(self, state: MarketState) -> Exposures:
        assets = state.assets.reset_index(drop=True)
        asset_row = {(m, a): i for i, (m, a) in enumerate(zip(assets["market"], assets["asset"], strict=True))}
        units = state.accounts[["market", "account"]].drop_duplicates().reset_index(drop=True)
        unit_index = {(m, a): i for i, (m, a) in enumerate(zip(units["market"], units["account"], strict=True))}
        pos = state.positions
        rows = np.array([asset_row[(m, a)] for m, a in zip(pos["market"], pos["asset"], strict=True)], dtype=np.int64)
        enabled = pos["collateral_enabled"].to_numpy(dtype=bool)
        weight = assets["liquidation_threshold"].to_numpy(dtype=np.float64)[rows]
        borrow_weight = assets["ltv"].to_numpy(dtype=np.float64)[rows]
        return Exposures(
            unit_market=units["market"].to_numpy(dtype=object),
            unit_account=units["account"].to_numpy(dtype=object),
            feed_symbol=assets["symbol"].astype(str).to_numpy(dtype=object),
            feed_asset=assets["asset"].to_numpy(dtype=object),
            price=assets["price"].to_numpy(dtype=np.float64),
            base_usd=state.meta.base_currency_usd,
            pos_unit=np.array([unit_index[(m, a)] for m, a in zip(pos["market"], pos["account"], strict=True)],
                              dtype=np.int64),
            pos_feed=rows,
            pos_asset=rows.copy(),
            collateral=pos["collateral"].to_numpy(dtype=np.float64),
            debt=pos["debt"].to_numpy(dtype=np.float64),
            liq_weight=np.where(enabled, weight, 0.0),
            borrow_weight=np.where(enabled, borrow_weight, 0.0),
            bonus=assets["liquidation_bonus"].to_numpy(dtype=np.float64)[rows],
            protocol_fee=np.zeros(len(pos)),
        )

    def liquidation_rules(self, state: MarketState) -> LiquidationRules:
        from defirisk.adapters.morpho_blue.liquidation import morpho_blue_rules

        return morpho_blue_rules(state)
