"""The canonical, protocol-neutral model every adapter maps onto.

Downstream code (store, engine, liquidation, report) sees only these shapes and never branches on a
protocol's name; what differs between families lives in the family object (``defirisk.families``).

Conventions (the same everywhere, in memory and in the store):

* Addresses are lower-case ``0x`` hex strings. Checksumming is for display only.
* Raw amounts are exact Python ``int`` (token base units, uint256); their scaled twin is a float in
  whole tokens (``raw / 10**decimals``). In DuckDB a raw amount is a decimal string (uint256 does not
  fit any SQL integer type).
* Prices: ``price_raw`` is the protocol oracle's integer answer for one whole token in the market's
  base currency, with ``base_currency_decimals`` implied decimals (Aave: USD with 8). ``price`` is the
  same as a float in base-currency units and ``price_usd`` in US dollars.
* Ratios are fractions: a liquidation threshold of 83 % is ``0.83``, a 5 % bonus is ``0.05``.

A snapshot (``MarketState``) holds four tables as pandas DataFrames with the columns listed in
``ASSET_COLUMNS``, ``EMODE_COLUMNS``, ``ACCOUNT_COLUMNS`` and ``POSITION_COLUMNS``. A *market* is the
unit inside which an account's positions net against each other (an Aave pool, a Comptroller, a Comet,
a Morpho Blue market id); an account's *netting unit* is the pair (market, account).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: One row per (market, asset).
ASSET_COLUMNS: dict[str, str] = {
    "market": "market key (pool or comptroller address, Morpho market id)",
    "asset": "token address keying the asset (the underlying; for Compound v2 the cToken, underlying in extra)",
    "symbol": "token symbol, verbatim from the token contract (untrusted)",
    "name": "token name, verbatim from the token contract (untrusted)",
    "decimals": "token decimals",
    "price_raw": "oracle answer (int) in base-currency units",
    "price": "price of one whole token in the base currency (float)",
    "price_usd": "price of one whole token in USD (float)",
    "ltv": "borrow weight: Aave LTV, Compound CF, Comet borrowCF, Morpho LLTV",
    "liquidation_threshold": "liquidation weight: Aave LT, Compound CF, Comet liquidateCF, Morpho LLTV",
    "liquidation_bonus": "bonus on seized collateral as a fraction (0.05 = 5 %)",
    "protocol_fee": "share of the bonus taken by the protocol",
    "reserve_factor": "share of interest kept by the protocol",
    "supply_cap": "whole tokens, 0 = none",
    "borrow_cap": "whole tokens, 0 = none",
    "debt_ceiling": "isolation debt ceiling in USD, 0 = none",
    "is_isolated": "collateral only usable in isolation mode",
    "borrowable_in_isolation": "may be borrowed by isolated accounts",
    "is_siloed": "siloed borrowing",
    "usage_as_collateral_enabled": "the protocol lets the asset count as collateral",
    "borrowing_enabled": "the asset may be borrowed",
    "is_active": "reserve active",
    "is_frozen": "reserve frozen",
    "is_paused": "reserve paused",
    "emode_category": "e-mode category of the asset, 0 = none",
    "extra": "dict of family-specific raw values (indexes, raw config words, ...)",
}

#: One row per (market, e-mode category); empty for families without e-modes.
EMODE_COLUMNS: dict[str, str] = {
    "market": "market key",
    "category": "e-mode category id (> 0)",
    "label": "label from the chain (untrusted)",
    "ltv": "e-mode LTV (fraction)",
    "liquidation_threshold": "e-mode liquidation threshold (fraction)",
    "liquidation_bonus": "e-mode liquidation bonus (fraction)",
    "price_source": "address of the e-mode price source, None when the assets' own oracles apply",
    "price_raw": "price source answer in base-currency units, None without a price source",
}

#: One row per (market, account).
ACCOUNT_COLUMNS: dict[str, str] = {
    "market": "market key",
    "account": "account address",
    "emode_category": "e-mode the account is in, 0 = none",
    "extra": "dict of family-specific attributes (configuration bitmap, ...)",
}

#: One row per (market, account, asset) with a non-zero collateral or debt.
POSITION_COLUMNS: dict[str, str] = {
    "market": "market key",
    "account": "account address",
    "asset": "asset key, as in the assets table",
    "collateral_raw": "supplied balance, token base units (int)",
    "collateral": "supplied balance in whole tokens (float)",
    "debt_raw": "debt balance (all debt kinds), token base units (int)",
    "debt": "debt balance in whole tokens (float)",
    "collateral_enabled": "the account uses this supply as collateral",
}


@dataclass(frozen=True)
class SnapshotMeta:
    """Where and how a snapshot was taken: enough to reproduce it."""

    deployment: str
    family: str
    chain_id: int | None
    block_number: int | None
    block_hash: str | None
    timestamp: int | None
    adapter_version: str
    price_source: str
    base_currency: str = "USD"
    base_currency_decimals: int = 8
    base_currency_usd: float = 1.0
    rules_version: str = ""
    label: str = ""
    offline: bool = False
    snapshot_id: int | None = None
    market_params: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    """An empty DataFrame with the given canonical columns."""
    return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})


@dataclass
class MarketState:
    """One snapshot in the canonical model.

    ``assets``, ``emodes``, ``accounts`` and ``positions`` hold exactly the columns of the matching
    ``*_COLUMNS`` table (extra columns are not allowed, so every family stores the same shape).
    """

    meta: SnapshotMeta
    assets: pd.DataFrame
    emodes: pd.DataFrame
    accounts: pd.DataFrame
    positions: pd.DataFrame

    def validate(self) -> None:
        """Raise ``DataError`` if a table lacks canonical columns or has foreign ones."""
        from defirisk.errors import DataError

        for name, columns in (
            ("assets", ASSET_COLUMNS),
            ("emodes", EMODE_COLUMNS),
            ("accounts", ACCOUNT_COLUMNS),
            ("positions", POSITION_COLUMNS),
        ):
            got = list(getattr(self, name).columns)
            if got != list(columns):
                raise DataError(f"{name} columns {got} differ from the canonical {list(columns)}")


@dataclass
class Exposures:
    """Engine input: every position of every netting unit, with its effective weights applied.

    A family object builds this from a ``MarketState`` (it knows e-modes, entered markets, disabled
    collateral). Shapes: N netting units, F price feeds, P positions.

    Health factor of unit ``n`` at feed multipliers ``m`` (shape F)::

        HF_n = Σ_{p∈n} collateral_p · price_{f(p)} · m_{f(p)} · liq_weight_p
               ───────────────────────────────────────────────────────────────
               Σ_{p∈n} debt_p · price_{f(p)} · m_{f(p)}

    (``inf`` without debt). ``liq_weight`` is 0 for supplies that do not count as collateral.
    Values are in the base currency; multiply by ``base_usd`` for USD.
    """

    unit_market: npt.NDArray[np.object_]  # (N,)
    unit_account: npt.NDArray[np.object_]  # (N,)
    feed_symbol: npt.NDArray[np.object_]  # (F,) label used to address shocks (asset symbol)
    feed_asset: npt.NDArray[np.object_]  # (F,) asset address the feed prices
    price: FloatArray  # (F,) base currency per whole token
    base_usd: float  # USD per base-currency unit
    pos_unit: IntArray  # (P,) index into units
    pos_feed: IntArray  # (P,) index into feeds: the price this position is valued at
    pos_asset: IntArray  # (P,) row index into MarketState.assets
    collateral: FloatArray  # (P,) whole tokens
    debt: FloatArray  # (P,) whole tokens
    liq_weight: FloatArray  # (P,) effective liquidation weight (0 if not collateral)
    borrow_weight: FloatArray  # (P,) effective LTV
    bonus: FloatArray  # (P,) effective liquidation bonus when this collateral is seized
    protocol_fee: FloatArray  # (P,) share of the bonus the protocol keeps
    #: The family floors each unit's average ``liq_weight`` to multiples of this (Aave v3 keeps the
    #: average liquidation threshold in whole basis points: 1e-4); 0 means exact.
    weight_quantum: float = 0.0

    @property
    def n_units(self) -> int:
        return len(self.unit_account)

    @property
    def n_feeds(self) -> int:
        return len(self.feed_symbol)

    def feed_index(self, symbol: str) -> int:
        """Index of the feed labelled ``symbol`` (exact match)."""
        hits = np.flatnonzero(self.feed_symbol == symbol)
        if len(hits) == 0:
            from defirisk.errors import InvalidScenario

            raise InvalidScenario(f"no asset {symbol!r} in this snapshot")
        return int(hits[0])
