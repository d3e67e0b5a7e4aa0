"""The Compound v2 family object: canonical snapshot → engine exposures and liquidation rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from defirisk.errors import DataError
from defirisk.model import Exposures, MarketState

if TYPE_CHECKING:
    from defirisk.liquidation.rules import LiquidationRules


def underlying_tokens(assets: pd.DataFrame) -> pd.Series:
    """Underlying token per asset row (``extra["underlying"]``; the asset key itself when absent)."""
    return pd.Series(
        [
            (extra or {}).get("underlying", asset)
            for asset, extra in zip(assets["asset"], assets["extra"], strict=True)
        ],
        index=assets.index,
        dtype=object,
    )


def price_feeds(assets: pd.DataFrame) -> tuple[list[int], np.ndarray]:
    """Feeds per underlying: (asset row of each feed's first market, feed index of every asset row).

    ``assets`` must have a 0..n−1 index. Raises ``DataError`` when two markets of one underlying carry
    different prices.
    """
    underlying = underlying_tokens(assets)
    feed_of_underlying: dict[str, int] = {}
    asset_feed = np.empty(len(assets), dtype=np.int64)
    feed_rows: list[int] = []
    for i, token in enumerate(underlying):
        feed = feed_of_underlying.get(token)
        if feed is None:
            feed = feed_of_underlying[token] = len(feed_rows)
            feed_rows.append(i)
        elif assets.at[i, "price_raw"] != assets.at[feed_rows[feed], "price_raw"]:
            first = assets.at[feed_rows[feed], "asset"]
            raise DataError(
                f"markets {first} and {assets.at[i, 'asset']} price the same underlying differently"
            )
        asset_feed[i] = feed
    return feed_rows, asset_feed


class CompoundV2Family:
    """Compound v2 semantics for the engine.

    * One Comptroller is one market; each asset row is a cToken market (keyed by the cToken address).
    * A supply counts as collateral in a market the account has entered (``collateral_enabled``) with
      weight = the market's collateral factor, for both liquidation and borrowing (Compound v2 has one
      factor and no e-modes). Liquidatable when ``HF < 1`` (shortfall > 0).
    * Price feeds are per underlying token: the oracle prices an underlying once, so markets of the
      same underlying (legacy cWBTC and cWBTC2) share one feed, and a shock to it moves both. Two
      markets of one underlying with different prices are refused (``DataError``).
    * Bonus = liquidation incentive − 1; ``protocol_fee`` as stored (share of the bonus).
    """

    name = "compound-v2"

    def exposures(self, state: MarketState) -> Exposures:
        assets = state.assets.reset_index(drop=True)
        base_unit = 10**state.meta.base_currency_decimals
        underlying = underlying_tokens(assets)
        price = np.array([int(p) / base_unit for p in assets["price_raw"]], dtype=np.float64)
        feed_rows, asset_feed = price_feeds(assets)

        units = state.accounts[["market", "account"]].drop_duplicates().reset_index(drop=True)
        unit_index = pd.MultiIndex.from_frame(units)
        asset_index = pd.MultiIndex.from_frame(assets[["market", "asset"]])
        pos = state.positions
        pos_unit = unit_index.get_indexer(pd.MultiIndex.from_frame(pos[["market", "account"]]))
        pos_asset = asset_index.get_indexer(pd.MultiIndex.from_frame(pos[["market", "asset"]]))
        if (pos_unit < 0).any() or (pos_asset < 0).any():
            raise DataError("a position names an account or asset missing from the snapshot")

        cf = assets["liquidation_threshold"].to_numpy(dtype=np.float64)[pos_asset]
        ltv = assets["ltv"].to_numpy(dtype=np.float64)[pos_asset]
        counts = pos["collateral_enabled"].to_numpy(dtype=bool) & (cf != 0)
        return Exposures(
            unit_market=units["market"].to_numpy(dtype=object),
            unit_account=units["account"].to_numpy(dtype=object),
            feed_symbol=assets["symbol"].astype(str).to_numpy(dtype=object)[feed_rows],
            feed_asset=underlying.to_numpy(dtype=object)[feed_rows],
            price=price[feed_rows],
            base_usd=state.meta.base_currency_usd,
            pos_unit=pos_unit.astype(np.int64),
            pos_feed=asset_feed[pos_asset],
            pos_asset=pos_asset.astype(np.int64),
            collateral=pos["collateral"].to_numpy(dtype=np.float64),
            debt=pos["debt"].to_numpy(dtype=np.float64),
            liq_weight=np.where(counts, cf, 0.0),
            borrow_weight=np.where(counts, ltv, 0.0),
            bonus=assets["liquidation_bonus"].to_numpy(dtype=np.float64)[pos_asset],
            protocol_fee=assets["protocol_fee"].to_numpy(dtype=np.float64)[pos_asset],
        )

    def liquidation_rules(self, state: MarketState) -> LiquidationRules:
        from defirisk.adapters.compound_v2.liquidation import compound_v2_rules

        return compound_v2_rules(state)
