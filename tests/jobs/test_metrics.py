"""Snapshot metrics: the engine path against the exact reference, and against the chain's own view."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from defirisk.jobs.metrics import COUNT_METRICS, METRICS, exposure_metrics, snapshot_metrics
from defirisk.model import Exposures
from defirisk.snapshot import take_snapshot
from defirisk.store import Store
from tests.jobs.reference import reference_metrics
from tests.localchain.helpers import LocalAave

WEIGHTS = (0.0, 0.41, 0.5, 0.78, 0.8, 0.83, 0.95, 1.0)


def make_exposures(
    n_units: int, prices: list[float], positions: list[tuple[int, int, float, float, float]], base_usd: float,
    weight_quantum: float = 0.0,
) -> Exposures:
    """Exposures of ``n_units`` units from ``(unit, feed, collateral, debt, liq_weight)`` rows."""
    rows = np.array(positions, dtype=np.float64).reshape(-1, 5)
    f = len(prices)
    exposures = Exposures(
        unit_market=np.array(["0xm"] * n_units, dtype=object),
        unit_account=np.array([f"0x{i:040x}" for i in range(n_units)], dtype=object),
        feed_symbol=np.array([f"T{i}" for i in range(f)], dtype=object),
        feed_asset=np.array([f"0x{i:040x}" for i in range(f)], dtype=object),
        price=np.array(prices, dtype=np.float64),
        base_usd=base_usd,
        pos_unit=rows[:, 0].astype(np.int64),
        pos_feed=rows[:, 1].astype(np.int64),
        pos_asset=rows[:, 1].astype(np.int64),
        collateral=rows[:, 2],
        debt=rows[:, 3],
        liq_weight=rows[:, 4],
        borrow_weight=rows[:, 4] * 0.9,
        bonus=np.full(len(rows), 0.05),
        protocol_fee=np.full(len(rows), 0.1),
    )
    if weight_quantum:
        exposures.weight_quantum = weight_quantum  # type: ignore[attr-defined]
    return exposures


amounts = st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e7, allow_nan=False))


@st.composite
def exposures_strategy(draw: st.DrawFn) -> Exposures:
    n_units = draw(st.integers(0, 8))
    prices = draw(st.lists(st.floats(min_value=1e-3, max_value=1e5), min_size=1, max_size=4))
    rows = []
    if n_units:
        for _ in range(draw(st.integers(0, 24))):
            rows.append((
                draw(st.integers(0, n_units - 1)), draw(st.integers(0, len(prices) - 1)),
                draw(amounts), draw(amounts), draw(st.sampled_from(WEIGHTS)),
            ))
    return make_exposures(n_units, prices, rows, draw(st.sampled_from([1.0, 1.0001, 0.9998])),
                          draw(st.sampled_from([0.0, 1e-4])))


def assert_metrics_agree(got: dict, expected: dict) -> None:
    assert list(got) == list(METRICS)
    for name in METRICS:
        if name in COUNT_METRICS:
            assert type(got[name]) is int and got[name] == expected[name], name
        else:
            assert type(got[name]) is float
            assert got[name] == pytest.approx(expected[name], rel=1e-9, abs=1e-9), name


@settings(max_examples=200, deadline=None)
@given(exposures_strategy())
def test_metrics_equal_the_exact_reference(exposures: Exposures) -> None:
    expected, near = reference_metrics(exposures)
    assume(not near)
    assert_metrics_agree(exposure_metrics(exposures), expected)


def test_hand_computed_example() -> None:
    # Unit 0: 10 × $100 at LT 0.8 = 800 against debt 900 → HF 0.889 (below 1 and 1.05).
    # Unit 1: 10 × $100 at 0.8 = 800 against 780 → HF 1.026 (below 1.05 only).
    # Unit 2: 1 × $100 at 0.5 and 1 × $100 at weight 0 (not counted) against 10 → HF 5.
    # Unit 3: supplies only. Base currency worth $2.
    exposures = make_exposures(
        4, [100.0, 1.0],
        [(0, 0, 10, 0, 0.8), (0, 1, 0, 900, 0.8), (1, 0, 10, 0, 0.8), (1, 1, 0, 780, 0.8),
         (2, 0, 1, 0, 0.5), (2, 0, 1, 0, 0.0), (2, 1, 0, 10, 0.8), (3, 0, 3, 0, 0.8)],
        base_usd=2.0,
    )
    assert exposure_metrics(exposures) == {
        "accounts": 4,
        "borrowers": 3,
        "collateral_usd": 2.0 * (1000 + 1000 + 100 + 300),
        "debt_usd": 2.0 * (900 + 780 + 10),
        "accounts_hf_below_1": 1,
        "debt_hf_below_1_usd": 1800.0,
        "collateral_hf_below_1_usd": 2000.0,
        "accounts_hf_below_1_05": 2,
        "debt_hf_below_1_05_usd": 2.0 * (900 + 780),
    }


def test_an_empty_snapshot_has_zero_metrics() -> None:
    for exposures in (make_exposures(0, [1.0], [], 1.0), make_exposures(3, [1.0], [], 1.0)):
        got = exposure_metrics(exposures)
        assert got["accounts"] == exposures.n_units
        assert all(got[name] == 0 for name in METRICS if name != "accounts")


def test_a_deeper_price_cut_never_lowers_the_liquidatable_debt() -> None:
    base = [(0, 0, 10, 0, 0.8), (0, 1, 0, 700, 0.8), (1, 0, 5, 0, 0.83), (1, 1, 0, 300, 0.8),
            (2, 0, 2, 0, 0.8), (2, 1, 0, 100, 0.8)]
    previous = -1.0
    for price in (120.0, 100.0, 90.0, 80.0, 70.0, 50.0):
        got = exposure_metrics(make_exposures(3, [price, 1.0], base, 1.0))
        assert got["debt_hf_below_1_usd"] >= previous
        assert got["accounts_hf_below_1"] <= got["accounts_hf_below_1_05"] <= got["borrowers"]
        previous = got["debt_hf_below_1_usd"]
    assert previous == 1100.0


@pytest.mark.chain
def test_metrics_of_a_snapshot_match_the_protocols_own_view(reverting_aave: LocalAave, tmp_path: Path) -> None:
    """Counts and sums against ``getUserAccountData`` of every stored account at the snapshot block."""
    aave = reverting_aave
    aave.set_price("WETH", 1200)
    aave.mine(1)
    aave.write_deployment_toml(tmp_path / "dep.toml")
    summary = take_snapshot(str(tmp_path / "dep.toml"), aave.rpc_url, db_path=tmp_path / "db.duckdb", reorg_lag=0)
    with Store.open(tmp_path / "db.duckdb", read_only=True) as store:
        state = store.load_state(summary.snapshot_id)
    got = snapshot_metrics(state)
    accounts = sorted(set(state.accounts["account"]))
    data = aave.get_users_account_data(accounts, block=hex(summary.block_number))
    wad, base = 10**18, 10**8
    debtors = [d for d in data if d[1] > 0]
    below = [d for d in debtors if d[5] < wad]
    close = [d for d in debtors if d[5] < wad * 105 // 100]
    assert got["accounts"] == len(accounts)
    assert got["borrowers"] == len(debtors)
    assert got["accounts_hf_below_1"] == len(below) > 0
    assert got["accounts_hf_below_1_05"] == len(close) > len(below)
    for name, expected in (
        ("collateral_usd", sum(d[0] for d in data)),
        ("debt_usd", sum(d[1] for d in data)),
        ("debt_hf_below_1_usd", sum(d[1] for d in below)),
        ("collateral_hf_below_1_usd", sum(d[0] for d in below)),
        ("debt_hf_below_1_05_usd", sum(d[1] for d in close)),
    ):
        # The contracts truncate each position to whole base units (1e-8 USD): one unit per position.
        assert got[name] == pytest.approx(expected / base, rel=1e-9, abs=len(state.positions) / base), name
