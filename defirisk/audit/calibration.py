"""Which bundled episodes calibrate an audit's Monte Carlo paths, and which feeds they leave out.

``simulate_paths`` needs episodes that price *every* mappable feed at hourly resolution together. A
snapshot that holds assets no single episode has at hourly resolution (the Compound v2 dataset: DAI
and USDT are in the 2022 episodes, BAT, ZRX, SUSHI, TUSD and USDP only in 2023-03) would find none.
The audit then chooses, among the sets of held feeds that one episode covers, the set ``S`` holding the
most value (collateral that counts plus debt, at snapshot prices), ties to the set more episodes
cover; it calibrates on every episode covering ``S`` and gives the held feeds outside ``S`` zero
returns (they keep their snapshot price on every path). The feeds left out, with their share of
value, are reported in the document's notes. When some episode covers every mappable feed this is
exactly ``simulate_paths``' own choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from defirisk.engine import ExposureMatrix
from defirisk.engine.history import PriceHistory
from defirisk.engine.vocabulary import candidates, symbol_map_with
from defirisk.model import Exposures

HOUR = 3600
#: A series name no episode has: a feed mapped to it gets zero returns.
NOT_CALIBRATED = "(not calibrated)"


@dataclass(frozen=True)
class Calibration:
    """Arguments for ``simulate_paths`` (``episodes``, ``symbols``) and what they leave out.

    ``left_out``: symbols of held feeds given zero returns although some other episode prices them;
    ``left_out_share``: their share of held value (0 … 1).
    """

    episodes: tuple[str, ...]
    symbols: dict[str, tuple[str, ...]]
    left_out: tuple[str, ...]
    left_out_share: float


def choose_calibration(x: Exposures, matrix: ExposureMatrix, history: PriceHistory) -> Calibration:
    """The calibration episodes and overrides for ``x`` (see the module docstring)."""
    labels = [str(s) for s in x.feed_symbol]
    value = matrix.collateral.sum(axis=0) + matrix.debt.sum(axis=0)
    held = [f for f in range(x.n_feeds) if value[f] > 0]
    symbol_map = symbol_map_with(None)
    names = sorted(history.episodes)
    covered: dict[str, frozenset[int]] = {}
    for name in names:
        available = set(history.symbols(name, HOUR))
        covered[name] = frozenset(f for f in held if any(c in available for c in candidates(symbol_map, labels[f])))
    mappable = frozenset().union(*covered.values()) if covered else frozenset()
    if not mappable:
        return Calibration(tuple(names), {}, (), 0.0)

    def score(feeds: frozenset[int]) -> tuple[float, int]:
        return float(value[list(feeds)].sum()) if feeds else 0.0, sum(covered[e] >= feeds for e in names)

    best = max((covered[e] for e in names), key=score)
    episodes = tuple(e for e in names if covered[e] >= best)
    outside = sorted(mappable - best)
    total = float(value.sum())
    return Calibration(
        episodes=episodes,
        symbols={labels[f]: (NOT_CALIBRATED,) for f in outside},
        left_out=tuple(dict.fromkeys(labels[f] for f in outside)),
        left_out_share=float(np.sum(value[outside]) / total) if total > 0 else 0.0,
    )
