"""The Compound III (Comet) family object: canonical snapshot → engine exposures and liquidation rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from defirisk.adapters.comet.maths import FACTOR_DESCALE, FACTOR_SCALE
from defirisk.errors import DataError
from defirisk.model import Exposures, MarketState

if TYPE_CHECKING:
    from defirisk.adapters.comet.liquidation import CometRules


def absorb_terms(extra: dict) -> tuple[float, float]:
    """``(bonus, protocol_fee)`` of a collateral row for the estimator: ``1/LF − 1`` and ``1 − SF``.

    With them the generic seizure reproduces absorb-and-buy (``liquidation`` module docstring). A
    liquidation factor of 0 (the protocol credits nothing) is taken as the smallest stored one, 1e-4,
    which keeps the bonus finite (9,999) and the credit negligible.
    """
    lf = max(int(extra["liquidation_factor"]), FACTOR_DESCALE)
    sf = int(extra["store_front_price_factor"])
    return (FACTOR_SCALE - lf) / lf, (FACTOR_SCALE - sf) / FACTOR_SCALE


class CometFamily:
    """Compound III semantics for the engine.

    * Netting unit = (Comet, account): the base debt nets against the account's collaterals there.
    * One price feed per asset row (the Comet's ``getPrice`` of that asset's feed, 8 decimals, in the
      market's price unit); a shock by symbol moves that asset's feed.
    * Collateral rows weigh liquidateCollateralFactor (liquidation) and borrowCollateralFactor
      (borrow); their bonus and protocol fee are the absorb terms of ``absorb_terms``. The base row's
      supply never counts as collateral (weight 0).

    ``base_usd`` is the snapshot's ``base_currency_usd`` (1 for USD-priced markets, NaN where the
    price unit is ETH or unknown).
    """

    name = "comet"

    def exposures(self, state: MarketState) -> Exposures:
        assets = state.assets.reset_index(drop=True)
        asset_row = {(m, a): i for i, (m, a) in enumerate(zip(assets["market"], assets["asset"], strict=True))}
        units = state.accounts[["market", "account"]].drop_duplicates().reset_index(drop=True)
        unit_index = {(m, a): i for i, (m, a) in enumerate(zip(units["market"], units["account"], strict=True))}
        pos = state.positions
        try:
            rows = np.array([asset_row[k] for k in zip(pos["market"], pos["asset"], strict=True)], dtype=np.int64)
            pos_unit = np.array([unit_index[k] for k in zip(pos["market"], pos["account"], strict=True)],
                                dtype=np.int64)
        except KeyError as exc:
            raise DataError(f"a position refers to {exc.args[0]}, missing from the assets or accounts table") from None
        terms = np.array(
            [absorb_terms(e) if e["role"] == "collateral" else (0.0, 0.0) for e in assets["extra"]], dtype=np.float64
        ).reshape(-1, 2)
        enabled = pos["collateral_enabled"].to_numpy(dtype=bool)
        return Exposures(
            unit_market=units["market"].to_numpy(dtype=object),
            unit_account=units["account"].to_numpy(dtype=object),
            feed_symbol=assets["symbol"].astype(str).to_numpy(dtype=object),
            feed_asset=assets["asset"].to_numpy(dtype=object),
            price=assets["price"].to_numpy(dtype=np.float64),
            base_usd=state.meta.base_currency_usd,
            pos_unit=pos_unit,
            pos_feed=rows,
            pos_asset=rows.copy(),
            collateral=pos["collateral"].to_numpy(dtype=np.float64),
            debt=pos["debt"].to_numpy(dtype=np.float64),
            liq_weight=np.where(enabled, assets["liquidation_threshold"].to_numpy(dtype=np.float64)[rows], 0.0),
            borrow_weight=np.where(enabled, assets["ltv"].to_numpy(dtype=np.float64)[rows], 0.0),
            bonus=terms[rows, 0],
            protocol_fee=terms[rows, 1],
        )

    def liquidation_rules(self, state: MarketState) -> CometRules:
        from defirisk.adapters.comet.liquidation import comet_rules

        return comet_rules(state)
