"""``--fail-on`` gates: ``METRIC OP NUMBER`` read by a tiny parser (no ``eval``), checked on a document.

Grammar (whitespace allowed around the parts, at most ``MAX_TEXT`` characters)::

    gate   := metric op number
    metric := a name of ``METRICS`` (lower-case letters, digits, "_")
    op     := ">" | ">=" | "<" | "<=" | "==" | "!="
    number := decimal with optional exponent: 1e6, 2.5E+6, .5, 1000 (finite; a sign is allowed)

A gate *holds* (fails the run) when ``value OP number`` is true. A metric the audit could not compute
(``null`` in the document) holds as well: a gate fails closed. ``METRICS`` names flat values of the
audit document; ``metric_value`` reads them.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from defirisk.errors import InvalidParameter

Doc = dict[str, Any]
MAX_TEXT = 200

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
}
_GATE = re.compile(
    r"\s*(?P<metric>[a-z][a-z0-9_]*)\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    r"(?P<number>[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)\s*"
)


def _bucket_sum(doc: Doc, upper: float, key: str) -> float | None:
    values = [b[key] for b in doc["hf_distribution"]["buckets"] if b["upper"] is not None and b["upper"] <= upper]
    return None if any(v is None for v in values) else sum(values)


def _worst(doc: Doc, key: str) -> float | None:
    values = [s[key] for s in doc["stress"]]
    if not values:
        return 0.0
    return None if any(v is None for v in values) else max(values)


def _risk(doc: Doc, name: str, measure: str, percentile: float) -> float | None:
    risk = doc["risk_metrics"]
    if risk is None:
        return None
    for m in risk["metrics"]:
        if m["name"] == name and m["measure"] == measure and abs(m["percentile"] - percentile) < 1e-9:
            return m["value_usd"]
    return None


def _whatif(doc: Doc, read: Callable[[Doc], Any]) -> Any:
    return None if doc["whatif"] is None else read(doc["whatif"])


#: Every metric a gate may name: its meaning, whether it needs Monte Carlo or a proposal, and its reader.
METRICS: dict[str, tuple[str, str, Callable[[Doc], Any]]] = {
    "accounts": ("accounts (market, account) in the snapshot", "", lambda d: d["market"]["accounts"]),
    "borrowers": ("accounts with debt", "", lambda d: d["market"]["borrowers"]),
    "collateral_usd": ("collateral that counts, USD", "", lambda d: d["market"]["collateral_usd"]),
    "debt_usd": ("debt, USD", "", lambda d: d["market"]["debt_usd"]),
    "bad_debt_usd": ("bad debt today, USD", "", lambda d: d["bad_debt"]["today"]["bad_debt_usd"]),
    "unliquidatable_debt_usd": (
        "debt liquidatable today that no liquidation pays for, USD", "",
        lambda d: d["bad_debt"]["today"]["unliquidatable_debt_usd"],
    ),
    "liquidatable_debt_usd": (
        "debt liquidatable today, USD", "", lambda d: d["bad_debt"]["today"]["liquidatable_debt_usd"],
    ),
    "accounts_hf_below_1": ("borrowers with health factor < 1", "", lambda d: _bucket_sum(d, 1.0, "count")),
    "debt_hf_below_1_usd": ("their debt, USD", "", lambda d: _bucket_sum(d, 1.0, "debt_usd")),
    "accounts_hf_below_1_05": ("borrowers with health factor < 1.05", "", lambda d: _bucket_sum(d, 1.05, "count")),
    "debt_hf_below_1_05_usd": ("their debt, USD", "", lambda d: _bucket_sum(d, 1.05, "debt_usd")),
    "worst_stress_bad_debt_usd": (
        "largest bad debt over the stress set, USD", "", lambda d: _worst(d, "bad_debt_usd"),
    ),
    "worst_stress_liquidatable_debt_usd": (
        "largest liquidatable debt over the stress set, USD", "", lambda d: _worst(d, "liquidatable_debt_usd"),
    ),
    "worst_stress_liquidated_debt_usd": (
        "largest liquidated debt over the stress set, USD", "", lambda d: _worst(d, "liquidated_debt_usd"),
    ),
    "worst_stress_unliquidatable_debt_usd": (
        "largest unliquidatable debt over the stress set, USD", "", lambda d: _worst(d, "unliquidatable_debt_usd"),
    ),
    "var95_bad_debt_usd": ("95 % VaR of bad debt, USD", "mc", lambda d: _risk(d, "bad_debt", "VaR", 0.95)),
    "var99_bad_debt_usd": ("99 % VaR of bad debt, USD", "mc", lambda d: _risk(d, "bad_debt", "VaR", 0.99)),
    "es95_bad_debt_usd": ("95 % expected shortfall of bad debt, USD", "mc", lambda d: _risk(d, "bad_debt", "ES", 0.95)),
    "es99_bad_debt_usd": ("99 % expected shortfall of bad debt, USD", "mc", lambda d: _risk(d, "bad_debt", "ES", 0.99)),
    "lar95_usd": ("95 % liquidations at risk, USD", "mc", lambda d: _risk(d, "liquidations_at_risk", "VaR", 0.95)),
    "lar99_usd": ("99 % liquidations at risk, USD", "mc", lambda d: _risk(d, "liquidations_at_risk", "VaR", 0.99)),
    "top_1pct_debt_share": (
        "share of debt held by the top 1 % of borrowers", "", lambda d: d["concentration"]["top_1pct_debt_share"],
    ),
    "top_10_debt_share": (
        "share of debt held by the 10 largest borrowers", "", lambda d: d["concentration"]["top_10_debt_share"],
    ),
    "whatif_newly_liquidatable": (
        "accounts the proposal makes liquidatable", "whatif", lambda d: _whatif(d, lambda w: len(w["newly_liquidatable"])),
    ),
    "whatif_liquidatable_debt_usd": (
        "debt liquidatable under the proposal, USD", "whatif",
        lambda d: _whatif(d, lambda w: w["after"]["liquidatable_debt_usd"]),
    ),
    "whatif_outside_bounds": (
        "proposed changes outside risk-steward bounds", "whatif",
        lambda d: _whatif(d, lambda w: sum(not c["within_bounds"] for c in w["changes"])),
    ),
}


@dataclass(frozen=True)
class Gate:
    """A parsed gate: ``metric op threshold`` as written in ``text``."""

    text: str
    metric: str
    op: str
    threshold: float

    def holds(self, value: float | None) -> bool:
        """Whether the gate fails the run for ``value`` (a missing value always does)."""
        if value is None or not math.isfinite(value):
            return True
        return _OPERATORS[self.op](value, self.threshold)


def parse_gate(text: str) -> Gate:
    """Parse ``METRIC OP NUMBER`` (module docstring); ``InvalidParameter`` with the reason if malformed."""
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        raise InvalidParameter(f"--fail-on expressions are at most {MAX_TEXT} characters")
    match = _GATE.fullmatch(text)
    if match is None:
        shown = text[:60].encode("unicode_escape").decode("ascii")
        raise InvalidParameter(
            f"--fail-on {shown!r}: write METRIC OP NUMBER, e.g. bad_debt_usd>1e6 (OP one of > >= < <= == !=)"
        )
    metric = match.group("metric")
    if metric not in METRICS:
        raise InvalidParameter(f"--fail-on: unknown metric {metric!r}; known: {', '.join(METRICS)}")
    threshold = float(match.group("number"))
    if not math.isfinite(threshold):
        raise InvalidParameter(f"--fail-on {text!r}: the number must be finite")
    return Gate(text.strip(), metric, match.group("op"), threshold)


def parse_gates(texts: Sequence[str], *, monte_carlo: bool, whatif: bool) -> list[Gate]:
    """Every ``--fail-on`` option; a metric the run will not compute (Monte Carlo off, no proposal) is
    refused up front, before any work."""
    gates = [parse_gate(text) for text in texts]
    for gate in gates:
        needs = METRICS[gate.metric][1]
        if needs == "mc" and not monte_carlo:
            raise InvalidParameter(f"--fail-on {gate.metric}: needs the Monte Carlo simulation (--paths > 0)")
        if needs == "whatif" and not whatif:
            raise InvalidParameter(f"--fail-on {gate.metric}: needs a proposal (--set)")
    return gates


def metric_value(document: Doc, metric: str) -> float | None:
    """The value of ``metric`` in an audit document (``None`` when not computed)."""
    value = METRICS[metric][2](document)
    return None if value is None else float(value)


def evaluate_gates(document: Doc, gates: Sequence[Gate]) -> list[dict[str, Any]]:
    """The document's ``gates`` entries: each gate's expression, the metric's value, whether it held."""
    out = []
    for gate in gates:
        value = metric_value(document, gate.metric)
        out.append({"expr": gate.text, "value": value, "failed": gate.holds(value)})
    return out
