"""Sections on today's exposure: the market's assets, the health-factor distribution, liquidation
curves, the accounts closest to liquidation, and concentration."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from defirisk.report import format as fmt
from defirisk.report.blocks import Chart, Paragraph, Section, Table
from defirisk.report.escape import untrusted
from defirisk.report.phrases import LISTED_ACCOUNTS, cells

Doc = dict[str, Any]

#: Price moves (fractions) shown in the liquidation-curve table.
CURVE_COLUMNS = (-0.5, -0.3, -0.2, -0.1, 0.1, 0.2)
_CURVE_TOLERANCE = 0.025


def market(market: Doc) -> Section:
    rows = tuple(
        cells(
            (untrusted(a["symbol"]), " (isolated)") if a["is_isolated"] else untrusted(a["symbol"]),
            fmt.price(a["price_usd"]),
            fmt.usd(a["supplied_usd"]),
            fmt.usd(a["borrowed_usd"]),
            fmt.pct(a["ltv"]),
            fmt.pct(a["liquidation_threshold"]),
            fmt.pct(a["liquidation_bonus"], 2),
            fmt.tokens(a["supply_cap"]),
            fmt.tokens(a["borrow_cap"]),
        )
        for a in market["assets"]
    )
    return Section(
        "market",
        "Market",
        (
            Table(
                headers=("Asset", "Price", "Supplied", "Borrowed", "LTV", "Liq. threshold", "Liq. bonus",
                         "Supply cap", "Borrow cap"),
                rows=rows,
                numeric=frozenset(range(1, 9)),
            ),
            Paragraph("Caps in whole tokens; prices from the protocol's own oracle at the snapshot."),
        ),
    )


def hf_distribution(buckets: Sequence[Doc]) -> Section:
    accounts = sum(b["count"] for b in buckets)
    debt = sum(b["debt_usd"] or 0.0 for b in buckets)
    rows = tuple(
        cells(
            untrusted(b["bucket"], 16),
            fmt.count(b["count"]),
            fmt.pct(b["count"] / accounts if accounts else None),
            fmt.usd(b["debt_usd"]),
            fmt.pct((b["debt_usd"] or 0.0) / debt if debt else None),
            fmt.usd(b["collateral_usd"]),
        )
        for b in buckets
    )
    return Section(
        "hf",
        "Health-factor distribution",
        (
            Paragraph("Borrowing accounts by health factor; below 1 an account can be liquidated now."),
            Chart("hf"),
            Table(
                headers=("Health factor", "Accounts", "Share of accounts", "Debt", "Share of debt", "Collateral"),
                rows=rows,
                numeric=frozenset(range(1, 6)),
            ),
        ),
    )


def _curve_value(points: Sequence[Doc], change: float) -> str:
    nearest = min(points, key=lambda p: abs(p["change"] - change))
    if abs(nearest["change"] - change) > _CURVE_TOLERANCE:
        return fmt.MISSING
    return fmt.usd(nearest["liquidatable_debt_usd"])


def curves(curves: Sequence[Doc]) -> Section:
    if not curves:
        return Section("curves", "Liquidation curves", (Paragraph("No liquidation curves were computed."),))
    rows = tuple(
        cells(
            untrusted(c["name"]),
            f"group of {len(c['members'])}" if c["kind"] == "group" else "asset",
            *(_curve_value(c["points"], change) for change in CURVE_COLUMNS),
        )
        for c in curves
    )
    return Section(
        "curves",
        "Liquidation curves",
        (
            Paragraph(
                "Debt that would be liquidatable if the price of one asset (or a group moving together) changed "
                "by the given fraction, every other price unchanged."
            ),
            Chart("curves"),
            Table(
                headers=("Asset or group", "Kind", *(fmt.signed_pct(c, 0) for c in CURVE_COLUMNS)),
                rows=rows,
                numeric=frozenset(range(2, 2 + len(CURVE_COLUMNS))),
                caption="Liquidatable debt by price change",
            ),
        ),
    )


def at_risk(accounts: Sequence[Doc]) -> Section:
    if not accounts:
        return Section("at_risk", "Accounts closest to liquidation", (Paragraph("No account is at risk."),))
    ranked = sorted(accounts, key=lambda a: (a["health_factor"] is None, a["health_factor"] or 0.0))
    several_markets = len({a["market"] for a in accounts}) > 1
    headers = ("Account", *(("Market",) if several_markets else ()), "HF", "Collateral", "Debt",
               "Main collateral", "Liquidation price", "Price move to HF 1")
    rows = tuple(
        cells(
            untrusted(a["account"]),
            *((untrusted(a["market"], 16),) if several_markets else ()),
            fmt.health_factor(a["health_factor"]),
            fmt.usd(a["collateral_usd"]),
            fmt.usd(a["debt_usd"]),
            untrusted(a["main_collateral"]) if a["main_collateral"] is not None else fmt.MISSING,
            fmt.price(a["liquidation_price_usd"]),
            fmt.signed_pct(a["liquidation_change"]),
        )
        for a in ranked[:LISTED_ACCOUNTS]
    )
    first = 2 if several_markets else 1
    return Section(
        "at_risk",
        "Accounts closest to liquidation",
        (
            Paragraph(
                f"The {min(len(ranked), LISTED_ACCOUNTS)} lowest health factors of {fmt.count(len(ranked))} "
                "accounts at risk (all of them are in the CSV export). Liquidation price: the main collateral's "
                "price at which the account reaches HF 1, other prices unchanged."
            ),
            Table(headers=headers, rows=rows, numeric=frozenset({first, first + 1, first + 2, first + 4, first + 5})),
        ),
    )


def concentration(conc: Doc) -> Section:
    return Section(
        "concentration",
        "Concentration",
        (
            Table(
                headers=("Holders", "Share of debt", "Share of collateral"),
                rows=(
                    cells("Top 1 % of accounts", fmt.pct(conc["top_1pct_debt_share"]),
                           fmt.pct(conc["top_1pct_collateral_share"])),
                    cells("Top 10 accounts", fmt.pct(conc["top_10_debt_share"]),
                           fmt.pct(conc["top_10_collateral_share"])),
                ),
                numeric=frozenset({1, 2}),
            ),
        ),
    )
