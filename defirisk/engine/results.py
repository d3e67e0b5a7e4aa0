"""Result objects of the engine's API: pandas frames for notebooks, ``to_dict()`` for JSON.

``to_dict()`` returns only plain Python types (dict, list, str, int, float, bool, None), so
``json.dumps(result.to_dict())`` always works: NaN and ±inf become ``None`` (an HF of ``None`` in a
row with debt cannot occur; ``hf_high`` of the ">2" bucket is ``None`` = unbounded).
Symbols and names are copied verbatim from the chain (untrusted): renderers escape them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


def plain(value: Any) -> Any:
    """A JSON-safe plain Python value (numpy scalars unwrapped, non-finite floats → None)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if value is pd.NA or value is pd.NaT:
        return None
    return str(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as a list of plain row dicts."""
    return [plain(dict(zip(frame.columns, row, strict=True))) for row in frame.itertuples(index=False)]


@dataclass(frozen=True)
class StressResult:
    """What ``stress`` found; every money column is USD.

    * ``meta`` — the snapshot (deployment, block, time, family, units, feeds, base currency) and its
      totals at snapshot prices;
    * ``summary`` — one row per scenario: liquidatable units, debt and collateral (all, and newly
      liquidatable = HF ≥ 1 before), totals at scenario prices; for paths at the **worst step** (the
      most liquidatable debt, earliest on ties), named by ``worst_step`` / ``worst_time``;
    * ``distribution`` — HF buckets (``views.hf_distribution``) for ``"snapshot"`` and each scenario;
    * ``at_risk`` — per scenario the largest liquidatable units (``views.at_risk``), with ``rank``;
    * ``path`` — per path scenario and step, the liquidatable units, debt and collateral;
    * ``unmapped`` — per scenario the held feeds it could not price (held at snapshot price), with
      their collateral and debt;
    * ``concentration`` — ``views.concentration`` at snapshot prices.
    """

    meta: dict[str, Any]
    summary: pd.DataFrame
    distribution: pd.DataFrame
    at_risk: pd.DataFrame
    path: pd.DataFrame
    unmapped: pd.DataFrame
    concentration: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain, JSON-serialisable types (frames as lists of row dicts)."""
        return {
            "meta": plain(self.meta),
            "summary": records(self.summary),
            "distribution": records(self.distribution),
            "at_risk": records(self.at_risk),
            "path": records(self.path),
            "unmapped": records(self.unmapped),
            "concentration": records(self.concentration),
        }


@dataclass(frozen=True)
class CurveResult:
    """Liquidation curves (``curves.CURVE_COLUMNS``), plus what is liquidatable before any move."""

    meta: dict[str, Any]
    curves: pd.DataFrame
    already: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable types."""
        return {
            "meta": plain(self.meta),
            "already_liquidatable": plain(self.already),
            "curves": records(self.curves),
        }
