"""Random ``Exposures`` at any size, for kernel tests and the benchmark (vectorised, seeded).

Each unit holds 1–4 positions on F feeds; about 60 % are collateral with Aave-like weights
(including 0), the rest debt, scaled so that HFs spread around 1–3 with a tail of liquidatable and
debt-free units.
"""

from __future__ import annotations

import numpy as np

from defirisk.model import Exposures

WEIGHTS = np.array([0.0, 0.41, 0.7, 0.78, 0.8, 0.83, 0.86, 0.93])


def random_exposures(
    n_units: int, n_feeds: int = 20, seed: int = 0, weight_quantum: float = 0.0
) -> Exposures:
    """``n_units`` random netting units over ``n_feeds`` price feeds."""
    rng = np.random.default_rng(seed)
    per_unit = rng.integers(1, 5, size=n_units)
    pos_unit = np.repeat(np.arange(n_units), per_unit)
    p = len(pos_unit)
    pos_feed = rng.integers(0, n_feeds, size=p)
    price = np.exp(rng.uniform(np.log(0.01), np.log(1e5), size=n_feeds))
    value = np.exp(rng.uniform(np.log(10.0), np.log(1e6), size=p))
    is_collateral = rng.random(p) < 0.6
    weight = np.where(is_collateral, WEIGHTS[rng.integers(0, len(WEIGHTS), size=p)], 0.0)
    weighted = np.bincount(pos_unit, weights=value * weight * is_collateral, minlength=n_units)
    raw_debt = np.bincount(pos_unit, weights=value * ~is_collateral, minlength=n_units)
    target = np.exp(rng.normal(np.log(1.6), 0.5, size=n_units))
    # Units without weighted collateral keep their raw debt: HF 0.
    scale = np.divide(
        weighted / target, raw_debt, out=np.ones(n_units), where=(raw_debt > 0) & (weighted > 0)
    )
    debt_value = np.where(is_collateral, 0.0, value * scale[pos_unit])
    exposures = Exposures(
        unit_market=np.full(n_units, "0xmarket", dtype=object),
        unit_account=np.array([f"0x{i:040x}" for i in range(n_units)], dtype=object),
        feed_symbol=np.array([f"F{f}" for f in range(n_feeds)], dtype=object),
        feed_asset=np.array([f"0x{f + 1:040x}" for f in range(n_feeds)], dtype=object),
        price=price,
        base_usd=1.0,
        pos_unit=pos_unit.astype(np.int64),
        pos_feed=pos_feed.astype(np.int64),
        pos_asset=pos_feed.astype(np.int64),
        collateral=np.where(is_collateral, value / price[pos_feed], 0.0),
        debt=debt_value / price[pos_feed],
        liq_weight=weight,
        borrow_weight=weight * 0.95,
        bonus=np.full(p, 0.05),
        protocol_fee=np.full(p, 0.1),
    )
    exposures.weight_quantum = weight_quantum
    return exposures


def random_multipliers(n_feeds: int, n_scenarios: int, seed: int = 1, scale: float = 0.25) -> np.ndarray:
    """Log-normal feed multipliers, shape (F, S)."""
    rng = np.random.default_rng(seed)
    return np.exp(scale * rng.standard_normal((n_feeds, n_scenarios)))


def loop_health_factors(exposures: Exposures, multipliers: np.ndarray, quantum: float = 0.0) -> np.ndarray:
    """The obvious per-unit, per-scenario Python loop over positions (the benchmark's baseline)."""
    positions: list[list[int]] = [[] for _ in range(exposures.n_units)]
    for k, unit in enumerate(exposures.pos_unit):
        positions[unit].append(k)
    out = np.empty((exposures.n_units, multipliers.shape[1]))
    for s in range(multipliers.shape[1]):
        for n, members in enumerate(positions):
            weighted = collateral = debt = 0.0
            weights = set()
            for k in members:
                f = exposures.pos_feed[k]
                price = exposures.price[f] * multipliers[f, s]
                if exposures.liq_weight[k] > 0:
                    value = exposures.collateral[k] * price
                    weighted += value * exposures.liq_weight[k]
                    collateral += value
                    if exposures.collateral[k] > 0:
                        weights.add(exposures.liq_weight[k])
                debt += exposures.debt[k] * price
            if quantum and len(weights) > 1 and collateral > 0:
                weighted = collateral * quantum * np.floor(weighted / (collateral * quantum) + 1e-9)
            out[n, s] = weighted / debt if debt > 0 else np.inf
    return out
