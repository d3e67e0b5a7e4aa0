"""The report's four charts, drawn from the audit document with ``report.svg``.

* ``hf``: accounts by health-factor bucket, two panels (debt in USD, number of accounts), coloured
  from vermillion (liquidatable) to blue (safe).
* ``curves``: liquidatable debt (USD) against one asset's price change, one line per asset or group.
* ``bad_debt``: histogram of simulated bad debt per path with the VaR and ES markers.
* ``cascade``: per cascade step, debt repaid, collateral sold and bad debt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from defirisk.report import format as fmt
from defirisk.report.escape import Inline, untrusted
from defirisk.report.svg import (
    BLUE,
    DASHES,
    ORANGE,
    PALETTE,
    PURPLE,
    SKY,
    VERMILLION,
    WIDTH,
    Marker,
    Series,
    bar_chart,
    histogram,
    line_chart,
)

Doc = dict[str, Any]


def _usd_axis(value: float) -> str:
    return fmt.usd(value)


def _risk_colour(bucket: Doc) -> str:
    """Vermillion below HF 1, orange up to 1.1, sky blue up to 1.5, blue above."""
    upper = bucket["upper"]
    if upper is not None and upper <= 1.0:
        return VERMILLION
    if upper is not None and upper <= 1.1:
        return ORANGE
    if upper is not None and upper <= 1.5:
        return SKY
    return BLUE


def hf_charts(document: Doc) -> str:
    buckets = document["hf_distribution"]["buckets"]
    categories: list[Inline] = [untrusted(b["bucket"], 16) for b in buckets]
    colours = [_risk_colour(b) for b in buckets]
    half = WIDTH / 2
    debt = bar_chart(
        key="chart-hf-debt",
        title="Debt by health factor",
        categories=categories,
        series=[Series("Debt", BLUE, values=[b["debt_usd"] for b in buckets])],
        y_label="Debt (USD)",
        y_format=_usd_axis,
        x_label="Health factor",
        bar_colors=colours,
        width=half,
    )
    accounts = bar_chart(
        key="chart-hf-count",
        title="Accounts by health factor",
        categories=categories,
        series=[Series("Accounts", BLUE, values=[float(b["count"]) for b in buckets])],
        y_label="Accounts",
        y_format=lambda v: fmt.count(round(v)),
        x_label="Health factor",
        bar_colors=colours,
        width=half,
    )
    return f'<div class="pair">{debt}{accounts}</div>'


def curves_chart(document: Doc) -> str:
    curves = document["liquidation_curves"]
    series = [
        Series(
            untrusted(c["name"]),
            PALETTE[i % len(PALETTE)],
            points=[(p["change"], p["liquidatable_debt_usd"]) for p in c["points"]],
            dash=DASHES[(i + i // len(PALETTE)) % len(DASHES)],
        )
        for i, c in enumerate(curves)
    ]
    # Colour and dash both change from one line to the next, so no two of 32 lines look alike even
    # to a reader who cannot tell the colours apart.
    return line_chart(
        key="chart-curves",
        title="Liquidatable debt by price change",
        series=series,
        x_label="Price change of the asset or group (others unchanged)",
        y_label="Liquidatable debt (USD)",
        x_format=lambda v: fmt.signed_pct(v, 0),
        y_format=_usd_axis,
        x_reference=0.0,
    )


def bad_debt_chart(document: Doc) -> str:
    risk = document["risk_metrics"]
    histogram_data = risk["distribution"]["histogram"]
    markers = [
        Marker(
            m["value_usd"],
            f"{m['measure']} {fmt.pct(m['percentile'], 0)}",
            f"{m['measure']} at {fmt.pct(m['percentile'], 1)}: {fmt.usd(m['value_usd'])}",
            VERMILLION if m["measure"] == "VaR" else PURPLE,
            "" if m["measure"] == "VaR" else "6 3",
        )
        for m in risk["metrics"]
        if m["name"] == "bad_debt" and m["value_usd"] is not None
    ]
    return histogram(
        key="chart-bad-debt",
        title=f"Bad debt across {fmt.count(risk['paths'])} simulated paths",
        edges=histogram_data["edges_usd"],
        counts=histogram_data["counts"],
        markers=sorted(markers, key=lambda m: m.x),
        x_label="Bad debt per path (USD)",
        y_label="Paths",
        x_format=_usd_axis,
    )


def cascade_chart(document: Doc) -> str:
    cascade = document["cascade"]
    steps = cascade["steps"]
    return bar_chart(
        key="chart-cascade",
        title=("Cascade steps: ", untrusted(cascade["scenario"], 40)),
        categories=[f"Step {s['step']}" for s in steps],
        series=[
            Series("Debt repaid", BLUE, values=[s["debt_repaid_usd"] for s in steps]),
            Series("Collateral sold", ORANGE, values=[s["volume_sold_usd"] for s in steps]),
            Series("Bad debt", VERMILLION, values=[s["bad_debt_usd"] for s in steps]),
        ],
        y_label="USD",
        y_format=_usd_axis,
        x_label="Cascade step",
        value_labels=False,
    )


def _has_histogram(document: Doc) -> bool:
    risk = document["risk_metrics"]
    return risk is not None and risk["distribution"] is not None


#: Chart key → (is there data for it?, draw it).
CHARTS: dict[str, tuple[Callable[[Doc], bool], Callable[[Doc], str]]] = {
    "hf": (lambda d: bool(d["hf_distribution"]["buckets"]), hf_charts),
    "curves": (lambda d: bool(d["liquidation_curves"]), curves_chart),
    "bad_debt": (_has_histogram, bad_debt_chart),
    "cascade": (lambda d: d["cascade"] is not None and bool(d["cascade"]["steps"]), cascade_chart),
}


def chart(key: str, document: Doc) -> str:
    """The SVG for chart ``key``, or an empty string when the document has no data for it."""
    available, draw = CHARTS[key]
    return draw(document) if available(document) else ""
