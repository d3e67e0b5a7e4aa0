"""Invariants: monotonicity in prices, monotone liquidation curves, order-free scenarios.

The monotonicity invariants hold for the exact health factor (``weight_quantum = 0``). Aave's own HF
floors the average liquidation threshold to whole bps and can rise by up to one bps of it when a
low-threshold collateral falls; ``test_aave_floor_can_raise_hf_after_a_deeper_drop`` shows the
contracts' integer maths doing so and the engine reproducing it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defirisk.adapters.aave_v3.reference import AaveReference
from defirisk.engine import ExposureMatrix, curves, exposures_of, health_factors, stress
from defirisk.engine.api import SUMMARY_COLUMNS
from defirisk.model import MarketState
from tests.engine.aave_states import aave_states, address, asset_row, demo_state, state_of
from tests.engine.test_reference import aave_exposures

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
moves = st.floats(-0.99, 3.0, allow_nan=False)


def exact_matrix(state: MarketState) -> ExposureMatrix:
    return ExposureMatrix.from_exposures(exposures_of(state), weight_quantum=0.0)


@SETTINGS
@given(state=aave_states(), data=st.data())
def test_a_deeper_collateral_drop_never_raises_a_health_factor(
    state: MarketState, data: st.DataObject
) -> None:
    matrix = exact_matrix(state)
    f = data.draw(st.integers(0, matrix.n_feeds - 1))
    first = data.draw(st.floats(0.01, 2.0))
    deeper = first * data.draw(st.floats(0.0, 1.0))
    m = np.ones((matrix.n_feeds, 2))
    m[f] = [first, deeper]
    hf = health_factors(matrix, m)
    only_collateral = matrix.debt[:, f] == 0
    assert np.all(hf[only_collateral, 1] <= hf[only_collateral, 0] * (1 + 1e-12))


@SETTINGS
@given(state=aave_states(), data=st.data())
def test_a_higher_debt_price_never_raises_a_health_factor(state: MarketState, data: st.DataObject) -> None:
    matrix = exact_matrix(state)
    f = data.draw(st.integers(0, matrix.n_feeds - 1))
    first = data.draw(st.floats(0.01, 2.0))
    higher = first * data.draw(st.floats(1.0, 50.0))
    m = np.ones((matrix.n_feeds, 2))
    m[f] = [first, higher]
    hf = health_factors(matrix, m)
    only_debt = matrix.weighted_collateral[:, f] == 0
    assert np.all(hf[only_debt, 1] <= hf[only_debt, 0] * (1 + 1e-12))


def test_aave_floor_can_raise_hf_after_a_deeper_drop() -> None:
    # $10,000 at LT 95 % plus a small LT 41 % collateral: as the small one falls, the average LT
    # rises, and when it crosses a whole bps the floored HF jumps up by more than it lost.
    assets = [asset_row(0, 6, 10**8, 9500, 9000, 0, False), asset_row(1, 6, 10**8, 4100, 3500, 0, False)]
    assets.append(asset_row(2, 6, 10**8, 0, 0, 0, False))

    def account_state(small_price: int) -> MarketState:
        state = state_of(
            [assets[0], assets[1] | {"price_raw": small_price, "price": small_price / 1e8}, assets[2]],
            [],
            [{"market": assets[0]["market"], "account": address(0), "emode_category": 0, "extra": {}}],
            [
                {"market": assets[0]["market"], "account": address(0), "asset": a["asset"], **amounts}
                for a, amounts in zip(
                    assets,
                    [
                        {
                            "collateral_raw": 10_000 * 10**6,
                            "collateral": 10_000.0,
                            "debt_raw": 0,
                            "debt": 0.0,
                        },
                        {"collateral_raw": 100 * 10**6, "collateral": 100.0, "debt_raw": 0, "debt": 0.0},
                        {"collateral_raw": 0, "collateral": 0.0, "debt_raw": 8_000 * 10**6, "debt": 8_000.0},
                    ],
                    strict=True,
                )
            ],
        )
        return state

    rises = []
    for price in range(10**8, 94 * 10**6, -(6 * 10**4)):
        before, after = account_state(price), account_state(price - 6 * 10**4)
        hf_ref = [
            AaveReference(s).account_data(s.accounts.market[0], address(0)).health_factor
            for s in (before, after)
        ]
        if hf_ref[1] > hf_ref[0]:
            engine = [health_factors(aave_exposures(s), np.ones(3))[0, 0] for s in (before, after)]
            assert engine[1] > engine[0]
            np.testing.assert_allclose(engine, np.array(hf_ref) / 1e18, rtol=1e-9)
            rises.append(price)
    assert len(rises) >= 3, "the bps floor never raised the HF: the example no longer shows the effect"


def assert_monotone_away_from_zero(frame: pd.DataFrame, column: str) -> None:
    up = frame[frame.move >= 0].sort_values("move")[column].to_numpy()
    down = frame[frame.move <= 0].sort_values("move", ascending=False)[column].to_numpy()
    for side in (up, down):
        assert np.all(np.diff(side) >= -1e-9 * max(1.0, np.abs(side).max())), column


@SETTINGS
@given(state=aave_states(max_accounts=8))
def test_liquidation_curves_are_monotone(state: MarketState) -> None:
    result = curves(state, moves=np.round(np.arange(-90, 101, 5) / 100, 2), weight_quantum=0.0)
    for _, frame in result.curves.groupby(["target", "asset"], dropna=False):
        zero = frame[frame.move == 0]
        assert (zero.units == 0).all()
        for column in ("units", "debt_usd_snapshot_prices", "collateral_usd_snapshot_prices"):
            assert_monotone_away_from_zero(frame, column)


def test_scenario_order_does_not_change_results() -> None:
    state = demo_state(300, seed=2)
    scenarios = ["WETH=-30%", "group:stables=-5%", "CRV=-60%", "WBTC=+50%", "group:eth=-15%"]
    a = stress(state, scenarios)
    b = stress(state, scenarios[::-1])
    key = ["scenario"]
    pd.testing.assert_frame_equal(
        a.summary.sort_values(key).reset_index(drop=True)[SUMMARY_COLUMNS],
        b.summary.sort_values(key).reset_index(drop=True)[SUMMARY_COLUMNS],
    )
    by = ["scenario", "bucket"]
    pd.testing.assert_frame_equal(
        a.distribution.sort_values(by).reset_index(drop=True),
        b.distribution.sort_values(by).reset_index(drop=True),
    )
    pd.testing.assert_frame_equal(
        a.at_risk.sort_values(["scenario", "rank"]).reset_index(drop=True),
        b.at_risk.sort_values(["scenario", "rank"]).reset_index(drop=True),
    )
