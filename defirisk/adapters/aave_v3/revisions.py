"""Which account maths an Aave v3 Pool runs, from its ``POOL_REVISION`` (pure).

``GenericLogic.calculateUserAccountData`` (and the token balances it reads) changed three times
after v3.0; read from aave-dao/aave-v3-origin tags v3.2.0 … v3.6.0 (``PoolInstance.POOL_REVISION``
5 … 10):

========  ==========  ==================================================================================
maths     revisions   what changed
========  ==========  ==================================================================================
``3.0``   1–4, None   v3.0.x and v3.1: the reserve's own e-mode category field and the e-mode price
                      source (``AaveReference``'s original path)
``3.2``   5–8         v3.2.0–v3.4: e-mode membership from per-category collateral bitmaps, no price
                      source, no stable debt; a collateral counts only if the reserve's LT ≠ 0 and
                      adds to the LTV only if the reserve's LTV ≠ 0; balances ``rayMul`` half up;
                      ``HF = wadDiv(percentMul(C, ⌊avgLT⌋), D)``; available borrows ``percentMul``
``3.5``   9           v3.5 ``TokenMath``: aToken balance ``rayMulFloor``, debt ``rayMulCeil``, debt
                      value ``mulDivCeil``; ``HF = ⌊wadDiv(Σ value·LT, D) / 10⁴⌋``; available borrows
                      ``percentMulFloor``
``3.6``   10 and up   v3.6: every collateral the user enabled counts (a reserve LT of 0 too, at the
                      e-mode LT inside e-mode); the LTV is ``getUserReserveLtv``: the e-mode LTV for
                      members of the user's category (0 on its ``ltvzeroBitmap``), whatever the
                      reserve's own LTV, else the reserve's
========  ==========  ==================================================================================

Revisions above 10 (v3.7 is 11) get the newest maths known here; the reconciliation with
``getUserAccountData`` shows whether that still holds. (v3.3 alone valued GHO debt with the debt
token's ``balanceOf``, discount included; that case is not modelled.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from defirisk.units import RAY

V30, V32, V35, V36 = "3.0", "3.2", "3.5", "3.6"
#: The first revision of each maths generation after v3.0.
FIRST_REVISION = {V32: 5, V35: 9, V36: 10}


def account_maths(revision: int | None) -> str:
    """The maths generation (``V30`` … ``V36``) of a Pool revision; None (no ``POOL_REVISION``) is v3.0."""
    if revision is None or revision < FIRST_REVISION[V32]:
        return V30
    if revision < FIRST_REVISION[V35]:
        return V32
    if revision < FIRST_REVISION[V36]:
        return V35
    return V36


def maths_of(market_params: Mapping[str, Any]) -> str:
    """The maths generation of a snapshot, from ``market_params["pool_revision"]`` (v3.0 without one)."""
    return account_maths(market_params.get("pool_revision"))


def uses_bitmaps(maths: str) -> bool:
    """E-mode membership comes from per-category bitmaps (v3.2 and later)."""
    return maths != V30


def uses_token_math(maths: str) -> bool:
    """Balances and base values round against the user (v3.5 and later)."""
    return maths in (V35, V36)


def ray_mul_floor(a: int, b: int) -> int:
    """``WadRayMath.rayMulFloor``: ⌊a·b / RAY⌋."""
    return a * b // RAY


def ray_mul_ceil(a: int, b: int) -> int:
    """``WadRayMath.rayMulCeil``: ⌈a·b / RAY⌉."""
    return -(-a * b // RAY)


def ray_div_floor(a: int, b: int) -> int:
    """``WadRayMath.rayDivFloor``: ⌊a·RAY / b⌋."""
    return a * RAY // b


def ray_div_ceil(a: int, b: int) -> int:
    """``WadRayMath.rayDivCeil``: ⌈a·RAY / b⌉."""
    return -(-a * RAY // b)


def mul_div_ceil(a: int, b: int, c: int) -> int:
    """``MathUtils.mulDivCeil``: ⌈a·b / c⌉."""
    return -(-a * b // c)


def percent_mul_floor(value: int, percentage: int) -> int:
    """``PercentageMath.percentMulFloor``: ⌊value·percentage / 10⁴⌋."""
    return value * percentage // 10_000


def percent_div_ceil(value: int, percentage: int) -> int:
    """``PercentageMath.percentDivCeil``: ⌈value·10⁴ / percentage⌉."""
    return -(-value * 10_000 // percentage)
