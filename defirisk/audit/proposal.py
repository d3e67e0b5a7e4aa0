"""A parameter proposal for a what-if: ``--set ASSET.param=VALUE`` and ``--max-change param=VALUE``.

Syntax::

    WETH.liquidation_threshold=78%        an asset by its symbol (exact; the last "." ends the symbol)
    0xccf4….liquidation_threshold=0.65    by its asset address, when a symbol is ambiguous
    0xb323…/0xc02a….ltv=80%               by market key and asset address (a token in several markets)
    USDC.supply_cap=1.5e9                 caps in whole tokens, the debt ceiling in USD

Parameters (``PARAMETERS``) are canonical asset columns: ``ltv``, ``liquidation_threshold``,
``liquidation_bonus`` (fractions: ``78%`` or ``0.78``), ``supply_cap``, ``borrow_cap`` (whole tokens,
0 = none) and ``debt_ceiling`` (USD, 0 = none). A fraction above 1 without a ``%`` is refused rather
than guessed. After every change ``0 ≤ ltv ≤ liquidation_threshold ≤ 1`` must hold for the asset.

**Risk-steward bounds** — the largest change a risk steward may make without a governance vote, per
parameter: absolute for fractions (percentage points), relative for caps and the debt ceiling.
Defaults (``DEFAULT_MAX_CHANGE``, this tool's, in the spirit of Aave's risk stewards, whose contract
limits are configured per deployment): LTV and liquidation threshold ±5 pp, liquidation bonus
±2 pp, supply and borrow caps and debt ceiling ±100 %. ``--max-change liquidation_threshold=2%``
sets one (``none`` removes it). A relative bound cannot be met from an unknown or zero current
value (no cap yet): such a change is flagged.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from defirisk.errors import InvalidParameter
from defirisk.model import MarketState

RATIO_PARAMETERS = ("ltv", "liquidation_threshold", "liquidation_bonus")
AMOUNT_PARAMETERS = ("supply_cap", "borrow_cap", "debt_ceiling")
PARAMETERS = RATIO_PARAMETERS + AMOUNT_PARAMETERS
DEFAULT_MAX_CHANGE: dict[str, float] = {
    "ltv": 0.05,
    "liquidation_threshold": 0.05,
    "liquidation_bonus": 0.02,
    "supply_cap": 1.0,
    "borrow_cap": 1.0,
    "debt_ceiling": 1.0,
}
MAX_TEXT = 300
_NUMBER = re.compile(r"[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_MARKET = re.compile(r"0x[0-9a-fA-F]{40}([0-9a-fA-F]{24})?")


@dataclass(frozen=True)
class Assignment:
    """One parsed ``--set``: the asset as written, its row in ``state.assets`` and the new value."""

    text: str
    target: str
    row: int
    label: str
    parameter: str
    value: float


@dataclass(frozen=True)
class Proposal:
    """Assignments (in order; a later one on the same asset and parameter wins) and the bounds."""

    assignments: tuple[Assignment, ...]
    max_change: dict[str, float | None]


def _value(text: str, parameter: str, where: str) -> float:
    raw = text.strip()
    percent = raw.endswith("%")
    number = raw[:-1].strip() if percent else raw
    if number.startswith("-"):
        raise InvalidParameter(f"{where}: {parameter} cannot be negative, got {text!r}")
    if not _NUMBER.fullmatch(number):
        raise InvalidParameter(f"{where}: {text!r} is not a number (write 78%, 0.78 or 1.5e6)")
    value = float(number) / (100.0 if percent else 1.0)
    if not math.isfinite(value):
        raise InvalidParameter(f"{where}: {text!r} is not a finite number")
    if parameter in RATIO_PARAMETERS:
        upper_ok = value < 1 if parameter == "liquidation_bonus" else value <= 1
        if not upper_ok:
            hint = "" if percent else f" (did you mean {number}%?)"
            raise InvalidParameter(f"{where}: {parameter} must be a fraction below 1, got {text!r}{hint}")
    return value


def _rows(state: MarketState, target: str, where: str) -> list[int]:
    assets = state.assets.reset_index(drop=True)
    market, _, asset = target.rpartition("/")
    if market and not _MARKET.fullmatch(market):
        raise InvalidParameter(f"{where}: {market!r} is not a market key (0x and 40 or 64 hex digits)")
    by_address = bool(_ADDRESS.fullmatch(asset))
    column = assets["asset"].astype(str).str.lower() if by_address else assets["symbol"].astype(str)
    hits = column == (asset.lower() if by_address else asset)
    if market:
        hits &= assets["market"].astype(str).str.lower() == market.lower()
    rows = [int(i) for i in hits[hits].index]
    if not rows:
        known = ", ".join(sorted(set(assets["symbol"].astype(str))))[:300]
        raise InvalidParameter(f"{where}: no asset {asset!r} in this snapshot (assets: {known})")
    if len(rows) > 1:
        choices = ", ".join(
            f"{assets.at[i, 'market']}/{assets.at[i, 'asset']}" if by_address else str(assets.at[i, "asset"])
            for i in rows
        )
        how = "MARKET/ADDRESS" if by_address else "its address"
        raise InvalidParameter(f"{where}: {asset!r} names {len(rows)} assets ({choices}); write {how} instead")
    return rows


def parse_assignment(state: MarketState, text: str) -> Assignment:
    """One ``--set`` text against ``state`` (see the module docstring); ``InvalidParameter`` if wrong."""
    where = f"--set {text[:80]!r}"
    if len(text) > MAX_TEXT or "=" not in text:
        raise InvalidParameter(f"{where}: write ASSET.parameter=VALUE, e.g. WETH.liquidation_threshold=78%")
    left, _, value_text = text.rpartition("=")
    target, dot, parameter = left.strip().rpartition(".")
    if not dot or not target:
        raise InvalidParameter(f"{where}: write ASSET.parameter=VALUE, e.g. WETH.liquidation_threshold=78%")
    if parameter not in PARAMETERS:
        raise InvalidParameter(f"{where}: unknown parameter {parameter!r}; one of {', '.join(PARAMETERS)}")
    value = _value(value_text, parameter, where)
    (row,) = _rows(state, target, where)
    symbol = str(state.assets.reset_index(drop=True).at[row, "symbol"])
    return Assignment(text, target, row, symbol, parameter, value)


def parse_max_change(texts: Sequence[str]) -> dict[str, float | None]:
    """The bounds: ``DEFAULT_MAX_CHANGE`` with each ``param=VALUE`` (``5%``, ``0.05`` or ``none``) applied."""
    bounds: dict[str, float | None] = dict(DEFAULT_MAX_CHANGE)
    for text in texts:
        where = f"--max-change {text[:80]!r}"
        parameter, eq, value = text.partition("=")
        parameter = parameter.strip()
        if not eq or parameter not in PARAMETERS:
            raise InvalidParameter(f"{where}: write PARAMETER=VALUE with a parameter among {', '.join(PARAMETERS)}")
        if value.strip().lower() == "none":
            bounds[parameter] = None
            continue
        raw = value.strip()
        percent = raw.endswith("%")
        number = raw[:-1].strip() if percent else raw
        if not _NUMBER.fullmatch(number) or not math.isfinite(float(number)):
            raise InvalidParameter(f"{where}: {value!r} is not a non-negative number (or none)")
        bounds[parameter] = float(number) / (100.0 if percent else 1.0)
    return bounds


def parse_proposal(state: MarketState, sets: Sequence[str], max_changes: Sequence[str] = ()) -> Proposal | None:
    """``--set`` and ``--max-change`` options against ``state``; ``None`` without any ``--set``."""
    bounds = parse_max_change(max_changes)
    if not sets:
        return None
    return Proposal(tuple(parse_assignment(state, text) for text in sets), bounds)


def apply_proposal(state: MarketState, proposal: Proposal) -> MarketState:
    """A copy of ``state`` with the proposal's values; ``InvalidParameter`` when an asset would end
    with ``ltv > liquidation_threshold``. ``state`` itself is not changed."""
    assets = state.assets.reset_index(drop=True).copy()
    for a in proposal.assignments:
        assets.at[a.row, a.parameter] = a.value
    for row in sorted({a.row for a in proposal.assignments}):
        ltv, threshold = float(assets.at[row, "ltv"]), float(assets.at[row, "liquidation_threshold"])
        if ltv > threshold:
            raise InvalidParameter(
                f"the proposal leaves {assets.at[row, 'symbol']!r} ({assets.at[row, 'asset']}) with ltv {ltv:g} above "
                f"its liquidation threshold {threshold:g}; set both"
            )
    return replace(state, assets=assets)


def changes_table(state: MarketState, proposal: Proposal, labels: Sequence[str]) -> list[dict]:
    """The document's ``whatif.changes``: one row per (asset, parameter), current → proposed, bounds.

    ``labels`` are the display labels of ``state.assets`` rows.
    """
    assets = state.assets.reset_index(drop=True)
    final: dict[tuple[int, str], Assignment] = {}
    for a in proposal.assignments:
        final[(a.row, a.parameter)] = a
    rows = []
    for (row, parameter), a in final.items():
        current = float(assets.at[row, parameter]) if pd.notna(assets.at[row, parameter]) else None
        bound = proposal.max_change.get(parameter)
        rows.append(
            {
                "asset": labels[row],
                "parameter": parameter,
                "current": current,
                "proposed": a.value,
                "max_change": bound,
                "within_bounds": within_bounds(parameter, current, a.value, bound),
            }
        )
    return rows


def within_bounds(parameter: str, current: float | None, proposed: float, bound: float | None) -> bool:
    """Whether a risk steward may make this change (module docstring)."""
    if bound is None:
        return True
    if current is None or not math.isfinite(current):
        return False
    if parameter in RATIO_PARAMETERS:
        return abs(proposed - current) <= bound + 1e-12
    if current == 0:
        return proposed == 0
    return abs(proposed - current) / current <= bound + 1e-12
