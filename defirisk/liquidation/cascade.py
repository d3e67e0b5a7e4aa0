"""Liquidation cascades over price paths, vectorised over netting units and paths.

Input: ``Exposures`` (N units, F feeds, P positions), the family's ``LiquidationRules``, ``Economics``,
a ``LiquidityBook`` with one curve per asset group (G groups), and feed multipliers of shape
``(S, T, F)`` (S paths of T steps, relative to the snapshot's prices).

Each step ``t`` of each path:

1. Prices: ``price = snapshot price · multiplier[t] · impact factor of the feed's asset group``.
2. Every unit's weighted collateral ``W``, seizable collateral ``C`` and debt ``D`` (base currency);
   units with ``rules.liquidatable(W / D)`` and ``C > 0`` are candidates.
3. Rounds of calls, at most ``max_calls_per_step``: in each round every candidate takes one call on
   its largest debt and largest seizable collateral. The repaid value is the liquidator's best: the
   smallest of the rules' maximum, the value that buys all that collateral and the optimum of
   ``bonus − slippage`` (where the curve's marginal cost equals the bonus per dollar sold), adjusted to
   what the rules accept (``repay_options``). The call executes when ``Economics.profit > 0``. A call's
   slippage is priced on top of the volume of that asset sold in earlier rounds of the step (calls of
   one round do not see each other). Slippage uses the collateral's curve (the debt asset is taken as
   deep); repaying with the same asset as the collateral needs no sale. Only that one pair is tried.
   Units whose call executed go on to the next round; splitting a large position into several calls
   thus happens when each further call still pays.
4. Debt repaid, collateral seized; after the step's calls the rules' ``write_off`` moves the debt of
   units left without collateral to the deficit (Aave v3.3, Morpho) or leaves it on the account
   (Aave v3.0).
5. The asset group's market price falls by the curve's ``impact_after(volume sold this step)`` and
   its depth by ``sqrt(1 − impact)``, both felt by every unit from the next step on; then both recover
   a share ``recovery_per_step`` of their gap to the snapshot's state before each later step.

A path stops early at a fixed point: no call executed, the impact has recovered (within
``tolerance``) and the remaining multipliers equal the current ones; later steps repeat its figures.

Per step and path (USD, but counts of calls and units): calls, debt repaid, collateral seized, protocol fee, liquidator profit,
builder payment, gas, slippage, bad debt (``Σ max(D − C, 0)`` over units plus the written-off debt at
current prices), unliquidatable debt (debt of units still liquidatable with collateral left after the
step: no rational liquidator clears them; units whose calls were still paying when
``max_calls_per_step`` ran out are not counted), and per asset group the volume sold, this step's
impact and the cumulative price factor.

Paths are processed in chunks sized to ``memory_mb``. Units no liquidation has touched are valued by
the engine's kernel (``defirisk.engine.kernel.unit_values``: one matrix product per step for all
units and the chunk's paths, with the family's average-weight rounding); units touched by a
liquidation keep their own balances per path ("rows") and are valued from them, through the same
kernel so that the rounding matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from defirisk.engine.kernel import ExposureMatrix, unit_values
from defirisk.errors import InvalidScenario
from defirisk.liquidation.economics import Economics
from defirisk.liquidation.liquidity import LiquidityBook
from defirisk.liquidation.rules import LiquidationRules
from defirisk.model import Exposures, FloatArray, IntArray

#: Per-path, per-step figures in ``CascadeResult.steps`` (each of shape (S, T)).
STEP_FIELDS = (
    "calls",
    "repaid",
    "seized",
    "protocol_fee",
    "liquidator_profit",
    "builder",
    "gas",
    "slippage",
    "bad_debt",
    "deficit",
    "unliquidatable",
    "unliquidatable_units",
)
_FULL = 1.0 - 1e-12


@dataclass(frozen=True)
class CascadeSettings:
    """Knobs of the simulation; ``recovery_per_step`` is an assumption (no measured default)."""

    max_calls_per_step: int = 16
    recovery_per_step: float = 0.5
    memory_mb: float = 512.0
    tolerance: float = 1e-9

    def __post_init__(self) -> None:
        if self.max_calls_per_step < 1:
            raise InvalidScenario("max_calls_per_step must be ≥ 1")
        if not 0.0 <= self.recovery_per_step <= 1.0:
            raise InvalidScenario("recovery_per_step must be in [0, 1]")
        if self.memory_mb <= 0:
            raise InvalidScenario("memory_mb must be > 0")


@dataclass
class CascadeResult:
    """Figures of every path and step, in USD.

    ``steps[name]``: (S, T) for each of ``STEP_FIELDS``; ``volume``, ``impact``, ``price_factor``:
    (S, T, G); ``steps_run``: (S,) steps simulated before a fixed point (later ones repeat it).
    """

    steps: dict[str, FloatArray]
    volume: FloatArray
    impact: FloatArray
    price_factor: FloatArray
    steps_run: IntArray
    chunk_paths: int = 0
    settings: CascadeSettings = field(default_factory=CascadeSettings)


@dataclass
class _Market:
    """Path-independent arrays; positions padded by a sentinel row ``P`` (no balance, no weight)."""

    matrix: ExposureMatrix
    price0: FloatArray
    base_usd: float
    slots: IntArray
    pos_feed: IntArray
    pos_group: IntArray
    weight: FloatArray
    seizable: FloatArray
    bonus: FloatArray
    fee: FloatArray
    collateral: FloatArray
    debt: FloatArray
    feed_group: IntArray
    n_groups: int

    @classmethod
    def build(cls, x: Exposures, pos_group: IntArray, feed_group: IntArray, n_groups: int) -> _Market:
        n, p = x.n_units, len(x.pos_unit)
        order = np.argsort(x.pos_unit, kind="stable")
        counts = np.bincount(x.pos_unit, minlength=n)
        width = max(int(counts.max(initial=0)), 1)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.arange(p) - np.repeat(starts, counts)
        slots = np.full((n, width), p, dtype=np.int64)
        slots[x.pos_unit[order], rank] = order

        def pad(a: np.ndarray, fill: float | int) -> np.ndarray:
            return np.concatenate([a, np.array([fill], dtype=a.dtype)])

        groups = np.where(feed_group < 0, n_groups, feed_group)
        return cls(
            matrix=ExposureMatrix.from_exposures(x),
            price0=x.price.astype(np.float64),
            base_usd=float(x.base_usd),
            slots=slots,
            pos_feed=pad(x.pos_feed.astype(np.int64), 0),
            pos_group=pad(pos_group.astype(np.int64), n_groups),
            weight=pad(x.liq_weight.astype(np.float64), 0.0),
            seizable=pad((x.liq_weight > 0).astype(np.float64), 0.0),
            bonus=pad(x.bonus.astype(np.float64), 0.0),
            fee=pad(x.protocol_fee.astype(np.float64), 0.0),
            collateral=pad(x.collateral.astype(np.float64), 0.0),
            debt=pad(x.debt.astype(np.float64), 0.0),
            feed_group=groups.astype(np.int64),
            n_groups=n_groups,
        )


class _Rows:
    """Own balances of (unit, path) pairs a liquidation touched; (rows, K) arrays.

    Storage grows by doubling; ``size`` rows are in use. Per row it keeps the token balances
    (``coll``, ``debt``, written-off ``deficit``) and, fixed at creation, each position's flat index
    into the chunk's (paths · F) price array, weight and seizable flag.
    """

    def __init__(self, market: _Market, n_paths: int) -> None:
        self.market = market
        self.n_feeds = len(market.price0)
        self.row_of = np.full((len(market.slots), n_paths), -1, dtype=np.int64)
        self.size = 0
        self._grow(1024)

    def _grow(self, capacity: int) -> None:
        width = self.market.slots.shape[1]
        old = self.size

        def resized(name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
            out = np.zeros(shape, dtype=dtype)
            if old:
                out[:old] = getattr(self, name)[:old]
            return out

        self._n = resized("_n", (capacity,), np.int64)
        self._c = resized("_c", (capacity,), np.int64)
        self._coll = resized("_coll", (capacity, width), np.float64)
        self._debt = resized("_debt", (capacity, width), np.float64)
        self._deficit = resized("_deficit", (capacity, width), np.float64)
        self._price_at = resized("_price_at", (capacity, width), np.int64)
        self._weight = resized("_weight", (capacity, width), np.float64)
        self._seizable = resized("_seizable", (capacity, width), np.float64)

    @property
    def n(self) -> IntArray:
        return self._n[: self.size]

    @property
    def c(self) -> IntArray:
        return self._c[: self.size]

    @property
    def coll(self) -> FloatArray:
        return self._coll[: self.size]

    @property
    def debt(self) -> FloatArray:
        return self._debt[: self.size]

    @property
    def deficit(self) -> FloatArray:
        return self._deficit[: self.size]

    def ensure(self, n: IntArray, c: IntArray) -> IntArray:
        """Row ids of the pairs, creating rows (snapshot balances) for new ones."""
        rows = self.row_of[n, c]
        new = rows < 0
        if new.any():
            nn, cn = n[new], c[new]
            first, count = self.size, len(nn)
            if first + count > len(self._n):
                self._grow(max(2 * len(self._n), first + count))
            ids = np.arange(first, first + count)
            m = self.market
            slots = m.slots[nn]
            self.row_of[nn, cn] = ids
            self._n[ids], self._c[ids] = nn, cn
            self._coll[ids] = m.collateral[slots]
            self._debt[ids] = m.debt[slots]
            self._price_at[ids] = cn[:, None] * self.n_feeds + m.pos_feed[slots]
            self._weight[ids] = m.weight[slots]
            self._seizable[ids] = m.seizable[slots]
            self.size += count
            rows[new] = ids
        return rows

    def prices(self, rows: IntArray | None, price: FloatArray) -> FloatArray:
        """Price of each of the rows' positions, (R, K), from ``price`` (paths, F); None: all rows."""
        at = self._price_at[: self.size] if rows is None else self._price_at[rows]
        return np.take(price.ravel(), at)

    def values(self, rows: IntArray | None, price: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(W, C, D) of the rows at ``price``, each (R,), with the kernel's average-weight rounding."""
        pick = slice(0, self.size) if rows is None else rows
        p = self.prices(rows, price)
        coll = self._coll[pick] * p
        weight = self._weight[pick]
        weighted = np.einsum("rk,rk->r", coll, weight)
        collateral = np.einsum("rk,rk->r", coll, self._seizable[pick])
        debt = np.einsum("rk,rk->r", self._debt[pick], p)
        quantum = self.market.matrix.weight_quantum
        if quantum == 0:
            # The kernel's product with a multiplier of 1 would return these sums unchanged.
            return weighted, collateral, debt
        counted = (coll > 0) & (weight > 0)
        own = ExposureMatrix(
            weighted_collateral=weighted[:, None],
            collateral=collateral[:, None],
            debt=debt[:, None],
            mixed=np.where(counted, weight, np.inf).min(axis=1) < np.where(counted, weight, -np.inf).max(axis=1),
            weight_quantum=quantum,
            price=np.ones(1),
            base_usd=self.market.base_usd,
        )
        v = unit_values(own, np.ones(1))
        return v.weighted_collateral[:, 0], v.collateral[:, 0], v.debt[:, 0]

    def deficit_value(self, rows: IntArray, price: FloatArray) -> FloatArray:
        """Value of the rows' written-off debt at ``price``, (R,)."""
        return np.einsum("rk,rk->r", self._deficit[rows], self.prices(rows, price))


class _Chunk:
    """The simulation of one chunk of paths; per-unit arrays are (N, paths)."""

    def __init__(
        self,
        market: _Market,
        rules: LiquidationRules,
        economics: Economics,
        book: LiquidityBook,
        multipliers: FloatArray,
        eth: tuple[int, float] | None,
        settings: CascadeSettings,
    ) -> None:
        self.m, self.rules, self.econ, self.book, self.settings = market, rules, economics, book, settings
        self.mult = multipliers
        self.eth = eth
        c, t, _ = multipliers.shape
        g = market.n_groups
        self.rows = _Rows(market, c)
        self.factor = np.ones((c, g + 1))
        self.depth = np.ones((c, g + 1))
        self.volume = np.zeros((c, g + 1))
        self.out = {name: np.zeros((c, t)) for name in STEP_FIELDS}
        self.out_volume = np.zeros((c, t, g))
        self.out_impact = np.zeros((c, t, g))
        self.out_factor = np.ones((c, t, g))
        self.steps_run = np.full(c, t, dtype=np.int64)

    def run(self) -> None:
        n_steps = self.mult.shape[1]
        done = np.zeros(self.mult.shape[0], dtype=bool)
        for t in range(n_steps):
            calls = self._step(t)
            recovered = (np.abs(self.factor - 1.0).max(axis=1) < self.settings.tolerance) & (
                np.abs(self.depth - 1.0).max(axis=1) < self.settings.tolerance
            )
            same_ahead = np.all(self.mult[:, t + 1 :] == self.mult[:, t : t + 1], axis=(1, 2))
            newly = ~done & (calls == 0) & recovered & same_ahead
            self.steps_run[newly] = t + 1
            done |= newly
            # A path at its fixed point while others run on is simulated on: its steps repeat.
            if done.all():
                self._repeat_from(t)
                return

    def _repeat_from(self, t: int) -> None:
        for name in STEP_FIELDS:
            self.out[name][:, t + 1 :] = self.out[name][:, t : t + 1]
        self.out_factor[:, t + 1 :] = self.out_factor[:, t : t + 1]

    def _step(self, t: int) -> np.ndarray:
        m = self.m
        moves = self.mult[:, t, :] * self.factor[:, m.feed_group]
        price = m.price0[None, :] * moves
        values = unit_values(m.matrix, moves.T)
        weighted, collateral, debt = values.weighted_collateral, values.collateral, values.debt
        if self.rows.size:
            self._override(price, weighted, collateral, debt)
        with np.errstate(divide="ignore", invalid="ignore"):
            cand = self.rules.liquidatable(weighted / debt) & (collateral > 0) & (debt > 0)
        n, c = np.nonzero(cand)
        if self.eth is None:
            eth_usd = np.full(len(price), float(self.econ.eth_price_usd))
        else:
            feed, usd0 = self.eth
            eth_usd = usd0 * price[:, feed] / m.price0[feed]
        gas_usd = self.econ.gas_usd(eth_usd)
        self.volume[:] = 0.0
        # Only the candidates' values change in the rounds: ``stuck`` starts as ``cand``.
        stuck = cand
        if len(c):
            active = self.rows.ensure(n, c)
            for _ in range(self.settings.max_calls_per_step):
                active = self._round(active, price, gas_usd, t)
                if not len(active):
                    break
            touched = self.rows.row_of[n, c]
            w, cv, dv = self.rows.values(touched, price)
            with np.errstate(divide="ignore", invalid="ignore"):
                off = self.rules.write_off(w / dv, cv, dv)
            if off.any():
                gone = touched[off]
                self.rows.deficit[gone] += self.rows.debt[gone]
                self.rows.debt[gone] = 0.0
                dv = np.where(off, 0.0, dv)
            weighted[n, c], collateral[n, c], debt[n, c] = w, cv, dv
            with np.errstate(divide="ignore", invalid="ignore"):
                stuck[n, c] = self.rules.liquidatable(w / dv) & (cv > 0) & (dv > 0)
            # Units still being liquidated when the step's calls ran out are not unliquidatable.
            stuck[self.rows.n[active], self.rows.c[active]] = False
        deficit = np.zeros(len(price))
        owing = np.flatnonzero(self.rows.deficit.any(axis=1))
        if len(owing):
            np.add.at(deficit, self.rows.c[owing], self.rows.deficit_value(owing, price))
        usd = m.base_usd
        self.out["bad_debt"][:, t] = (np.maximum(debt - collateral, 0.0).sum(axis=0) + deficit) * usd
        self.out["deficit"][:, t] = deficit * usd
        self.out["unliquidatable"][:, t] = np.where(stuck, debt, 0.0).sum(axis=0) * usd
        self.out["unliquidatable_units"][:, t] = stuck.sum(axis=0)
        self._move_market(t)
        return self.out["calls"][:, t]

    def _override(self, price: FloatArray, *targets: FloatArray) -> None:
        """Write every row's own (W, C, D) into the (N, paths) ``targets``."""
        for target, value in zip(targets, self.rows.values(None, price), strict=True):
            target[self.rows.n, self.rows.c] = value

    def _move_market(self, t: int) -> None:
        g = self.m.n_groups
        sold = self.volume[:, :g]
        groups = np.broadcast_to(np.arange(g), sold.shape)
        impact = np.where(sold > 0, self.book.impact_after(groups, sold, self.depth[:, :g]), 0.0)
        self.out_volume[:, t] = sold
        self.out_impact[:, t] = impact
        self.out_factor[:, t] = self.factor[:, :g]
        self.factor[:, :g] *= 1.0 - impact
        self.depth[:, :g] *= np.sqrt(1.0 - impact)
        rho = self.settings.recovery_per_step
        self.factor = 1.0 - (1.0 - self.factor) * (1.0 - rho)
        self.depth = 1.0 - (1.0 - self.depth) * (1.0 - rho)

    def _round(self, active: IntArray, price: FloatArray, gas_usd: FloatArray, t: int) -> IntArray:
        """One call for each active row; returns the rows whose call executed."""
        m, rules, rows = self.m, self.rules, self.rows
        usd = m.base_usd
        c = rows.c[active]
        slots = m.slots[rows.n[active]]
        p = rows.prices(active, price)
        w, cv_total, dv_total = rows.values(active, price)
        coll_value = rows.coll[active] * p * m.seizable[slots]
        debt_value = rows.debt[active] * p
        with np.errstate(divide="ignore", invalid="ignore"):
            hf = w / dv_total
        ok = rules.liquidatable(hf) & (cv_total > 0) & (dv_total > 0)
        ar = np.arange(len(active))
        q = coll_value.argmax(axis=1)
        d = debt_value.argmax(axis=1)
        cq, dq = coll_value[ar, q], debt_value[ar, d]
        sq, sd = slots[ar, q], slots[ar, d]
        bonus, fee = m.bonus[sq], m.fee[sq]
        gq = m.pos_group[sq]
        swap = gq != m.pos_group[sd]
        depth, sold_before = self.depth[c, gq], self.volume[c, gq]
        net = bonus * (1.0 - fee)
        best_sale = self.book.size_at_marginal(gq, net * self.econ.bonus_kept / (1.0 + net), depth)
        with np.errstate(divide="ignore", invalid="ignore"):
            best_repay = np.where(swap, np.maximum(best_sale - sold_before, 0.0) / (1.0 + net) / usd, np.inf)
        max_repay = rules.max_repay(hf, dq, dv_total, cq)
        desired = np.minimum(np.minimum(max_repay, best_repay), cq / (1.0 + bonus))
        options = rules.repay_options(desired, max_repay, dq, cq, bonus)
        evaluated = [self._evaluate(r, cq, bonus, fee, gq, swap, depth, sold_before, gas_usd[c]) for r in options]
        pick_high = evaluated[1][0] > evaluated[0][0]
        profit, seizure, slip, builder = (np.where(pick_high, hi, lo) for lo, hi in zip(*evaluated, strict=True))
        run = ok & (profit > 0)
        if not run.any():
            return active[:0]
        e = np.flatnonzero(run)
        ae, ce, de, qe = active[e], c[e], d[e], q[e]
        repay, seized, to_liq, prot = (seizure[k][e] for k in range(4))
        rows.debt[ae, de] = np.where(repay >= dq[e] * _FULL, 0.0, rows.debt[ae, de] - repay / p[e, de])
        rows.coll[ae, qe] = np.where(seized >= cq[e] * _FULL, 0.0, rows.coll[ae, qe] - seized / p[e, qe])
        swapped = swap[e]
        np.add.at(self.volume, (ce[swapped], gq[e][swapped]), to_liq[swapped] * usd)
        for name, value in (
            ("calls", np.ones(len(e))),
            ("repaid", repay * usd),
            ("seized", seized * usd),
            ("protocol_fee", prot * usd),
            ("liquidator_profit", profit[e]),
            ("builder", builder[e]),
            ("gas", gas_usd[ce]),
            ("slippage", slip[e]),
        ):
            np.add.at(self.out[name][:, t], ce, value)
        return ae

    def _evaluate(
        self,
        repay: FloatArray,
        cq: FloatArray,
        bonus: FloatArray,
        fee: FloatArray,
        group: IntArray,
        swap: np.ndarray,
        depth: FloatArray,
        sold_before: FloatArray,
        gas_usd: FloatArray,
    ) -> tuple[FloatArray, tuple[FloatArray, ...], FloatArray, FloatArray]:
        """(profit, (repay, seized, to liquidator, fee) base currency, slippage, builder) in USD."""
        usd = self.m.base_usd
        feasible = np.isfinite(repay) & (repay > 0)
        s = self.rules.seize(np.where(feasible, repay, 0.0), cq, bonus, fee)
        sold = s.to_liquidator * usd
        slip = np.where(
            swap,
            self.book.cost(group, sold_before + sold, depth) - self.book.cost(group, sold_before, depth),
            0.0,
        )
        profit, builder = self.econ.profit(s.liquidator_bonus * usd, slip, gas_usd)
        profit = np.where(feasible, profit, -np.inf)
        return profit, (s.repay, s.seized, s.to_liquidator, s.protocol_fee), slip, builder


def chunk_size(n_units: int, n_paths: int, memory_mb: float) -> int:
    """Paths per chunk: about 12 float64 arrays of (paths, units) fit in ``memory_mb``."""
    per_path = max(n_units, 1) * 8 * 12
    return int(max(1, min(n_paths, memory_mb * 2**20 // per_path)))


def simulate(
    exposures: Exposures,
    rules: LiquidationRules,
    economics: Economics,
    book: LiquidityBook,
    pos_group: IntArray,
    feed_group: IntArray,
    multipliers: FloatArray,
    eth: tuple[int, float] | None = None,
    settings: CascadeSettings | None = None,
) -> CascadeResult:
    """Run the cascade for every path (see the module docstring).

    ``pos_group`` (P,): asset group of each position (whose curve prices its sale); ``feed_group``
    (F,): group whose impact moves each feed, −1 for none; ``multipliers`` (S, T, F); ``eth``: (feed
    index, USD price of ETH at the snapshot) when gas is priced by a feed, else ``economics.eth_price_usd``.
    """
    settings = settings or CascadeSettings()
    mult = np.asarray(multipliers, dtype=np.float64)
    if mult.ndim != 3 or mult.shape[2] != exposures.n_feeds or mult.shape[1] < 1:
        raise InvalidScenario(f"multipliers must have shape (paths, steps ≥ 1, {exposures.n_feeds}), got {mult.shape}")
    if not np.all(np.isfinite(mult)) or np.any(mult < 0):
        raise InvalidScenario("price multipliers must be finite and ≥ 0")
    if eth is None and economics.eth_price_usd is None:
        raise InvalidScenario("no ETH price for gas: the snapshot has no WETH feed; set economics.eth_price_usd")
    n_groups = len(book.curves)
    market = _Market.build(exposures, np.asarray(pos_group), np.asarray(feed_group), n_groups)
    s, t, _ = mult.shape
    size = chunk_size(exposures.n_units, s, settings.memory_mb)
    steps = {name: np.zeros((s, t)) for name in STEP_FIELDS}
    volume = np.zeros((s, t, n_groups))
    impact = np.zeros((s, t, n_groups))
    factor = np.ones((s, t, n_groups))
    steps_run = np.zeros(s, dtype=np.int64)
    for start in range(0, s, size):
        stop = min(s, start + size)
        chunk = _Chunk(market, rules, economics, book, mult[start:stop], eth, settings)
        chunk.run()
        for name in STEP_FIELDS:
            steps[name][start:stop] = chunk.out[name]
        volume[start:stop] = chunk.out_volume
        impact[start:stop] = chunk.out_impact
        factor[start:stop] = chunk.out_factor
        steps_run[start:stop] = chunk.steps_run
    return CascadeResult(
        steps=steps,
        volume=volume,
        impact=impact,
        price_factor=factor,
        steps_run=steps_run,
        chunk_paths=size,
        settings=settings,
    )
