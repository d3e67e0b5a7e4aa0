"""The dataset's own valuation: exchange rates and prices (ETH) implied by its collateral totals.

The subgraph's per-account collateral total decomposes exactly as ``Σ cTokenBalance · k_m`` with one
coefficient per market and snapshot, ``k_m = exchangeRate_m · CF_m · price_m`` (ETH per whole cToken,
column ``k_collateral_eth_per_ctoken_<date>`` of ``markets.csv``). From it:

* **exchange rates** (underlying per whole cToken): cETH's is ``k / CF`` (its price is 1 ETH by
  definition, CF 0.825 is confirmed), so it is exact for each snapshot; every other market uses
  ``exchange_rate_est`` (estimated from mint/redeem events between the snapshots, a slight lower bound
  for 2023-05-09, so for 2023-03-27 the amounts are up to the interest accrued in between too high and
  the prices as much too low; their product, the value, is exact). Markets without usable events have
  none (all have CF 0).
* **prices** (ETH per whole underlying token):
  - ``CF > 0``: ``k / (exchangeRate · CF)`` (``"k-implied"``). Markets sharing an underlying get one
    price, the one of the market whose CF is best confirmed (the oracle prices an underlying once; the
    subgraph's valuation of the inactive legacy cWBTC market is stale — kept as
    ``subgraph_price_eth``).
  - USD stablecoins with ``CF = 0`` (USDT, TUSD, USDP): USDC's price (``"USD peg"``).
  - SAI: the oracle's frozen price, 0.005285551943761727 ETH (``"fixed"``: Compound's Open Price Feed
    configures SAI as ``FIXED_ETH`` with ``fixedPrice = 5285551943761727``, the SAI global-settlement
    price).
  - any other ``CF = 0`` market (REP, FEI — deprecated, valued by the subgraph at frozen prices):
    ``min(total_borrow_value_in_eth / stored_borrow_balance)`` over accounts borrowing only that
    market (``"borrow-implied"``): an upper bound of the subgraph's price, as interest only adds to
    the debt, tight when some borrower acted recently.
* **ETH/USD**: ``1 / price(USDC)`` — USDC taken as exactly 1 USD.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from defirisk.adapters.compound_v2.dataset import NATIVE_ETH
from defirisk.errors import DataError

CETH = "0x4ddc2d193948926d02f9b1fe9e1daa0718270ed5"
CUSDC = "0x39aa39c021dfbae8fac545936693ac917d5e7563"
#: CF-0 stablecoin markets valued at USDC's price: cUSDT, cTUSD, cUSDP.
USD_PEGGED_CF0 = frozenset(
    {
        "0xf650c3d88d12db855b8bf7d11be6c55a4e07dcc9",
        "0x12392f67bdf24fae0af363c24ac620a2f67dad86",
        "0x041171993284df560249b57358f931d9eb7b925d",
    }
)
#: Markets with a frozen oracle price in ETH: cSAI (Open Price Feed ``FIXED_ETH``).
FIXED_PRICE_ETH: dict[str, str] = {"0xf5dce57282a584d2746faf1593d3121fcac444dc": "0.005285551943761727"}
#: Deprecated markets (CF 0, borrowing paused): cREP, cSAI, cFEI, per ``markets.csv`` notes.
DEPRECATED = frozenset(
    {
        "0x158079ee67fce2f58472a96584a73c7ab9ac95c1",
        "0xf5dce57282a584d2746faf1593d3121fcac444dc",
        "0x7713dd9ca933848f6819f38b8352d9a15ea73f67",
    }
)
_CONFIDENCE = {"high": 0, "medium": 1, "unconfirmed": 2}


@dataclass(frozen=True)
class Valuation:
    """Per-market figures of one snapshot, each a Series indexed by cToken address."""

    exchange_rate: pd.Series  # underlying per whole cToken (float, NaN when unknown)
    exchange_rate_source: pd.Series  # "k / CF", "estimated" or "none"
    price_eth: pd.Series  # ETH per whole underlying token
    price_source: pd.Series  # "k-implied", "k-implied via <cToken>", "USD peg", "fixed", "borrow-implied"
    subgraph_price_eth: pd.Series  # k / (exchangeRate · CF); NaN where CF = 0
    eth_usd: float


def underlying_address(markets: pd.DataFrame) -> pd.Series:
    """Underlying token address per cToken (``NATIVE_ETH`` for cETH), lower-case."""
    raw = markets.set_index("ctoken_address")["underlying_address"].astype(str).str.lower()
    return raw.where(raw.str.fullmatch(r"0x[0-9a-f]{40}"), NATIVE_ETH)


def _exchange_rates(markets: pd.DataFrame, k: pd.Series) -> tuple[pd.Series, pd.Series]:
    m = markets.set_index("ctoken_address")
    rate = pd.to_numeric(m["exchange_rate_est"], errors="coerce").astype(float)
    source = pd.Series(np.where(rate.notna(), "estimated", "none"), index=m.index, dtype=object)
    if CETH not in m.index:
        raise DataError("markets.csv has no cETH row")
    rate[CETH] = k[CETH] / float(m.at[CETH, "collateral_factor"])
    source[CETH] = "k / CF"
    return rate, source


def _borrow_implied(positions: pd.DataFrame) -> pd.Series:
    """min(TB / stored) over single-market borrowers, per cToken."""
    borrows = positions[positions["stored_borrow_balance"] > 0]
    markets_per_account = borrows.groupby("account")["ctoken_address"].transform("size")
    single = borrows[markets_per_account == 1]
    ratio = single["total_borrow_value_in_eth"] / single["stored_borrow_balance"]
    return ratio.groupby(single["ctoken_address"]).min()


def snapshot_valuation(markets: pd.DataFrame, positions: pd.DataFrame, k_column: str) -> Valuation:
    """Exchange rates, prices and ETH/USD of one snapshot (see the module docstring)."""
    m = markets.set_index("ctoken_address")
    k = m[k_column].astype(float)
    cf = m["collateral_factor"].astype(float)
    rate, rate_source = _exchange_rates(markets, k)
    if ((cf > 0) & rate.isna()).any():
        raise DataError("a market with a collateral factor lacks an exchange rate")
    implied = (k / (rate * cf)).where(cf > 0)
    implied[CETH] = 1.0
    price = pd.Series(np.nan, index=m.index)
    source = pd.Series("", index=m.index, dtype=object)

    underlying = underlying_address(markets)
    confidence = m["cf_confidence"].map(_CONFIDENCE).fillna(len(_CONFIDENCE))
    for _, group in implied[cf > 0].groupby(underlying[cf > 0]):
        best = confidence[group.index].sort_values(kind="stable").index[0]
        for ctoken in group.index:
            price[ctoken] = implied[best]
            source[ctoken] = "k-implied" if ctoken == best else f"k-implied via {best}"

    if CUSDC not in price.index or np.isnan(price[CUSDC]):
        raise DataError("the USDC market's price is needed for ETH/USD and the stablecoin peg")
    borrow_implied = _borrow_implied(positions)
    for ctoken in m.index[cf == 0]:
        if ctoken in USD_PEGGED_CF0:
            price[ctoken], source[ctoken] = price[CUSDC], "USD peg"
        elif ctoken in FIXED_PRICE_ETH:
            price[ctoken], source[ctoken] = float(FIXED_PRICE_ETH[ctoken]), "fixed"
        elif ctoken in borrow_implied.index:
            price[ctoken], source[ctoken] = borrow_implied[ctoken], "borrow-implied"
        else:
            raise DataError(f"no price source for market {ctoken} (CF 0, no single-market borrower)")
    return Valuation(
        exchange_rate=rate,
        exchange_rate_source=rate_source,
        price_eth=price,
        price_source=source,
        subgraph_price_eth=implied,
        eth_usd=1.0 / float(price[CUSDC]),
    )
