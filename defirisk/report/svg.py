"""Inline SVG charts drawn by hand: bar charts, line charts and a histogram with markers.

No plotting library and no script: each function returns one ``<svg>`` element as text, with a
``<title>``, axis labels, gridlines and a legend. Every piece of text, in elements and attributes
alike, goes through ``escape.html_inline``. Colours are the Okabe–Ito palette (distinguishable with
the common colour-vision deficiencies); line series also differ by dash pattern.

Geometry: a chart is ``WIDTH`` × (plot height + legend) user units; the page scales it to its column.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from defirisk.report.escape import Inline, Untrusted, html_inline, plain

BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, BLACK, YELLOW = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442",
)
#: Series colours in order (yellow last: it is faint on white).
PALETTE = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, BLACK, YELLOW)
DASHES = ("", "8 4", "2 3", "10 3 2 3")
GRID = "#d9d9d9"
INK = "#222222"

WIDTH = 960
_MARGIN_LEFT, _MARGIN_RIGHT, _MARGIN_TOP, _MARGIN_BOTTOM = 78, 24, 44, 58
_FONT = 13
_CHAR = 0.6 * _FONT  # rough advance of one character, for legend layout
_LEGEND_ROW = 20
_LABEL_CHARS = 28

Format = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """Bar heights by category (``None`` = no bar) or line points ``(x, y)`` (``None`` y breaks the line)."""

    name: Inline
    color: str
    values: Sequence[float | None] = ()
    points: Sequence[tuple[float, float | None]] = ()
    dash: str = ""


@dataclass(frozen=True)
class Marker:
    """A vertical line at ``x`` (VaR, ES) with a short ``tag`` beside it and a ``label`` in the legend."""

    x: float
    tag: Inline
    label: Inline
    color: str
    dash: str = ""


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2, 2.5 or 5 × 10ᵏ) that splits ``span`` into at most about ``count`` parts."""
    raw = span / count if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw * (1 - 1e-9))


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values inside ``[low, high]``."""
    step = nice_step(high - low, count)
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [round(i * step, 12) for i in range(first, last + 1)]


def nice_top(value: float, count: int = 5) -> float:
    """The first round tick at or above ``value`` (1 when there is nothing to show)."""
    if not value > 0:
        return 1.0
    step = nice_step(value, count)
    return math.ceil(value / step - 1e-9) * step


def _n(value: float) -> str:
    return f"{value:.1f}"


def _text(x: float, y: float, value: Inline, *, anchor: str = "middle", size: int = _FONT,
          weight: str = "normal", rotate: float | None = None, fill: str = INK, halo: bool = False) -> str:
    transform = f' transform="rotate({rotate:g} {_n(x)} {_n(y)})"' if rotate is not None else ""
    bold = ' font-weight="bold"' if weight != "normal" else ""
    # A white outline painted under the glyphs keeps a label readable where it crosses lines or bars.
    outline = ' stroke="#ffffff" stroke-width="4" paint-order="stroke"' if halo else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}"{bold}'
            f"{outline}{transform}>{html_inline(value)}</text>")


def _cut(value: Inline, limit: int = _LABEL_CHARS) -> Inline:
    """A label no longer than ``limit`` visible characters (document text is already cut to 64)."""
    text = plain(value)
    return value if len(text) <= limit else Untrusted(text[: limit - 1] + "…")


class _Frame:
    """Maps data to user units inside the plot area of a chart ``width`` × ``height``."""

    def __init__(
        self, width: float, height: float, x: tuple[float, float], y: tuple[float, float],
        margin_bottom: float = _MARGIN_BOTTOM,
    ) -> None:
        self.left, self.right = _MARGIN_LEFT, width - _MARGIN_RIGHT
        self.top, self.bottom = _MARGIN_TOP, height - margin_bottom
        self.height = height
        self.x_domain, self.y_domain = x, y

    def x(self, value: float) -> float:
        low, high = self.x_domain
        return self.left + (value - low) / (high - low) * (self.right - self.left)

    def y(self, value: float) -> float:
        low, high = self.y_domain
        return self.bottom - (value - low) / (high - low) * (self.bottom - self.top)


def _y_axis(frame: _Frame, label: str, fmt: Format) -> list[str]:
    parts = []
    for tick in nice_ticks(*frame.y_domain):
        y = frame.y(tick)
        parts.append(f'<line x1="{_n(frame.left)}" x2="{_n(frame.right)}" y1="{_n(y)}" y2="{_n(y)}" '
                     f'stroke="{GRID}" stroke-width="1"/>')
        parts.append(_text(frame.left - 6, y + 4, fmt(tick), anchor="end", size=12))
    middle = (frame.top + frame.bottom) / 2
    parts.append(_text(16, middle, label, rotate=-90))
    parts.append(f'<line x1="{_n(frame.left)}" x2="{_n(frame.left)}" y1="{_n(frame.top)}" y2="{_n(frame.bottom)}" '
                 f'stroke="{INK}" stroke-width="1"/>')
    return parts


def _x_base(frame: _Frame, label: str) -> list[str]:
    return [
        f'<line x1="{_n(frame.left)}" x2="{_n(frame.right)}" y1="{_n(frame.bottom)}" y2="{_n(frame.bottom)}" '
        f'stroke="{INK}" stroke-width="1"/>',
        _text((frame.left + frame.right) / 2, frame.height - 12, label),
    ]


def _legend(items: Sequence[tuple[Inline, str, str, str]], top: float, width: float) -> tuple[list[str], float]:
    """Legend rows below the plot; ``items`` are (name, colour, dash, ``"line"`` or ``"box"``).

    Returns the SVG parts and the height used.
    """
    parts: list[str] = []
    x, y = float(_MARGIN_LEFT), top + 14
    for name, color, dash, kind in items:
        label = _cut(name)
        item_width = 30 + len(plain(label)) * _CHAR + 18
        if x + item_width > width - _MARGIN_RIGHT and x > _MARGIN_LEFT:
            x, y = float(_MARGIN_LEFT), y + _LEGEND_ROW
        if kind == "line":
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(f'<line x1="{_n(x)}" x2="{_n(x + 24)}" y1="{_n(y - 4)}" y2="{_n(y - 4)}" stroke="{color}" '
                         f'stroke-width="3"{dash_attr}/>')
        else:
            parts.append(f'<rect x="{_n(x + 6)}" y="{_n(y - 11)}" width="12" height="12" fill="{color}"/>')
        parts.append(_text(x + 30, y, label, anchor="start", size=12))
        x += item_width
    return parts, (y - top + 10 if items else 0.0)


def _svg(key: str, title: Inline, width: float, height: float, body: Sequence[str]) -> str:
    title_id = f"{key}-title"
    return (
        f'<svg id="{html_inline(key)}" class="chart" role="img" aria-labelledby="{html_inline(title_id)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}" '
        f'font-family="DejaVu Sans, Verdana, Arial, sans-serif">'
        f'<title id="{html_inline(title_id)}">{html_inline(title)}</title>'
        f'<rect x="0" y="0" width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>'
        + _text(_MARGIN_LEFT, 24, title, anchor="start", size=15, weight="bold")
        + "".join(body)
        + "</svg>"
    )


def bar_chart(
    *,
    key: str,
    title: Inline,
    categories: Sequence[Inline],
    series: Sequence[Series],
    y_label: str,
    y_format: Format,
    x_label: str,
    bar_colors: Sequence[str] | None = None,
    value_labels: bool = True,
    width: float = WIDTH,
    height: float = 340,
) -> str:
    """Grouped vertical bars: one group per category, one bar per series (bar height ∝ value, from 0).

    ``bar_colors`` (one per category) overrides the series colour of a single-series chart. Bars carry
    ``class="bar"`` and a ``<title>`` with their value for hover.
    """
    top_value = max((v for s in series for v in s.values if v is not None), default=0.0)
    labels = [_cut(category, 16) for category in categories]
    slot = (width - _MARGIN_LEFT - _MARGIN_RIGHT) / max(len(categories), 1)
    widest = max((len(plain(label)) for label in labels), default=0) * _CHAR * 12 / _FONT
    # Labels too wide for their slot are slanted, and the plot gives up height for them.
    slant = widest > slot * 0.95
    extra = widest * 0.5 if slant else 0.0
    frame = _Frame(width, height, (0.0, float(max(len(categories), 1))), (0.0, nice_top(top_value)),
                   margin_bottom=_MARGIN_BOTTOM + extra)
    parts = _y_axis(frame, y_label, y_format) + _x_base(frame, x_label)
    bar = slot * 0.72 / max(len(series), 1)
    for i, label in enumerate(labels):
        start = frame.left + slot * i + slot * 0.14
        center = frame.left + slot * (i + 0.5)
        if slant:
            parts.append(_text(center + 4, frame.bottom + 14, label, anchor="end", size=12, rotate=-30))
        else:
            parts.append(_text(center, frame.bottom + 18, label, size=12))
        for j, s in enumerate(series):
            value = s.values[i] if i < len(s.values) else None
            if value is None:
                continue
            color = bar_colors[i] if bar_colors is not None and len(series) == 1 else s.color
            # A non-zero value keeps at least a sliver of its colour, however small against the axis.
            x, y = start + bar * j, min(frame.y(value), frame.bottom - (1.5 if value > 0 else 0.0))
            parts.append(
                f'<rect class="bar" x="{_n(x)}" y="{_n(y)}" width="{_n(bar - 2)}" '
                f'height="{_n(frame.bottom - y)}" fill="{color}">'
                f"<title>{html_inline(label)}: {html_inline(y_format(value))}</title></rect>"
            )
            if value_labels:
                parts.append(_text(x + (bar - 2) / 2, y - 5, y_format(value), size=11, halo=True))
    legend, used = ([], 0.0) if len(series) < 2 else _legend(
        [(s.name, s.color, "", "box") for s in series], height - 8, width
    )
    return _svg(key, title, width, height + used, parts + legend)


def line_chart(
    *,
    key: str,
    title: Inline,
    series: Sequence[Series],
    x_label: str,
    y_label: str,
    x_format: Format,
    y_format: Format,
    x_reference: float | None = None,
    width: float = WIDTH,
    height: float = 380,
) -> str:
    """Lines through each series' ``points`` on shared axes; ``x_reference`` draws a dashed vertical
    guide (today's price at change 0). Lines carry ``class="line"``."""
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points if y is not None]
    x_domain = (min(xs), max(xs)) if xs and min(xs) < max(xs) else (0.0, 1.0)
    frame = _Frame(width, height, x_domain, (0.0, nice_top(max(ys, default=0.0))))
    parts = _y_axis(frame, y_label, y_format) + _x_base(frame, x_label)
    for tick in nice_ticks(*x_domain, count=8):
        x = frame.x(tick)
        parts.append(f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.bottom)}" y2="{_n(frame.bottom + 5)}" '
                     f'stroke="{INK}"/>')
        parts.append(_text(x, frame.bottom + 20, x_format(tick), size=12))
    if x_reference is not None and x_domain[0] <= x_reference <= x_domain[1]:
        x = frame.x(x_reference)
        parts.append(f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.top)}" y2="{_n(frame.bottom)}" '
                     f'stroke="#888888" stroke-dasharray="4 4"/>')
    for s in series:
        for run in _runs(s.points):
            coords = " ".join(f"{_n(frame.x(x))},{_n(frame.y(y))}" for x, y in run)
            dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
            parts.append(f'<polyline class="line" points="{coords}" fill="none" stroke="{s.color}" '
                         f'stroke-width="2.5"{dash}><title>{html_inline(s.name)}</title></polyline>')
    legend, used = _legend([(s.name, s.color, s.dash, "line") for s in series], height - 8, width)
    return _svg(key, title, width, height + used, parts + legend)


def _runs(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Consecutive points with a value; a ``None`` ends a run (a gap in the line)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            runs.append([])
        else:
            runs[-1].append((x, y))
    return [run for run in runs if run]


def histogram(
    *,
    key: str,
    title: Inline,
    edges: Sequence[float],
    counts: Sequence[int],
    markers: Sequence[Marker],
    x_label: str,
    y_label: str,
    x_format: Format,
    color: str = SKY,
    width: float = WIDTH,
    height: float = 360,
) -> str:
    """Bars spanning ``edges[i]..edges[i+1]`` with height ``counts[i]``; markers as labelled vertical
    lines (the x axis widens to show a marker beyond the last edge)."""
    low = min([edges[0], *(m.x for m in markers)])
    high = max([edges[-1], *(m.x for m in markers)])
    frame = _Frame(width, height, (low, high if high > low else low + 1.0), (0.0, nice_top(max(counts, default=0))))
    parts = _y_axis(frame, y_label, lambda v: f"{v:,.0f}") + _x_base(frame, x_label)
    for tick in nice_ticks(*frame.x_domain, count=8):
        x = frame.x(tick)
        parts.append(f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.bottom)}" y2="{_n(frame.bottom + 5)}" '
                     f'stroke="{INK}"/>')
        parts.append(_text(x, frame.bottom + 20, x_format(tick), size=12))
    for (left, right), count in zip(zip(edges, edges[1:], strict=False), counts, strict=False):
        x0, x1, y = frame.x(left), frame.x(right), min(frame.y(count), frame.bottom - (1.5 if count > 0 else 0.0))
        parts.append(
            f'<rect class="bar" x="{_n(x0)}" y="{_n(y)}" width="{_n(max(x1 - x0 - 1, 0.5))}" '
            f'height="{_n(frame.bottom - y)}" fill="{color}">'
            f"<title>{html_inline(x_format(left))}–{html_inline(x_format(right))}: {count:,}</title></rect>"
        )
    for marker in markers:
        x = frame.x(marker.x)
        dash = f' stroke-dasharray="{marker.dash}"' if marker.dash else ""
        parts.append(f'<line class="marker" x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.top)}" y2="{_n(frame.bottom)}" '
                     f'stroke="{marker.color}" stroke-width="2"{dash}/>')
    # Tags go on top of every line, one row each, so none is crossed out by a neighbour's line.
    for i, marker in enumerate(markers):
        x = frame.x(marker.x)
        right_side = x < frame.right - 120
        parts.append(_text(x + 5 if right_side else x - 5, frame.top + 14 + 16 * i, marker.tag,
                           anchor="start" if right_side else "end", size=12, fill=marker.color, halo=True))
    legend, used = _legend([(m.label, m.color, m.dash, "line") for m in markers], height - 8, width)
    parts += legend
    height += used
    return _svg(key, title, width, height, parts)
