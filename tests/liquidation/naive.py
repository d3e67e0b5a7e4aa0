"""A plain per-path, per-step, per-account loop of the cascade: the reference the vectorised
``defirisk.liquidation.cascade.simulate`` is tested against, and the benchmark's baseline.

It follows the semantics documented in ``cascade.py`` one account at a time, with Python floats and
dictionaries; the rules, curves and economics objects are called on one value at a time.
"""

from __future__ import annotations

import math

import numpy as np

from defirisk.engine.kernel import weight_quantum_of
from defirisk.liquidation.economics import Economics
from defirisk.liquidation.liquidity import LiquidityBook
from defirisk.liquidation.rules import LiquidationRules
from defirisk.model import Exposures

FIELDS = (
    "calls", "repaid", "seized", "protocol_fee", "liquidator_profit", "builder", "gas", "slippage",
    "bad_debt", "deficit", "unliquidatable", "unliquidatable_units",
)


def _one(a: float) -> np.ndarray:
    return np.array([a], dtype=np.float64)


def _cost(book: LiquidityBook, g: int, v: float, depth: float) -> float:
    c = book.curves[g]
    return v * (float(c.impact(_one(v / depth))[0]) + c.fee)


def _unit_values(
    x: Exposures, positions: list[int], quantum: float, price: list[float], coll: list[float], debt: list[float]
) -> tuple[float, float, float]:
    """(weighted collateral, seizable collateral, debt) of one account, with Aave's average-LT floor."""
    w = c = d = 0.0
    weights = set()
    for p in positions:
        pr = price[int(x.pos_feed[p])]
        w += coll[p] * pr * float(x.liq_weight[p])
        c += coll[p] * pr * (1.0 if x.liq_weight[p] > 0 else 0.0)
        d += debt[p] * pr
        if coll[p] > 0 and x.liq_weight[p] > 0:
            weights.add(float(x.liq_weight[p]))
    if quantum > 0 and len(weights) > 1 and c > 0:
        # Aave floors the average liquidation threshold to whole basis points.
        w = c * quantum * math.floor(w / (c * quantum) + 1e-9)
    return w, c, d


def naive_simulate(
    x: Exposures,
    rules: LiquidationRules,
    econ: Economics,
    book: LiquidityBook,
    pos_group: np.ndarray,
    feed_group: np.ndarray,
    mult: np.ndarray,
    eth: tuple[int, float] | None,
    max_calls: int,
    recovery: float,
) -> dict[str, np.ndarray]:
    """Per-path, per-step figures (S, T) in USD, as ``CascadeResult.steps``."""
    n_paths, n_steps, _ = mult.shape
    usd = x.base_usd
    unit_positions: list[list[int]] = [[] for _ in range(x.n_units)]
    for p, u in enumerate(x.pos_unit):
        unit_positions[int(u)].append(p)
    n_groups = len(book.curves)
    quantum = weight_quantum_of(x)
    out = {name: np.zeros((n_paths, n_steps)) for name in FIELDS}
    for s in range(n_paths):
        coll = [float(v) for v in x.collateral]
        debt = [float(v) for v in x.debt]
        deficit = [0.0] * len(coll)
        factor = [1.0] * n_groups
        depth = [1.0] * n_groups
        for t in range(n_steps):
            price = []
            for f in range(x.n_feeds):
                g = int(feed_group[f])
                price.append(float(x.price[f]) * float(mult[s, t, f]) * (factor[g] if g >= 0 else 1.0))
            eth_usd = econ.eth_price_usd if eth is None else eth[1] * price[eth[0]] / float(x.price[eth[0]])
            gas = float(econ.gas_usd(eth_usd))
            volume = [0.0] * n_groups

            def values(
                u: int, price: list[float] = price, coll: list[float] = coll, debt: list[float] = debt
            ) -> tuple[float, float, float]:
                return _unit_values(x, unit_positions[u], quantum, price, coll, debt)

            def liquidatable(w: float, c: float, d: float) -> bool:
                return d > 0 and c > 0 and bool(rules.liquidatable(_one(w / d))[0])

            candidates = [u for u in range(x.n_units) if liquidatable(*values(u))]
            active = list(candidates)
            in_progress: list[int] = []
            for round_no in range(max_calls):
                sold_before = list(volume)
                executed = []
                for u in active:
                    w, c_total, d_total = values(u)
                    if not liquidatable(w, c_total, d_total):
                        continue
                    hf = w / d_total
                    q = d = None
                    best_c = best_d = -1.0
                    for p in unit_positions[u]:
                        pr = price[int(x.pos_feed[p])]
                        cv = coll[p] * pr * (1.0 if x.liq_weight[p] > 0 else 0.0)
                        dv = debt[p] * pr
                        if cv > best_c:
                            q, best_c = p, cv
                        if dv > best_d:
                            d, best_d = p, dv
                    bonus, fee = float(x.bonus[q]), float(x.protocol_fee[q])
                    gq, gd = int(pos_group[q]), int(pos_group[d])
                    swap = gq != gd
                    net = bonus * (1 - fee)
                    if swap:
                        sale = float(book.curves[gq].size_at_impact_after(_one(net * econ.bonus_kept / (1 + net) - book.curves[gq].fee))[0])
                        best = max(depth[gq] * sale - sold_before[gq], 0.0) / (1 + net) / usd
                    else:
                        best = math.inf
                    max_repay = float(rules.max_repay(_one(hf), _one(best_d), _one(d_total), _one(best_c))[0])
                    desired = min(max_repay, best, best_c / (1 + bonus))
                    options = rules.repay_options(_one(desired), _one(max_repay), _one(best_d), _one(best_c), _one(bonus))
                    chosen = None
                    for r in (float(options[0][0]), float(options[1][0])):
                        if not (math.isfinite(r) and r > 0):
                            continue
                        sz = rules.seize(_one(r), _one(best_c), _one(bonus), _one(fee))
                        repay, seized = float(sz.repay[0]), float(sz.seized[0])
                        to_liq, prot = float(sz.to_liquidator[0]), float(sz.protocol_fee[0])
                        sold = to_liq * usd
                        slip = (
                            _cost(book, gq, sold_before[gq] + sold, depth[gq]) - _cost(book, gq, sold_before[gq], depth[gq])
                            if swap
                            else 0.0
                        )
                        profit, builder = econ.profit(_one((to_liq - repay) * usd), _one(slip), _one(gas))
                        candidate = (float(profit[0]), repay, seized, to_liq, prot, slip, float(builder[0]))
                        if chosen is None or candidate[0] > chosen[0]:
                            chosen = candidate
                    if chosen is None or chosen[0] <= 0:
                        continue
                    profit, repay, seized, to_liq, prot, slip, builder = chosen
                    pd_, pq = price[int(x.pos_feed[d])], price[int(x.pos_feed[q])]
                    debt[d] = 0.0 if repay >= best_d * (1 - 1e-12) else debt[d] - repay / pd_
                    coll[q] = 0.0 if seized >= best_c * (1 - 1e-12) else coll[q] - seized / pq
                    if swap:
                        volume[gq] += to_liq * usd
                    for name, value in (
                        ("calls", 1.0), ("repaid", repay * usd), ("seized", seized * usd),
                        ("protocol_fee", prot * usd), ("liquidator_profit", profit), ("builder", builder),
                        ("gas", gas), ("slippage", slip),
                    ):
                        out[name][s, t] += value
                    executed.append(u)
                active = executed
                if round_no == max_calls - 1:
                    in_progress = executed
                if not active:
                    break
            for u in candidates:
                w, c_left, d_left = values(u)
                hf = w / d_left if d_left > 0 else math.inf
                if bool(rules.write_off(_one(hf), _one(c_left), _one(d_left))[0]):
                    for p in unit_positions[u]:
                        deficit[p] += debt[p]
                        debt[p] = 0.0
            bad = stuck_debt = 0.0
            stuck_units = 0
            for u in range(x.n_units):
                w, c, d = values(u)
                bad += max(d - c, 0.0)
                if liquidatable(w, c, d) and u not in in_progress:
                    stuck_debt += d
                    stuck_units += 1
            owed = sum(deficit[p] * price[int(x.pos_feed[p])] for p in range(len(deficit)))
            out["bad_debt"][s, t] = (bad + owed) * usd
            out["deficit"][s, t] = owed * usd
            out["unliquidatable"][s, t] = stuck_debt * usd
            out["unliquidatable_units"][s, t] = stuck_units
            for g in range(n_groups):
                if volume[g] > 0:
                    m = float(book.curves[g].impact_after(_one(volume[g] / depth[g]))[0])
                    factor[g] *= 1 - m
                    depth[g] *= math.sqrt(1 - m)
                factor[g] = 1 - (1 - factor[g]) * (1 - recovery)
                depth[g] = 1 - (1 - depth[g]) * (1 - recovery)
    return out
