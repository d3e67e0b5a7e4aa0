"""Small pieces of report text built from document values: lists of symbols, price moves, cells."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from defirisk.report import format as fmt
from defirisk.report.blocks import Cell
from defirisk.report.escape import SHORT, Inline, Untrusted, untrusted

Doc = dict[str, Any]

#: Accounts listed in a report; the CSV/Parquet export has all of them.
LISTED_ACCOUNTS = 20


def join(values: Iterable[str], limit: int = SHORT) -> Inline:
    """Document strings separated by commas (each cut to ``limit``), or ``none``."""
    parts: list[str | Untrusted] = []
    for value in values:
        if parts:
            parts.append(", ")
        parts.append(untrusted(value, limit))
    return tuple(parts) if parts else "none"


def moves(changes: dict[str, float], shown: int = 2, decimals: int = 1) -> Inline:
    """The largest price moves of a scenario, biggest first: ``WETH -43.0 %, WBTC -38.0 %``."""
    ranked = sorted(changes.items(), key=lambda item: -abs(item[1]))
    parts: list[str | Untrusted] = []
    for symbol, change in ranked[:shown]:
        if parts:
            parts.append(", ")
        parts.extend((untrusted(symbol, 24), f" {fmt.signed_pct(change, decimals)}"))
    if len(ranked) > shown:
        parts.append(f" (+{len(ranked) - shown} more)")
    return tuple(parts) if parts else "none"


def cells(*values: Inline) -> tuple[Cell, ...]:
    """A table row of unflagged cells."""
    return tuple(Cell(v) for v in values)


def word(text: str) -> Untrusted:
    """A short word from the document (horizon ``24h``, method ``bootstrap``)."""
    return untrusted(text, 24)


def buckets_between(buckets: Sequence[Doc], lower: float, upper: float) -> tuple[int, float]:
    """Accounts and debt (USD) in the buckets that lie inside [lower, upper] by their bounds."""
    inside = [
        b for b in buckets if b["lower"] >= lower and b["upper"] is not None and b["upper"] <= upper
    ]
    return sum(b["count"] for b in inside), sum(b["debt_usd"] or 0.0 for b in inside)


def offline(snap: Doc) -> bool:
    """An imported snapshot without a block (the bundled demo data)."""
    return bool(snap["offline"]) or snap["block_number"] is None
