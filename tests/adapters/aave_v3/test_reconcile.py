"""Reconciliation rows: one per differing field, to the wei; accounts missing on one side."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.adapters.aave_v3.calls import ACCOUNT_DATA_FIELDS
from defirisk.adapters.aave_v3.reconcile import reconcile
from defirisk.adapters.aave_v3.reference import AaveReference
from defirisk.model import (
    ACCOUNT_COLUMNS,
    ASSET_COLUMNS,
    EMODE_COLUMNS,
    POSITION_COLUMNS,
    MarketState,
    SnapshotMeta,
    empty_frame,
)

MARKET = "0x" + "aa" * 20
WETH = "0x" + "01" * 20
USDC = "0x" + "02" * 20
ALICE = "0x" + "a1" * 20
BOB = "0x" + "b0" * 20


def asset(address: str, decimals: int, price: int, ltv: float, lt: float) -> dict:
    row = dict.fromkeys(ASSET_COLUMNS, 0.0)
    row.update(market=MARKET, asset=address, symbol="X", name="X", decimals=decimals, price_raw=price,
               ltv=ltv, liquidation_threshold=lt, emode_category=0, extra={})
    return row


def state(weth_collateral: int, usdc_debt: int) -> MarketState:
    meta = SnapshotMeta("t", "aave-v3", 1, 1, "0x" + "00" * 32, 0, "test", "test")
    assets = pd.DataFrame([asset(WETH, 18, 181685499606, 0.805, 0.83), asset(USDC, 6, 99997427, 0.77, 0.80)])
    accounts = pd.DataFrame([
        {"market": MARKET, "account": a, "emode_category": 0, "extra": {}} for a in (ALICE, BOB)
    ], columns=list(ACCOUNT_COLUMNS))
    positions = pd.DataFrame([
        {"market": MARKET, "account": ALICE, "asset": WETH, "collateral_raw": weth_collateral, "collateral": 0.0,
         "debt_raw": 0, "debt": 0.0, "collateral_enabled": True},
        {"market": MARKET, "account": ALICE, "asset": USDC, "collateral_raw": 0, "collateral": 0.0,
         "debt_raw": usdc_debt, "debt": 0.0, "collateral_enabled": False},
        {"market": MARKET, "account": BOB, "asset": USDC, "collateral_raw": 10**9, "collateral": 0.0,
         "debt_raw": 0, "debt": 0.0, "collateral_enabled": True},
    ], columns=list(POSITION_COLUMNS))
    return MarketState(meta, assets[list(ASSET_COLUMNS)], empty_frame(EMODE_COLUMNS), accounts, positions)


def chain_view_of(s: MarketState) -> pd.DataFrame:
    ref = AaveReference(s).all_accounts()
    return ref.astype(object)


amounts = st.tuples(st.integers(10**15, 10**24), st.integers(1, 10**13))


@settings(max_examples=50, deadline=None)
@given(amounts)
def test_agreeing_views_have_no_mismatch(a: tuple[int, int]) -> None:
    s = state(*a)
    rec = reconcile(s, chain_view_of(s))
    assert rec.accounts_checked == 2
    assert rec.mismatch_count == 0


@settings(max_examples=50, deadline=None)
@given(amounts, st.sampled_from(ACCOUNT_DATA_FIELDS))
def test_one_wei_off_in_one_field_is_one_mismatch(a: tuple[int, int], field: str) -> None:
    s = state(*a)
    view = chain_view_of(s)
    view.loc[view["account"] == ALICE, field] = int(view.loc[view["account"] == ALICE, field].iloc[0]) + 1
    rec = reconcile(s, view)
    assert rec.mismatches.to_dict("records") == [{
        "market": MARKET, "account": ALICE, "field": field,
        "ours": int(chain_view_of(s).loc[0, field]), "chain": int(view.loc[0, field]),
    }]
    assert rec.as_dict()["mismatches"] == 1


def test_an_account_on_one_side_only_is_a_presence_mismatch() -> None:
    s = state(10**18, 10**9)
    view = chain_view_of(s)
    extra = view.iloc[[1]].assign(account="0x" + "cc" * 20)
    rec = reconcile(s, pd.concat([view.iloc[[0]], extra], ignore_index=True))
    assert rec.accounts_checked == 1
    assert sorted((r["account"], r["field"], r["ours"], r["chain"]) for r in rec.mismatches.to_dict("records")) == [
        (BOB, "presence", "stored", None),
        ("0x" + "cc" * 20, "presence", None, "read"),
    ]
