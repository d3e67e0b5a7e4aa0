"""Liquidity curves: the constant-product and depth-table maths, loading, and the bundled defaults."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import DataError, InvalidParameter
from defirisk.liquidation.liquidity import Curve, LiquidityBook, default_liquidity, load_liquidity

CP = Curve(kind="constant_product", depth_usd=1e6)
TABLE = Curve(kind="depth_table", sizes_usd=(1e5, 1e6, 1e7), price_impacts=(0.001, 0.01, 0.05), fee_bps=30)


def test_constant_product_matches_the_pool():
    # Sell Δ tokens into x·y = k with x = 1,000 tokens at $1,000 (R = $1M), y = $1M.
    x, y, delta = 1_000.0, 1e6, 250.0
    received = y * delta / (x + delta)
    value = delta * 1_000.0
    assert CP.impact(np.array([value]))[0] == pytest.approx(1 - received / value)
    new_price = (y - received) / (x + delta)
    assert CP.impact_after(np.array([value]))[0] == pytest.approx(1 - new_price / 1_000.0)


def test_depth_table_interpolates_and_extends():
    got = TABLE.impact(np.array([5e4, 1e5, 5.5e5, 2e7, 1e12]))
    np.testing.assert_allclose(got, [0.0005, 0.001, 0.0055, 0.05 + 0.04 / 9e6 * 1e7, 1.0])


def test_depth_scales_sizes():
    book = LiquidityBook([CP, TABLE])
    g = np.array([0, 1])
    v = np.array([3e5, 3e5])
    np.testing.assert_allclose(book.cost(g, 2 * v, np.array([2.0, 2.0])), 2 * book.cost(g, v, np.array([1.0, 1.0])))
    np.testing.assert_allclose(book.cost(g, v, np.ones(2)), [v[0] ** 2 / (1e6 + v[0]), v[1] * (TABLE.impact(v[1:])[0] + 0.003)])


@settings(max_examples=100, deadline=None)
@given(m=st.floats(0.0005, 0.3), depth=st.floats(0.1, 3.0), which=st.integers(0, 1))
def test_size_at_marginal_inverts_the_marginal_cost(m, depth, which):
    book = LiquidityBook([CP, TABLE])
    g = np.array([which])
    v = book.size_at_marginal(g, np.array([m]), np.array([depth]))[0]
    h = 1e-3 * max(v, 1.0)
    marginal = (book.cost(g, np.array([v + h]), np.array([depth])) - book.cost(g, np.array([max(v - h, 0.0)]), np.array([depth])))[0] / (v + h - max(v - h, 0.0))
    fee = book.curves[which].fee
    if m <= fee:
        assert v == 0.0
    else:
        assert marginal == pytest.approx(m, rel=1e-3, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(a=st.floats(0, 1e9), b=st.floats(0, 1e9), which=st.integers(0, 1))
def test_cost_is_increasing_and_convex_enough(a, b, which):
    curve = (CP, TABLE)[which]
    lo, hi = sorted((a, b))
    book = LiquidityBook([curve])
    g = np.array([0, 0])
    c = book.cost(g, np.array([lo, hi]), np.ones(2))
    assert c[0] <= c[1] + 1e-9
    assert 0 <= c[1] <= hi * (1 + curve.fee) + 1e-9


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "orderbook"},
        {"kind": "constant_product", "depth_usd": 0},
        {"kind": "depth_table", "sizes_usd": (2.0, 1.0), "price_impacts": (0.1, 0.2)},
        {"kind": "depth_table", "sizes_usd": (1.0, 2.0), "price_impacts": (0.2, 0.1)},
        {"kind": "depth_table", "sizes_usd": (1.0,), "price_impacts": (1.0,)},
        {"kind": "constant_product", "depth_usd": 1.0, "fee_bps": -1},
    ],
)
def test_invalid_curves(bad):
    with pytest.raises(DataError):
        Curve(**bad)


def test_load_and_match(tmp_path):
    path = tmp_path / "liq.toml"
    path.write_text(
        '[meta]\nsource = "quotes"\ndate = "2025-01-01"\n'
        '[default]\nkind = "constant_product"\ndepth_usd = 1e6\n'
        '[[curve]]\nasset = "0xABC0000000000000000000000000000000000001"\nkind = "constant_product"\ndepth_usd = 5e8\n'
        '[[curve]]\nsymbol = "TKN"\nkind = "depth_table"\nsizes_usd = [1e5, 1e6]\nprice_impacts = [0.01, 0.02]\n'
    )
    liq = load_liquidity(path)
    assert liq.curve_for("0xabc0000000000000000000000000000000000001", "X").depth_usd == 5e8
    assert liq.curve_for("0x" + "1" * 40, "TKN").kind == "depth_table"
    assert liq.curve_for("0x" + "1" * 40, "OTHER") is liq.default
    assert liq.to_dict()["source"] == "quotes"


def test_load_errors(tmp_path):
    with pytest.raises(InvalidParameter):
        load_liquidity(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[default\n")
    with pytest.raises(InvalidParameter):
        load_liquidity(broken)
    no_default = tmp_path / "nodefault.toml"
    no_default.write_text('[[curve]]\nkind = "constant_product"\ndepth_usd = 1.0\n')
    with pytest.raises(DataError):
        load_liquidity(no_default)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[default]\nkind = "constant_product"\ndepth_usd = 1.0\ncolour = "red"\n')
    with pytest.raises(DataError):
        load_liquidity(unknown)


def test_bundled_defaults_say_where_they_come_from():
    liq = default_liquidity()
    assert liq.date and liq.source
    curves = [*liq.curves, liq.default]
    assert len(liq.curves) >= 10
    for c in curves:
        assert c.source and c.date and c.assumption
    assert all(c.asset == c.asset.lower() and c.asset.startswith("0x") for c in liq.curves)
