"""Scenarios: what a user asks for (shocks, an episode), resolved against one snapshot's feeds.

A scenario resolves to a ``ResolvedScenario``: multipliers of shape (T, F) — T = 1 for a static
shock, T grid points for an episode path — plus the feeds it could not map (``Unmapped``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from defirisk.engine.episodes import ANCHORS, episode_path, format_step, iso, map_feeds, parse_step
from defirisk.engine.history import PriceHistory, load_history
from defirisk.engine.shocks import Shock, parse_shock, shock_multipliers
from defirisk.errors import InvalidScenario
from defirisk.model import Exposures, FloatArray


@dataclass(frozen=True)
class Unmapped:
    """A feed a scenario could not price, held at its snapshot price; ``reason`` says why."""

    feed: int
    symbol: str
    asset: str
    reason: str


@dataclass(frozen=True)
class ResolvedScenario:
    """Multipliers (T, F) for one snapshot; ``times`` (T ISO-8601 strings) for paths, else ``None``."""

    name: str
    kind: str
    multipliers: FloatArray
    times: tuple[str, ...] | None = None
    unmapped: tuple[Unmapped, ...] = ()
    description: str = ""


@dataclass
class ScenarioContext:
    """What resolving needs besides the scenario: the snapshot's exposures and the vocabulary."""

    exposures: Exposures
    groups: Mapping[str, Sequence[str]]
    symbol_map: Mapping[str, Sequence[str]]
    history: PriceHistory | None = None
    held: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        x = self.exposures
        self.held = (
            np.bincount(
                x.pos_feed, weights=((x.collateral > 0) | (x.debt > 0)).astype(float), minlength=x.n_feeds
            )
            > 0
        )

    def price_history(self) -> PriceHistory:
        if self.history is None:
            self.history = load_history()
        return self.history


class Scenario(Protocol):
    """Anything ``stress`` accepts as a scenario."""

    name: str

    def resolve(self, context: ScenarioContext) -> ResolvedScenario: ...


@dataclass(frozen=True)
class ShockScenario:
    """Several shocks applied at once (``WETH=-30%`` …), combined multiplicatively."""

    name: str
    shocks: tuple[Shock, ...]
    description: str = ""

    @classmethod
    def parse(
        cls, texts: str | Sequence[str], name: str | None = None, description: str = ""
    ) -> ShockScenario:
        """From shock strings; the name defaults to the shocks joined by ', '."""
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            raise InvalidScenario("a shock scenario needs at least one shock")
        shocks = tuple(parse_shock(t) for t in texts)
        return cls(name=name or ", ".join(s.text for s in shocks), shocks=shocks, description=description)

    def resolve(self, context: ScenarioContext) -> ResolvedScenario:
        m = shock_multipliers(context.exposures, self.shocks, context.groups)
        return ResolvedScenario(self.name, "shock", m[None, :], description=self.description)


@dataclass(frozen=True)
class EpisodeScenario:
    """A historical episode replayed on the snapshot (see ``defirisk.engine.episodes``).

    ``episode`` is a bundled episode's name or a unique prefix of it (``"2022-06"``); ``name``
    defaults to ``episode``; ``step`` like ``"4h"`` (default: the data's own).
    """

    episode: str
    name: str = ""
    anchor: str = "episode"
    step: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.episode)
        if self.anchor not in ANCHORS:
            raise InvalidScenario(f"anchor {self.anchor!r} must be one of {', '.join(ANCHORS)}")
        if self.step is not None:
            parse_step(self.step)

    def resolve(self, context: ScenarioContext) -> ResolvedScenario:
        history = context.price_history()
        x = context.exposures
        labels = [str(s) for s in x.feed_symbol]
        mapping = map_feeds(history, self.episode, labels, context.symbol_map)
        held = context.held
        symbols = [s for s, h in zip(mapping.symbol_of_feed, held, strict=True) if s is not None and h]
        path = episode_path(
            history, mapping.episode, symbols, self.anchor, parse_step(self.step) if self.step else None
        )
        column = {s: k for k, s in enumerate(path.symbols)}
        m = np.ones((len(path.times), x.n_feeds))
        unmapped = []
        for f, (symbol, is_held) in enumerate(zip(mapping.symbol_of_feed, held, strict=True)):
            if not is_held:
                continue
            if symbol is None:
                unmapped.append(
                    Unmapped(
                        f, labels[f], str(x.feed_asset[f]), f"no price series in episode {mapping.episode}"
                    )
                )
            else:
                m[:, f] = path.multipliers[:, column[symbol]]
        follows = ", ".join(
            f"{labels[f]}→{s}" for f, s in enumerate(mapping.symbol_of_feed) if s is not None and held[f]
        )
        description = (
            f"episode {mapping.episode}, anchor {self.anchor}, step {format_step(path.step)}, "
            f"{len(path.times)} points; {follows}"
        )
        return ResolvedScenario(
            name=self.name,
            kind="episode",
            multipliers=m,
            times=tuple(iso(t) for t in path.times),
            unmapped=tuple(unmapped),
            description=self.description or description,
        )
