"""Prices at a given hour from the bundled Binance closes (``prices_hourly.csv``), in ETH.

The file holds Binance ``<SYM>USDT`` 1 h closes quoted in USDT, indexed by candle close time, from
2023-02-24 13:00 to 2023-03-27 11:00 UTC; USDC, TUSD and USDP only from 2023-03-11 15:00; one candle
missing on 2023-03-24; no DAI, YFI, REP, SAI or FEI. A price in ETH is ``close(SYM) / close(ETH)``;
USDT, the quote, is ``1 / close(ETH)``. The underlying → symbol map is keyed by token address, never
by the (untrusted) symbol text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from defirisk.adapters.compound_v2.dataset import NATIVE_ETH
from defirisk.errors import InvalidParameter

USDT = "0xdac17f958d2ee523a2206206994597c13d831ec7"
#: Underlying token address → symbol of its Binance ``<SYM>USDT`` series in the file.
HOURLY_SYMBOL: dict[str, str] = {
    NATIVE_ETH: "ETH",
    "0x2260fac5e5542a773aa44fbcfedf7c193bc2c599": "BTC",
    "0x0d8775f648430679a709e98d2b0cb6250d2887ef": "BAT",
    "0x1f9840a85d5af5bf1d1762f925bdaddc4201f984": "UNI",
    "0xc00e94cb662c3520282e6f5717214004a7f26888": "COMP",
    "0x514910771af9ca656af840dff83e8264ecf986ca": "LINK",
    "0x6b3595068778dd592e39a122f4f5a5cf09c90fe2": "SUSHI",
    "0xe41d2489571d322189246dafa5ebde1f4699f498": "ZRX",
    "0x7fc66500c84a76ad7e9c93437bfc5ac33e2ddae9": "AAVE",
    "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48": "USDC",
    "0x0000000000085d4780b73119b644ae5ecd22b376": "TUSD",
    "0x8e870d67f660d95d5be530380d0ec0bd388289e1": "USDP",
}
#: USD stablecoins that may be assumed at 1 USDT where the file has no candle (USDC, USDT, DAI, TUSD, USDP).
USD_STABLECOINS = frozenset(
    {
        "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48",
        USDT,
        "0x6b175474e89094c44da98b954eedeac495271d0f",
        "0x0000000000085d4780b73119b644ae5ecd22b376",
        "0x8e870d67f660d95d5be530380d0ec0bd388289e1",
    }
)
#: How old the last close may be at a requested time (one candle is missing in the file).
MAX_AGE = pd.Timedelta(hours=2)


def parse_utc(text: str) -> pd.Timestamp:
    """An ISO-8601 time (``2023-03-10T00:00Z``) as a UTC timestamp; ``InvalidParameter`` if malformed."""
    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise InvalidParameter(f"not an ISO-8601 time: {text!r:.60}") from None
    if stamp is pd.NaT:
        raise InvalidParameter(f"not an ISO-8601 time: {text!r:.60}")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def closes_at(hourly: pd.DataFrame, when: pd.Timestamp) -> pd.Series:
    """Each symbol's last close at or before ``when`` (USDT), NaN if older than ``MAX_AGE`` or absent.

    Raises ``InvalidParameter`` when ``when`` lies outside the file's range.
    """
    first, last = hourly.index[0], hourly.index[-1]
    if when < first or when > last + pd.Timedelta(hours=1):
        raise InvalidParameter(
            f"no hourly prices at {when:%Y-%m-%dT%H:%MZ} (the file covers {first:%Y-%m-%dT%H:%MZ} to {last:%Y-%m-%dT%H:%MZ})"
        )
    window = hourly.loc[(hourly.index <= when) & (hourly.index > when - MAX_AGE)]
    if window.empty:
        return pd.Series(np.nan, index=hourly.columns)
    return window.ffill().iloc[-1]


def eth_price(underlying: str, closes: pd.Series) -> float | None:
    """ETH per whole ``underlying`` token from one row of closes; ``None`` without data."""
    eth = closes.get("ETH", np.nan)
    if not np.isfinite(eth):
        return None
    if underlying == USDT:
        return 1.0 / eth
    symbol = HOURLY_SYMBOL.get(underlying)
    value = closes.get(symbol, np.nan) if symbol else np.nan
    return float(value / eth) if np.isfinite(value) else None
