"""Fixed-point constants and the exact integer maths of the protocols' math libraries.

Aave v3.0 (``WadRayMath``, ``PercentageMath``) rounds half up in every operation; these functions
reproduce it on Python ints so the reference path can match the contracts to the wei.
"""

from __future__ import annotations

WAD = 10**18
HALF_WAD = WAD // 2
RAY = 10**27
HALF_RAY = RAY // 2
PERCENTAGE_FACTOR = 10**4
HALF_PERCENTAGE_FACTOR = PERCENTAGE_FACTOR // 2
UINT256_MAX = 2**256 - 1


def ray_mul(a: int, b: int) -> int:
    """``a · b / RAY`` rounded half up (``WadRayMath.rayMul``)."""
    return (a * b + HALF_RAY) // RAY


def ray_div(a: int, b: int) -> int:
    """``a · RAY / b`` rounded half up (``WadRayMath.rayDiv``)."""
    return (a * RAY + b // 2) // b


def wad_mul(a: int, b: int) -> int:
    """``a · b / WAD`` rounded half up (``WadRayMath.wadMul``)."""
    return (a * b + HALF_WAD) // WAD


def wad_div(a: int, b: int) -> int:
    """``a · WAD / b`` rounded half up (``WadRayMath.wadDiv``)."""
    return (a * WAD + b // 2) // b


def percent_mul(value: int, percentage: int) -> int:
    """``value · percentage / 10⁴`` rounded half up (``PercentageMath.percentMul``)."""
    return (value * percentage + HALF_PERCENTAGE_FACTOR) // PERCENTAGE_FACTOR


def percent_div(value: int, percentage: int) -> int:
    """``value · 10⁴ / percentage`` rounded half up (``PercentageMath.percentDiv``)."""
    return (value * PERCENTAGE_FACTOR + percentage // 2) // percentage
