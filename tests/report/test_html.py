"""The HTML report: self-contained, script-free, every chart drawn to scale, hostile text inert."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from defirisk.report import format as fmt
from defirisk.report.html import render_html
from tests.report.sample import sample_audit

_ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "footer", "nav", "section", "div",
    "h1", "h2", "p", "ul", "li", "strong", "a", "table", "caption", "thead", "tbody", "tr", "th", "td", "pre",
    "code", "svg", "rect", "line", "polyline", "text",
}
_SVG_ATTRIBUTES = {"id", "class", "role", "aria-labelledby", "viewbox", "width", "height", "font-family", "x", "y",
                   "x1", "x2", "y1", "y2", "fill", "stroke", "stroke-width", "stroke-dasharray", "points",
                   "text-anchor", "font-size", "font-weight", "transform", "paint-order"}


class Page(HTMLParser):
    """Every element with its attributes, the text, and for each SVG its elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.style = ""
        self._in_style = False
        self.svgs: dict[str, list[tuple[str, dict[str, str]]]] = {}
        self._svg: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        self._in_style = tag == "style"
        if tag == "svg":
            self._svg = attributes["id"]
            self.svgs[self._svg] = []
        elif self._svg is not None:
            self.svgs[self._svg].append((tag, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._svg = None
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data
        else:
            self.text.append(data)


def page(**kwargs: bool) -> Page:
    parser = Page()
    parser.feed(render_html(sample_audit(**kwargs)))
    parser.close()
    return parser


@pytest.mark.parametrize("hostile", [False, True])
def test_self_contained_and_script_free(hostile: bool) -> None:
    p = page(hostile=hostile)
    tags = {tag for tag, _ in p.elements}
    assert tags <= _ALLOWED_TAGS, tags - _ALLOWED_TAGS
    ids = {attrs["id"] for _, attrs in p.elements if "id" in attrs}
    for tag, attrs in p.elements:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        assert "src" not in attrs and "style" not in attrs and "srcset" not in attrs
        if "href" in attrs:
            assert tag == "a" and attrs["href"].startswith("#") and attrs["href"][1:] in ids, attrs
        assert not any("://" in value or "javascript:" in value.lower() for value in attrs.values()), attrs
    assert "url(" not in p.style and "@import" not in p.style
    (csp,) = [a["content"] for t, a in p.elements if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp


def test_hostile_text_is_displayed_as_text_everywhere() -> None:
    p = page(hostile=True)
    text = "".join(p.text)
    for visible in ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "[x](javascript:alert(1))",
                    '=HYPERLINK("http://x")', "\\x1b[31mRED\\x1b[0m", "'; DROP TABLE assets;--", "\\udcff\\udcfeSYM",
                    "\\u202eevil\\u202c"):
        assert visible in text, visible
    legend = [a for t, a in p.svgs["chart-curves"] if t == "text"]
    assert legend, "the curves chart has no text"
    assert "\x1b" not in text and "\u202e" not in text
    assert max(len(chunk) for chunk in p.text) < 2_000, "a 10,000-character name was not cut"


def test_every_chart_is_there_with_a_title_and_axis_labels() -> None:
    p = page()
    assert set(p.svgs) == {"chart-hf-debt", "chart-hf-count", "chart-curves", "chart-bad-debt", "chart-cascade"}
    for key, elements in p.svgs.items():
        assert any(t == "title" for t, _ in elements), key
        for _, attrs in elements:
            assert set(attrs) <= _SVG_ATTRIBUTES, (key, attrs)
    text = "".join(p.text)
    for label in ("Debt (USD)", "Accounts", "Health factor", "Liquidatable debt (USD)",
                  "Price change of the asset or group (others unchanged)", "Bad debt per path (USD)", "Paths",
                  "Cascade step", "Debt repaid", "Collateral sold"):
        assert label in text, label


def _bars(elements: list[tuple[str, dict[str, str]]]) -> list[dict[str, str]]:
    return [a for t, a in elements if t == "rect" and a.get("class") == "bar"]


def test_bars_are_drawn_to_scale() -> None:
    doc = sample_audit()
    p = page()
    debts = [b["debt_usd"] for b in doc["hf_distribution"]["buckets"]]
    bars = _bars(p.svgs["chart-hf-debt"])
    assert len(bars) == len(debts)
    heights = [float(b["height"]) for b in bars]
    top = max(range(len(debts)), key=debts.__getitem__)
    for debt, height in zip(debts, heights, strict=True):
        assert height == pytest.approx(max(debt / debts[top] * heights[top], 1.5), abs=0.15)
    counts = doc["risk_metrics"]["distribution"]["histogram"]["counts"]
    histogram = _bars(p.svgs["chart-bad-debt"])
    assert len(histogram) == len(counts)
    tallest = float(histogram[counts.index(max(counts))]["height"])
    assert [float(b["height"]) for b in histogram] == pytest.approx(
        [max(c / max(counts) * tallest, 1.5) if c else 0.0 for c in counts], abs=0.15
    )
    assert len(_bars(p.svgs["chart-cascade"])) == 3 * len(doc["cascade"]["steps"])


def test_curves_are_one_line_per_curve_on_one_linear_scale() -> None:
    doc = sample_audit()
    lines = [a for t, a in page().svgs["chart-curves"] if t == "polyline"]
    assert len(lines) == len(doc["liquidation_curves"])
    assert len({(a["stroke"], a.get("stroke-dasharray", "")) for a in lines}) == len(lines)
    pairs = []
    for curve, line in zip(doc["liquidation_curves"], lines, strict=True):
        coords = [tuple(map(float, xy.split(","))) for xy in line["points"].split()]
        assert len(coords) == len(curve["points"])
        pairs += [(p["change"], p["liquidatable_debt_usd"], x, y)
                  for p, (x, y) in zip(curve["points"], coords, strict=True)]
    for column, pixel in ((0, 2), (1, 3)):
        low = min(pairs, key=lambda row: row[column])
        high = max(pairs, key=lambda row: row[column])
        scale = (high[pixel] - low[pixel]) / (high[column] - low[column])
        for row in pairs:
            assert row[pixel] == pytest.approx(low[pixel] + (row[column] - low[column]) * scale, abs=0.1)
        assert scale > 0 if column == 0 else scale < 0


def test_var_and_es_markers_sit_in_value_order() -> None:
    doc = sample_audit()
    elements = page().svgs["chart-bad-debt"]
    markers = [float(a["x1"]) for t, a in elements if t == "line" and a.get("class") == "marker"]
    values = sorted(m["value_usd"] for m in doc["risk_metrics"]["metrics"] if m["name"] == "bad_debt")
    assert len(markers) == len(values) == 4
    assert markers == sorted(markers)
    span = (markers[-1] - markers[0]) / (values[-1] - values[0])
    for marker, value in zip(markers, values, strict=True):
        assert marker - markers[0] == pytest.approx((value - values[0]) * span, abs=0.2)
    legend = "".join(page().text)
    for m in doc["risk_metrics"]["metrics"]:
        if m["name"] == "bad_debt":
            assert f"{m['measure']} at {fmt.pct(m['percentile'])}: {fmt.usd(m['value_usd'])}" in legend


def test_missing_parts_leave_out_their_charts_not_the_page() -> None:
    doc = sample_audit(whatif=False)
    doc["risk_metrics"] = None
    doc["cascade"] = None
    doc["liquidation_curves"] = []
    doc["at_risk"] = []
    html = render_html(doc)
    assert "No Monte Carlo simulation was run." in html
    assert "No cascade was simulated." in html
    assert "No liquidation curves were computed." in html
    assert re.findall(r'<svg id="([^"]+)"', html) == ["chart-hf-debt", "chart-hf-count"]
