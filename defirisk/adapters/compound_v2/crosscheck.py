"""Does the engine's view of the bundled dataset reproduce the dataset's own account totals?

For every account, from the family's exposures (base currency = ETH)::

    borrowing power = Σ collateral · liq_weight · price          vs  total_collateral_value_in_eth
    borrow value    = Σ debt · price                              vs  total_borrow_value_in_eth

(the subgraph's totals, kept in ``accounts.extra``). The collateral totals are CF-weighted and
decompose exactly into ``Σ cTokenBalance · k_market``, so with the snapshot valuation the agreement
is to float precision, except for two known groups reported apart:

* accounts holding a *repriced* market — one whose subgraph valuation price differs from the price
  the engine uses (legacy cWBTC: the subgraph's price of this inactive market is stale, while the
  oracle prices WBTC once for both WBTC markets);
* accounts with a negative cToken balance in the subgraph (counted as no supply).

The borrow value equals the subgraph's total by construction (the importer scales each account's
debts to it); ``borrow_unscaled_gap`` reports what the stored principal alone would miss, i.e. the
interest accrued since each account's last interaction.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from defirisk.adapters.compound_v2.family import CompoundV2Family
from defirisk.errors import DataError
from defirisk.model import MarketState

TOLERANCE = 1e-6
#: Relative gap between the subgraph's and the engine's price above which a market counts as repriced.
REPRICED = 1e-9


def _agreement(ours: np.ndarray, theirs: np.ndarray) -> dict[str, Any]:
    """Relative errors ``|ours − theirs| / |theirs|`` (accounts where both are 0 count as exact)."""
    both_zero = (ours == 0) & (theirs == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(both_zero, 0.0, np.abs(ours - theirs) / np.abs(theirs))
    nonzero = theirs != 0
    return {
        "accounts": int(len(rel)),
        "sum_engine": float(ours.sum()),
        "sum_dataset": float(theirs.sum()),
        "max_rel_error": float(rel.max()) if len(rel) else 0.0,
        "median_rel_error": float(np.median(rel[nonzero])) if nonzero.any() else 0.0,
        "within_tolerance": int((rel <= TOLERANCE).sum()),
    }


def _repriced_markets(state: MarketState) -> dict[str, dict[str, float]]:
    repriced = {}
    for asset, price, extra in zip(
        state.assets["asset"], state.assets["price"], state.assets["extra"], strict=True
    ):
        subgraph = (extra or {}).get("subgraph_price_eth")
        if subgraph is not None and abs(subgraph - price) > REPRICED * abs(subgraph):
            repriced[str(asset)] = {"subgraph_price_eth": float(subgraph), "price_eth": float(price)}
    return repriced


def crosscheck_collateral(state: MarketState) -> dict[str, Any]:
    """Engine borrowing power and borrow value per account against the dataset's own totals.

    Returns:

    * ``accounts`` — number of accounts; ``tolerance`` — relative, 1e-6;
    * ``collateral`` / ``borrow`` — over all accounts: ``sum_engine``, ``sum_dataset`` (ETH),
      ``max_rel_error``, ``median_rel_error`` (accounts with a non-zero dataset total),
      ``within_tolerance`` (accounts within it);
    * ``collateral_other`` — the same over the accounts outside the two known groups;
    * ``repriced_markets`` (cToken → subgraph and engine price, ETH), ``accounts_repriced``,
      ``accounts_negative_balance``;
    * ``borrow_unscaled_gap`` — ``1 − Σ stored principal value / Σ dataset borrow``;
    * ``shortfall_engine`` / ``shortfall_dataset`` — accounts whose borrow value exceeds their
      borrowing power;
    * ``snapshot_valuation`` — whether the prices are the snapshot's own (with ``price_time`` set the
      collateral comparison measures the price change, not the model).

    Raises ``DataError`` when the state does not carry the dataset totals (not an import of the
    bundled dataset).
    """
    exposures = CompoundV2Family().exposures(state)
    accounts = state.accounts.drop_duplicates(["market", "account"])
    extras = list(accounts["extra"])
    try:
        tc = np.array([e["subgraph_total_collateral_eth"] for e in extras], dtype=np.float64)
        tb = np.array([e["subgraph_total_borrow_eth"] for e in extras], dtype=np.float64)
        scale = np.array([e["borrow_scale"] for e in extras], dtype=np.float64)
        holdings = [e["ctoken_balances"] for e in extras]
    except (KeyError, TypeError):
        raise DataError("this snapshot does not carry the dataset's account totals") from None

    price = exposures.price[exposures.pos_feed]
    n = exposures.n_units
    power = np.bincount(exposures.pos_unit, exposures.collateral * exposures.liq_weight * price, minlength=n)
    borrow = np.bincount(exposures.pos_unit, exposures.debt * price, minlength=n)

    repriced = _repriced_markets(state)
    negative = state.meta.market_params.get("negative_ctoken_balances", {})
    holds_repriced = np.array([any(m in repriced for m in h) for h in holdings], dtype=bool)
    has_negative = np.isin(accounts["account"].to_numpy(dtype=object), list(negative))
    other = ~holds_repriced & ~has_negative
    return {
        "accounts": int(n),
        "tolerance": TOLERANCE,
        "collateral": _agreement(power, tc),
        "collateral_other": _agreement(power[other], tc[other]),
        "repriced_markets": repriced,
        "accounts_repriced": int(holds_repriced.sum()),
        "accounts_negative_balance": int(has_negative.sum()),
        "borrow": _agreement(borrow, tb),
        "borrow_unscaled_gap": float(1.0 - (borrow / scale).sum() / tb.sum()) if tb.sum() else 0.0,
        "shortfall_engine": int((borrow > power).sum()),
        "shortfall_dataset": int((tb > tc).sum()),
        "snapshot_valuation": state.meta.market_params.get("price_time") is None,
    }
