"""Liquidator economics: the defaults derived from the bundled transactions, overrides, profit."""

from __future__ import annotations

import numpy as np
import pytest

from defirisk.errors import InvalidParameter
from defirisk.liquidation.economics import Economics, default_economics, derive_defaults


def test_defaults_from_the_receipts():
    d = derive_defaults()
    # Successful liquidations with gas fields: 8 transactions (the LINK/ETH pair shares one receipt).
    assert len(d.transactions) == 8
    # Sorted gas_used: 424030 434509 473093 474013 | 602248 903276 956677 2784381.
    assert d.gas_units == (474_013 + 602_248) / 2
    # Sorted base fees (gwei): 34.49 48.67 50.49 52.74 | 64.16 80.04 94.67 101.25.
    assert d.gas_price_gwei == pytest.approx((52.735827884 + 64.156349578) / 2)
    # aave-v3-origin main: liquidationCall scenarios 311600 320690 340429 | 349519 349519 435143.
    assert d.liquidation_call_gas == (340_429 + 349_519) / 2


def test_builder_share_from_two_aave_bundles():
    d = derive_defaults()
    rows = {r["block_number"]: r for r in d.builder_transactions}
    # 13244807: 8.182733924513576561 WETH received at a 5 % bonus → 0.389654 ETH of bonus; base fee
    # 101.245374002 gwei × 956677 gas = 0.096859 ETH; 0.203422 ETH to the builder: 0.6948 of the rest.
    weth = rows[13244807]
    assert weth["bonus_eth"] == pytest.approx(8.182733924513576561 * 0.05 / 1.05)
    assert weth["share_of_surplus"] == pytest.approx(0.203422019300707411 / (weth["bonus_eth"] - 0.09685912066411136))
    # 13376024: 0.767615 WETH of debt bought aLINK at a 10 % bonus; 9.34 gwei priority × 474013 gas.
    link = rows[13376024]
    assert link["bonus_eth"] == pytest.approx(0.767615458043667978 * 0.10)
    assert link["builder_payment_eth"] == pytest.approx(9340280020 * 474013 * 1e-18)
    # The LINK→ETH transaction spent more on gas than its two liquidations earned: left out.
    assert rows[13302365]["share_of_surplus"] is None
    assert d.builder_share == pytest.approx((weth["share_of_surplus"] + link["share_of_surplus"]) / 2)
    assert d.builder_share == pytest.approx(0.4168, abs=1e-4)
    assert d.builder_share_of_bonus == pytest.approx((0.203422019300707411 / weth["bonus_eth"] + link["share_of_bonus"]) / 2)


def test_default_economics_and_overrides():
    e = default_economics()
    assert e.gas_units == derive_defaults().gas_units and e.eth_price_usd is None
    assert "median" in e.sources["builder_share"]
    o = e.with_overrides(gas_price_gwei=2.0, builder_share=None)
    assert o.gas_price_gwei == 2.0 and o.builder_share == e.builder_share
    assert o.sources["gas_price_gwei"] == "override" and o.sources["gas_units"] == e.sources["gas_units"]
    with pytest.raises(InvalidParameter):
        e.with_overrides(colour="red")


@pytest.mark.parametrize(
    "bad",
    [{"gas_units": -1}, {"gas_price_gwei": float("nan")}, {"builder_share": 1.0}, {"builder_share_of": "profit"}, {"eth_price_usd": 0}],
)
def test_invalid_economics(bad):
    with pytest.raises(InvalidParameter):
        Economics(**{"gas_units": 1e5, "gas_price_gwei": 10.0, "builder_share": 0.5, **bad})


def test_gas_and_profit():
    e = Economics(gas_units=500_000, gas_price_gwei=20.0, builder_share=0.5)
    assert e.gas_usd(2_000.0) == pytest.approx(500_000 * 20e-9 * 2_000)
    profit, builder = e.profit(np.array([100.0, 10.0]), np.array([10.0, 5.0]), np.array([20.0, 20.0]))
    np.testing.assert_allclose(builder, [35.0, 0.0])
    np.testing.assert_allclose(profit, [35.0, -15.0])
    f = Economics(gas_units=500_000, gas_price_gwei=20.0, builder_share=0.5, builder_share_of="bonus")
    profit, builder = f.profit(np.array([100.0]), np.array([10.0]), np.array([20.0]))
    assert (profit[0], builder[0]) == (20.0, 50.0)
    assert (e.bonus_kept, f.bonus_kept) == (1.0, 0.5)
