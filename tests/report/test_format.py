"""Numbers for people: right to three significant figures, never a misleading suffix."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.report import format as fmt

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1_234_567, "$1.23M"),
        (999_960, "$1.00M"),
        (999_499, "$999K"),
        (12_345, "$12.3K"),
        (1_000, "$1.00K"),
        (512, "$512"),
        (12.345, "$12.3"),
        (0.5, "$0.5"),
        (0, "$0"),
        (0.004, "<$0.01"),
        (-45_600, "-$45.6K"),
        (1.2e9, "$1.20B"),
        (3.4e12, "$3.40T"),
        (None, "n/a"),
    ],
)
def test_usd(value: float | None, shown: str) -> None:
    assert fmt.usd(value) == shown


def test_other_formats() -> None:
    assert fmt.pct(0.83) == f"83.0{NBSP}%"
    assert fmt.pct(0.0625, 2) == f"6.25{NBSP}%"
    assert fmt.pct(3 / 21_507) == f"<0.1{NBSP}%"
    assert fmt.pct(0.0) == f"0.0{NBSP}%"
    assert fmt.signed_pct(-0.2) == f"-20.0{NBSP}%"
    assert fmt.signed_pct(0.5, 0) == f"+50{NBSP}%"
    assert fmt.pp(-0.05) == f"-5.0{NBSP}pp"
    assert fmt.usd_delta(1.11e6) == "+$1.11M"
    assert fmt.usd_delta(0.0) == "$0"
    assert fmt.count(29_369) == "29,369"
    assert fmt.count_delta(-3) == "-3"
    assert fmt.count_delta(12) == "+12"
    assert fmt.health_factor(0.9994) == "0.999"
    assert fmt.health_factor(1.0) == "1.000"
    assert fmt.health_factor(None) == "∞"
    assert fmt.health_factor(1e6) == ">1,000"
    assert fmt.tokens(0) == "none"
    assert fmt.tokens(1.8e6) == "1.80M"
    assert fmt.price(1816.85) == "$1,816.85"
    assert fmt.price(0.99981) == "$0.9998"
    assert fmt.block(None) == "none"
    assert fmt.block(18_000_000) == "18,000,000"
    assert fmt.timestamp(1_678_406_400) == "2023-03-10 00:00 UTC"


_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


def _parse_usd(text: str) -> float:
    match = re.fullmatch(r"(-?)\$([0-9.]+)([KMBT]?)", text)
    assert match, text
    sign = -1.0 if match.group(1) else 1.0
    return sign * float(match.group(2)) * _SUFFIX[match.group(3)]


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0.01, max_value=9.99e14) | st.floats(min_value=-9.99e14, max_value=-0.01))
def test_usd_reads_back_within_half_a_percent(value: float) -> None:
    shown = fmt.usd(value)
    digits = re.sub(r"[^0-9]", "", shown)
    assert len(digits.lstrip("0")) <= 3, shown
    assert abs(_parse_usd(shown) - value) <= 0.005 * abs(value) + 1e-12, shown


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=-10, max_value=10))
def test_pct_reads_back(value: float) -> None:
    shown = fmt.pct(value).removesuffix(f"{NBSP}%")
    if "<" in shown:
        assert 0 < abs(value) < 0.0005
    else:
        assert abs(float(shown) / 100 - value) <= 0.0005 + 1e-12
