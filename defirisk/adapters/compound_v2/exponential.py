"""Compound v2's fixed-point maths (``ExponentialNoError.sol``) on Python ints.

An ``Exp`` is an unsigned integer *mantissa* scaled by ``EXP_SCALE`` = 1e18. Every operation truncates
(rounds towards zero), exactly like the contract; there is no half-up rounding anywhere (unlike the
older ``Exponential.sol`` ``mulExp``, which added ``halfExpScale``). Results above 2²⁵⁶ − 1 would make
the contract revert (Solidity ≥ 0.8 checked maths); here they raise ``DataError``.

Source: compound-finance/compound-protocol ``contracts/ExponentialNoError.sol`` @a3214f67
(``truncate``, ``mul_ScalarTruncate``, ``mul_ScalarTruncateAddUInt``, ``mul_``, ``div_``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from defirisk.errors import DataError
from defirisk.units import UINT256_MAX

EXP_SCALE = 10**18
DOUBLE_SCALE = 10**36


def _checked(value: int, what: str) -> int:
    if value < 0 or value > UINT256_MAX:
        raise DataError(f"{what} leaves the uint256 range (the contract would revert)")
    return value


def truncate(mantissa: int) -> int:
    """``truncate(Exp)``: ``mantissa / 1e18`` rounded down."""
    return mantissa // EXP_SCALE


def mul_exp(a: int, b: int) -> int:
    """``mul_(Exp a, Exp b)``: mantissa ``a · b / 1e18``, truncated."""
    return _checked(a * b, "mul_(Exp, Exp)") // EXP_SCALE


def mul_exp_uint(a: int, scalar: int) -> int:
    """``mul_(Exp a, uint b)``: mantissa ``a · b`` (no rescaling: still an Exp)."""
    return _checked(a * scalar, "mul_(Exp, uint)")


def mul_uint_exp(scalar: int, b: int) -> int:
    """``mul_(uint a, Exp b)``: the integer ``a · b / 1e18``, truncated."""
    return _checked(scalar * b, "mul_(uint, Exp)") // EXP_SCALE


def div_exp(a: int, b: int) -> int:
    """``div_(Exp a, Exp b)``: mantissa ``a · 1e18 / b``, truncated."""
    if b == 0:
        raise DataError("div_(Exp, Exp) by zero (the contract would revert)")
    return _checked(a * EXP_SCALE, "div_(Exp, Exp)") // b


def mul_scalar_truncate(a: int, scalar: int) -> int:
    """``mul_ScalarTruncate(Exp a, uint scalar)``: ``⌊a · scalar / 1e18⌋``."""
    return truncate(mul_exp_uint(a, scalar))


def mul_scalar_truncate_add_uint(a: int, scalar: int, addend: int) -> int:
    """``mul_ScalarTruncateAddUInt(Exp a, uint scalar, uint addend)``: ``⌊a · scalar / 1e18⌋ + addend``."""
    return _checked(mul_scalar_truncate(a, scalar) + addend, "mul_ScalarTruncateAddUInt")


def to_mantissa(text: str, scale: int = EXP_SCALE) -> int:
    """The mantissa of a decimal number written as text (``"0.825"`` → 825·10¹⁵), exactly.

    Raises ``DataError`` when the number has more decimals than the scale can hold.
    """
    try:
        value = Decimal(text) * scale
    except InvalidOperation:
        raise DataError(f"not a decimal number: {text!r:.40}") from None
    if value != value.to_integral_value() or value < 0:
        raise DataError(f"{text!r:.40} is not a non-negative multiple of 1/{scale}")
    return int(value)
