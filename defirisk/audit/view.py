"""An audit document as tables for the terminal: ``(title, headers, rows)`` of plain values.

Nothing here prints; the command hands each table to ``defirisk.output.print_table``, which makes every
cell inert (``terminal_safe``). Amounts show in USD, or in the base currency when the document says the
USD rate was unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from defirisk.audit.method import USD_RATE_CHECK
from defirisk.audit.sections import AT_RISK_HF
from defirisk.report import format as fmt

Doc = dict[str, Any]
Table = tuple[str, list[str], list[list[Any]]]
LISTED_ASSETS = 12
LISTED_ACCOUNTS = 10
CURVE_MOVES = (-0.5, -0.3, -0.2, -0.1, 0.1, 0.2)


def money_formatter(document: Doc) -> Any:
    """``fmt.usd``, or a formatter in the base currency when the USD rate is unknown."""
    unknown = any(c["name"] == USD_RATE_CHECK and not c["ok"] for c in document["checks"])
    if not unknown:
        return fmt.usd
    unit = document["snapshot"]["base_currency"]

    def base(value: float | None) -> str:
        return fmt.MISSING if value is None else f"{fmt.compact(value)} {unit}"

    return base


def _where(snap: Doc) -> str:
    if snap["offline"] or snap["block_number"] is None:
        return "offline snapshot without a block (its date is inferred; see the note)"
    return f"block {fmt.block(snap['block_number'])} ({fmt.timestamp(snap['timestamp'])}), chain {snap['chain_id']}"


def _curve_at(points: Sequence[Doc], change: float, money: Any) -> str:
    hits = [p for p in points if abs(p["change"] - change) < 1e-9]
    return money(hits[0]["liquidatable_debt_usd"]) if hits else fmt.MISSING


def _moves(changes: dict[str, float]) -> str:
    ranked = sorted(changes.items(), key=lambda kv: -abs(kv[1]))[:2]
    return ", ".join(f"{symbol} {fmt.signed_pct(change)}" for symbol, change in ranked) or "none"


def audit_tables(document: Doc, only: Sequence[str] | None = None) -> list[Table]:
    """The tables of the terminal audit in reading order; ``only`` keeps those whose title starts with
    one of its strings."""
    tables = _all_tables(document)
    if only is None:
        return tables
    return [t for t in tables if t[0].startswith(tuple(only))]


def _all_tables(document: Doc) -> list[Table]:
    money = money_formatter(document)
    snap, market, today = document["snapshot"], document["market"], document["bad_debt"]["today"]
    tables: list[Table] = [
        (
            "Snapshot",
            ["", ""],
            [
                ["deployment", snap["deployment"]],
                ["label", snap["label"]],
                ["family", f"{snap['family']} (rules {snap['rules_version']})"],
                ["where", _where(snap)],
                ["snapshot id", fmt.count(snap["snapshot_id"])],
                ["amounts in", "USD" if money is fmt.usd else f"{snap['base_currency']} (no USD rate)"],
            ],
        ),
        (
            "Market today",
            ["", ""],
            [
                ["accounts", fmt.count(market["accounts"])],
                ["borrowers", fmt.count(market["borrowers"])],
                ["collateral that counts", money(market["collateral_usd"])],
                ["debt", money(market["debt_usd"])],
                ["liquidatable debt", money(today["liquidatable_debt_usd"])],
                ["bad debt", money(today["bad_debt_usd"])],
                ["unliquidatable debt", money(today["unliquidatable_debt_usd"])],
            ],
        ),
        (
            f"Largest assets (of {len(market['assets'])})",
            ["asset", "price", "supplied", "borrowed", "liq. threshold", "bonus"],
            [
                [a["symbol"], money(a["price_usd"]), money(a["supplied_usd"]), money(a["borrowed_usd"]),
                 fmt.pct(a["liquidation_threshold"]), fmt.pct(a["liquidation_bonus"], 2)]
                for a in market["assets"][:LISTED_ASSETS]
            ],
        ),
        (
            "Borrowers by health factor",
            ["health factor", "accounts", "debt", "collateral"],
            [[b["bucket"], fmt.count(b["count"]), money(b["debt_usd"]), money(b["collateral_usd"])]
             for b in document["hf_distribution"]["buckets"]],
        ),
    ]
    if document["liquidation_curves"]:
        tables.append(
            (
                "Liquidatable debt if one price (or group) moves",
                ["asset or group", *(fmt.signed_pct(c, 0) for c in CURVE_MOVES)],
                [[c["name"], *(_curve_at(c["points"], m, money) for m in CURVE_MOVES)]
                 for c in document["liquidation_curves"]],
            )
        )
    tables.append(
        (
            "Stress set (liquidatable at the worst point; liquidated, cost over the scenario; bad debt at its end)",
            ["scenario", "kind", "largest moves", "liquidatable", "liquidated", "bad debt", "unliquidatable",
             "cost", "accounts"],
            [
                [s["name"], s["kind"], _moves(s["worst_change"]), money(s["liquidatable_debt_usd"]),
                 money(s["liquidated_debt_usd"]), money(s["bad_debt_usd"]), money(s["unliquidatable_debt_usd"]),
                 money(s["liquidation_cost_usd"]), fmt.count(s["accounts_liquidatable"])]
                for s in document["stress"]
            ],
        )
    )
    risk = document["risk_metrics"]
    if risk is not None:
        tables.append(
            (
                f"Monte Carlo: {fmt.count(risk['paths'])} paths, {risk['horizon']} in {risk['step']} steps, "
                f"{risk['method']}, seed {risk['seed']}",
                ["metric", "measure", "level", "value", "interval"],
                [
                    [m["name"], m["measure"], fmt.pct(m["percentile"], 0), money(m["value_usd"]),
                     f"{money(m['ci_low_usd'])} – {money(m['ci_high_usd'])}" if m["ci_level"] else "n/a"]
                    for m in risk["metrics"]
                ],
            )
        )
    tables.append(
        (
            f"Largest accounts near liquidation (HF < {AT_RISK_HF:g}; {len(document['at_risk'])} listed in the JSON)",
            ["account", "HF", "debt", "collateral", "main collateral", "liq. price", "move"],
            [
                [a["account"], fmt.health_factor(a["health_factor"]), money(a["debt_usd"]), money(a["collateral_usd"]),
                 a["main_collateral"] or "-", money(a["liquidation_price_usd"]), fmt.signed_pct(a["liquidation_change"])]
                for a in document["at_risk"][:LISTED_ACCOUNTS]
            ],
        )
    )
    conc = document["concentration"]
    tables.append(
        (
            "Concentration",
            ["holders", "share of debt", "share of collateral"],
            [["top 1 %", fmt.pct(conc["top_1pct_debt_share"]), fmt.pct(conc["top_1pct_collateral_share"])],
             ["top 10", fmt.pct(conc["top_10_debt_share"]), fmt.pct(conc["top_10_collateral_share"])]],
        )
    )
    tables.extend(_whatif_tables(document["whatif"], money))
    tables.append(("Checks", ["check", "result", "ok"],
                   [[c["name"], c["result"], "yes" if c["ok"] else "NO"] for c in document["checks"]]))
    if document["gates"]:
        tables.append(("Gates (--fail-on)", ["gate", "value", "status"],
                       [[g["expr"], fmt.MISSING if g["value"] is None else f"{g['value']:,.6g}",
                         "FAILED" if g["failed"] else "passed"] for g in document["gates"]]))
    return tables


def _whatif_tables(whatif: Doc | None, money: Any) -> list[Table]:
    if whatif is None:
        return []
    changes = [
        [c["asset"], c["parameter"], _param(c["parameter"], c["current"]), _param(c["parameter"], c["proposed"]),
         "n/a" if c["max_change"] is None else f"{c['max_change']:g}", "yes" if c["within_bounds"] else "NO: outside"]
        for c in whatif["changes"]
    ]
    before, after = whatif["before"], whatif["after"]
    metrics = [
        ["liquidatable debt", money(before["liquidatable_debt_usd"]), money(after["liquidatable_debt_usd"])],
        ["bad debt", money(before["bad_debt_usd"]), money(after["bad_debt_usd"])],
        ["accounts liquidatable", fmt.count(before["accounts_liquidatable"]), fmt.count(after["accounts_liquidatable"])],
        ["made liquidatable by the change", "", fmt.count(len(whatif["newly_liquidatable"]))],
    ]
    return [
        ("Proposal: current → proposed", ["asset", "parameter", "current", "proposed", "steward max", "within bounds"],
         changes),
        ("Proposal: today before → after", ["metric", "before", "after"], metrics),
    ]


def _param(parameter: str, value: float | None) -> str:
    if parameter in ("ltv", "liquidation_threshold", "liquidation_bonus"):
        return fmt.pct(value, 2)
    return fmt.MISSING if value is None else f"{value:,.6g}"

