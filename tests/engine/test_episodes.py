"""Historical episodes: bundled data, paths without look-ahead, symbol mapping, unmapped feeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from defirisk.engine.episodes import episode_path, iso, parse_step
from defirisk.engine.history import load_history
from defirisk.engine.scenarios import EpisodeScenario, ScenarioContext
from defirisk.engine.vocabulary import default_groups, symbol_map_with
from defirisk.errors import InvalidScenario
from defirisk.paths import data_dir
from tests.engine.synthetic import random_exposures

EPISODES = [
    "2020-03-12_black_thursday",
    "2022-05_ust_luna",
    "2022-06_steth_3ac",
    "2022-11_ftx_crv",
    "2023-03_usdc_svb",
    "2024-08-05_yen_carry",
    "2025-10-10_tariff_crash",
]


def snapshot_exposures(symbols: list[str]):
    exposures = random_exposures(60, n_feeds=len(symbols), seed=31)
    exposures.feed_symbol = np.array(symbols, dtype=object)
    return exposures


def resolve(scenario: EpisodeScenario, symbols: list[str], overrides: dict | None = None):
    context = ScenarioContext(snapshot_exposures(symbols), default_groups(), symbol_map_with(overrides))
    return scenario.resolve(context)


def seconds(stamp: str) -> int:
    return int(pd.Timestamp(stamp).timestamp())


def test_all_seven_episodes_are_bundled_and_resolve() -> None:
    history = load_history()
    assert sorted(history.episodes) == EPISODES
    for name in EPISODES:
        resolved = resolve(EpisodeScenario(name), ["WETH", "WBTC", "USDC"])
        assert resolved.multipliers.shape[0] == len(resolved.times) >= 10
        np.testing.assert_array_equal(resolved.multipliers[0], 1.0)
        times = np.array([seconds(t) for t in resolved.times])
        assert len(set(np.diff(times))) == 1
        start = history.episodes[name].start
        assert times[0] <= start < times[0] + np.diff(times)[0]


def test_paths_read_each_price_as_of_its_time() -> None:
    # Binance 1 h bars: the close of the bar opened at 15:00 is known at 16:00, not before.
    resolved = resolve(EpisodeScenario("2023-03_usdc_svb"), ["USDC", "WETH"])
    frame = pd.read_csv(data_dir() / "prices" / "2023-03_usdc_svb.csv")
    bars = frame[(frame.symbol == "USDC") & (frame.interval == "1h")].set_index("timestamp_utc")["close"]
    times = list(resolved.times)
    anchor_price = resolve_anchor_price(times[0])
    at_16 = resolved.multipliers[times.index("2023-03-11T16:00:00Z"), 0] * anchor_price
    at_15 = resolved.multipliers[times.index("2023-03-11T15:00:00Z"), 0] * anchor_price
    assert at_16 == pytest.approx(bars["2023-03-11T15:00:00Z"], rel=1e-12)
    assert at_15 == pytest.approx(bars["2023-03-11T14:00:00Z"], rel=1e-12)
    assert resolved.multipliers[:, 0].min() * anchor_price == pytest.approx(bars.min(), rel=1e-12)


def resolve_anchor_price(anchor_time: str) -> float:
    """USDC's anchor in 2023-03: before the hourly series starts, the Yahoo daily close applies."""
    frame = pd.read_csv(data_dir() / "prices" / "2023-03_usdc_svb.csv")
    daily = frame[(frame.symbol == "USDC") & (frame.interval == "1d")]
    # The daily bar opened the day before closes at the anchor (00:00 of the first stress day).
    opened = (pd.Timestamp(anchor_time) - pd.Timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return float(daily.set_index("timestamp_utc").loc[opened, "close"])


def test_eth_quoted_series_are_converted_with_the_episodes_eth_price() -> None:
    history = load_history()
    name = "2024-08-05_yen_carry"
    frame = pd.read_csv(data_dir() / "prices" / f"{name}.csv")
    cbeth = frame[frame.symbol == "cbETH"].iloc[100]
    weth = frame[(frame.symbol == "WETH") & (frame.source == cbeth.source)]
    t = seconds(cbeth.timestamp_utc)
    weth_times = np.array([seconds(s) for s in weth.timestamp_utc])
    eth_usd = weth.close.to_numpy()[np.searchsorted(weth_times, t, side="right") - 1]
    price, fresh = history.price(name, "cbETH", [t])
    assert fresh[0]
    assert price[0] == pytest.approx(cbeth.close * eth_usd, rel=1e-12)


def test_unmapped_feeds_are_reported_and_held_flat() -> None:
    resolved = resolve(EpisodeScenario("2023-03"), ["WETH", "DAI", "GHO"])
    assert [(u.symbol, u.feed) for u in resolved.unmapped] == [("DAI", 1), ("GHO", 2)]
    assert "2023-03_usdc_svb" in resolved.unmapped[0].reason
    np.testing.assert_array_equal(resolved.multipliers[:, 1:], 1.0)
    assert resolved.multipliers[:, 0].std() > 0
    remapped = resolve(EpisodeScenario("2023-03"), ["WETH", "DAI", "GHO"], {"DAI": ["USDC"], "GHO": ["USDT"]})
    assert remapped.unmapped == ()
    assert remapped.multipliers[:, 1].min() < 0.95


def test_wsteth_follows_steth_where_the_episode_has_no_wsteth() -> None:
    resolved = resolve(EpisodeScenario("2022-06"), ["wstETH", "WETH"])
    assert "wstETH→stETH" in resolved.description
    # stETH traded at a discount to ETH in June 2022: the LST fell further than ETH at some point.
    assert (resolved.multipliers[:, 0] < resolved.multipliers[:, 1] * 0.97).any()


def test_window_anchor_keeps_the_ten_days_before() -> None:
    history = load_history()
    info = history.episodes["2022-06_steth_3ac"]
    path = episode_path(history, info.name, ["WETH", "stETH"], anchor="window")
    assert info.window_start <= path.times[0] < info.window_start + 2 * 3600
    np.testing.assert_array_equal(path.multipliers[0], 1.0)
    coarse = episode_path(history, info.name, ["WETH"], anchor="episode", step=parse_step("1d"))
    assert iso(coarse.times[0]) == "2022-06-13T00:00:00Z"
    assert set(np.diff(coarse.times)) == {86400}
    troughs = path.troughs()
    assert troughs.multiplier.tolist() == pytest.approx(path.multipliers.min(axis=0).tolist())


@pytest.mark.parametrize(("name", "reason"), [("1999", "unknown episode"), ("2022", "ambiguous episode")])
def test_bad_episode_names(name: str, reason: str) -> None:
    with pytest.raises(InvalidScenario, match=reason):
        resolve(EpisodeScenario(name), ["WETH"])
