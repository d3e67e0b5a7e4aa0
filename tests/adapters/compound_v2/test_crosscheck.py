"""The engine's view reproduces the dataset's own account totals (data tests, known figures)."""

from __future__ import annotations

import pytest

from defirisk.adapters.compound_v2.crosscheck import crosscheck_collateral
from defirisk.errors import DataError
from defirisk.model import MarketState

CWBTC_LEGACY = "0xc11b1268c1a384e55c48c2391d8d480264a3a7f4"


@pytest.mark.parametrize(
    ("fixture", "accounts", "collateral", "borrow", "short"),
    [
        ("may_state", 29_369, 579_333.193, 300_000.686, 1_552),
        ("march_state", 29_296, 691_107.759, 373_608.440, 1_526),
    ],
)
def test_borrowing_power_reproduces_the_dataset(
    request: pytest.FixtureRequest, fixture: str, accounts: int, collateral: float, borrow: float, short: int
) -> None:
    state = request.getfixturevalue(fixture)
    result = crosscheck_collateral(state)
    assert result["accounts"] == accounts
    assert result["snapshot_valuation"] is True
    assert result["collateral"]["sum_dataset"] == pytest.approx(collateral, abs=5e-4)
    # Outside the two known groups every account agrees to float precision.
    other = result["collateral_other"]
    assert other["within_tolerance"] == other["accounts"] == accounts - result["accounts_repriced"] - 2
    assert other["max_rel_error"] < 1e-10
    assert result["accounts_negative_balance"] == 2
    assert set(result["repriced_markets"]) == {CWBTC_LEGACY}
    assert 420 <= result["accounts_repriced"] <= 440
    # The engine values legacy cWBTC at the WBTC price, above the subgraph's stale one, and ignores the
    # two negative balances (−6.64 ETH in the dataset's sum).
    assert result["collateral"]["sum_engine"] > result["collateral"]["sum_dataset"]
    assert result["collateral"]["within_tolerance"] >= accounts - 440
    # Borrow values are the dataset's by construction; the stored principal alone misses ≈ 0.6 %.
    assert result["borrow"]["sum_engine"] == pytest.approx(borrow, abs=5e-4)
    assert result["borrow"]["within_tolerance"] == accounts
    assert 0.003 < result["borrow_unscaled_gap"] < 0.01
    # The dataset's "borrow > collateral" count includes the two negative-balance accounts without debt.
    assert result["shortfall_dataset"] == short
    assert result["shortfall_engine"] == short - 2


def test_may_collateral_sum_without_the_known_groups(may_state: MarketState) -> None:
    result = crosscheck_collateral(may_state)
    legacy = result["repriced_markets"][CWBTC_LEGACY]
    assert legacy["price_eth"] == pytest.approx(15.00, abs=0.01)
    assert legacy["subgraph_price_eth"] == pytest.approx(14.49, abs=0.01)
    gap = result["collateral"]["sum_engine"] - result["collateral"]["sum_dataset"]
    assert 40 < gap < 50  # ≈ +40.3 ETH legacy cWBTC repricing, +6.64 ETH negative balances dropped


def test_price_time_is_flagged(march_at_depeg_start: MarketState) -> None:
    assert crosscheck_collateral(march_at_depeg_start)["snapshot_valuation"] is False


def test_requires_the_dataset_totals(may_state: MarketState) -> None:
    from dataclasses import replace

    stripped = replace(may_state, accounts=may_state.accounts.assign(extra=[{}] * len(may_state.accounts)))
    with pytest.raises(DataError, match="dataset's account totals"):
        crosscheck_collateral(stripped)
