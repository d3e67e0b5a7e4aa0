"""Monte Carlo price paths for a snapshot's feeds, calibrated on the bundled episode prices.

**Calibration.** Each held feed is mapped to an episode symbol with an hourly series (``1h`` or
``~1h``) by the episode symbol mapping, episode by episode. Episodes whose hourly data covers every
mappable feed contribute their joint hourly log returns ``r_t = log(p_t / p_{t−1h})`` on an hourly
UTC grid, at points where every series is fresh (``PriceHistory.price``). The pooled rows (n, F) are
demeaned by default (a stress window's drift would otherwise decide the paths' direction). Feeds
that no episode prices get zero returns and are reported in ``unmapped``; so do feeds that no episode
prices together with the others, when the episodes cover only part of the portfolio at once (the
jointly priced set with the largest held value is calibrated). The windows are stress
episodes, so volatilities and correlations are **stressed** estimates, not long-run ones.

**Methods** (``method``):

* ``"bootstrap"`` — every hour of a path is one historical joint row drawn uniformly with
  replacement: cross-asset dependence and fat tails come from the data (no serial dependence);
* ``"student-t"`` — hourly returns ``x = A z · sqrt((ν − 2) / w)``, ``z ~ N(0, I)``, ``w ~ χ²_ν``
  shared by all feeds (multivariate t), ``A Aᵀ = Σ`` the sample covariance, so ``Cov(x) = Σ``. ``ν``
  is estimated from the mean excess kurtosis ``κ`` of the hourly columns, ``ν = 4 + 6/κ``, clipped to
  [4.1, 30] (or given).

A step of ``k`` hours sums ``k`` hourly draws. Output multipliers are ``exp`` of the cumulative sum,
relative to the snapshot prices, at the **end** of each step: shape **(S, T, F)** (paths, steps,
feeds), the layout ``defirisk.liquidation`` cascades take; step ``t`` of path ``s`` as kernel input is
``multipliers[s, t]``, all paths at step ``t`` are ``multipliers[:, t, :].T`` (F, S). Draws come from
``numpy.random.default_rng(seed)`` in a fixed order: the same inputs and seed give the same paths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from defirisk.engine.episodes import format_step, parse_step
from defirisk.engine.history import PriceHistory, load_history
from defirisk.engine.results import plain
from defirisk.engine.scenarios import Unmapped
from defirisk.engine.vocabulary import candidates, symbol_map_with
from defirisk.errors import InvalidParameter, InvalidScenario
from defirisk.model import Exposures, FloatArray

METHODS = ("bootstrap", "student-t")
HOUR = 3600
MAX_PATHS = 10_000_000
MAX_STEPS = 10_000
#: Hourly draws generated at once (bounds the temporary memory of a simulation).
DRAW_BLOCK = 1 << 22


@dataclass(frozen=True)
class Calibration:
    """What the paths were calibrated on: episodes, number of joint hourly rows, per-feed series.

    ``hourly_vol`` (F,) standard deviation of hourly log returns (0 for feeds without data);
    ``correlation`` (F, F) (identity rows for feeds without data); ``nu`` Student-t degrees of
    freedom (``None`` for the bootstrap).
    """

    episodes: tuple[str, ...]
    rows: int
    series: tuple[str, ...]
    hourly_vol: FloatArray
    correlation: FloatArray
    nu: float | None


@dataclass(frozen=True)
class PricePaths:
    """Simulated multipliers (S, T, F) at the end of each step, relative to snapshot prices."""

    multipliers: FloatArray
    horizon: str
    step: str
    step_hours: int
    method: str
    seed: int
    feed_symbol: tuple[str, ...]
    feed_asset: tuple[str, ...]
    unmapped: tuple[Unmapped, ...]
    calibration: Calibration

    @property
    def times_hours(self) -> FloatArray:
        """Hours from the snapshot at the end of each step, (T,)."""
        return self.step_hours * np.arange(1, self.multipliers.shape[1] + 1, dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """Metadata, calibration and per-feed terminal quantiles (plain types; not the full array)."""
        terminal = self.multipliers[:, -1, :]
        levels = (0.01, 0.05, 0.5, 0.95, 0.99)
        q = (
            np.quantile(terminal, levels, axis=0)
            if len(terminal)
            else np.full((len(levels), terminal.shape[1]), np.nan)
        )
        return plain(
            {
                "paths": self.multipliers.shape[0],
                "steps": self.multipliers.shape[1],
                "horizon": self.horizon,
                "step": self.step,
                "method": self.method,
                "seed": self.seed,
                "calibration": {
                    "episodes": self.calibration.episodes,
                    "rows": self.calibration.rows,
                    "nu": self.calibration.nu,
                },
                "feeds": [
                    {
                        "symbol": self.feed_symbol[f],
                        "asset": self.feed_asset[f],
                        "series": self.calibration.series[f],
                        "hourly_vol": self.calibration.hourly_vol[f],
                        "terminal_quantiles": dict(zip(map(str, levels), q[:, f], strict=True)),
                    }
                    for f in range(len(self.feed_symbol))
                ],
                "unmapped": [
                    {"symbol": u.symbol, "asset": u.asset, "reason": u.reason} for u in self.unmapped
                ],
            }
        )


def _parse_horizon(horizon: str, step: str) -> tuple[int, int]:
    try:
        h, s = parse_step(horizon), parse_step(step)
    except InvalidScenario as exc:
        raise InvalidParameter(str(exc)) from None
    if h % s:
        raise InvalidParameter(f"horizon {horizon} is not a whole number of {step} steps")
    if h // s > MAX_STEPS:
        raise InvalidParameter(f"{h // s} steps; at most {MAX_STEPS}")
    return h // s, s // HOUR


def hourly_returns(
    history: PriceHistory,
    feed_labels: Sequence[str],
    held: np.ndarray,
    symbol_map: Mapping[str, Sequence[str]],
    episodes: Sequence[str] | None = None,
) -> tuple[FloatArray, list[str], list[str], list[tuple[int, str]]]:
    """Pooled joint hourly log returns (n, F), episodes used, per-feed series label, unmapped feeds
    with the reason.

    ``held`` (F,) is each feed's held value (or a mask); only held feeds are calibrated. When no
    episode prices every mappable feed together, the feeds priced together by some episode with the
    largest held value are calibrated, and the others are reported as unmapped (zero returns).
    """
    held = np.asarray(held, dtype=np.float64)
    names = [history.episode(e).name for e in episodes] if episodes else sorted(history.episodes)
    per_episode = {}
    for name in names:
        available = set(history.symbols(name, HOUR))
        per_episode[name] = [
            next((c for c in candidates(symbol_map, label) if c in available), None) if held[f] else None
            for f, label in enumerate(feed_labels)
        ]
    mappable = [f for f in range(len(feed_labels)) if any(per_episode[e][f] for e in names)]
    unmapped = [(int(f), "no hourly price series in any episode") for f in np.flatnonzero(held) if f not in mappable]
    covered = {e: frozenset(f for f in mappable if per_episode[e][f]) for e in names}
    target = frozenset(mappable)
    if mappable and not any(c >= target for c in covered.values()):
        target = max(covered.values(), key=lambda c: (sum(held[f] for f in c), len(c)))
        unmapped += [(f, "no episode prices it together with the larger held feeds") for f in mappable if f not in target]
        mappable = sorted(target)
    usable = [e for e in names if covered[e] >= target]
    if mappable and not usable:
        labels = ", ".join(feed_labels[f] for f in mappable)
        raise InvalidScenario(
            f"no episode has hourly prices for all of {labels} together; "
            "map some of them to other series (symbols=) or choose episodes"
        )
    blocks = []
    for name in usable:
        info = history.episodes[name]
        grid = np.arange(-(-info.window_start // HOUR) * HOUR, info.window_end + 1, HOUR, dtype=np.int64)
        block = np.zeros((len(grid) - 1, len(feed_labels)))
        ok = np.ones(len(grid) - 1, dtype=bool)
        for symbol in dict.fromkeys(per_episode[name][f] for f in mappable):
            price, fresh = history.price(name, symbol, grid, max_step=HOUR)
            with np.errstate(invalid="ignore", divide="ignore"):
                step_return = np.log(price[1:] / price[:-1])
            ok &= fresh[1:] & fresh[:-1] & np.isfinite(step_return)
            for f in mappable:
                if per_episode[name][f] == symbol:
                    block[:, f] = np.where(np.isfinite(step_return), step_return, 0.0)
        blocks.append(block[ok])
    returns = np.vstack(blocks) if blocks else np.zeros((0, len(feed_labels)))
    if mappable and len(returns) == 0:
        raise InvalidScenario(
            "the calibration episodes have no hour where every mapped feed has a fresh price"
        )
    series = [
        ", ".join(f"{s} ({e})" for e, s in ((e, per_episode[e][f]) for e in usable) if s) or "none"
        for f in range(len(feed_labels))
    ]
    return returns, usable, series, unmapped


def _student_nu(returns: FloatArray) -> float:
    moving = returns[:, returns.std(axis=0) > 0]
    if moving.shape[0] < 8 or moving.shape[1] == 0:
        return 30.0
    kappa = float(np.mean(stats.kurtosis(moving, axis=0, fisher=True, bias=False)))
    return 30.0 if kappa <= 0 else float(np.clip(4.0 + 6.0 / kappa, 4.1, 30.0))


def _matrix_root(covariance: FloatArray) -> FloatArray:
    values, vectors = np.linalg.eigh(covariance)
    return vectors * np.sqrt(np.clip(values, 0.0, None))


def simulate_paths(
    exposures: Exposures,
    *,
    n_paths: int = 1000,
    horizon: str = "24h",
    step: str = "1h",
    method: str = "bootstrap",
    seed: int = 0,
    episodes: Sequence[str] | None = None,
    symbols: Mapping[str, Sequence[str]] | None = None,
    nu: float | None = None,
    demean: bool = True,
    history: PriceHistory | None = None,
) -> PricePaths:
    """Simulate ``n_paths`` correlated price paths over ``horizon`` at ``step`` for the snapshot's feeds.

    ``symbols`` overrides the episode symbol mapping; ``episodes`` restricts the calibration episodes;
    ``nu`` fixes the Student-t degrees of freedom. See the module docstring.
    """
    if method not in METHODS:
        raise InvalidParameter(f"method {method!r} must be one of {', '.join(METHODS)}")
    if not isinstance(n_paths, int) or not 1 <= n_paths <= MAX_PATHS:
        raise InvalidParameter(f"n_paths must be an integer between 1 and {MAX_PATHS}")
    if nu is not None and not (math.isfinite(nu) and nu > 2):
        raise InvalidParameter("nu must be a finite number > 2")
    n_steps, hours = _parse_horizon(horizon, step)
    history = history or load_history()
    labels = [str(s) for s in exposures.feed_symbol]
    held = (
        np.bincount(
            exposures.pos_feed,
            weights=(exposures.collateral + exposures.debt) * exposures.price[exposures.pos_feed],
            minlength=len(labels),
        )
    )
    returns, used, series, unmapped = hourly_returns(
        history, labels, held, symbol_map_with(symbols), episodes
    )
    if demean and len(returns):
        returns = returns - returns.mean(axis=0)
    f = len(labels)
    covariance = np.cov(returns, rowvar=False).reshape(f, f) if len(returns) > 1 else np.zeros((f, f))
    vol = np.sqrt(np.diag(covariance))
    scale = np.where(vol > 0, vol, 1.0)
    correlation = covariance / np.outer(scale, scale)
    correlation[np.diag_indices(f)] = 1.0
    t_nu = (nu or _student_nu(returns)) if method == "student-t" else None

    rng = np.random.default_rng(seed)
    paths = np.empty((n_paths, n_steps, f))
    hours_total = n_steps * hours
    chunk = max(1, DRAW_BLOCK // max(1, hours_total * max(f, 1)))
    root = _matrix_root(covariance) if method == "student-t" else None
    for start in range(0, n_paths, chunk):
        count = min(chunk, n_paths - start)
        if method == "bootstrap":
            draws = (
                returns[rng.integers(0, len(returns), size=(count, hours_total))]
                if len(returns)
                else np.zeros((count, hours_total, f))
            )
        else:
            z = rng.standard_normal((count, hours_total, f)) @ root.T
            w = rng.chisquare(t_nu, size=(count, hours_total, 1))
            draws = z * np.sqrt((t_nu - 2.0) / w)
        per_step = draws.reshape(count, n_steps, hours, f).sum(axis=2)
        paths[start : start + count] = np.exp(np.cumsum(per_step, axis=1))
    return PricePaths(
        multipliers=paths,
        horizon=horizon,
        step=format_step(hours * HOUR),
        step_hours=hours,
        method=method,
        seed=seed,
        feed_symbol=tuple(labels),
        feed_asset=tuple(str(a) for a in exposures.feed_asset),
        unmapped=tuple(
            Unmapped(g, labels[g], str(exposures.feed_asset[g]), reason)
            for g, reason in unmapped
        ),
        calibration=Calibration(tuple(used), len(returns), tuple(series), vol, correlation, t_nu),
    )
