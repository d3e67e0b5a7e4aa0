"""Liquidity curves: what selling seized collateral costs, and how far the sale moves the price.

A curve gives, for a sale of value ``v`` (USD at the pre-trade price) at depth factor ``D`` (1 = the
curve as configured; cascades lower it and let it recover):

* ``cost(v)`` — USD lost to price impact and fees, ``v · impact(v) + v · fee``;
* ``marginal(v)`` — ``d cost / d v``, the shortfall of the last dollar sold;
* ``impact_after(v)`` — the market price's fractional fall after the sale (marginal, without the fee);
* ``size_at_marginal(m)`` — the sale size at which ``marginal`` reaches ``m`` (the optimal sale of a
  liquidator whose bonus per dollar sold is ``m``).

Depth scales sizes: ``cost_D(v) = D · cost_1(v / D)``.

Two forms:

* **constant product** with ``depth_usd = R`` (value of the asset side of an ``x · y = k`` pool)::

      impact(v) = v / (R + v)          cost(v) = v² / (R + v) + fee · v
      marginal  = 1 − R² / (R + v)² + fee           impact_after = 1 − R² / (R + v)²

* **depth table**: average price impact ``s_i`` at sale sizes ``v_i`` (USD), linear between knots, from
  ``(0, 0)`` to the first knot and extended with the last segment's slope beyond the last one (capped
  at 1); ``impact_after`` is the marginal of ``v · s(v)``.

A sale also thins the market: after it the depth factor becomes ``D · sqrt(1 − impact_after)``, which
is exact for a constant-product pool (``R' = R / (1 + v / R)``) and an assumption for tables.

Files (TOML, loaded by ``load_liquidity``)::

    [meta]
    source = "where the numbers come from"
    date = "2025-01-31"

    [[curve]]
    asset = "0xc02a..."            # lower-case address (preferred)
    symbol = "WETH"                # matched exactly when no address matches
    kind = "constant_product"      # or "depth_table"
    depth_usd = 2.0e9              # constant_product
    sizes_usd = [1e6, 1e7]         # depth_table
    price_impacts = [0.001, 0.01]  # depth_table (fractions)
    fee_bps = 5
    source = "..."
    date = "..."
    assumption = true              # the number is a judgement, not a measurement

    [default]                      # for every asset no curve names; same keys as a curve
    kind = "constant_product"
    depth_usd = 5.0e6
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from defirisk.errors import DataError, InvalidParameter
from defirisk.model import FloatArray
from defirisk.paths import data_dir

KINDS = ("constant_product", "depth_table")


@dataclass(frozen=True)
class Curve:
    """One asset's liquidity curve (see the module docstring); sizes in USD, impacts as fractions."""

    kind: str
    depth_usd: float = 0.0
    sizes_usd: tuple[float, ...] = ()
    price_impacts: tuple[float, ...] = ()
    fee_bps: float = 0.0
    asset: str = ""
    symbol: str = ""
    source: str = ""
    date: str = ""
    assumption: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"liquidity curve kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if not 0 <= self.fee_bps < 10_000:
            raise DataError(f"fee_bps {self.fee_bps} outside [0, 10000)")
        if self.kind == "constant_product" and not self.depth_usd > 0:
            raise DataError("a constant_product curve needs depth_usd > 0")
        if self.kind == "depth_table":
            sizes = np.asarray(self.sizes_usd, dtype=np.float64)
            impacts = np.asarray(self.price_impacts, dtype=np.float64)
            if len(sizes) == 0 or len(sizes) != len(impacts):
                raise DataError("a depth_table needs sizes_usd and price_impacts of one non-zero length")
            if np.any(np.diff(sizes) <= 0) or sizes[0] <= 0:
                raise DataError("depth_table sizes_usd must be positive and strictly increasing")
            if np.any(np.diff(impacts) < 0) or impacts[0] < 0 or impacts[-1] >= 1:
                raise DataError("depth_table price_impacts must be non-decreasing, in [0, 1)")

    @property
    def fee(self) -> float:
        return self.fee_bps / 10_000

    def _table(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """Knots with (0, 0) prepended, and each segment's slope (the last one extends)."""
        sizes = np.concatenate([[0.0], np.asarray(self.sizes_usd, dtype=np.float64)])
        impacts = np.concatenate([[0.0], np.asarray(self.price_impacts, dtype=np.float64)])
        return sizes, impacts, np.diff(impacts) / np.diff(sizes)

    def _segments(self, v: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        sizes, impacts, slopes = self._table()
        i = np.clip(np.searchsorted(sizes, v, side="right") - 1, 0, len(slopes) - 1)
        return sizes[i], impacts[i], slopes[i]

    def impact(self, v: FloatArray) -> FloatArray:
        """Average price impact of selling ``v`` USD at depth 1 (fraction, fee excluded)."""
        v = np.maximum(np.asarray(v, dtype=np.float64), 0.0)
        if self.kind == "constant_product":
            return v / (self.depth_usd + v)
        x0, s0, k = self._segments(v)
        return np.minimum(s0 + k * (v - x0), 1.0)

    def impact_after(self, v: FloatArray) -> FloatArray:
        """Fractional fall of the market price after selling ``v`` USD at depth 1."""
        v = np.maximum(np.asarray(v, dtype=np.float64), 0.0)
        if self.kind == "constant_product":
            return 1.0 - (self.depth_usd / (self.depth_usd + v)) ** 2
        x0, s0, k = self._segments(v)
        return np.minimum(s0 + k * (2.0 * v - x0), 1.0)

    def size_at_impact_after(self, m: FloatArray) -> FloatArray:
        """Smallest ``v`` with ``impact_after(v) ≥ m`` at depth 1 (``inf`` when never reached)."""
        m = np.asarray(m, dtype=np.float64)
        if self.kind == "constant_product":
            with np.errstate(divide="ignore", invalid="ignore"):
                v = self.depth_usd * (1.0 / np.sqrt(1.0 - m) - 1.0)
            return np.where(m >= 1.0, np.inf, np.maximum(v, 0.0))
        sizes, impacts, slopes = self._table()
        # Marginal at each knot, from the right; the running maximum makes the inverse well defined
        # when a table's marginal dips at a knot.
        left = impacts[:-1] + slopes * sizes[:-1]
        envelope = np.maximum.accumulate(left)
        i = np.clip(np.searchsorted(envelope, m, side="right") - 1, 0, len(slopes) - 1)
        x0, s0, k = sizes[i], impacts[i], slopes[i]
        with np.errstate(divide="ignore", invalid="ignore"):
            v = np.where(k > 0, (m - s0 + k * x0) / (2.0 * k), np.where(m <= s0, x0, np.inf))
        # Where the marginal jumps up at the next knot, that knot is the first size reaching m.
        end = np.concatenate([sizes[1:-1], [np.inf]])[i]
        return np.clip(v, 0.0, end)


@dataclass
class LiquidityBook:
    """Curves for a set of asset groups, vectorised over mixed groups.

    ``curves[g]`` is group ``g``'s curve. Methods take ``group`` (int array), sizes in USD and the
    depth factor ``depth`` (same shape) and return arrays of that shape. Constant-product groups are
    computed together from per-group arrays; depth tables one group at a time.
    """

    curves: list[Curve]
    _cp: np.ndarray = field(init=False, repr=False)
    _depth: FloatArray = field(init=False, repr=False)
    _fee: FloatArray = field(init=False, repr=False)
    _tables: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        cp = [c.kind == "constant_product" for c in self.curves]
        # One spare entry so that a sentinel group (len(curves)) indexes safely; it is never used.
        self._cp = np.array([*cp, True])
        self._depth = np.array([c.depth_usd if k else 1.0 for c, k in zip(self.curves, cp, strict=True)] + [1.0])
        self._fee = np.array([c.fee for c in self.curves] + [0.0])
        self._tables = [g for g, k in enumerate(cp) if not k]

    def _apply(self, group: np.ndarray, cp_fn: Any, table_fn: Any, *arrays: FloatArray) -> FloatArray:
        group = np.asarray(group)
        arrays = tuple(np.broadcast_to(np.asarray(a, dtype=np.float64), group.shape) for a in arrays)
        out = np.zeros(group.shape, dtype=np.float64)
        cp = self._cp[group]
        if cp.any():
            g = group[cp]
            out[cp] = cp_fn(self._depth[g], self._fee[g], *(a[cp] for a in arrays))
        for g in self._tables:
            mask = group == g
            if mask.any():
                out[mask] = table_fn(self.curves[g], *(a[mask] for a in arrays))
        return out

    def cost(self, group: np.ndarray, v: FloatArray, depth: FloatArray) -> FloatArray:
        """USD lost selling ``v`` USD: ``v · (impact(v / D) + fee)``."""
        return self._apply(
            group,
            lambda r, fee, x, d: x * (x / (r * d + x) + fee),
            lambda c, x, d: x * (c.impact(x / d) + c.fee),
            v,
            depth,
        )

    def impact_after(self, group: np.ndarray, v: FloatArray, depth: FloatArray) -> FloatArray:
        """Market price's fractional fall after selling ``v`` USD at depth ``depth``."""
        return self._apply(
            group,
            lambda r, fee, x, d: 1.0 - (r * d / (r * d + x)) ** 2,
            lambda c, x, d: c.impact_after(x / d),
            v,
            depth,
        )

    def size_at_marginal(self, group: np.ndarray, m: FloatArray, depth: FloatArray) -> FloatArray:
        """Sale size (USD) at which ``d cost / d v`` reaches ``m`` (fee included)."""

        def cp(r: FloatArray, fee: FloatArray, x: FloatArray, d: FloatArray) -> FloatArray:
            with np.errstate(divide="ignore", invalid="ignore"):
                v = r * d * (1.0 / np.sqrt(1.0 - (x - fee)) - 1.0)
            return np.where(x - fee >= 1.0, np.inf, np.maximum(v, 0.0))

        return self._apply(group, cp, lambda c, x, d: d * c.size_at_impact_after(x - c.fee), m, depth)


@dataclass
class Liquidity:
    """A loaded liquidity file: per-asset curves and the default for the rest."""

    curves: list[Curve]
    default: Curve
    source: str = ""
    date: str = ""
    path: str = ""
    by_address: dict[str, Curve] = field(init=False)
    by_symbol: dict[str, Curve] = field(init=False)

    def __post_init__(self) -> None:
        self.by_address = {c.asset: c for c in self.curves if c.asset}
        self.by_symbol = {c.symbol: c for c in self.curves if c.symbol and not c.asset}

    def curve_for(self, address: str, symbol: str) -> Curve:
        """The curve of an asset: by address, else by exact symbol (curves without an address), else default."""
        return self.by_address.get(address.lower()) or self.by_symbol.get(symbol) or self.default

    def book(self, addresses: Sequence[str], symbols: Sequence[str]) -> LiquidityBook:
        """A ``LiquidityBook`` whose group ``g`` is the asset ``addresses[g]``."""
        return LiquidityBook([self.curve_for(a, s) for a, s in zip(addresses, symbols, strict=True)])

    def to_dict(self) -> dict[str, Any]:
        """Provenance for reports: the file, its source and date, and which curves are assumptions."""
        return {
            "path": self.path,
            "source": self.source,
            "date": self.date,
            "curves": [
                {"asset": c.asset, "symbol": c.symbol, "kind": c.kind, "assumption": c.assumption, "source": c.source}
                for c in self.curves
            ],
            "default": {"kind": self.default.kind, "depth_usd": self.default.depth_usd, "assumption": self.default.assumption},
        }


def _curve(raw: Any, where: str) -> Curve:
    if not isinstance(raw, dict):
        raise DataError(f"{where}: must be a table")
    known = {f for f in Curve.__dataclass_fields__}
    unknown = set(raw) - known
    if unknown:
        raise DataError(f"{where}: unknown keys {sorted(unknown)}")
    values = dict(raw)
    wrong = [key for key in ("kind", "asset", "symbol", "source", "date", "note")
             if key in values and not isinstance(values[key], str)]
    if wrong:
        raise DataError(f"{where}: {', '.join(wrong)} must be text")
    for key in ("sizes_usd", "price_impacts"):
        if key in values:
            try:
                if not isinstance(values[key], list):
                    raise TypeError
                values[key] = tuple(float(x) for x in values[key])
            except (TypeError, ValueError):
                raise DataError(f"{where}: {key} must be a list of numbers") from None
    if "asset" in values:
        values["asset"] = str(values["asset"]).lower()
    try:
        return Curve(**values)
    except TypeError as exc:
        raise DataError(f"{where}: {exc}") from None


def load_liquidity(path: str | Path) -> Liquidity:
    """Read a liquidity TOML file (format in the module docstring)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidParameter(f"liquidity file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameter(f"cannot read the liquidity file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameter(f"liquidity file {path} is not valid TOML: {exc}") from None
    if "default" not in raw:
        raise DataError(f"{path}: a [default] curve is required")
    meta = raw.get("meta", {})
    listed = raw.get("curve", [])
    if not isinstance(meta, dict) or not isinstance(listed, list):
        raise DataError(f"{path}: [meta] must be a table and the curves [[curve]] tables")
    curves = [_curve(c, f"{path} curve {i}") for i, c in enumerate(listed)]
    return Liquidity(
        curves=curves,
        default=_curve(raw["default"], f"{path} [default]"),
        source=str(meta.get("source", "")),
        date=str(meta.get("date", "")),
        path=str(path),
    )


def default_liquidity() -> Liquidity:
    """The bundled curves, ``data/liquidity/default.toml`` (see its README for what is assumed)."""
    return load_liquidity(data_dir() / "liquidity" / "default.toml")
