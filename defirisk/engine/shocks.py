"""Price shocks: ``TARGET=±PCT%`` parsed, resolved to price feeds, combined into multipliers.

Syntax (the CLI's ``--shock`` and a scenario file's ``shocks`` list)::

    WETH=-30%          the feeds labelled WETH fall 30 %
    WBTC=+15%          rise 15 % (the sign may be left out; "−" U+2212 is read as a minus)
    0xc02a…6cc2=-10%   a feed by asset address (any case; matched lower-case)
    group:eth=-20%     every member of a correlated group present in the snapshot

The percent sign is required: ``-0.3`` is rejected rather than guessed as −0.3 % or −30 %. A move
lies in [−100 %, +1000 %]. A target matches feeds by exact symbol (every feed with that label, e.g.
the same token in several markets) or by asset address; an e-mode price source is a feed of its own
(``emode<c>``) and moves only when named. Several shocks combine multiplicatively,
``m_f = Π (1 + move_i)`` over the shocks that reach feed ``f``, so their order never matters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from defirisk.errors import InvalidScenario
from defirisk.model import Exposures, FloatArray, IntArray

MIN_MOVE = -1.0
MAX_MOVE = 10.0
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
GROUP_PREFIX = "group:"


@dataclass(frozen=True)
class Shock:
    """One parsed shock: ``target`` (symbol, lower-case address or ``group:<name>``), ``move`` a fraction."""

    target: str
    move: float

    @property
    def text(self) -> str:
        """The shock in canonical syntax (``WETH=-30%``)."""
        return f"{self.target}={self.move * 100:+g}%"


def parse_shock(text: str) -> Shock:
    """Parse ``TARGET=±PCT%``; raise ``InvalidScenario`` with a one-line reason if malformed."""
    if not isinstance(text, str) or "=" not in text:
        raise InvalidScenario(f"shock {text!r} must look like ASSET=-30% (or group:NAME=-30%)")
    target, _, amount = text.rpartition("=")
    target = target.strip()
    amount = amount.strip().replace("\u2212", "-")
    if not target:
        raise InvalidScenario(f"shock {text!r} names no asset")
    if not amount.endswith("%"):
        raise InvalidScenario(f"shock {text!r}: write the move in percent with a % sign, e.g. {target}=-30%")
    number = amount[:-1].strip()
    if not _NUMBER.fullmatch(number):
        raise InvalidScenario(f"shock {text!r}: {amount!r} is not a percentage")
    move = float(number) / 100.0
    if not MIN_MOVE <= move <= MAX_MOVE:
        raise InvalidScenario(f"shock {text!r}: a move must lie between -100% and +1000%")
    if target.startswith(GROUP_PREFIX):
        if not target[len(GROUP_PREFIX) :]:
            raise InvalidScenario(f"shock {text!r} names no group")
    elif _ADDRESS.fullmatch(target):
        target = target.lower()
    return Shock(target=target, move=move)


def _feeds_of(exposures: Exposures, member: str) -> IntArray:
    column = exposures.feed_asset if _ADDRESS.fullmatch(member) else exposures.feed_symbol
    key = member.lower() if _ADDRESS.fullmatch(member) else member
    return np.flatnonzero(column == key)


def resolve_target(exposures: Exposures, target: str, groups: Mapping[str, Sequence[str]]) -> IntArray:
    """Indices of the feeds ``target`` moves; ``InvalidScenario`` if it reaches none."""
    if target.startswith(GROUP_PREFIX):
        name = target[len(GROUP_PREFIX) :]
        if name not in groups:
            known = ", ".join(sorted(groups)) or "none"
            raise InvalidScenario(f"unknown group {name!r}; known groups: {known}")
        hits = np.unique(np.concatenate([_feeds_of(exposures, m) for m in groups[name]] + [np.zeros(0, int)]))
        if len(hits) == 0:
            raise InvalidScenario(f"group {name!r} has no asset in this snapshot")
        return hits.astype(np.int64)
    hits = _feeds_of(exposures, target)
    if len(hits) == 0:
        raise InvalidScenario(f"no asset {target!r} in this snapshot")
    return hits


def shock_multipliers(
    exposures: Exposures, shocks: Iterable[Shock], groups: Mapping[str, Sequence[str]]
) -> FloatArray:
    """Feed multipliers (F,) of several shocks applied together (multiplicatively)."""
    m = np.ones(exposures.n_feeds)
    for shock in shocks:
        m[resolve_target(exposures, shock.target, groups)] *= 1.0 + shock.move
    return m


def multipliers_from_prices(exposures: Exposures, prices: Mapping[str, float]) -> FloatArray:
    """Feed multipliers (F,) that move feeds to new prices: ``{feed asset address: price}``.

    Prices are floats in the base currency per whole token (Aave: the oracle's answer / 10⁸); an
    e-mode price source is addressed by its own address. Feeds not named keep their price. This is
    how a test that moved oracle prices on a chain predicts the chain's new health factors:
    ``health_factors(exposures, multipliers_from_prices(exposures, new_prices))``.
    """
    m = np.ones(exposures.n_feeds)
    for address, price in prices.items():
        feeds = np.flatnonzero(exposures.feed_asset == address.lower())
        if len(feeds) == 0:
            raise InvalidScenario(f"no price feed for {address!r} in this snapshot")
        if not (np.isfinite(price) and price >= 0):
            raise InvalidScenario(f"price {price!r} for {address!r} must be finite and ≥ 0")
        m[feeds] = price / exposures.price[feeds]
    return m
