"""The March 2023 USDC depeg (SVB) as price multipliers for a Compound v2 dataset snapshot.

``usdc_depeg_path(state)`` gives, for every hour from ``start`` to ``end`` (candle close times, UTC)
and every price feed of the family's exposures (same order)::

    multiplier[t, f] = price_f(t) / price_f(state)        (both in ETH, the snapshot's base currency)

so ``state price × multiplier`` is the historical price at ``t``. Prices come from the bundled Binance
``<SYM>USDT`` 1 h closes (``prices_hourly.csv``; in ETH as ``close(SYM) / close(ETH)``, USDT as
``1 / close(ETH)``); ``base_usd[t]`` is ETH's close in USDT, taken as USD. In ETH terms the ETH feed
never moves; USD moves of ETH show in ``base_usd``.

What the file cannot give is reported, never silently held flat:

* ``assumed_peg`` — USDC, TUSD and USDP have candles only from 2023-03-11 15:00 UTC; before their
  first candle they are assumed at 1 USDT. This hides the start of the depeg (USDC left its peg on
  2023-03-10 evening and its deepest point, Yahoo's daily low 0.8774 USD on 2023-03-11, is not in the
  hourly file; its lowest hourly close is 0.9128 at 2023-03-11 16:00).
* ``unmapped`` — feeds without any data (DAI, YFI, REP, SAI, FEI). The USD stablecoin among them (DAI)
  is assumed at 1 USDT throughout (also listed in ``assumed_peg``), the others are held at the
  state's price (multiplier 1) — unless ``proxies`` maps a feed onto another one (``{"DAI": "USDC"}``:
  DAI moves like USDC); such feeds leave ``unmapped`` and are listed in ``proxied``.

``usdc_depeg_worst_point(state, path)`` is one extra scenario for the deepest point: USDC (and its
proxies) at the Yahoo daily low, every other feed at the hour of the lowest hourly USDC close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from defirisk.adapters.compound_v2.dataset import load_hourly_prices
from defirisk.adapters.compound_v2.family import price_feeds, underlying_tokens
from defirisk.adapters.compound_v2.hourly import HOURLY_SYMBOL, USD_STABLECOINS, USDT, closes_at, parse_utc
from defirisk.errors import DataError, InvalidParameter
from defirisk.model import FloatArray, MarketState
from defirisk.paths import data_dir

USDC = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"


@dataclass(frozen=True)
class PricePath:
    """Hourly multipliers per feed (shapes: T times, F feeds)."""

    times: pd.DatetimeIndex  # (T,) candle close times, UTC
    feed_symbol: np.ndarray  # (F,) as in the family's exposures
    feed_asset: np.ndarray  # (F,) underlying token addresses
    multipliers: FloatArray  # (T, F) ETH price at t / the state's ETH price
    base_usd: FloatArray  # (T,) USD (USDT) per ETH at t
    sources: dict[str, str]  # feed symbol → where its path comes from
    unmapped: list[str]  # feeds without data, held at multiplier 1
    assumed_peg: dict[str, str]  # feed symbol → first candle (UTC); before it 1 USDT is assumed
    proxied: dict[str, str]  # feed symbol → the feed it copies

    def at(self, when: str) -> FloatArray:
        """Multipliers (F,) at the hour ``when`` (must be one of ``times``)."""
        stamp = parse_utc(when)
        hits = np.flatnonzero(self.times == stamp)
        if len(hits) == 0:
            raise InvalidParameter(f"{when} is not an hour of this path")
        return self.multipliers[int(hits[0])]


@dataclass(frozen=True)
class WorstPoint:
    """One scenario at the depeg's deepest point (F feeds)."""

    multipliers: FloatArray  # (F,)
    base_usd: float
    anchor_time: str  # hour whose closes value the other feeds
    usdc_usd: float  # the Yahoo daily low used for USDC
    usdc_low_date: str
    note: str


def _feeds(state: MarketState) -> tuple[np.ndarray, np.ndarray, FloatArray]:
    assets = state.assets.reset_index(drop=True)
    rows, _ = price_feeds(assets)
    underlying = underlying_tokens(assets).to_numpy(dtype=object)[rows]
    symbols = assets["symbol"].astype(str).to_numpy(dtype=object)[rows]
    base_unit = 10**state.meta.base_currency_decimals
    prices = np.array([int(p) / base_unit for p in assets["price_raw"].to_numpy()[rows]], dtype=np.float64)
    return symbols, underlying, prices


def usdc_depeg_path(
    state: MarketState,
    start: str = "2023-03-10T00:00Z",
    end: str = "2023-03-14T00:00Z",
    proxies: Mapping[str, str] | None = None,
) -> PricePath:
    """Hourly multipliers from ``start`` to ``end`` (inclusive) for ``state``'s feeds (module docstring).

    ``proxies`` maps a feed symbol to the symbol of a feed whose multipliers (relative moves) it copies. Raises
    ``InvalidParameter`` for times outside the hourly file, ``end`` before ``start`` or an unknown
    proxy symbol.
    """
    first, last = parse_utc(start), parse_utc(end)
    if last < first:
        raise InvalidParameter(f"end {end} is before start {start}")
    symbols, underlying, state_price = _feeds(state)
    hourly = load_hourly_prices()
    times = pd.date_range(first, last, freq="h")
    eth_price = np.full((len(times), len(symbols)), np.nan)
    base_usd = np.empty(len(times))
    for t, when in enumerate(times):
        closes = closes_at(hourly, when)
        eth = float(closes.get("ETH", np.nan))
        if not np.isfinite(eth):
            raise DataError(f"no ETH close near {when:%Y-%m-%dT%H:%MZ}")
        base_usd[t] = eth
        for f, token in enumerate(underlying):
            symbol = HOURLY_SYMBOL.get(token)
            if token == USDT:
                eth_price[t, f] = 1.0 / eth
            elif symbol is not None and np.isfinite(closes.get(symbol, np.nan)):
                eth_price[t, f] = closes[symbol] / eth

    sources: dict[str, str] = {}
    unmapped: list[str] = []
    assumed_peg: dict[str, str] = {}
    multipliers = np.ones((len(times), len(symbols)))
    for f, token in enumerate(underlying):
        column = eth_price[:, f]
        have = np.isfinite(column)
        label = str(symbols[f])
        if token == USDT:
            sources[label] = "USDT quote (1 USDT)"
        elif have.any():
            sources[label] = f"Binance {HOURLY_SYMBOL[token]}USDT 1h close"
        if not have.any():
            unmapped.append(label)
        if have.all():
            multipliers[:, f] = column / state_price[f]
        elif token in USD_STABLECOINS:
            first_candle = f"{times[np.argmax(have)]:%Y-%m-%dT%H:%MZ}" if have.any() else "none in the file"
            assumed_peg[label] = first_candle
            sources[label] = (
                f"{sources[label]}; 1 USDT before the first candle"
                if have.any()
                else "no data: 1 USDT throughout"
            )
            multipliers[:, f] = np.where(have, column, 1.0 / base_usd) / state_price[f]
        elif have.any():
            raise DataError(f"feed {label} has gaps in the hourly prices between {start} and {end}")
        else:
            sources[label] = "no data: held at the state's price"

    proxied: dict[str, str] = {}
    for target, source in (proxies or {}).items():
        hits_t, hits_s = np.flatnonzero(symbols == target), np.flatnonzero(symbols == source)
        if len(hits_t) == 0 or len(hits_s) == 0:
            raise InvalidParameter(f"proxy {target!r} → {source!r}: no such feed")
        multipliers[:, hits_t[0]] = multipliers[:, hits_s[0]]
        proxied[target] = source
        sources[target] = f"proxy: moves like {source}"
        assumed_peg.pop(target, None)
        if target in unmapped:
            unmapped.remove(target)
    return PricePath(
        times=times,
        feed_symbol=symbols,
        feed_asset=underlying,
        multipliers=multipliers,
        base_usd=base_usd,
        sources=sources,
        unmapped=unmapped,
        assumed_peg=assumed_peg,
        proxied=proxied,
    )


def yahoo_usdc_low(
    path: Path | None = None, start: str = "2023-03-10", end: str = "2023-03-14"
) -> tuple[float, str]:
    """(lowest Yahoo daily USDC low in USD, its bar date) between ``start`` and ``end`` from the bundled
    ``prices/2023-03_usdc_svb.csv`` (or ``path``)."""
    path = path or data_dir() / "prices" / "2023-03_usdc_svb.csv"
    if not path.is_file():
        raise DataError(f"bundled episode prices missing: {path}")
    frame = pd.read_csv(path)
    rows = frame[(frame["symbol"] == "USDC") & (frame["interval"] == "1d") & (frame["source"] == "yahoo_1d")]
    stamps = pd.to_datetime(rows["timestamp_utc"], utc=True)
    rows = rows[(stamps >= parse_utc(start)) & (stamps <= parse_utc(end))]
    if rows.empty or rows["low"].isna().all():
        raise DataError(f"{path.name} has no Yahoo daily USDC lows between {start} and {end}")
    worst = rows.loc[rows["low"].idxmin()]
    return float(worst["low"]), str(worst["timestamp_utc"])[:10]


def usdc_depeg_worst_point(state: MarketState, path: PricePath, yahoo_csv: Path | None = None) -> WorstPoint:
    """The deepest point: USDC (and feeds proxied to it) at the Yahoo daily low, the other feeds at the
    hour of ``path`` where USDC's hourly close is lowest."""
    symbols, underlying, state_price = _feeds(state)
    hits = np.flatnonzero(underlying == USDC)
    if len(hits) == 0:
        raise DataError("the snapshot has no USDC feed")
    usdc = int(hits[0])
    usdc_usd = path.multipliers[:, usdc] * state_price[usdc] * path.base_usd
    first_candle = path.assumed_peg.get(str(symbols[usdc]))
    observed = path.times >= parse_utc(first_candle) if first_candle else np.ones(len(path.times), dtype=bool)
    if not observed.any():
        raise DataError("the path has no observed USDC price")
    anchor = int(np.flatnonzero(observed)[np.argmin(usdc_usd[observed])])
    low, low_date = yahoo_usdc_low(yahoo_csv)
    multipliers = path.multipliers[anchor].copy()
    eth_usd = float(path.base_usd[anchor])
    multipliers[usdc] = low / eth_usd / state_price[usdc]
    for target, source in path.proxied.items():
        if source == symbols[usdc]:
            multipliers[int(np.flatnonzero(symbols == target)[0])] = multipliers[usdc]
    when = f"{path.times[anchor]:%Y-%m-%dT%H:%MZ}"
    return WorstPoint(
        multipliers=multipliers,
        base_usd=eth_usd,
        anchor_time=when,
        usdc_usd=low,
        usdc_low_date=low_date,
        note=(
            f"USDC at Yahoo's daily low of {low_date} ({low:.4f} USD; the hour of the low is unknown); "
            f"other feeds at the hourly closes of {when}, the lowest observed hourly USDC close in the path"
        ),
    )
