"""Health factors of N netting units under S price scenarios, vectorised and chunked.

A scenario is a vector of feed multipliers ``m`` (shape F) relative to the snapshot's prices; S of
them form a matrix ``M`` of shape (F, S). From ``Exposures`` (see ``defirisk.model``) the engine builds
three dense (N, F) matrices in the base currency at snapshot prices ``p_f``::

    WC[n, f] = Σ_{p ∈ n, feed(p) = f} collateral_p · p_f · liq_weight_p     (weighted collateral)
    C[n, f]  = Σ_{p ∈ n, feed(p) = f, liq_weight_p > 0} collateral_p · p_f  (collateral that counts)
    D[n, f]  = Σ_{p ∈ n, feed(p) = f} debt_p · p_f                           (debt)

and per scenario (one BLAS product each, shape (N, S))::

    W = WC @ M,   Cv = C @ M,   Dv = D @ M,   HF = W / Dv   (HF = inf where Dv = 0)

``C`` is the collateral the protocol counts (Aave's ``totalCollateralBase``): supplies with weight 0
(disabled, or liquidation threshold 0) are left out of it.

**Average-weight quantum.** Aave v3 floors an account's average liquidation threshold to whole basis
points before it multiplies (``avgLT = Σ value·LT // Σ value``), so its HF is not exactly ``W / Dv``
when the counted collateral mixes several thresholds. With a quantum ``q > 0`` (Aave: ``1e-4``) the
numerator of such "mixed" units becomes::

    W_q = Cv · q · ⌊W / (Cv · q) + 1e-9⌋            (0 where Cv = 0)

The ``1e-9`` (in quanta, ≈ 1e-13 relative) absorbs the float error of the ratio when the exact ratio is
a whole multiple of ``q``; units whose counted collateral has a single weight skip the floor (their
ratio is that weight exactly).

**Agreement with the contracts.** With the quantum applied the float HF matches Aave's integer
``getUserAccountData`` to ~1e-11 relative on positions above dust. What remains is the contracts'
own truncation of each position (``balance · price // 10**decimals``, under one base-currency unit per
position): relative ``(n_c + 1)/C + n_d/D`` for ``n_c`` collateral and ``n_d`` debt positions and totals
``C``, ``D`` in base units — below 1e-9 once each position is worth ≳ $1,000 at 8 decimals — plus
``|ΔL|/L`` where that truncation moves the floored average threshold ``L`` (one bps when the exact
average sits at a bps boundary; more only on dust accounts). The test suite checks exactly this
bound (``tests/engine/tolerance.py``).

**Chunking.** Products are taken over blocks of ``ROW_BLOCK`` units × ``SCENARIO_BLOCK`` scenarios,
so temporary memory is a few MB per worker thread whatever N and S; ``threshold_totals`` keeps a
cached copy of the matrices grouped by kind (``ExposureMatrix.row_groups``, N · (3F + 1) floats) and
its per-scenario reductions (shape (K, 2F + 1, S)). ``unit_values`` returns full (N, S) arrays:
callers with many scenarios iterate ``iter_unit_values``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from defirisk.engine import parallel
from defirisk.errors import InvalidScenario
from defirisk.model import Exposures, FloatArray, IntArray

BoolArray = npt.NDArray[np.bool_]

#: Units per block of the chunked products (1024 × 256 float64 = 2 MiB: blocks stay in L2 cache,
#: measured fastest among 512–4096 × 128–512 on the 2-core development machine).
ROW_BLOCK = 1024
#: Scenarios per block of the chunked products.
SCENARIO_BLOCK = 256
#: Slack, in quanta, of the average-weight floor (see the module docstring).
QUANTUM_SNAP = 1e-9


def weight_quantum_of(exposures: Exposures) -> float:
    """The family's average-weight quantum carried by ``exposures`` (0 = exact average).

    Read from the ``weight_quantum`` attribute that families set on their ``Exposures`` (Aave v3:
    ``1e-4``); exposures built without it are treated as exact.
    """
    return float(getattr(exposures, "weight_quantum", 0.0))


@dataclass(frozen=True)
class ExposureMatrix:
    """The dense per-unit, per-feed values the kernel multiplies (base currency, snapshot prices).

    Shapes: ``weighted_collateral``, ``collateral``, ``debt`` (N, F); ``mixed`` (N,) marks units whose
    counted collateral has more than one distinct liquidation weight (only they are floored by the
    quantum); ``price`` (F,) base currency per whole token; ``base_usd`` USD per base-currency unit.
    """

    weighted_collateral: FloatArray
    collateral: FloatArray
    debt: FloatArray
    mixed: BoolArray
    weight_quantum: float
    price: FloatArray
    base_usd: float

    @classmethod
    def from_exposures(cls, exposures: Exposures, weight_quantum: float | None = None) -> ExposureMatrix:
        """Aggregate positions into (N, F) matrices; ``weight_quantum`` overrides the exposures' own."""
        n, f = exposures.n_units, exposures.n_feeds
        quantum = weight_quantum_of(exposures) if weight_quantum is None else float(weight_quantum)
        if not quantum >= 0.0:
            raise InvalidScenario(f"weight quantum must be ≥ 0, got {quantum}")
        flat = exposures.pos_unit.astype(np.int64) * f + exposures.pos_feed.astype(np.int64)
        price = exposures.price[exposures.pos_feed]
        counts = exposures.liq_weight > 0
        collateral_value = np.where(counts, exposures.collateral * price, 0.0)

        def per_unit_feed(values: FloatArray) -> FloatArray:
            return np.bincount(flat, weights=values, minlength=n * f).reshape(n, f)

        holds = counts & (exposures.collateral > 0)
        units = exposures.pos_unit[holds]
        weights = exposures.liq_weight[holds]
        low = np.full(n, np.inf)
        high = np.full(n, -np.inf)
        np.minimum.at(low, units, weights)
        np.maximum.at(high, units, weights)
        return cls(
            weighted_collateral=per_unit_feed(collateral_value * exposures.liq_weight),
            collateral=per_unit_feed(collateral_value),
            debt=per_unit_feed(exposures.debt * price),
            mixed=(high > low) if quantum > 0 else np.zeros(n, dtype=bool),
            weight_quantum=quantum,
            price=np.asarray(exposures.price, dtype=np.float64),
            base_usd=float(exposures.base_usd),
        )

    @property
    def n_units(self) -> int:
        return self.debt.shape[0]

    @property
    def n_feeds(self) -> int:
        return self.debt.shape[1]

    @cached_property
    def row_groups(self) -> tuple[RowGroup, ...]:
        """The units split into uniform-weight and mixed-weight groups, for ``threshold_totals``.

        Cached copies (about N · (3F + 1) floats): blocks of one kind need no gathering.
        """
        groups = []
        for quantised, rows in ((False, ~self.mixed), (True, self.mixed)):
            if rows.any():
                side = np.hstack([self.debt[rows], self.collateral[rows], np.ones((int(rows.sum()), 1))])
                groups.append(RowGroup(np.ascontiguousarray(self.weighted_collateral[rows]), side, quantised))
        return tuple(groups)

    def subset(self, rows: IntArray | BoolArray) -> ExposureMatrix:
        """The same matrix restricted to some units (index array or boolean mask of shape (N,))."""
        return ExposureMatrix(
            weighted_collateral=self.weighted_collateral[rows],
            collateral=self.collateral[rows],
            debt=self.debt[rows],
            mixed=self.mixed[rows],
            weight_quantum=self.weight_quantum,
            price=self.price,
            base_usd=self.base_usd,
        )


@dataclass(frozen=True)
class RowGroup:
    """Units of one kind: ``weighted`` (n, F) and ``side`` = ``[D | C | 1]`` (n, 2F + 1)."""

    weighted: FloatArray
    side: FloatArray
    quantised: bool


@dataclass(frozen=True)
class UnitValues:
    """Per-unit values under scenarios, base currency, each of shape (N, S).

    ``weighted_collateral`` is the HF numerator with the family's rounding applied (Aave:
    ``percentMul(totalCollateral, avgLT)``); ``collateral`` the counted collateral; ``debt`` the debt.
    """

    weighted_collateral: FloatArray
    collateral: FloatArray
    debt: FloatArray

    @property
    def health_factor(self) -> FloatArray:
        """``weighted_collateral / debt``, ``inf`` where the debt is 0; shape (N, S)."""
        return _ratio(self.weighted_collateral, self.debt)


def _ratio(numerator: FloatArray, debt: FloatArray) -> FloatArray:
    out = np.full(numerator.shape, np.inf)
    np.divide(numerator, debt, out=out, where=debt > 0)
    return out


def as_matrix(source: ExposureMatrix | Exposures) -> ExposureMatrix:
    """``source`` itself, or the matrix built from an ``Exposures``."""
    return source if isinstance(source, ExposureMatrix) else ExposureMatrix.from_exposures(source)


def as_multipliers(multipliers: npt.ArrayLike, n_feeds: int) -> FloatArray:
    """Validate multipliers into shape (F, S): a vector (F,) becomes one scenario.

    Raises ``InvalidScenario`` on a wrong leading dimension, or a negative or non-finite value.
    """
    m = np.asarray(multipliers, dtype=np.float64)
    if m.ndim == 1:
        m = m[:, None]
    if m.ndim != 2 or m.shape[0] != n_feeds:
        raise InvalidScenario(f"multipliers of shape {m.shape} do not match {n_feeds} price feeds")
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise InvalidScenario("price multipliers must be finite and ≥ 0")
    return m


def _quantise(weighted: FloatArray, collateral: FloatArray, quantum: float) -> FloatArray:
    """``Cv · q · ⌊W / (Cv · q) + snap⌋``, 0 where ``Cv`` is 0 (elementwise)."""
    scale = collateral * quantum
    steps = np.zeros(weighted.shape)
    np.divide(weighted, scale, out=steps, where=scale > 0)
    return np.floor(steps + QUANTUM_SNAP) * scale


def _weighted(matrix: ExposureMatrix, rows: slice, m: FloatArray, mixed_rows: IntArray) -> FloatArray:
    """HF numerator (units ``rows`` × scenarios of ``m``), with the quantum on the mixed rows."""
    weighted = matrix.weighted_collateral[rows] @ m
    if len(mixed_rows):
        collateral = matrix.collateral[rows][mixed_rows] @ m
        weighted[mixed_rows] = _quantise(weighted[mixed_rows], collateral, matrix.weight_quantum)
    return weighted


def unit_values(source: ExposureMatrix | Exposures, multipliers: npt.ArrayLike) -> UnitValues:
    """Weighted collateral, collateral and debt of every unit under every scenario, each (N, S).

    ``multipliers`` has shape (F, S) or (F,). Memory is 3 · N · S float64: chunk S yourself, or use
    ``iter_unit_values``.
    """
    matrix = as_matrix(source)
    m = as_multipliers(multipliers, matrix.n_feeds)
    mixed_rows = np.flatnonzero(matrix.mixed)
    return UnitValues(
        weighted_collateral=_weighted(matrix, slice(None), m, mixed_rows),
        collateral=matrix.collateral @ m,
        debt=matrix.debt @ m,
    )


def health_factors(source: ExposureMatrix | Exposures, multipliers: npt.ArrayLike) -> FloatArray:
    """Health factor of every unit under every scenario, shape (N, S); ``inf`` without debt."""
    matrix = as_matrix(source)
    m = as_multipliers(multipliers, matrix.n_feeds)
    mixed_rows = np.flatnonzero(matrix.mixed)
    return _ratio(_weighted(matrix, slice(None), m, mixed_rows), matrix.debt @ m)


def iter_unit_values(
    source: ExposureMatrix | Exposures, multipliers: npt.ArrayLike, max_elements: int = 2**24
) -> Iterator[tuple[slice, UnitValues]]:
    """``unit_values`` over consecutive scenario chunks: yields (scenario slice, values (N, s)).

    Each chunk holds at most ``max_elements`` values per array (at least one scenario).
    """
    matrix = as_matrix(source)
    m = as_multipliers(multipliers, matrix.n_feeds)
    width = max(1, max_elements // max(1, matrix.n_units))
    for start in range(0, m.shape[1], width):
        chunk = slice(start, min(start + width, m.shape[1]))
        yield chunk, unit_values(matrix, m[:, chunk])


@dataclass(frozen=True)
class ThresholdTotals:
    """Per scenario, the units whose HF is below each threshold, and what they hold.

    ``thresholds`` (K,); ``units`` (K, S) counts; ``debt_by_feed`` and ``collateral_by_feed``
    (K, F, S) the debt and counted collateral of those units **at snapshot prices** (base currency);
    ``multipliers`` (F, S) the scenarios. ``all_units``, ``all_debt_by_feed`` and
    ``all_collateral_by_feed`` ((F,) snapshot prices) are the totals over every unit.
    """

    thresholds: FloatArray
    units: IntArray
    debt_by_feed: FloatArray
    collateral_by_feed: FloatArray
    multipliers: FloatArray
    all_units: int
    all_debt_by_feed: FloatArray
    all_collateral_by_feed: FloatArray

    @property
    def debt(self) -> FloatArray:
        """Debt of the units below each threshold at scenario prices, (K, S) base currency."""
        return np.einsum("kfs,fs->ks", self.debt_by_feed, self.multipliers)

    @property
    def collateral(self) -> FloatArray:
        """Counted collateral of the units below each threshold at scenario prices, (K, S)."""
        return np.einsum("kfs,fs->ks", self.collateral_by_feed, self.multipliers)

    @property
    def all_debt(self) -> FloatArray:
        """Debt of every unit at scenario prices, (S,)."""
        return self.all_debt_by_feed @ self.multipliers

    @property
    def all_collateral(self) -> FloatArray:
        """Counted collateral of every unit at scenario prices, (S,)."""
        return self.all_collateral_by_feed @ self.multipliers


def threshold_totals(
    source: ExposureMatrix | Exposures, multipliers: npt.ArrayLike, thresholds: Sequence[float] = (1.0,)
) -> ThresholdTotals:
    """Count and value the units with ``HF < b`` for each threshold ``b`` and scenario.

    Per block: ``W`` and ``Dv`` by two products, the masks ``W < b·Dv`` (float 0/1, (n, K·s)), then one
    product ``[D | C | 1]ᵀ @ masks`` gives, per feed, the debt and collateral of the units below each
    threshold plus their count. Units without debt are never below a threshold. Memory: a few blocks
    plus the (K, 2F + 1, S) result, whatever N.
    """
    matrix = as_matrix(source)
    m = as_multipliers(multipliers, matrix.n_feeds)
    b = np.asarray(thresholds, dtype=np.float64)
    if b.ndim != 1 or len(b) == 0 or not np.all(np.isfinite(b)):
        raise InvalidScenario("thresholds must be a non-empty list of finite numbers")
    n, f = matrix.n_units, matrix.n_feeds
    k, s = len(b), m.shape[1]
    blocks = [(g, r) for g in matrix.row_groups for r in range(0, len(g.weighted), ROW_BLOCK)]
    share = max(1, min(parallel.workers(), len(blocks)))

    def accumulate(mine: list[tuple[RowGroup, int]]) -> FloatArray:
        totals = np.zeros((2 * f + 1, k, s))
        for group, row0 in mine:
            rows = slice(row0, row0 + ROW_BLOCK)
            weighted_rows, side = group.weighted[rows], group.side[rows]
            for col0 in range(0, s, SCENARIO_BLOCK):
                cols = slice(col0, min(col0 + SCENARIO_BLOCK, s))
                mc = np.ascontiguousarray(m[:, cols])
                weighted = weighted_rows @ mc
                debt = side[:, :f] @ mc
                if group.quantised:
                    weighted = _quantise(weighted, side[:, f : 2 * f] @ mc, matrix.weight_quantum)
                masks = np.empty((weighted.shape[0], k, mc.shape[1]))
                for i, level in enumerate(b):
                    np.less(weighted, debt * level if level != 1.0 else debt, out=masks[:, i, :])
                block = side.T @ masks.reshape(weighted.shape[0], -1)
                totals[:, :, cols] += block.reshape(2 * f + 1, k, -1)
        return totals

    parts = [blocks[i::share] for i in range(share)]
    totals = sum(parallel.map_parts(accumulate, parts), np.zeros((2 * f + 1, k, s)))
    return ThresholdTotals(
        thresholds=b,
        units=np.rint(totals[2 * f]).astype(np.int64),
        debt_by_feed=np.ascontiguousarray(totals[:f].transpose(1, 0, 2)),
        collateral_by_feed=np.ascontiguousarray(totals[f : 2 * f].transpose(1, 0, 2)),
        multipliers=m,
        all_units=n,
        all_debt_by_feed=matrix.debt.sum(axis=0),
        all_collateral_by_feed=matrix.collateral.sum(axis=0),
    )
