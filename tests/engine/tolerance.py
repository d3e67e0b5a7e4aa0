"""How closely the float engine must match Aave's integer account maths, and why.

The contracts value each position as ``balance · price // 10**decimals`` (floored to whole
base-currency units), floor the average liquidation threshold to whole bps
(``Σ value · LT // Σ value``), and round ``percentMul`` and ``wadDiv`` half up. The engine values
positions in float and applies the same bps floor to the average (``weight_quantum = 1e-4``). So for
an account with ``n_c`` counted collateral positions and ``n_d`` debt positions, and reference totals
``C_r``, ``D_r`` (base units) and average threshold ``L_r`` (bps):

* totals: ``|C − C_r| ≤ n_c`` and ``|D − D_r| ≤ n_d`` base units (plus 1e-12 relative float error);
* average threshold: the floored values moving each position by < 1 unit moves the exact ratio
  ``Σ value · LT / Σ value`` by at most ``dust = n_c · 10⁴ / C_r`` bps, so ``L_r`` must be the floor of
  some point within ``dust`` of the engine's exact ratio (equal to the engine's ``L`` unless the ratio
  sits within ``dust`` of a whole bps — for large positions — or the account is dust itself);
* HF: ``|HF − HF_r| ≤ max(HF, HF_r) · (1e-9 + (n_c + 1)/C_r + n_d/D_r + |L − L_r|/L_r) + 1e-18``.

A reference without debt (HF = 2²⁵⁶ − 1) while debt positions exist means each floored to 0:
the engine's debt must then be below ``n_d`` units. An account whose positions are each worth at
least 10¹¹ base units ($1,000 at Aave's 8 decimals) thus agrees within about 1e-9 relative.
"""

from __future__ import annotations

import math

from defirisk.adapters.aave_v3.reference import AccountData
from defirisk.units import UINT256_MAX


def disagreement(
    ref: AccountData,
    weighted: float,
    collateral: float,
    debt: float,
    exact_weighted: float,
    n_collateral: int,
    n_debt: int,
    base_unit: int = 10**8,
) -> str | None:
    """Why the engine's values (base currency, floats) are outside the tolerance, or None."""
    c, d, w = collateral * base_unit, debt * base_unit, weighted * base_unit
    c_r, d_r = ref.total_collateral_base, ref.total_debt_base
    if abs(c - c_r) > n_collateral + 1e-12 * c:
        return f"collateral {c} vs {c_r} ({n_collateral} positions)"
    if abs(d - d_r) > n_debt + 1e-12 * d:
        return f"debt {d} vs {d_r} ({n_debt} positions)"
    if d_r == 0:
        if ref.health_factor != UINT256_MAX:
            return "reference without debt has a finite HF"
        return None if d < max(n_debt, 1) else f"reference has no debt, engine {d}"
    hf, hf_r = w / d, ref.health_factor / 10**18
    if c_r == 0:
        return None if w <= n_collateral else f"reference has no collateral, engine weighted {w}"
    l_r = ref.current_liquidation_threshold
    l_e = round(w / c * 10_000)
    if l_e != l_r:
        ratio = exact_weighted / collateral * 10_000
        dust = n_collateral * 10_000 / c_r
        if not math.floor(ratio - dust - 1e-9) <= l_r <= math.floor(ratio + dust + 1e-9):
            return f"average threshold {l_e} vs {l_r} bps (exact ratio {ratio!r}, dust {dust:.3g} bps)"
    scale = max(hf, hf_r)
    relative = 1e-9 + (n_collateral + 1) / c_r + n_debt / d_r + abs(l_e - l_r) / l_r
    if abs(hf - hf_r) > scale * relative + 1e-18:
        return f"HF {hf!r} vs {hf_r!r}: off by {abs(hf - hf_r) / scale:.3g} relative, bound {relative:.3g}"
    return None
