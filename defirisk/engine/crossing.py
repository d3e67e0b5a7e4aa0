"""Where a unit's health factor crosses 1 when prices move along a straight line, solved exactly.

Prices move as ``p(t) = p₀ · (1 + t · δ)`` for ``t ≥ 0`` and a direction ``δ`` (F,): a single-asset move
has ``δ = ±e_f``; a scenario ``m`` applied gradually has ``δ = m − 1`` and ``t ∈ [0, 1]``. Each unit's
weighted collateral, counted collateral and debt are then linear in ``t``::

    W(t) = W₀ + W₁ t,   C(t) = C₀ + C₁ t,   D(t) = D₀ + D₁ t

so without the average-weight quantum ``HF(t) = W(t) / D(t)`` is linear-fractional and ``HF < 1`` is
the linear condition ``(W₀ − D₀) + (W₁ − D₁) t < 0``. With a quantum ``q`` a "mixed" unit's numerator
is ``C(t) · L(t)`` with ``L(t) = q · ⌊W(t) / (C(t) q)⌋`` (see ``defirisk.engine.kernel``): the ratio
``W/C`` is monotone in ``t``, so ``L`` is constant on consecutive pieces bounded where ``W/C`` meets a
multiple of ``q``, and on each piece ``HF < 1`` is again linear: ``(C₀ L − D₀) + (C₁ L − D₁) t < 0``.
The solver walks the pieces in order (all units at once) and returns the first ``t`` where the
condition holds: ``t* = inf {t ∈ [0, t_max] : HF(t) < 1}`` (``0`` when already below 1, ``nan`` when
never). HF piecewise linear-fractional in one price is why a closed form exists per piece.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from defirisk.engine.kernel import QUANTUM_SNAP, ExposureMatrix
from defirisk.errors import DefiriskError, InvalidScenario
from defirisk.model import FloatArray, IntArray


def _linear_root(value0: FloatArray, slope: FloatArray, start: FloatArray, end: FloatArray) -> FloatArray:
    """First ``t ∈ [start, end)`` with ``value0 + slope · t < 0``, else nan (elementwise)."""
    at_start = value0 + slope * start
    root = np.full(value0.shape, np.nan)
    falling = slope < 0
    np.divide(-value0, slope, out=root, where=falling)
    hit = np.where(at_start < 0, start, np.where(falling & (root >= start) & (root < end), root, np.nan))
    return hit


def crossing(
    matrix: ExposureMatrix, direction: npt.ArrayLike, t_max: float = 1.0, rows: IntArray | None = None
) -> FloatArray:
    """``t*`` per unit (shape (R,) for ``rows``, else (N,)) for prices ``p₀ · (1 + t · direction)``.

    ``t_max`` may be ``inf``; ``1 + t_max · direction`` must stay ≥ 0 (prices cannot go negative).
    """
    delta = np.asarray(direction, dtype=np.float64)
    if delta.shape != (matrix.n_feeds,) or not np.all(np.isfinite(delta)):
        raise InvalidScenario(f"direction of shape {delta.shape} does not match {matrix.n_feeds} feeds")
    if not t_max >= 0 or np.any(1 + min(t_max, 1e300) * delta < -1e-12):
        raise InvalidScenario("a move along this direction would make a price negative")
    sub = matrix if rows is None else matrix.subset(rows)
    w0, w1 = sub.weighted_collateral.sum(axis=1), sub.weighted_collateral @ delta
    c0, c1 = sub.collateral.sum(axis=1), sub.collateral @ delta
    d0, d1 = sub.debt.sum(axis=1), sub.debt @ delta
    start = np.zeros(len(d0))
    end = np.full(len(d0), float(t_max))
    result = _linear_root(w0 - d0, w1 - d1, start, end)
    mixed = np.flatnonzero(sub.mixed)
    if len(mixed):
        result[mixed] = _quantised_crossing(
            sub.weight_quantum, w0[mixed], w1[mixed], c0[mixed], c1[mixed], d0[mixed], d1[mixed], float(t_max)
        )
    return result


def _quantised_crossing(
    q: float,
    w0: FloatArray,
    w1: FloatArray,
    c0: FloatArray,
    c1: FloatArray,
    d0: FloatArray,
    d1: FloatArray,
    t_max: float,
) -> FloatArray:
    """Walk the pieces of constant average weight ``L``; see the module docstring."""
    n = len(w0)
    result = np.full(n, np.nan)
    start = np.zeros(n)
    active = np.ones(n, dtype=bool)
    # The floor inside a piece is read at a point strictly inside it, where float noise cannot flip it.
    probe = start.copy()
    # Along t the floored average takes at most 1/q + 1 values, each on one piece.
    for _ in range(int(np.ceil(1.0 / q)) * 2 + 16):
        if not active.any():
            return result
        idx = np.flatnonzero(active)
        t = probe[idx]
        c = c0[idx] + c1[idx] * t
        w = w0[idx] + w1[idx] * t
        level = np.zeros(len(idx))
        np.divide(w, c * q, out=level, where=c > 0)
        level = np.floor(level + QUANTUM_SNAP) * q
        # The ratio W/C is monotone in t; the piece ends where the (snapped) floor changes, i.e.
        # where the ratio leaves [level − snap·q, level + q − snap·q).
        rising = w1[idx] * c0[idx] - w0[idx] * c1[idx] > 0
        bound = np.where(rising, level + q, level) - QUANTUM_SNAP * q
        denominator = w1[idx] - bound * c1[idx]
        piece_end = np.full(len(idx), np.inf)
        np.divide(bound * c0[idx] - w0[idx], denominator, out=piece_end, where=denominator != 0)
        # A boundary found at (or, by float noise, just before) the piece's start means the next piece
        # begins at once; one clearly before it is never reached (the ratio moves away from it).
        here = np.abs(piece_end - start[idx]) <= 1e-9 * np.maximum(1.0, np.abs(start[idx]))
        piece_end = np.where(
            piece_end > start[idx], piece_end, np.where(here, _inside(start[idx], np.inf), np.inf)
        )
        piece_end = np.minimum(piece_end, t_max)
        hit = _linear_root(c0[idx] * level - d0[idx], c1[idx] * level - d1[idx], start[idx], piece_end)
        # An empty piece collapses onto its start; the last one is closed at t_max.
        last = piece_end >= t_max
        hit = np.where(np.isnan(hit) & last, _at_end(c0[idx], c1[idx], d0[idx], d1[idx], level, t_max), hit)
        found = ~np.isnan(hit)
        result[idx[found]] = hit[found]
        done = found | last
        active[idx[done]] = False
        going = idx[~done]
        start[going] = piece_end[~done]
        probe[going] = _inside(piece_end[~done], t_max)
    raise DefiriskError(f"HF crossing: {int(active.sum())} units did not settle after walking every piece")


def _at_end(
    c0: FloatArray, c1: FloatArray, d0: FloatArray, d1: FloatArray, level: FloatArray, t_max: float
) -> FloatArray:
    """``t_max`` if the unit is below 1 exactly there (a closed last piece), else nan."""
    if not np.isfinite(t_max):
        return np.full(len(c0), np.nan)
    below = (c0 + c1 * t_max) * level < d0 + d1 * t_max
    return np.where(below, t_max, np.nan)


def _inside(piece_start: FloatArray, t_max: float) -> FloatArray:
    """A point just past a piece boundary: enough to read the next piece's floor unambiguously."""
    step = np.maximum(np.abs(piece_start) * 1e-12, 1e-15)
    return np.minimum(piece_start + step, t_max)


def liquidation_multipliers(matrix: ExposureMatrix, feed: int, max_multiplier: float = 1e6) -> FloatArray:
    """Per unit, the multiplier of feed ``feed`` (others at snapshot) at which its HF drops below 1.

    Searched downwards to 0 and upwards to ``max_multiplier``; the one nearer to 1 is returned
    (``1.0`` for units already below 1, ``nan`` for units no move of this feed alone liquidates).
    Shape (N,). The liquidation price is ``price[feed] · multiplier``.
    """
    if not 0 <= feed < matrix.n_feeds:
        raise InvalidScenario(f"feed index {feed} out of range")
    unit = np.zeros(matrix.n_feeds)
    unit[feed] = 1.0
    down = crossing(matrix, -unit, t_max=1.0)
    up = crossing(matrix, unit, t_max=max_multiplier - 1.0)
    return np.where(np.isnan(down) | (up < down), 1.0 + up, 1.0 - down)
