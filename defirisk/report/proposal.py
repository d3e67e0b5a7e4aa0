"""The proposal section: current → proposed parameters with risk-steward bounds, before/after
metrics, and the accounts the change itself makes liquidatable."""

from __future__ import annotations

from typing import Any

from defirisk.report import format as fmt
from defirisk.report.blocks import Cell, Paragraph, Section, Table
from defirisk.report.escape import Inline, untrusted
from defirisk.report.phrases import LISTED_ACCOUNTS, cells

Doc = dict[str, Any]

_RATIO_PARAMETERS = {
    "ltv": "LTV",
    "liquidation_threshold": "Liquidation threshold",
    "liquidation_bonus": "Liquidation bonus",
    "protocol_fee": "Protocol fee",
    "reserve_factor": "Reserve factor",
}
_CAP_PARAMETERS = {"supply_cap": "Supply cap", "borrow_cap": "Borrow cap"}
_USD_PARAMETERS = {"debt_ceiling": "Debt ceiling"}


def _parameter_name(parameter: str) -> Inline:
    known = _RATIO_PARAMETERS | _CAP_PARAMETERS | _USD_PARAMETERS
    return known.get(parameter) or untrusted(parameter)


def _parameter_value(parameter: str, value: float | None) -> str:
    if parameter in _RATIO_PARAMETERS:
        return fmt.pct(value, 2)
    if parameter in _CAP_PARAMETERS:
        return fmt.tokens(value)
    if parameter in _USD_PARAMETERS:
        return "none" if value == 0 else fmt.usd(value)
    return fmt.MISSING if value is None else f"{value:,.6g}"


def _parameter_change(change: Doc) -> tuple[str, str]:
    """The change and the steward bound: percentage points for fractions, relative for the rest."""
    parameter, current, proposed, bound = (
        change["parameter"], change["current"], change["proposed"], change["max_change"],
    )
    bound_text = "none" if bound is None else None
    if parameter in _RATIO_PARAMETERS:
        delta = None if current is None else fmt.pp(proposed - current)
        return delta or fmt.MISSING, bound_text or f"±{fmt.pp(bound).lstrip('+')}"
    relative = None if not current else (proposed - current) / current
    return fmt.signed_pct(relative), bound_text or f"±{fmt.pct(bound)}"


def proposal(whatif: Doc) -> Section:
    rows = []
    for change in whatif["changes"]:
        delta, bound = _parameter_change(change)
        ok = change["within_bounds"]
        rows.append(
            (
                Cell(untrusted(change["asset"])),
                Cell(_parameter_name(change["parameter"])),
                Cell(_parameter_value(change["parameter"], change["current"])),
                Cell(_parameter_value(change["parameter"], change["proposed"])),
                Cell(delta),
                Cell(bound),
                Cell("yes" if ok else "⚠ NO: outside risk-steward bounds", flag=not ok),
            )
        )
    outside = sum(not c["within_bounds"] for c in whatif["changes"])
    before, after = whatif["before"], whatif["after"]
    metrics = Table(
        headers=("Metric", "Current", "Proposed", "Change"),
        rows=tuple(
            cells(label, show(before[key]), show(after[key]), delta(_difference(after[key], before[key])))
            for label, key, show, delta in (
                ("Liquidatable debt", "liquidatable_debt_usd", fmt.usd, fmt.usd_delta),
                ("Bad debt", "bad_debt_usd", fmt.usd, fmt.usd_delta),
                ("Accounts liquidatable", "accounts_liquidatable", fmt.count, fmt.count_delta),
            )
        ),
        numeric=frozenset({1, 2, 3}),
        caption="Before and after",
    )
    newly = sorted(whatif["newly_liquidatable"], key=lambda r: -(r["debt_usd"] or 0.0))
    blocks: list[Any] = [
        Table(
            headers=("Asset", "Parameter", "Current", "Proposed", "Change", "Steward max", "Within bounds"),
            rows=tuple(rows),
            numeric=frozenset({2, 3, 4, 5}),
            caption="Current → proposed",
        ),
        Paragraph(
            f"⚠ {outside} of {len(rows)} changes exceed what a risk steward may apply and need a full governance vote."
            if outside
            else "Every change is within the bounds a risk steward may apply."
        ),
        metrics,
        Paragraph(
            f"{fmt.count(len(newly))} accounts ({fmt.usd(sum(r['debt_usd'] or 0.0 for r in newly))} of debt) "
            "are liquidatable only because of the proposed change"
            + (f"; the {min(len(newly), LISTED_ACCOUNTS)} largest:" if newly else ".")
        ),
    ]
    if newly:
        blocks.append(
            Table(
                headers=("Account", "HF now", "HF proposed", "Debt"),
                rows=tuple(
                    cells(
                        untrusted(r["account"]),
                        fmt.health_factor(r["health_factor_before"]),
                        fmt.health_factor(r["health_factor_after"]),
                        fmt.usd(r["debt_usd"]),
                    )
                    for r in newly[:LISTED_ACCOUNTS]
                ),
                numeric=frozenset({1, 2, 3}),
                caption="Accounts the change makes liquidatable",
            )
        )
    return Section("proposal", "Proposed parameter changes", tuple(blocks))


def _difference(after: float | None, before: float | None) -> Any:
    return None if after is None or before is None else after - before
