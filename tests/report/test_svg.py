"""Axis arithmetic of the hand-drawn charts, and charts of degenerate data."""

from __future__ import annotations

import math
import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from defirisk.report.escape import Untrusted
from defirisk.report.svg import (
    BLUE,
    Marker,
    Series,
    bar_chart,
    histogram,
    line_chart,
    nice_step,
    nice_ticks,
    nice_top,
)

_finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(_finite, st.floats(min_value=1e-6, max_value=1e12), st.integers(min_value=2, max_value=10))
def test_ticks_are_round_evenly_spaced_and_inside(low: float, span: float, count: int) -> None:
    assume(span >= abs(low) * 1e-6)  # a chart's axis is never a sliver far from zero
    high = low + span
    slack = 1e-9 * max(1.0, abs(low), abs(high))
    ticks = nice_ticks(low, high, count)
    step = nice_step(span, count)
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m, rel_tol=1e-9) for m in (1, 2, 2.5, 5, 10))
    assert 1 <= len(ticks) <= count + 2
    for tick in ticks:
        assert low - slack <= tick <= high + slack
    for a, b in zip(ticks, ticks[1:], strict=False):
        assert math.isclose(b - a, step, rel_tol=1e-6, abs_tol=slack)


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=1e-9, max_value=1e15))
def test_axis_top_covers_the_data_without_wasting_more_than_half(value: float) -> None:
    top = nice_top(value)
    assert value <= top * (1 + 1e-12)
    assert top <= value * 2.5 + 1e-12


def test_nothing_to_show_still_draws_an_axis() -> None:
    assert nice_top(0.0) == 1.0
    svg = bar_chart(key="k", title="t", categories=["a", "b"], series=[Series("s", BLUE, values=[0.0, None])],
                    y_label="y", y_format=str, x_label="x")
    assert svg.count('class="bar"') == 1
    assert "nan" not in svg and "inf" not in svg
    flat = line_chart(key="l", title="t", series=[Series("s", BLUE, points=[(0.0, 5.0)])], x_label="x",
                      y_label="y", x_format=str, y_format=str)
    assert "nan" not in flat and "inf" not in flat
    hist = histogram(key="h", title="t", edges=[0.0, 0.0 + 1e-9], counts=[0], markers=[], x_label="x", y_label="y",
                     x_format=str)
    assert "nan" not in hist and "inf" not in hist


def test_gaps_break_lines() -> None:
    svg = line_chart(key="l", title="t", x_label="x", y_label="y", x_format=str, y_format=str,
                     series=[Series("s", BLUE, points=[(0, 1.0), (1, 2.0), (2, None), (3, 1.0), (4, 0.5)])])
    assert svg.count("<polyline") == 2


def test_long_and_hostile_labels_are_cut_and_escaped() -> None:
    name = Untrusted("<b>" + "x" * 60 + "</b>")
    svg = line_chart(key="l", title=Untrusted('"><script>'), x_label="x", y_label="y", x_format=str, y_format=str,
                     series=[Series(name, BLUE, points=[(0, 1.0), (1, 2.0)])])
    assert "<script>" not in svg and "<b>" not in svg
    assert "&quot;&gt;&lt;script&gt;" in svg
    legend = re.findall(r'text-anchor="start" font-size="12" fill="#222222">([^<]*)</text>', svg)
    assert legend == ["&lt;b&gt;" + "x" * 24 + "…"]


def test_a_marker_beyond_the_histogram_widens_the_axis() -> None:
    svg = histogram(key="h", title="t", edges=[0.0, 1.0, 2.0], counts=[5, 1], x_label="x", y_label="y",
                    x_format=lambda v: f"{v:g}", markers=[Marker(4.0, "VaR", "VaR 99 %", "#D55E00")])
    (marker_x,) = re.findall(r'class="marker" x1="([0-9.]+)"', svg)
    bars = re.findall(r'class="bar" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"', svg)
    assert float(marker_x) > float(bars[-1][0]) + float(bars[-1][1])
