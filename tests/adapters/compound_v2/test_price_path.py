"""The USDC-depeg price path: multipliers from the hourly closes, and what the data cannot give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from defirisk.adapters.compound_v2.dataset import load_hourly_prices
from defirisk.adapters.compound_v2.price_path import usdc_depeg_path, usdc_depeg_worst_point, yahoo_usdc_low
from defirisk.errors import DataError, InvalidParameter
from defirisk.model import MarketState

# Yahoo daily USDC-USD rows of the bundled episode file prices/2023-03_usdc_svb.csv (source yahoo_1d).
YAHOO_ROWS = """timestamp_utc,symbol,interval,open,high,low,close,quote,source
2023-03-10T00:00:00Z,USDC,1d,1.0000009536743164,1.0009150505065918,0.9992179870605469,0.9994789958000183,USD,yahoo_1d
2023-03-11T00:00:00Z,USDC,1d,0.9994699954986572,1.0000669956207275,0.8773999810218811,0.9714999794960022,USD,yahoo_1d
2023-03-12T00:00:00Z,USDC,1d,0.9682999849319458,0.9954249858856201,0.9470130205154419,0.9920690059661865,USD,yahoo_1d
2023-03-11T00:00:00Z,USDC,1h,,,,0.95,USDT,binance_1h_rtuchman
"""


@pytest.fixture
def yahoo_csv(tmp_path: Path) -> Path:
    path = tmp_path / "2023-03_usdc_svb.csv"
    path.write_text(YAHOO_ROWS)
    return path


def test_path_shape_and_values(march_at_depeg_start: MarketState) -> None:
    path = usdc_depeg_path(march_at_depeg_start)
    assert len(path.times) == 97  # 2023-03-10 00:00 … 2023-03-14 00:00, hourly
    assert path.multipliers.shape == (97, len(path.feed_symbol))
    symbols = list(path.feed_symbol)
    # The state is priced at the path's first hour: every observed feed starts at 1.
    assert np.allclose(path.multipliers[0], 1.0)
    assert np.all(path.multipliers[:, symbols.index("ETH")] == 1.0)
    hourly = load_hourly_prices()
    at = pd.Timestamp("2023-03-11T16:00Z")
    usdc = path.at("2023-03-11T16:00Z")[symbols.index("USDC")]
    state_usdc = march_at_depeg_start.assets.set_index("symbol").loc["USDC", "price"]
    assert usdc * state_usdc == pytest.approx(hourly.at[at, "USDC"] / hourly.at[at, "ETH"], rel=1e-12)
    wbtc = path.at("2023-03-13T00:00Z")[symbols.index("WBTC")]
    start = pd.Timestamp("2023-03-10T00:00Z")
    t = pd.Timestamp("2023-03-13T00:00Z")
    expected = (hourly.at[t, "BTC"] / hourly.at[t, "ETH"]) / (
        hourly.at[start, "BTC"] / hourly.at[start, "ETH"]
    )
    assert wbtc == pytest.approx(expected, rel=1e-12)
    assert path.base_usd[0] == pytest.approx(1_437.32)


def test_gaps_are_reported_not_hidden(march_at_depeg_start: MarketState) -> None:
    path = usdc_depeg_path(march_at_depeg_start)
    assert path.unmapped == ["DAI", "REP", "SAI", "FEI", "YFI"]
    assert path.assumed_peg == {
        "DAI": "none in the file",
        "USDC": "2023-03-11T15:00Z",
        "TUSD": "2023-03-11T15:00Z",
        "USDP": "2023-03-11T15:00Z",
    }
    symbols = list(path.feed_symbol)
    for held in ("REP", "SAI", "FEI", "YFI"):
        assert np.all(path.multipliers[:, symbols.index(held)] == 1.0)
        assert path.sources[held] == "no data: held at the state's price"
    # Before its first candle USDC is assumed at 1 USDT, i.e. it moves against ETH like USDT does.
    early = path.times < pd.Timestamp("2023-03-11T15:00Z")
    usdc, usdt = symbols.index("USDC"), symbols.index("USDT")
    assert np.allclose(path.multipliers[early, usdc], path.multipliers[early, usdt])
    assert path.multipliers[:, usdc].min() < 0.9


def test_proxy_makes_dai_follow_usdc(march_at_depeg_start: MarketState) -> None:
    path = usdc_depeg_path(march_at_depeg_start, proxies={"DAI": "USDC"})
    symbols = list(path.feed_symbol)
    assert "DAI" not in path.unmapped and "DAI" not in path.assumed_peg
    assert path.proxied == {"DAI": "USDC"}
    assert np.array_equal(
        path.multipliers[:, symbols.index("DAI")], path.multipliers[:, symbols.index("USDC")]
    )
    with pytest.raises(InvalidParameter, match="no such feed"):
        usdc_depeg_path(march_at_depeg_start, proxies={"DAI": "USDX"})


def test_worst_point_uses_the_yahoo_daily_low(march_at_depeg_start: MarketState, yahoo_csv: Path) -> None:
    assert yahoo_usdc_low(yahoo_csv) == (pytest.approx(0.8774, abs=1e-4), "2023-03-11")
    path = usdc_depeg_path(march_at_depeg_start, proxies={"DAI": "USDC"})
    worst = usdc_depeg_worst_point(march_at_depeg_start, path, yahoo_csv)
    assert worst.anchor_time == "2023-03-11T16:00Z"  # lowest observed hourly USDC close (0.9128)
    symbols = list(path.feed_symbol)
    state_price = march_at_depeg_start.assets.drop_duplicates("symbol").set_index("symbol")["price"]
    usdc_usd = worst.multipliers[symbols.index("USDC")] * state_price["USDC"] * worst.base_usd
    assert usdc_usd == pytest.approx(0.8774, abs=1e-4)
    assert worst.multipliers[symbols.index("DAI")] == worst.multipliers[symbols.index("USDC")]
    assert np.array_equal(
        np.delete(worst.multipliers, [symbols.index("USDC"), symbols.index("DAI")]),
        np.delete(path.at("2023-03-11T16:00Z"), [symbols.index("USDC"), symbols.index("DAI")]),
    )


def test_bad_windows(march_at_depeg_start: MarketState, tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="before start"):
        usdc_depeg_path(march_at_depeg_start, start="2023-03-12T00:00Z", end="2023-03-11T00:00Z")
    with pytest.raises(InvalidParameter, match="no hourly prices"):
        usdc_depeg_path(march_at_depeg_start, start="2023-04-01T00:00Z", end="2023-04-02T00:00Z")
    with pytest.raises(DataError, match="missing"):
        yahoo_usdc_low(tmp_path / "absent.csv")


def test_bundled_yahoo_low() -> None:
    assert yahoo_usdc_low() == (pytest.approx(0.8774, abs=1e-4), "2023-03-11")


def test_engine_and_reference_agree_at_the_worst_point(march_at_depeg_start: MarketState) -> None:
    """The depeg's deepest point through the engine's kernel and through the integer reference (oracle
    prices scaled by the same multipliers): the same accounts become liquidatable."""
    from defirisk.adapters.compound_v2.family import CompoundV2Family, price_feeds
    from defirisk.adapters.compound_v2.reference import CompoundV2Reference
    from defirisk.engine.kernel import health_factors, unit_values

    state = march_at_depeg_start
    path = usdc_depeg_path(state, proxies={"DAI": "USDC"})
    worst = usdc_depeg_worst_point(state, path)
    exposures = CompoundV2Family().exposures(state)
    hf = health_factors(exposures, worst.multipliers)[:, 0]
    debt = unit_values(exposures, worst.multipliers).debt[:, 0]

    _, asset_feed = price_feeds(state.assets.reset_index(drop=True))
    prices = {
        asset: round(extra["price_mantissa"] * worst.multipliers[feed])
        for asset, extra, feed in zip(state.assets["asset"], state.assets["extra"], asset_feed, strict=True)
    }
    reference = CompoundV2Reference(state, prices=prices).all_accounts()
    assert list(reference["account"]) == list(exposures.unit_account)
    material = debt >= 1e-5
    liquidatable = (reference["shortfall"].to_numpy() > 0) & material
    assert np.array_equal(liquidatable, (hf < 1) & material)
    # A depeg cuts stablecoin debts as well as stablecoin collateral: some accounts become
    # liquidatable (USDC/DAI collateral), others recover (USDC/DAI debt).
    start = health_factors(exposures, np.ones(exposures.n_feeds))[:, 0]
    assert (liquidatable & (start >= 1)).sum() > 0
    assert (~liquidatable & material & (start < 1)).sum() > 0
