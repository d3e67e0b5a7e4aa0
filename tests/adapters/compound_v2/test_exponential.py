"""Compound's ExponentialNoError maths on hand-computed cases, truncation edges included."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.adapters.compound_v2.exponential import (
    EXP_SCALE,
    div_exp,
    mul_exp,
    mul_exp_uint,
    mul_scalar_truncate,
    mul_scalar_truncate_add_uint,
    mul_uint_exp,
    to_mantissa,
    truncate,
)
from defirisk.errors import DataError
from defirisk.units import UINT256_MAX

E18 = 10**18


def test_truncate_rounds_down() -> None:
    assert truncate(2 * E18 - 1) == 1
    assert truncate(E18) == 1
    assert truncate(E18 - 1) == 0


def test_mul_exp_truncates_instead_of_rounding_half_up() -> None:
    assert mul_exp(15 * 10**17, 15 * 10**17) == 225 * 10**16
    # (1e18 − 1)² = (1e18 − 2)·1e18 + 1: the old Exponential.mulExp (+halfExpScale) gives the same, but
    # 0.6e-18 · 1 = 0.6e-18 rounds to 1 there and truncates to 0 here.
    assert mul_exp(E18 - 1, E18 - 1) == E18 - 2
    assert mul_exp(6 * 10**17, 1) == 0
    assert mul_exp(3, 3 * 10**17) == 0


def test_div_exp_truncates() -> None:
    assert div_exp(E18, 3 * E18) == 333_333_333_333_333_333
    assert div_exp(2 * E18, 3 * E18) == 666_666_666_666_666_666
    with pytest.raises(DataError):
        div_exp(E18, 0)


def test_scalar_forms() -> None:
    assert mul_exp_uint(5 * 10**17, 3) == 15 * 10**17
    assert mul_uint_exp(3, 5 * 10**17) == 1
    assert mul_scalar_truncate(5 * 10**17, 3) == 1
    assert mul_scalar_truncate_add_uint(5 * 10**17, 3, 10) == 11
    # Truncating each term loses what the sum would keep: 0.6 + 0.6 wei → 0, not 1.
    assert mul_scalar_truncate_add_uint(6 * 10**17, 1, mul_scalar_truncate(6 * 10**17, 1)) == 0


def test_uint256_overflow_is_refused_like_a_revert() -> None:
    with pytest.raises(DataError, match="uint256"):
        mul_exp(2**255, 2)
    with pytest.raises(DataError, match="uint256"):
        mul_scalar_truncate_add_uint(0, 0, UINT256_MAX + 1)


def test_to_mantissa_is_exact() -> None:
    assert to_mantissa("0.825") == 825 * 10**15
    assert to_mantissa("1.08") == 108 * 10**16
    assert to_mantissa("0.005285551943761727") == 5_285_551_943_761_727
    with pytest.raises(DataError):
        to_mantissa("1e-19")
    with pytest.raises(DataError):
        to_mantissa("abc")


@settings(max_examples=200, deadline=None)
@given(a=st.integers(0, 10**38), b=st.integers(0, 10**38))
def test_mul_exp_is_the_floor_of_the_exact_product(a: int, b: int) -> None:
    result = mul_exp(a, b)
    assert result * EXP_SCALE <= a * b < (result + 1) * EXP_SCALE
