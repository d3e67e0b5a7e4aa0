"""The slow, obviously correct metrics: exact rational arithmetic over every position, one unit at a time.

Per unit ``n`` (every float taken exactly as a ``Fraction``)::

    W_n = Σ collateral·price·liq_weight,   C_n = Σ_{liq_weight>0} collateral·price,   D_n = Σ debt·price

and, with a weight quantum ``q > 0`` and counted collateral of more than one weight (Aave's floored
average liquidation threshold), ``W_n = C_n·q·⌊W_n / (C_n·q)⌋``. A unit is below ``b`` when
``D_n > 0`` and ``W_n < b·D_n``. ``near_boundary`` lists the units where float rounding may decide
differently from exact arithmetic, so that a comparison can leave them out.
"""

from __future__ import annotations

import math
from fractions import Fraction

from defirisk.model import Exposures

_CLOSE = Fraction(1, 10**8)


def unit_values(exposures: Exposures) -> list[tuple[Fraction, Fraction, Fraction, Fraction | None]]:
    """Per unit ``(W, C, D, steps)`` in the base currency, exact; ``steps`` is ``W / (C·q)`` before
    the floor for floored units, ``None`` for the others."""
    n = exposures.n_units
    weighted = [Fraction(0)] * n
    counted = [Fraction(0)] * n
    debt = [Fraction(0)] * n
    weights: list[set[float]] = [set() for _ in range(n)]
    for p in range(len(exposures.pos_unit)):
        u = int(exposures.pos_unit[p])
        price = Fraction(float(exposures.price[exposures.pos_feed[p]]))
        collateral = Fraction(float(exposures.collateral[p])) * price
        weight = float(exposures.liq_weight[p])
        weighted[u] += collateral * Fraction(weight)
        if weight > 0:
            counted[u] += collateral
            if exposures.collateral[p] > 0:
                weights[u].add(weight)
        debt[u] += Fraction(float(exposures.debt[p])) * price
    quantum = Fraction(float(getattr(exposures, "weight_quantum", 0.0)))
    out = []
    for u in range(n):
        w, steps = weighted[u], None
        if quantum > 0 and len(weights[u]) > 1 and counted[u] > 0:
            steps = w / (counted[u] * quantum)
            w = counted[u] * quantum * math.floor(steps)
        out.append((w, counted[u], debt[u], steps))
    return out


def reference_metrics(exposures: Exposures) -> tuple[dict[str, float], set[int]]:
    """Every metric, exactly (rounded to float at the end), and the units near a decision boundary."""
    usd = Fraction(float(exposures.base_usd))
    values = unit_values(exposures)
    near: set[int] = set()
    out: dict[str, float] = {
        "accounts": exposures.n_units,
        "borrowers": sum(1 for _, _, d, _ in values if d > 0),
        "collateral_usd": float(sum((c for _, c, _, _ in values), Fraction(0)) * usd),
        "debt_usd": float(sum((d for _, _, d, _ in values), Fraction(0)) * usd),
    }
    for level, suffix in ((Fraction(1), "1"), (Fraction(105, 100), "1_05")):
        below = []
        for u, (w, _, d, steps) in enumerate(values):
            if d == 0:
                continue
            if abs(w - level * d) <= _CLOSE * level * d:
                near.add(u)
            if steps is not None and (steps - math.floor(steps) < _CLOSE or math.ceil(steps) - steps < _CLOSE):
                near.add(u)
            if w < level * d:
                below.append(u)
        out[f"accounts_hf_below_{suffix}"] = len(below)
        out[f"debt_hf_below_{suffix}_usd"] = float(sum((values[u][2] for u in below), Fraction(0)) * usd)
        if suffix == "1":
            out["collateral_hf_below_1_usd"] = float(sum((values[u][1] for u in below), Fraction(0)) * usd)
    return out, near
