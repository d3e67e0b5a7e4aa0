"""Sections on how far to trust the figures: checks and gates, and the method (snapshot, block,
adapter and rules versions, sources, scenario definitions, seeds)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from defirisk.report import format as fmt
from defirisk.report.blocks import Bullets, Cell, Paragraph, Section, Table
from defirisk.report.escape import LONG, Inline, Untrusted, untrusted
from defirisk.report.phrases import cells, offline, word

Doc = dict[str, Any]


def checks(checks: Sequence[Doc], gates: Sequence[Doc]) -> Section:
    blocks: list[Any] = [
        Table(
            headers=("Check", "Result", "Status"),
            rows=tuple(
                (Cell(untrusted(c["name"])), Cell(untrusted(c["result"], LONG)),
                 Cell("✓ pass" if c["ok"] else "✗ FAIL", flag=not c["ok"]))
                for c in checks
            ),
        )
        if checks
        else Paragraph("No checks were run.")
    ]
    if gates:
        blocks.append(
            Table(
                headers=("Gate (--fail-on)", "Value", "Status"),
                rows=tuple(
                    (Cell(untrusted(g["expr"])), Cell(fmt.MISSING if g["value"] is None else f"{g['value']:,.6g}"),
                     Cell("✗ FAILED" if g["failed"] else "✓ passed", flag=g["failed"]))
                    for g in gates
                ),
                numeric=frozenset({1}),
            )
        )
    return Section("checks", "Checks", tuple(blocks))


def method(document: Doc) -> Section:
    snap = document["snapshot"]
    method = document["method"]
    risk = document["risk_metrics"]
    if offline(snap):
        block_text: Inline = f"offline snapshot without a block, dated {fmt.timestamp(snap['timestamp'])}"
    else:
        block_text = (
            f"{fmt.block(snap['block_number'])}, hash ",
            untrusted(snap["block_hash"] or fmt.MISSING, 66),
            f", {fmt.timestamp(snap['timestamp'])}",
        )
    items: list[tuple[Inline, Inline]] = [
        ("Snapshot", (untrusted(snap["deployment"]), f" (snapshot {fmt.count(snap['snapshot_id'])})")),
        ("Chain", f"chain id {fmt.count(snap['chain_id'])}"),
        ("Block", block_text),
        (
            "Adapter",
            (untrusted(snap["family"]), " adapter ", untrusted(snap["adapter_version"]), ", liquidation rules ",
             untrusted(snap["rules_version"] or fmt.MISSING)),
        ),
        ("Oracle", (untrusted(snap["price_source"], LONG), " (base currency ", untrusted(snap["base_currency"]), ")")),
    ]
    items.extend((untrusted(key.capitalize()), untrusted(value, LONG)) for key, value in method["sources"].items())
    seeds: list[str | Untrusted] = []
    for key, value in method["seeds"].items():
        seeds.extend(((", " if seeds else ""), untrusted(key), f" = {value}"))
    if seeds:
        items.append(("Seeds", tuple(seeds)))
    if risk is not None:
        items.append(
            (
                "Monte Carlo",
                (f"{fmt.count(risk['paths'])} paths, ", word(risk["horizon"]), " horizon in ", word(risk["step"]),
                 " steps, ", word(risk["method"]), f", seed {risk['seed']}"),
            )
        )
    if snap["note"]:
        items.append(("Note", untrusted(snap["note"], LONG)))
    blocks: list[Any] = [Bullets(tuple(items))]
    if method["scenarios"]:
        blocks.append(
            Table(
                headers=("Scenario", "Definition"),
                rows=tuple(cells(untrusted(s["name"]), untrusted(s["definition"], LONG)) for s in method["scenarios"]),
                caption="Scenario definitions",
            )
        )
    if method["notes"]:
        blocks.append(Bullets(tuple(("", untrusted(note, LONG)) for note in method["notes"])))
    return Section("method", "Method", tuple(blocks))

