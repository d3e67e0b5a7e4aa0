"""The vectorised cascade against the per-account loop, its accounting, and its invariants."""

from __future__ import annotations

import copy
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import InvalidScenario
from defirisk.families import get_family
from defirisk.liquidation.cascade import STEP_FIELDS, CascadeSettings, simulate
from defirisk.liquidation.economics import Economics
from defirisk.liquidation.estimate import asset_groups
from defirisk.liquidation.liquidity import Curve, LiquidityBook, default_liquidity
from tests.liquidation.factory import make_state
from tests.liquidation.naive import naive_simulate

ECON = Economics(gas_units=500_000, gas_price_gwei=2.0, builder_share=0.4, eth_price_usd=2_000.0)


@cache
def market(n: int, seed: int, version: str, scale: float = 0.01):
    state = make_state(n, seed=seed, rules_version=version, scale=scale)
    family = get_family("aave-v3")
    x = family.exposures(state)
    pos_group, feed_group, book, _ = asset_groups(state, x, default_liquidity())
    return x, family.liquidation_rules(state), pos_group, feed_group, book


def random_paths(x, n_paths: int, n_steps: int, seed: int, vol: float = 0.08) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.exp(np.cumsum(rng.normal(-0.01, vol, size=(n_paths, n_steps, x.n_feeds)), axis=1))


def flat_book(n_groups: int, depth: float) -> LiquidityBook:
    return LiquidityBook([Curve(kind="constant_product", depth_usd=depth)] * n_groups)


@pytest.mark.parametrize(
    ("version", "max_calls", "recovery", "quantum"),
    [("3.0", 4, 0.3, 0.0), ("3.3", 2, 0.0, 0.0), ("3.3", 16, 1.0, 0.0), ("3.0", 4, 0.3, 1e-2)],
)
def test_vectorised_equals_the_account_loop(version, max_calls, recovery, quantum):
    x, rules, pg, fg, book = market(50, 3, version)
    x = copy.copy(x)
    x.weight_quantum = quantum  # a coarse quantum (Aave: 1e-4) so that the floor changes results
    mult = random_paths(x, 4, 6, seed=11)
    got = simulate(x, rules, ECON, book, pg, fg, mult, None, CascadeSettings(max_calls_per_step=max_calls, recovery_per_step=recovery))
    want = naive_simulate(x, rules, ECON, book, pg, fg, mult, None, max_calls, recovery)
    assert want["calls"].sum() > 20
    for name in STEP_FIELDS:
        np.testing.assert_allclose(got.steps[name], want[name], rtol=1e-7, atol=1e-6, err_msg=name)


def test_gas_priced_by_the_eth_feed_along_the_path():
    x, rules, pg, fg, book = market(50, 3, "3.0")
    mult = random_paths(x, 3, 5, seed=2)
    econ = Economics(gas_units=500_000, gas_price_gwei=30.0, builder_share=0.3, builder_share_of="bonus")
    eth = (0, float(x.price[0]))
    got = simulate(x, rules, econ, book, pg, fg, mult, eth, CascadeSettings(max_calls_per_step=3))
    want = naive_simulate(x, rules, econ, book, pg, fg, mult, eth, 3, 0.5)
    for name in STEP_FIELDS:
        np.testing.assert_allclose(got.steps[name], want[name], rtol=1e-7, atol=1e-6, err_msg=name)
    per_call = got.steps["gas"] / np.maximum(got.steps["calls"], 1)
    moved = got.steps["calls"] > 0
    np.testing.assert_allclose(per_call[moved], (econ.gas_usd(eth[1]) * mult[:, :, 0] * got.price_factor[:, :, pg[0]])[moved], rtol=1e-9)


def test_chunking_does_not_change_results():
    x, rules, pg, fg, book = market(50, 4, "3.3")
    mult = random_paths(x, 7, 5, seed=3)
    whole = simulate(x, rules, ECON, book, pg, fg, mult, None, CascadeSettings())
    tiny = simulate(x, rules, ECON, book, pg, fg, mult, None, CascadeSettings(memory_mb=1e-3))
    assert tiny.chunk_paths == 1 and whole.chunk_paths == 7
    # BLAS may round a product differently with another number of columns: last-bit differences only.
    for name in STEP_FIELDS:
        np.testing.assert_allclose(whole.steps[name], tiny.steps[name], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(whole.price_factor, tiny.price_factor, rtol=1e-12)


def test_every_dollar_is_accounted_for():
    x, rules, pg, fg, book = market(80, 5, "3.0")
    r = simulate(x, rules, ECON, book, pg, fg, random_paths(x, 5, 8, seed=5), None)
    s = r.steps
    assert s["calls"].sum() > 30
    # seized = repaid + protocol fee + liquidator's bonus; bonus = profit + builder + gas + slippage.
    np.testing.assert_allclose(
        s["seized"] - s["repaid"] - s["protocol_fee"],
        s["liquidator_profit"] + s["builder"] + s["gas"] + s["slippage"],
        rtol=1e-9,
        atol=1e-6,
    )
    assert (s["liquidator_profit"][s["calls"] > 0] > 0).all()
    sold = r.volume.sum(axis=2)
    assert (sold <= s["seized"] - s["protocol_fee"] + 1e-6).all()


def test_a_shock_stops_at_a_fixed_point():
    x, rules, pg, fg, book = market(80, 5, "3.0")
    shock = np.ones(x.n_feeds)
    shock[:2] = 0.7
    mult = np.broadcast_to(shock, (1, 30, x.n_feeds)).copy()
    r = simulate(x, rules, ECON, book, pg, fg, mult, None, CascadeSettings(recovery_per_step=1.0))
    assert r.steps["calls"][0, 0] > 0 and 1 < r.steps_run[0] < 30
    last = r.steps_run[0] - 1
    for name in ("bad_debt", "unliquidatable", "deficit"):
        assert (r.steps[name][0, last:] == r.steps[name][0, last]).all()
    assert r.steps["calls"][0, last:].sum() == 0


def test_price_impact_feeds_later_steps():
    x, rules, pg, fg, _ = market(80, 5, "3.0", scale=1.0)
    shock = np.ones(x.n_feeds)
    shock[:3] = 0.75
    mult = np.broadcast_to(shock, (1, 6, x.n_feeds)).copy()
    deep = simulate(x, rules, ECON, flat_book(len(fg), 1e12), pg, fg, mult, None, CascadeSettings(recovery_per_step=0.0))
    thin = simulate(x, rules, ECON, flat_book(len(fg), 3e6), pg, fg, mult, None, CascadeSettings(recovery_per_step=0.0))
    assert thin.impact[0, 0].max() > 0.01 and thin.price_factor[0, 1].min() < 0.99
    assert thin.steps["calls"][0, 1:].sum() > deep.steps["calls"][0, 1:].sum()
    assert thin.steps["bad_debt"][0, -1] > deep.steps["bad_debt"][0, -1]


def test_invalid_inputs():
    x, rules, pg, fg, book = market(10, 1, "3.0")
    with pytest.raises(InvalidScenario):
        simulate(x, rules, ECON, book, pg, fg, np.ones((2, x.n_feeds)), None)
    with pytest.raises(InvalidScenario):
        simulate(x, rules, ECON, book, pg, fg, -np.ones((1, 2, x.n_feeds)), None)
    no_eth = Economics(gas_units=1.0, gas_price_gwei=1.0, builder_share=0.0)
    with pytest.raises(InvalidScenario):
        simulate(x, rules, no_eth, book, pg, fg, np.ones((1, 2, x.n_feeds)), None)
    with pytest.raises(InvalidScenario):
        CascadeSettings(recovery_per_step=2.0)


shocks = st.lists(st.floats(0.3, 1.2), min_size=6, max_size=6)


def one_step(shock: list[float], n_feeds: int) -> np.ndarray:
    return np.array(shock[:n_feeds], dtype=np.float64)[None, None, :]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 5), version=st.sampled_from(["3.0", "3.3"]), shock=shocks, gas=st.floats(0.1, 50), extra=st.floats(1.0, 1000.0))
def test_more_gas_never_lowers_unliquidatable_debt(seed, version, shock, gas, extra):
    """In one step with deep markets accounts do not interact, so costlier gas can only stop calls.

    (Over several steps it can: fewer liquidations, less price impact, fewer accounts pushed under.)
    """
    x, rules, pg, fg, _ = market(40, seed, version)
    book = flat_book(len(fg), 1e15)
    mult = one_step(shock, x.n_feeds)
    cheap = simulate(x, rules, ECON.with_overrides(gas_price_gwei=gas), book, pg, fg, mult, None)
    dear = simulate(x, rules, ECON.with_overrides(gas_price_gwei=gas * extra), book, pg, fg, mult, None)
    assert dear.steps["unliquidatable"][0, 0] >= cheap.steps["unliquidatable"][0, 0] - 1e-6
    assert dear.steps["calls"][0, 0] <= cheap.steps["calls"][0, 0]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 5), version=st.sampled_from(["3.0", "3.3"]), shock=shocks, depth=st.floats(1e4, 1e9), thinner=st.floats(1.0, 1e3))
def test_more_slippage_never_lowers_unliquidatable_debt(seed, version, shock, depth, thinner):
    """One call per account in one step: no account's call is priced on another's sale."""
    x, rules, pg, fg, _ = market(40, seed, version)
    mult = one_step(shock, x.n_feeds)
    one = CascadeSettings(max_calls_per_step=1)
    deep = simulate(x, rules, ECON, flat_book(len(fg), depth * thinner), pg, fg, mult, None, one)
    thin = simulate(x, rules, ECON, flat_book(len(fg), depth), pg, fg, mult, None, one)
    assert thin.steps["unliquidatable"][0, 0] >= deep.steps["unliquidatable"][0, 0] - 1e-6


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 5), version=st.sampled_from(["3.0", "3.3"]), shock=shocks)
def test_liquidations_raise_bad_debt_only_by_the_bonus_they_pay(seed, version, shock):
    """At one step's prices a call moves ``debt − collateral`` by exactly ``seized − repaid`` ≥ 0.

    So bad debt with liquidations ≤ bad debt without them + the bonus paid (liquidator's and fee),
    and bad debt, deficit and unliquidatable debt are never negative.
    """
    x, rules, pg, fg, book = market(40, seed, version)
    mult = one_step(shock, x.n_feeds)
    run = simulate(x, rules, ECON, book, pg, fg, mult, None)
    frozen = simulate(x, rules, ECON.with_overrides(gas_units=1e15), book, pg, fg, mult, None)
    s = run.steps
    assert frozen.steps["calls"][0, 0] == 0
    assert s["bad_debt"][0, 0] <= frozen.steps["bad_debt"][0, 0] + s["seized"][0, 0] - s["repaid"][0, 0] + 1e-6
    assert s["bad_debt"][0, 0] >= 0 and s["unliquidatable"][0, 0] >= 0
    assert 0 <= s["deficit"][0, 0] <= s["bad_debt"][0, 0] + 1e-6
