"""The March 2023 USDC depeg (SVB, 2023-03-10 … 2023-03-13) replayed hour by hour on a snapshot of the
bundled Compound v2 dataset, through the engine and the bad-debt estimator.

Prices: ``defirisk.adapters.compound_v2.price_path.usdc_depeg_path`` — the bundled Binance hourly
closes from ``DEPEG_START`` to ``DEPEG_END``, as multipliers of the snapshot's own prices; feeds the
file lacks are reported (``unmapped``: held at the snapshot price; ``assumed_peg``: stablecoins at
1 USDT before their first candle or throughout). The first hour is the reference: a snapshot priced at
``DEPEG_START`` (``import_compound_v2_dataset(..., price_time=DEPEG_START)``) starts at multiplier 1.

What is measured (USD at each hour's ETH/USD close, the dataset's base currency being ETH):

* **liquidatable at the start** — units the rules let be liquidated at the first hour;
* **newly liquidatable** — units not liquidatable at the start that are at some hour of the replay:
  their number, their debt at the first hour they are, and the largest of them (``LISTED``);
* **liquidations** — the estimator's cascade over the replay (liquidator economics, liquidity curves,
  price impact): debt repaid, collateral seized, cost to borrowers (seized − repaid), the protocol's
  fee, liquidators' profit, gas, slippage, builder payments; bad debt at the end and at its peak,
  unliquidatable debt at the end;
* **attributable to the depeg** — the same figures minus those of a *flat* replay (every price held
  at the first hour for as long): liquidations of accounts already liquidatable at the start are not
  the depeg's doing;
* **deepest point** — ``usdc_depeg_worst_point``: USDC at Yahoo's daily low (the hourly file misses
  the deepest hours), every other feed at the hour of the lowest hourly USDC close, held 24 hours;
* **DAI sensitivity** — the file has no DAI prices (DAI is held at 1 USDT); the replay is repeated
  with DAI moving like USDC (DAI was largely USDC-backed and depegged with it).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from defirisk.adapters.compound_v2.price_path import USDC, PricePath, usdc_depeg_path, usdc_depeg_worst_point
from defirisk.audit.feeds import feed_labels, gas_economics
from defirisk.audit.scope import borrowers_only
from defirisk.engine import ExposureMatrix, exposures_of, unit_values
from defirisk.errors import DataError
from defirisk.families import get_family
from defirisk.liquidation import (
    BadDebtResult,
    Economics,
    Liquidity,
    default_economics,
    default_liquidity,
    estimate_bad_debt,
)
from defirisk.model import Exposures, MarketState

DEPEG_START = "2023-03-10T00:00Z"
DEPEG_END = "2023-03-14T00:00Z"
WORST_POINT_HOURS = 24
LISTED = 10


@dataclass(frozen=True)
class Liquidations:
    """What the estimator's cascade did over a replay, USD at each hour's ETH/USD (see module docstring)."""

    calls: int
    debt_repaid_usd: float
    collateral_seized_usd: float
    cost_to_borrowers_usd: float
    protocol_fee_usd: float
    liquidator_profit_usd: float
    gas_usd: float
    slippage_usd: float
    builder_usd: float
    bad_debt_end_usd: float
    bad_debt_peak_usd: float
    unliquidatable_end_usd: float

    def minus(self, other: Liquidations) -> Liquidations:
        """Field by field ``self − other``."""
        mine, theirs = asdict(self), asdict(other)
        return Liquidations(**{k: mine[k] - theirs[k] for k in mine})


@dataclass(frozen=True)
class ReplayResult:
    """The replay's figures (module docstring); ``to_dict`` is its JSON form."""

    deployment: str
    start: str
    end: str
    hours: int
    eth_usd_start: float
    eth_usd_end: float
    accounts: int
    borrowers: int
    liquidatable_at_start: int
    liquidatable_at_start_debt_usd: float
    newly_liquidatable: int
    newly_liquidatable_debt_usd: float
    worst_hour: str
    worst_hour_liquidatable: int
    worst_hour_liquidatable_debt_usd: float
    largest_newly: list[dict[str, Any]]
    replay: Liquidations
    flat: Liquidations
    attributable: Liquidations
    worst_point: dict[str, Any]
    dai_follows_usdc: dict[str, Any]
    usdc_low_hourly_usd: float
    unmapped: list[str]
    assumed_peg: dict[str, str]
    sources: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _liquidations(result: BadDebtResult, to_usd: np.ndarray) -> Liquidations:
    """Sum a single-path run's steps, each step converted by ``to_usd`` (T,) (USD per estimator USD)."""
    steps = {k: v[0] for k, v in result.cascade.steps.items()}

    def total(name: str) -> float:
        return float((steps[name] * to_usd).sum())

    bad = steps["bad_debt"] * to_usd
    return Liquidations(
        calls=int(round(steps["calls"].sum())),
        debt_repaid_usd=total("repaid"),
        collateral_seized_usd=total("seized"),
        cost_to_borrowers_usd=total("seized") - total("repaid"),
        protocol_fee_usd=total("protocol_fee"),
        liquidator_profit_usd=total("liquidator_profit"),
        gas_usd=total("gas"),
        slippage_usd=total("slippage"),
        builder_usd=total("builder"),
        bad_debt_end_usd=float(bad[-1]),
        bad_debt_peak_usd=float(bad.max()),
        unliquidatable_end_usd=float(steps["unliquidatable"][-1] * to_usd[-1]),
    )


def _liquidatable(state: MarketState, x: Exposures, multipliers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(liquidatable (N, T), debt in base currency (N, T)) for multipliers (T, F)."""
    rules = get_family(state.meta.family).liquidation_rules(state)
    values = unit_values(x, multipliers.T)
    return rules.liquidatable(values.health_factor) & (values.debt > 0), values.debt


def _main_feed(x: Exposures) -> np.ndarray:
    """Per unit, the feed holding its most weighted collateral (−1 without collateral), (N,)."""
    weighted = ExposureMatrix.from_exposures(x).weighted_collateral
    return np.where(weighted.sum(axis=1) > 0, weighted.argmax(axis=1), -1)


def _check_feeds(path: PricePath, x: Exposures) -> None:
    if list(path.feed_asset) != [str(a) for a in x.feed_asset]:
        raise DataError("the depeg price path and the snapshot's exposures list different price feeds")


def replay_usdc_depeg(
    state: MarketState, economics: Economics | None = None, liquidity: Liquidity | None = None
) -> ReplayResult:
    """Replay the depeg on ``state`` (a Compound v2 dataset snapshot); see the module docstring."""
    owing = borrowers_only(state)
    x = exposures_of(owing)
    labels = feed_labels(x)
    path = usdc_depeg_path(owing, DEPEG_START, DEPEG_END)
    _check_feeds(path, x)
    m = path.multipliers
    economics = gas_economics(economics or default_economics(), x)
    liquidity = liquidity or default_liquidity()
    to_usd = path.base_usd / x.base_usd

    def run(multipliers: np.ndarray, horizon: int | None = None) -> BadDebtResult:
        return estimate_bad_debt(owing, multipliers, economics, liquidity, horizon_steps=horizon, step_hours=1.0)

    liquidatable, debt = _liquidatable(owing, x, m)
    at_start = liquidatable[:, 0]
    newly = np.flatnonzero(liquidatable.any(axis=1) & ~at_start)
    first = liquidatable[newly].argmax(axis=1)
    newly_debt = debt[newly, first] * path.base_usd[first]
    per_hour = (np.where(liquidatable, debt, 0.0).sum(axis=0)) * path.base_usd
    worst = int(per_hour.argmax())
    hf = unit_values(x, m.T).health_factor
    main = _main_feed(x)
    order = newly[np.lexsort((newly, -newly_debt))][:LISTED]
    rank = {n: k for k, n in enumerate(newly)}
    largest = [
        {
            "account": str(x.unit_account[n]),
            "first_liquidatable": f"{path.times[first[rank[n]]]:%Y-%m-%dT%H:%MZ}",
            "debt_usd": float(newly_debt[rank[n]]),
            "lowest_health_factor": float(hf[n].min()),
            "main_collateral": labels[main[n]] if main[n] >= 0 else None,
        }
        for n in order
    ]

    # Held flat, ETH keeps its first-hour USD price too.
    at_start_usd = np.full(len(m), to_usd[0])
    replay = _liquidations(run(m), to_usd)
    flat = _liquidations(run(np.repeat(m[:1], len(m), axis=0)), at_start_usd)

    point = usdc_depeg_worst_point(owing, path)
    point_to_usd = np.full(WORST_POINT_HOURS, point.base_usd / x.base_usd)
    shocked = _liquidations(run(point.multipliers, WORST_POINT_HOURS), point_to_usd)
    held = _liquidations(run(m[0], WORST_POINT_HOURS), np.full(WORST_POINT_HOURS, to_usd[0]))
    point_liquidatable, point_debt = _liquidatable(owing, x, point.multipliers[None, :])
    point_newly = point_liquidatable[:, 0] & ~at_start

    dai_path = usdc_depeg_path(owing, DEPEG_START, DEPEG_END, proxies={"DAI": "USDC"})
    dai_liquidatable, dai_debt = _liquidatable(owing, x, dai_path.multipliers)
    dai_newly = np.flatnonzero(dai_liquidatable.any(axis=1) & ~dai_liquidatable[:, 0])
    dai = _liquidations(run(dai_path.multipliers), dai_path.base_usd / x.base_usd)

    usdc = [f for f, a in enumerate(x.feed_asset) if str(a) == USDC]
    usdc_hourly = float("nan")
    if usdc:
        observed = m[:, usdc[0]] * x.price[usdc[0]] * path.base_usd
        usdc_hourly = float(observed.min())
    return ReplayResult(
        deployment=state.meta.deployment,
        start=f"{path.times[0]:%Y-%m-%dT%H:%MZ}",
        end=f"{path.times[-1]:%Y-%m-%dT%H:%MZ}",
        hours=len(path.times),
        eth_usd_start=float(path.base_usd[0]),
        eth_usd_end=float(path.base_usd[-1]),
        accounts=int(exposures_of(state).n_units),
        borrowers=int(x.n_units),
        liquidatable_at_start=int(at_start.sum()),
        liquidatable_at_start_debt_usd=float(debt[at_start, 0].sum() * path.base_usd[0]),
        newly_liquidatable=int(len(newly)),
        newly_liquidatable_debt_usd=float(newly_debt.sum()),
        worst_hour=f"{path.times[worst]:%Y-%m-%dT%H:%MZ}",
        worst_hour_liquidatable=int(liquidatable[:, worst].sum()),
        worst_hour_liquidatable_debt_usd=float(per_hour[worst]),
        largest_newly=largest,
        replay=replay,
        flat=flat,
        attributable=replay.minus(flat),
        worst_point={
            "description": point.note,
            "usdc_usd": point.usdc_usd,
            "anchor_time": point.anchor_time,
            "newly_liquidatable": int(point_newly.sum()),
            "newly_liquidatable_debt_usd": float(point_debt[point_newly, 0].sum() * point.base_usd),
            "held_hours": WORST_POINT_HOURS,
            "liquidations": asdict(shocked),
            "attributable": asdict(shocked.minus(held)),
        },
        dai_follows_usdc={
            "newly_liquidatable": int(len(dai_newly)),
            "liquidations": asdict(dai),
            "attributable": asdict(dai.minus(flat)),
        },
        usdc_low_hourly_usd=usdc_hourly,
        unmapped=list(path.unmapped),
        assumed_peg=dict(path.assumed_peg),
        sources=dict(path.sources),
        notes=[
            f"Positions of {state.meta.deployment} ({state.meta.note or 'see the snapshot'}) replayed under the hourly "
            f"prices of {path.times[0]:%Y-%m-%d %H:%M} to {path.times[-1]:%Y-%m-%d %H:%M} UTC.",
        ],
    )

