"""Canonical tables of a Comet snapshot, their store round trip, and the reconciliation (pure + DuckDB).

The market is ``factory.make_market()``: the real Ethereum cUSDCv3 deployment-time configuration with
illustrative prices and totals (no compiled Comet is available, so nothing here is read from a node).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from defirisk.adapters.comet import reference as ref
from defirisk.adapters.comet.frames import market_state, paused
from defirisk.adapters.comet.maths import present_value_borrow, present_value_supply
from defirisk.adapters.comet.reconcile import VIEW_COLUMNS, reconcile, reference_view
from defirisk.adapters.comet.structs import UserBasic
from defirisk.store import Store
from tests.adapters.comet.factory import COMET, USDC, make_market, make_state, meta


def chain_view(market, holdings) -> pd.DataFrame:
    """What the Comet would answer, computed from the raw reads (not from the canonical tables)."""
    rows = []
    for h in holdings:
        p = h.user.principal
        rows.append((COMET, h.account,
                     present_value_borrow(market.indexes.borrow, -p) if p < 0 else 0,
                     present_value_supply(market.indexes.supply, p) if p > 0 else 0,
                     ref.is_liquidatable(market.view, h.user, h.collateral, market.stored_indexes),
                     ref.is_borrow_collateralized(market.view, h.user, h.collateral, market.stored_indexes)))
    return pd.DataFrame(rows, columns=list(VIEW_COLUMNS), dtype=object)


def test_asset_rows_carry_the_real_configuration() -> None:
    state, market, _ = make_state()
    state.validate()
    rows = {r["symbol"]: r for r in state.assets.to_dict("records")}
    assert list(state.assets["symbol"]) == ["USDC", "COMP", "LINK", "UNI", "WBTC", "WETH"]
    base, weth = rows["USDC"], rows["WETH"]
    assert (base["asset"], base["decimals"], base["price_raw"], base["ltv"], base["liquidation_threshold"]) == (
        USDC, 6, 10**8, 0.0, 0.0)
    assert base["borrowing_enabled"] and not base["usage_as_collateral_enabled"]
    assert (weth["ltv"], weth["liquidation_threshold"], weth["decimals"], weth["price"], weth["price_usd"]) == (
        0.825, 0.895, 18, 3_000.0, 3_000.0)
    # Buyer's bonus at the storefront: d = 0.5 × (1 − 0.95) = 0.025; d / (1 − d) = 1 / 39.
    assert weth["liquidation_bonus"] == pytest.approx(1 / 39, rel=1e-15)
    assert rows["COMP"]["liquidation_bonus"] == pytest.approx(0.035 / 0.965, rel=1e-15)
    assert weth["extra"]["liquidation_factor"] == 95 * 10**16
    assert weth["extra"]["storefront_discount"] == 25 * 10**15
    assert base["extra"]["totals_basic"]["base_borrow_index"] == market.totals.base_borrow_index
    assert base["extra"]["indexes_accrued"] == {"supply": market.indexes.supply, "borrow": market.indexes.borrow}


def test_positions_hold_accrued_base_balances_and_held_collateral() -> None:
    state, market, holdings = make_state()
    pos = state.positions.set_index(["account", "asset"])
    for h in holdings:
        p = h.user.principal
        base = pos.loc[(h.account, USDC)]
        if p < 0:
            assert (base["debt_raw"], base["collateral_raw"]) == (present_value_borrow(market.indexes.borrow, -p), 0)
            assert base["debt"] == base["debt_raw"] / 10**6
        else:
            assert (base["collateral_raw"], base["debt_raw"]) == (present_value_supply(market.indexes.supply, p), 0)
        assert not base["collateral_enabled"]
        for asset, amount in h.collateral.items():
            row = pos.loc[(h.account, asset)]
            assert (row["collateral_raw"], row["debt_raw"], bool(row["collateral_enabled"])) == (amount, 0, True)
    assert len(state.positions) == sum(1 + len(h.collateral) for h in holdings)
    assert set(state.accounts["account"]) == {h.account for h in holdings}
    stored = {r.account: UserBasic(**r.extra) for r in state.accounts.itertuples(index=False)}
    assert stored == {h.account: h.user for h in holdings}


def test_price_unit_other_than_usd_leaves_usd_unknown() -> None:
    market = make_market(price_unit="ETH")
    state = market_state(meta(market, base_currency="ETH", base_currency_usd=float("nan")), market, [])
    assert all(math.isnan(x) for x in state.assets["price_usd"])
    assert state.positions.empty and state.accounts.empty
    state.validate()


def test_pause_flags_mark_every_row() -> None:
    market = make_market()
    market = replace(market, totals=replace(market.totals, pause_flags=0b11000))
    state = market_state(meta(market), market, [])
    assert state.assets["is_paused"].all()
    assert state.assets["extra"][0]["paused"] == paused(0b11000) == ["absorb", "buy"]


def test_reconciliation_agrees_and_names_every_difference() -> None:
    state, market, holdings = make_state(80, seed=4)
    view = chain_view(market, holdings)
    liquidatable = view["liquidatable"].astype(bool)
    assert 0 < liquidatable.sum() < len(view), "the sample needs accounts on both sides"
    rec = reconcile(state, view)
    assert (rec.accounts_checked, rec.mismatch_count) == (80, 0)
    assert reference_view(state).equals(view)

    changed = view.copy()
    changed.loc[3, "borrow_balance"] = changed.loc[3, "borrow_balance"] + 1
    changed.loc[5, "liquidatable"] = not changed.loc[5, "liquidatable"]
    rec = reconcile(state, changed.drop(index=7))
    got = {(r.account, r.field) for r in rec.mismatches.itertuples(index=False)}
    assert got == {(view.loc[3, "account"], "borrow_balance"), (view.loc[5, "account"], "liquidatable"),
                   (view.loc[7, "account"], "presence")}


def test_reserves_are_checked_against_get_reserves() -> None:
    market = make_market()
    assert reconcile(market_state(meta(market), market, []), chain_view(market, [])).mismatch_count == 0
    off = replace(market, reserves_read=market.reserves + 1)
    (row,) = reconcile(market_state(meta(off), off, []), chain_view(off, [])).mismatches.itertuples(index=False)
    assert (row.market, row.account, row.field, row.ours, row.chain) == (
        COMET, None, "reserves", market.reserves, market.reserves + 1)


def test_the_store_keeps_everything_the_reference_needs(tmp_path: Path) -> None:
    state, market, holdings = make_state(40, seed=2)
    with Store.open(tmp_path / "db.duckdb") as store:
        snapshot_id = store.write_snapshot(state, {"accounts_checked": 40})
    with Store.open(tmp_path / "db.duckdb", read_only=True) as store:
        loaded = store.load_state(snapshot_id)
    assert loaded.meta.family == "comet"
    assert reference_view(loaded).equals(reference_view(state))
    assert reconcile(loaded, chain_view(market, holdings)).mismatch_count == 0
