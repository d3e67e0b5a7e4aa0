"""Sections on what could happen: stress scenarios, Monte Carlo value at risk, the cascade."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from defirisk.report import format as fmt
from defirisk.report.blocks import Chart, Paragraph, Section, Table
from defirisk.report.escape import untrusted
from defirisk.report.phrases import cells, join, moves, word

Doc = dict[str, Any]

_METRIC_NAMES = {"bad_debt": "Bad debt", "liquidations_at_risk": "Liquidations at risk"}


def stress(stress: Sequence[Doc], today: Doc) -> Section:
    rows = [
        cells(
            "Today (no shock)", "", "none",
            fmt.usd(today["liquidatable_debt_usd"]), fmt.MISSING, fmt.usd(today["bad_debt_usd"]),
            fmt.usd(today["unliquidatable_debt_usd"]), fmt.MISSING, fmt.MISSING,
        )
    ]
    for s in stress:
        rows.append(
            cells(
                untrusted(s["name"]),
                s["kind"],
                moves(s["worst_change"]),
                fmt.usd(s["liquidatable_debt_usd"]),
                fmt.usd(s["liquidated_debt_usd"]),
                fmt.usd(s["bad_debt_usd"]),
                fmt.usd(s["unliquidatable_debt_usd"]),
                fmt.usd(s["liquidation_cost_usd"]),
                fmt.count(s["accounts_liquidatable"]),
            )
        )
    blocks: list[Any] = [
        Paragraph(
            "Each bundled historical episode (its worst move per asset) and single-asset shocks, evaluated on "
            "today's positions. Liquidated is what liquidators would repay; unliquidatable debt is in accounts "
            "too small to liquidate at a profit."
        ),
        Table(
            headers=("Scenario", "Type", "Largest moves", "Liquidatable", "Liquidated", "Bad debt",
                     "Unliquidatable", "Liquidation cost", "Accounts"),
            rows=tuple(rows),
            numeric=frozenset(range(3, 9)),
        ),
    ]
    for s in stress:
        if s["unmapped_assets"]:
            blocks.append(
                Paragraph(
                    (untrusted(s["name"]), ": no price path for ", join(s["unmapped_assets"]),
                     "; held at the snapshot price.")
                )
            )
    return Section("stress", "Stress scenarios", tuple(blocks))


def risk(risk: Doc | None) -> Section:
    if risk is None:
        return Section("var", "Value at risk", (Paragraph("No Monte Carlo simulation was run."),))
    rows = tuple(
        cells(
            _METRIC_NAMES.get(m["name"]) or untrusted(m["name"]),
            m["measure"],
            fmt.pct(m["percentile"]),
            fmt.usd(m["value_usd"]),
            f"{fmt.usd(m['ci_low_usd'])} – {fmt.usd(m['ci_high_usd'])}",
            fmt.pct(m["ci_level"], 0),
        )
        for m in risk["metrics"]
    )
    blocks: list[Any] = [
        Paragraph(
            (f"{fmt.count(risk['paths'])} simulated price paths over ", word(risk["horizon"]), " in ",
             word(risk["step"]), " steps (", word(risk["method"]), f"), seed {risk['seed']}. VaR is the loss "
             "not exceeded at the percentile; ES is the mean loss beyond it.")
        ),
        Chart("bad_debt"),
        Table(
            headers=("Metric", "Measure", "Percentile", "Value", "Confidence interval", "CI level"),
            rows=rows,
            numeric=frozenset({2, 3, 4, 5}),
        ),
    ]
    distribution = risk["distribution"]
    if distribution is not None and distribution["bad_debt_usd_quantiles"]:
        quantiles = sorted(distribution["bad_debt_usd_quantiles"].items(), key=lambda kv: float(kv[0]))
        blocks.append(
            Paragraph(
                "Bad-debt quantiles across paths: "
                + ", ".join(f"{fmt.pct(float(q), 0)} {fmt.usd(v)}" for q, v in quantiles)
                + "."
            )
        )
    return Section("var", "Value at risk", tuple(blocks))


def cascade(cascade: Doc | None) -> Section:
    if cascade is None or not cascade["steps"]:
        return Section("cascade", "Liquidation cascade", (Paragraph("No cascade was simulated."),))
    rows = tuple(
        cells(
            fmt.count(s["step"]),
            fmt.count(s["liquidations"]),
            fmt.usd(s["debt_repaid_usd"]),
            fmt.usd(s["volume_sold_usd"]),
            moves(s["price_impact"], decimals=2),
            fmt.usd(s["bad_debt_usd"]),
        )
        for s in cascade["steps"]
    )
    return Section(
        "cascade",
        "Liquidation cascade",
        (
            Paragraph(
                ("Scenario ", untrusted(cascade["scenario"]),
                 ": each step liquidates what is liquidatable, sells the seized collateral into the market, "
                 "and the price impact of that sale feeds the next step.")
            ),
            Chart("cascade"),
            Table(
                headers=("Step", "Liquidations", "Debt repaid", "Collateral sold", "Price impact", "Bad debt"),
                rows=rows,
                numeric=frozenset({0, 1, 2, 3, 5}),
            ),
        ),
    )
