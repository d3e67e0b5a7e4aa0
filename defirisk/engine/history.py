"""The bundled stress-episode prices (``data/prices/``), read into per-episode, per-symbol series.

Each episode file holds several series per symbol (sources, intervals; see ``data/prices/README.md``).
A series becomes a list of **observations** (time in Unix seconds, price):

* bars (``1h``, ``4h``, ``1d``; the time column is the bar's open): each ``close`` at open + interval,
  the instant it refers to, preceded by the first bar's ``open`` at its open time where the source
  gives opens (``binance_1h_rtuchman`` gives closes only);
* spot samples (``~1h``): ``close`` at the sample time.

Prices are in USD: USDT quotes are taken as USD (the basis is not corrected) and ETH quotes (cbETH's
Comet feed) are multiplied by the same episode's ETH price.

The price of a symbol at time ``t`` (``PriceHistory.price``) is a **composite** of its series: the
finest one (then by source preference: Chainlink, Binance 1 h, ≈hourly USD samples, Binance 4 h,
Yahoo daily, Binance daily) that is *active* at ``t`` — it has an observation at or before ``t`` no
older than twice its step — read as of ``t`` (the last observation at or before ``t``, never a later
one). So a daily series fills the hours before an hourly one starts. Where no series is active the
latest observation of any is used and the point is flagged stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from defirisk.errors import DataError, InvalidScenario
from defirisk.model import FloatArray, IntArray
from defirisk.paths import data_dir

#: Step in seconds of each interval label.
INTERVAL_SECONDS = {"1h": 3600, "~1h": 3600, "4h": 4 * 3600, "1d": 86400}
#: Preference between sources of the same step (lower first).
SOURCE_RANK = {
    "bhemen_comet_chainlink": 0,
    "binance_1h_rtuchman": 1,
    "bhemen_usd_prices": 2,
    "binance_4h_wave": 3,
    "binance_4h_budy": 4,
    "yahoo_1d": 5,
    "binance_1d_wave": 6,
}
_USD_QUOTES = {"USD", "USDT"}
_ETH_SYMBOLS = ("WETH", "ETH")


@dataclass(frozen=True)
class Series:
    """One source's observations of one symbol in one episode (times: Unix seconds, ascending)."""

    symbol: str
    interval: str
    step: int
    quote: str
    source: str
    times: IntArray
    values: FloatArray

    @property
    def order(self) -> tuple[int, int]:
        return (self.step, SOURCE_RANK.get(self.source, len(SOURCE_RANK)))


@dataclass(frozen=True)
class Episode:
    """An episode's dates (Unix seconds, 00:00 UTC): the stress days and the ±10-day window."""

    name: str
    start: int
    end: int
    window_start: int
    window_end: int


@dataclass(frozen=True)
class PriceHistory:
    """Every episode's series: ``series[episode][symbol]`` sorted by preference (finest first)."""

    episodes: dict[str, Episode]
    series: dict[str, dict[str, tuple[Series, ...]]]

    def episode(self, name: str) -> Episode:
        """The episode called ``name``, or the only one whose name starts with it."""
        if name in self.episodes:
            return self.episodes[name]
        hits = [e for e in self.episodes if name and e.startswith(name)]
        if len(hits) != 1:
            known = ", ".join(sorted(self.episodes))
            what = "ambiguous" if hits else "unknown"
            raise InvalidScenario(f"{what} episode {name!r}; known episodes: {known}")
        return self.episodes[hits[0]]

    def symbols(self, episode: str, max_step: int | None = None) -> list[str]:
        """Symbols with at least one series (of step ≤ ``max_step``) in ``episode``."""
        return sorted(
            s
            for s, found in self.series[episode].items()
            if any(max_step is None or x.step <= max_step for x in found)
        )

    def steps(self, episode: str, symbol: str) -> list[int]:
        """Steps (seconds) of the series of ``symbol`` in ``episode``, finest first."""
        return [s.step for s in self.series[episode].get(symbol, ())]

    def first_time(self, episode: str, symbol: str, max_step: int | None = None) -> int:
        """The earliest observation of ``symbol`` over its usable series."""
        return min(s.times[0] for s in self._usable(episode, symbol, max_step))

    def last_time(self, episode: str, symbol: str, max_step: int | None = None) -> int:
        """The latest observation of ``symbol`` over its usable series."""
        return max(s.times[-1] for s in self._usable(episode, symbol, max_step))

    def _usable(self, episode: str, symbol: str, max_step: int | None) -> list[Series]:
        found = [s for s in self.series[episode].get(symbol, ()) if max_step is None or s.step <= max_step]
        if not found:
            raise InvalidScenario(f"episode {episode} has no price series for {symbol!r}")
        return found

    def price(
        self, episode: str, symbol: str, times: Sequence[int] | IntArray, max_step: int | None = None
    ) -> tuple[FloatArray, np.ndarray]:
        """USD price of ``symbol`` at ``times`` (composite, as of each time) and a fresh flag, each (T,).

        Only series of step ≤ ``max_step`` take part. Times before every observation give ``nan``.
        """
        t = np.asarray(times, dtype=np.int64)
        value = np.full(len(t), np.nan)
        fresh = np.zeros(len(t), dtype=bool)
        latest = np.full(len(t), np.iinfo(np.int64).min)
        fallback = np.full(len(t), np.nan)
        for series in self._usable(episode, symbol, max_step):
            prices = self._usd(episode, series)
            index = np.searchsorted(series.times, t, side="right") - 1
            seen = index >= 0
            at = np.where(seen, series.times[np.maximum(index, 0)], np.iinfo(np.int64).min)
            here = np.where(seen, prices[np.maximum(index, 0)], np.nan)
            active = seen & ~fresh & (t - at <= 2 * series.step)
            value[active] = here[active]
            fresh |= active
            newer = seen & (at > latest)
            fallback[newer] = here[newer]
            latest[newer] = at[newer]
        value[~fresh] = fallback[~fresh]
        return value, fresh

    def _usd(self, episode: str, series: Series) -> FloatArray:
        if series.quote in _USD_QUOTES:
            return series.values
        if series.quote != "ETH":
            raise DataError(
                f"episode {episode}: {series.symbol} is quoted in {series.quote!r}, which has no USD price"
            )
        eth = next((s for s in _ETH_SYMBOLS if s in self.series[episode]), None)
        if eth is None:
            raise DataError(
                f"episode {episode}: {series.symbol} is quoted in ETH and the episode has no ETH price"
            )
        usd, _ = self.price(episode, eth, series.times)
        return series.values * usd


def _seconds(values: pd.Series) -> IntArray:
    """ISO-8601 UTC stamps (``2020-03-12`` or ``2020-03-12T04:01:41Z``) as Unix seconds."""
    stamps = pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_localize(None)
    return stamps.to_numpy(dtype="datetime64[s]").astype(np.int64)


def _observations(frame: pd.DataFrame, interval: str, step: int) -> tuple[IntArray, FloatArray]:
    times = _seconds(frame["timestamp_utc"])
    close = frame["close"].to_numpy(dtype=np.float64)
    if interval == "~1h":
        return times, close
    if frame["open"].notna().all():
        first_open = frame["open"].to_numpy(np.float64)[:1]
        return np.concatenate([times[:1], times + step]), np.concatenate([first_open, close])
    return times + step, close


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None


@cache
def load_history(folder: Path | None = None) -> PriceHistory:
    """Read ``episodes.csv`` and every episode file of ``folder`` (default ``data/prices``)."""
    folder = folder or data_dir() / "prices"
    table = _read_csv(folder / "episodes.csv")
    dates = table.drop_duplicates("episode")
    episodes: dict[str, Episode] = {}
    series: dict[str, dict[str, tuple[Series, ...]]] = {}
    for row in dates.itertuples(index=False):
        day = _seconds(pd.Series([row.episode_start, row.episode_end, row.window_start, row.window_end]))
        episodes[row.episode] = Episode(row.episode, *(int(d) for d in day))
        frame = _read_csv(folder / f"{row.episode}.csv")
        found: dict[str, list[Series]] = {}
        for (symbol, interval, quote, source), part in frame.groupby(
            ["symbol", "interval", "quote", "source"], sort=True
        ):
            if interval not in INTERVAL_SECONDS:
                raise DataError(f"{row.episode}.csv: unknown interval {interval!r}")
            step = INTERVAL_SECONDS[interval]
            part = part.sort_values("timestamp_utc", kind="stable")
            times, values = _observations(part, interval, step)
            if not np.all(np.isfinite(values)) or np.any(values <= 0):
                raise DataError(
                    f"{row.episode}.csv: {symbol} {interval} {source} has a missing or non-positive price"
                )
            found.setdefault(symbol, []).append(Series(symbol, interval, step, quote, source, times, values))
        series[row.episode] = {s: tuple(sorted(v, key=lambda x: x.order)) for s, v in found.items()}
    return PriceHistory(episodes=episodes, series=series)
