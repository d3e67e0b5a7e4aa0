"""The bundled dataset's files carry the totals its README states (data tests)."""

from __future__ import annotations

import pandas as pd
import pytest

from defirisk.adapters.compound_v2.dataset import (
    dataset_dir,
    load_hourly_prices,
    load_markets,
    load_positions,
    snapshot_names,
)
from defirisk.errors import InvalidParameter

# (accounts, rows, Σ borrow ETH, Σ collateral ETH, borrowers, accounts short, Σ shortfall ETH)
KNOWN = {
    "2023-05-09": (29_369, 106_714, 300_000.686, 579_333.193, 8_851, 1_552, 65.79),
    "2023-03-27": (29_296, 106_445, 373_608.440, 691_107.759, 8_886, 1_526, 67.38),
}


def _per_account(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.groupby("account")[["total_borrow_value_in_eth", "total_collateral_value_in_eth"]].first()


@pytest.mark.parametrize("which", sorted(KNOWN))
def test_snapshot_totals(which: str) -> None:
    accounts, rows, borrow, collateral, borrowers, short, shortfall = KNOWN[which]
    frame = load_positions(which)
    totals = _per_account(frame)
    assert len(frame) == rows
    assert len(totals) == accounts
    assert totals["total_borrow_value_in_eth"].sum() == pytest.approx(borrow, abs=5e-4)
    assert totals["total_collateral_value_in_eth"].sum() == pytest.approx(collateral, abs=5e-4)
    assert (totals["total_borrow_value_in_eth"] > 0).sum() == borrowers
    gap = totals["total_borrow_value_in_eth"] - totals["total_collateral_value_in_eth"]
    assert (gap > 0).sum() == short
    assert gap[gap > 0].sum() == pytest.approx(shortfall, abs=5e-3)


@pytest.mark.parametrize("which", sorted(KNOWN))
def test_collateral_totals_decompose_into_k_coefficients(which: str) -> None:
    markets = load_markets().set_index("ctoken_address")
    k = markets[f"k_collateral_eth_per_ctoken_{which.replace('-', '_')}"]
    frame = load_positions(which)
    rebuilt = (frame["ctoken_balance"] * frame["ctoken_address"].map(k)).groupby(frame["account"]).sum()
    totals = _per_account(frame)["total_collateral_value_in_eth"]
    gap = (rebuilt - totals.reindex(rebuilt.index)).abs()
    assert (gap <= 1e-6 * totals.abs().reindex(rebuilt.index) + 1e-15).all()


def test_markets_table() -> None:
    markets = load_markets()
    assert len(markets) == 19
    assert markets["ctoken_address"].str.fullmatch(r"0x[0-9a-f]{40}").all()
    assert set(markets["liquidation_incentive"]) == {1.08}
    assert set(markets["close_factor"]) == {0.5}
    cf = markets.set_index("market_label")["collateral_factor"]
    assert cf["cETH"] == 0.825 and cf["cUSDC"] == 0.855 and cf["cWBTC2"] == 0.70 and cf["cUSDT"] == 0.0
    zero_k = markets["k_collateral_eth_per_ctoken_2023_05_09"] == 0
    assert (zero_k == (markets["collateral_factor"] == 0)).all()


def test_hourly_prices_range_and_depeg_gap() -> None:
    hourly = load_hourly_prices()
    assert hourly.notna().sum().sum() == 7_818
    assert hourly.index[0] == pd.Timestamp("2023-02-24T13:00Z")
    assert hourly.index[-1] == pd.Timestamp("2023-03-27T11:00Z")
    usdc = hourly["USDC"].dropna()
    assert usdc.index[0] == pd.Timestamp("2023-03-11T15:00Z")
    assert usdc.min() == pytest.approx(0.9128, abs=1e-4)
    assert usdc.idxmin() == pd.Timestamp("2023-03-11T16:00Z")
    assert "DAI" not in hourly.columns


def test_bundle_ships_parquet_not_csv_twins() -> None:
    names = sorted(p.name for p in dataset_dir().iterdir())
    assert names == [
        "README.md",
        "markets.csv",
        "positions.parquet",
        "positions_2023-03-27.parquet",
        "prices_hourly.csv",
    ]
    assert snapshot_names() == ["2023-03-27", "2023-05-09"]


def test_unknown_snapshot_is_a_usage_error() -> None:
    with pytest.raises(InvalidParameter, match="2023-03-27 or 2023-05-09"):
        load_positions("2023-01-01")
