"""The offline importer: canonical shape, valuation, amounts, debt scaling, price_time, errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from defirisk.adapters.compound_v2.dataset import COMPTROLLER, load_markets, load_positions
from defirisk.adapters.compound_v2.importer import import_compound_v2_dataset
from defirisk.errors import InvalidParameter
from defirisk.model import ACCOUNT_COLUMNS, ASSET_COLUMNS, POSITION_COLUMNS, MarketState
from defirisk.store.codec import STATE_TABLES, encode_frame

CETH = "0x4ddc2d193948926d02f9b1fe9e1daa0718270ed5"
CUSDC = "0x39aa39c021dfbae8fac545936693ac917d5e7563"
CWBTC2 = "0xccf4429db6322d5c611ee964527d42e5d685dd6a"
CWBTC_LEGACY = "0xc11b1268c1a384e55c48c2391d8d480264a3a7f4"
CSAI = "0xf5dce57282a584d2746faf1593d3121fcac444dc"


def _asset(state: MarketState, ctoken: str) -> pd.Series:
    return state.assets.set_index("asset").loc[ctoken]


def test_meta_marks_an_offline_snapshot_without_block(may_state: MarketState) -> None:
    meta = may_state.meta
    assert meta.family == "compound-v2" and meta.rules_version == "compound-v2"
    assert meta.offline is True
    assert meta.block_number is None and meta.block_hash is None and meta.timestamp is None
    assert meta.deployment == "compound-v2-ethereum-dataset-2023-05-09"
    assert (meta.base_currency, meta.base_currency_decimals) == ("ETH", 18)
    assert "no block" in meta.note and "inferred" in meta.note
    assert meta.market_params["comptroller"] == COMPTROLLER
    assert meta.market_params["close_factor_mantissa"] == 5 * 10**17
    assert meta.market_params["liquidation_incentive_mantissa"] == 108 * 10**16
    assert meta.market_params["price_time"] is None


def test_tables_are_canonical_and_storable(may_state: MarketState) -> None:
    assert list(may_state.assets.columns) == list(ASSET_COLUMNS)
    assert list(may_state.accounts.columns) == list(ACCOUNT_COLUMNS)
    assert list(may_state.positions.columns) == list(POSITION_COLUMNS)
    for name, spec in STATE_TABLES.items():
        encode_frame(getattr(may_state, name), spec)  # raises DataError on anything the store refuses


def test_accounts_and_markets(may_state: MarketState, march_state: MarketState) -> None:
    assert len(may_state.accounts) == 29_369
    assert len(march_state.accounts) == 29_296
    assert len(may_state.assets) == 19
    assert set(may_state.positions["market"]) == {COMPTROLLER}
    # A position per dataset row with a valued supply (a market with an exchange rate) or a debt.
    raw = load_positions("2023-05-09")
    valued = load_markets().set_index("ctoken_address")["exchange_rate_est"].notna()
    valued[CETH] = True
    expected = (raw["ctoken_balance"] > 0) & raw["ctoken_address"].map(valued) | (
        raw["stored_borrow_balance"] > 0
    )
    assert len(may_state.positions) == expected.sum()
    assert may_state.positions.duplicated(["account", "asset"]).sum() == 0


def test_valuation_prices(may_state: MarketState) -> None:
    eth = _asset(may_state, CETH)
    assert eth["price_raw"] == 10**18
    assert eth["extra"]["price_mantissa"] == 10**18
    usdc = _asset(may_state, CUSDC)
    # ETH/USD is defined by USDC = 1 USD; the README's DAI/USDC CF check assumes ETH ≈ 1,841 USD.
    assert usdc["price_usd"] == pytest.approx(1.0, rel=1e-12)
    assert may_state.meta.base_currency_usd == pytest.approx(1_841.57, abs=0.01)
    assert usdc["extra"]["price_mantissa"] == usdc["price_raw"] * 10**12  # 36 − 6 decimals scale
    # One price per underlying: legacy cWBTC at cWBTC2's price, its stale subgraph price kept apart.
    legacy, current = _asset(may_state, CWBTC_LEGACY), _asset(may_state, CWBTC2)
    assert legacy["price_raw"] == current["price_raw"]
    assert current["price"] == pytest.approx(15.00, abs=0.01)
    assert legacy["extra"]["subgraph_price_eth"] == pytest.approx(14.49, abs=0.01)
    assert _asset(may_state, CSAI)["price_raw"] == 5_285_551_943_761_727
    sources = {
        a: e["price_source"]
        for a, e in zip(may_state.assets["asset"], may_state.assets["extra"], strict=True)
    }
    assert sources[CETH] == "k-implied" and sources[CWBTC_LEGACY] == f"k-implied via {CWBTC2}"
    assert sources[CSAI] == "fixed"


def test_k_coefficients_are_reproduced_by_rate_cf_and_price(may_state: MarketState) -> None:
    markets = load_markets().set_index("ctoken_address")
    for row in may_state.assets.itertuples(index=False):
        extra = row.extra
        if row.liquidation_threshold == 0 or row.asset == CWBTC_LEGACY:
            continue
        rate = extra["exchange_rate_mantissa"] / 10 ** (10 + row.decimals)
        k = rate * row.liquidation_threshold * row.price
        assert k == pytest.approx(markets.at[row.asset, "k_collateral_eth_per_ctoken_2023_05_09"], rel=1e-14)


def test_parameters(may_state: MarketState) -> None:
    assets = may_state.assets
    assert (assets["ltv"] == assets["liquidation_threshold"]).all()
    assert np.allclose(assets["liquidation_bonus"], 0.08)
    # 2.8 % of the seized value to reserves, expressed as a share of the 8 % bonus.
    fee = assets["protocol_fee"].to_numpy()
    assert np.allclose(fee, 0.378)
    assert np.allclose(fee * 0.08 / 1.08, 0.028)
    deprecated = set(assets.loc[~assets["borrowing_enabled"], "asset"])
    assert deprecated == {
        CSAI,
        "0x158079ee67fce2f58472a96584a73c7ab9ac95c1",
        "0x7713dd9ca933848f6819f38b8352d9a15ea73f67",
    }
    assert set(assets.loc[assets["usage_as_collateral_enabled"], "asset"]) == set(
        assets.loc[assets["liquidation_threshold"] > 0, "asset"]
    )


def test_collateral_is_ctokens_times_the_stored_exchange_rate(may_state: MarketState) -> None:
    rate = {
        a: e["exchange_rate_mantissa"]
        for a, e in zip(may_state.assets["asset"], may_state.assets["extra"], strict=True)
    }
    decimals = dict(zip(may_state.assets["asset"], may_state.assets["decimals"], strict=True))
    balances = dict(zip(may_state.accounts["account"], may_state.accounts["extra"], strict=True))
    supplies = may_state.positions[may_state.positions["collateral_enabled"]]
    assert len(supplies) > 10_000
    for row in supplies.itertuples(index=False):
        ctokens = balances[row.account]["ctoken_balances"][row.asset]
        assert row.collateral_raw == ctokens * rate[row.asset] // 10**18
        assert row.collateral == pytest.approx(
            ctokens * rate[row.asset] / 10 ** (18 + decimals[row.asset]), rel=1e-15
        )


def test_ctoken_raw_balances_come_from_the_floats_decimal_form(may_state: MarketState) -> None:
    raw = load_positions("2023-05-09")
    positive = raw[raw["ctoken_balance"] > 0]
    balances = dict(zip(may_state.accounts["account"], may_state.accounts["extra"], strict=True))
    for account, ctoken, balance in zip(
        positive["account"], positive["ctoken_address"], positive["ctoken_balance"], strict=True
    ):
        assert balances[account]["ctoken_balances"][ctoken] == int(Decimal(repr(balance)) * 10**8)
    assert sum(len(e["ctoken_balances"]) for e in balances.values()) == len(positive)


def test_unvalued_and_negative_balances_are_reported(may_state: MarketState) -> None:
    params = may_state.meta.market_params
    assert set(params["unvalued_ctoken_balances"]) == {
        CSAI,
        "0x158079ee67fce2f58472a96584a73c7ab9ac95c1",
        "0x12392f67bdf24fae0af363c24ac620a2f67dad86",
        "0x041171993284df560249b57358f931d9eb7b925d",
        "0x7713dd9ca933848f6819f38b8352d9a15ea73f67",
    }
    assert params["unvalued_ctoken_balances"][CSAI]["rows"] == 517
    assert params["negative_ctoken_balances"] == {
        "0xd6e3913cabcee45ae67d18209cdb9e8a95a3e4f7": {CETH: pytest.approx(-4.983798, abs=1e-6)},
        "0xf58e925b8d9732719c3fd5ed5eee0d808581ec61": {CUSDC: pytest.approx(-618_397.369209, abs=1e-6)},
    }
    unvalued = may_state.positions["asset"].isin(list(params["unvalued_ctoken_balances"]))
    assert (may_state.positions.loc[unvalued, "collateral"] == 0).all()


def test_debt_is_stored_principal_scaled_to_the_accounts_total(may_state: MarketState) -> None:
    raw = load_positions("2023-05-09")
    pos = may_state.positions
    price = dict(zip(may_state.assets["asset"], may_state.assets["price"], strict=True))
    value = (pos["debt"] * pos["asset"].map(price)).groupby(pos["account"]).sum()
    totals = raw.groupby("account")["total_borrow_value_in_eth"].first()
    borrowers = totals[totals > 0]
    assert len(borrowers) == 8_851
    assert np.allclose(value.reindex(borrowers.index).to_numpy(), borrowers.to_numpy(), rtol=1e-12, atol=0)
    scale = pd.Series(
        {
            a: e["borrow_scale"]
            for a, e in zip(may_state.accounts["account"], may_state.accounts["extra"], strict=True)
        }
    )
    merged = raw[raw["stored_borrow_balance"] > 0].merge(
        pos, left_on=["account", "ctoken_address"], right_on=["account", "asset"]
    )
    assert len(merged) == (raw["stored_borrow_balance"] > 0).sum()
    expected = merged["stored_borrow_balance"] * merged["account"].map(scale)
    assert np.allclose(merged["debt"], expected, rtol=1e-15)
    # The scale is the interest accrued since the last interaction: about 1 or more, median ≈ 5 %.
    quantiles = may_state.meta.market_params["borrow_scale_quantiles"]
    assert 0.97 < quantiles["0.0"] and 1.0 <= quantiles["0.01"] and 1.03 < quantiles["0.5"] < 1.08


def test_price_time_reprices_without_changing_amounts(
    march_state: MarketState, march_at_depeg_start: MarketState
) -> None:
    pd.testing.assert_frame_equal(march_state.positions, march_at_depeg_start.positions)
    meta = march_at_depeg_start.meta
    assert meta.base_currency_usd == pytest.approx(1_437.32)  # Binance ETHUSDT close 2023-03-10 00:00
    assert meta.market_params["price_time"] == "2023-03-10T00:00Z"
    wbtc = _asset(march_at_depeg_start, CWBTC2)
    assert wbtc["price"] == pytest.approx(20_362.22 / 1_437.32, rel=1e-12)
    assert wbtc["extra"]["price_source"] == "Binance 1h close"
    usdc = _asset(march_at_depeg_start, CUSDC)
    assert usdc["extra"]["price_source"] == "1 USDT (no candle)"  # USDC candles start 2023-03-11 15:00
    assert usdc["price"] == pytest.approx(1 / 1_437.32, rel=1e-12)
    yfi = march_at_depeg_start.assets.set_index("symbol").loc["YFI"]
    assert yfi["extra"]["price_source"].startswith("snapshot valuation")


def test_bad_arguments_are_usage_errors() -> None:
    with pytest.raises(InvalidParameter):
        import_compound_v2_dataset("2023-05-10")
    with pytest.raises(InvalidParameter, match="no hourly prices"):
        import_compound_v2_dataset("2023-05-09", price_time="2023-05-09T00:00Z")
    with pytest.raises(InvalidParameter, match="ISO-8601"):
        import_compound_v2_dataset("2023-05-09", price_time="yesterday")


def test_store_round_trip_keeps_the_snapshot(may_state: MarketState, tmp_path: Path) -> None:
    from defirisk.adapters.compound_v2.crosscheck import crosscheck_collateral
    from defirisk.adapters.compound_v2.reference import CompoundV2Reference
    from defirisk.store.connection import open_connection
    from defirisk.store.reader import load_state
    from defirisk.store.writer import write_snapshot

    con, _ = open_connection(tmp_path / "snapshots.duckdb", read_only=False, wait=0)
    try:
        back = load_state(con, write_snapshot(con, may_state))
    finally:
        con.close()
    assert back.meta.offline is True and back.meta.block_number is None
    assert back.meta.market_params == may_state.meta.market_params
    assert crosscheck_collateral(back) == crosscheck_collateral(may_state)
    sample = list(may_state.accounts["account"][:300])
    before, after = CompoundV2Reference(may_state), CompoundV2Reference(back)
    for account in sample:
        market = may_state.meta.market_params["comptroller"]
        assert after.account_liquidity(market, account) == before.account_liquidity(market, account)
