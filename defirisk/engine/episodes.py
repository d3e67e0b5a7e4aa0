"""Historical episodes as paths of price multipliers, mapped onto a snapshot's feeds.

An episode path is sampled on a regular UTC grid at ``step`` seconds (default: the finest step among
the series the snapshot needs, i.e. the data's own step), from the first grid point where every
needed symbol has a price to the last one where all still do. Prices are the composites of
``defirisk.engine.history`` (as of each grid time: no look-ahead).

Multipliers are relative to the **anchor**: ``"episode"`` (default) is the last grid point at or
before 00:00 UTC of the episode's first stress day — the eve of the episode — and the path runs from
there to the window's end (10 days after the last stress day); ``"window"`` anchors at the window's
first grid point (10 days before) and keeps the whole window.

Each snapshot feed is mapped to an episode symbol by ``vocabulary.candidates`` (the first candidate
the episode has); feeds none of whose candidates the episode has are held at 1 and **reported**
(``Unmapped``), never silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from defirisk.engine.history import PriceHistory
from defirisk.engine.vocabulary import candidates
from defirisk.errors import InvalidScenario
from defirisk.model import FloatArray, IntArray

ANCHORS = ("episode", "window")


@dataclass(frozen=True)
class EpisodePath:
    """Multipliers (T, K) of K episode symbols at T grid times (Unix seconds), relative to the anchor.

    ``stale`` (T, K) marks points where no series of the symbol was active (the latest older
    observation was used).
    """

    episode: str
    anchor: str
    step: int
    times: IntArray
    symbols: tuple[str, ...]
    multipliers: FloatArray
    stale: np.ndarray

    def troughs(self) -> pd.DataFrame:
        """Each symbol's lowest multiplier on the path and when (the episode's worst point per asset)."""
        low = self.multipliers.argmin(axis=0)
        return pd.DataFrame(
            {
                "symbol": list(self.symbols),
                "multiplier": self.multipliers[low, np.arange(len(self.symbols))],
                "time": [iso(self.times[i]) for i in low],
            }
        )


def iso(seconds: int) -> str:
    """Unix seconds as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return str(np.datetime64(int(seconds), "s")) + "Z"


def parse_step(text: str) -> int:
    """``"1h"``, ``"4h"``, ``"1d"`` … as seconds (a whole number of hours ≥ 1)."""
    if not isinstance(text, str) or len(text) < 2 or text[-1] not in "hd" or not text[:-1].isdigit():
        raise InvalidScenario(f"step {text!r} must look like 1h, 4h or 1d")
    seconds = int(text[:-1]) * (3600 if text[-1] == "h" else 86400)
    if seconds <= 0:
        raise InvalidScenario(f"step {text!r} must be positive")
    return seconds


def format_step(seconds: int) -> str:
    """Seconds as ``"4h"`` or ``"1d"``."""
    return f"{seconds // 86400}d" if seconds % 86400 == 0 else f"{seconds // 3600}h"


def episode_path(
    history: PriceHistory,
    episode: str,
    symbols: Sequence[str],
    anchor: str = "episode",
    step: int | None = None,
) -> EpisodePath:
    """The path of ``symbols`` (each must have a series in the episode) over ``episode``."""
    info = history.episode(episode)
    if anchor not in ANCHORS:
        raise InvalidScenario(f"anchor {anchor!r} must be one of {', '.join(ANCHORS)}")
    symbols = tuple(dict.fromkeys(symbols))
    if not symbols:
        raise InvalidScenario(f"episode {info.name}: no asset of the snapshot has a price series in it")
    step = step or min(history.steps(info.name, s)[0] for s in symbols)
    first = max(history.first_time(info.name, s) for s in symbols)
    last = min(history.last_time(info.name, s) for s in symbols)
    start = -(-first // step) * step
    times = np.arange(start, last + 1, step, dtype=np.int64)
    if len(times) < 2:
        raise InvalidScenario(f"episode {info.name}: step {format_step(step)} leaves fewer than 2 points")
    first_index = (
        0 if anchor == "window" else max(0, int(np.searchsorted(times, info.start, side="right")) - 1)
    )
    times = times[first_index:]
    prices = np.empty((len(times), len(symbols)))
    stale = np.empty((len(times), len(symbols)), dtype=bool)
    for k, symbol in enumerate(symbols):
        prices[:, k], fresh = history.price(info.name, symbol, times)
        stale[:, k] = ~fresh
    return EpisodePath(info.name, anchor, step, times, symbols, prices / prices[0], stale)


@dataclass(frozen=True)
class FeedMapping:
    """Which episode symbol each feed follows (``None``: unmapped), for one episode."""

    episode: str
    symbol_of_feed: tuple[str | None, ...]


def map_feeds(
    history: PriceHistory,
    episode: str,
    feed_symbols: Sequence[str],
    symbol_map: Mapping[str, Sequence[str]],
    max_step: int | None = None,
) -> FeedMapping:
    """Map every feed label to the first of its candidates with a series (of step ≤ ``max_step``)."""
    name = history.episode(episode).name
    available = set(history.symbols(name, max_step))
    chosen = tuple(next((c for c in candidates(symbol_map, s) if c in available), None) for s in feed_symbols)
    return FeedMapping(name, chosen)
