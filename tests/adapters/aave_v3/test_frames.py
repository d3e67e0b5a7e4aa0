"""An Aave market and account reads as canonical tables, and that the store keeps them exactly."""

from __future__ import annotations

import pytest

from defirisk.adapters.aave_v3.accounts import _balance_calls, _balances
from defirisk.adapters.aave_v3.config import ReserveConfig
from defirisk.adapters.aave_v3.frames import (
    AccountRead,
    ReserveBalances,
    accounts_frame,
    assets_frame,
    bonus_fraction,
    emodes_frame,
    positions_frame,
)
from defirisk.adapters.aave_v3.market import AaveMarket, EModeCategory, Reserve
from defirisk.chain import TokenMetadata
from defirisk.errors import DataError
from defirisk.model import MarketState, SnapshotMeta
from defirisk.store import Store

POOL = "0x" + "aa" * 20
CRV = "0x" + "0c" * 20
USDC = "0x" + "0d" * 20
USER = "0x" + "a1" * 20


def reserve(asset: str, rid: int, word: int, price: int, symbol: str | None) -> Reserve:
    data = {
        "configuration": word, "liquidity_index": 10**27 + 5, "current_liquidity_rate": 1,
        "variable_borrow_index": 10**27 + 7, "current_variable_borrow_rate": 2, "current_stable_borrow_rate": 3,
        "last_update_timestamp": 1_700_000_000, "id": rid, "a_token": "0x" + f"{rid + 1:02x}" * 20,
        "stable_debt_token": "0x" + f"{rid + 0x41:02x}" * 20, "variable_debt_token": "0x" + f"{rid + 0x81:02x}" * 20,
        "interest_rate_strategy": "0x" + "ee" * 20, "accrued_to_treasury": 0, "unbacked": 0,
        "isolation_mode_total_debt": 12_345,
    }
    return Reserve(asset, ReserveConfig.decode(word), data, 10**27 + 9, 10**27 + 11, price, "0x" + "ff" * 20,
                   TokenMetadata(asset, symbol, "Curve DAO Token" if symbol else None, 18))


# CRV: LTV 35 %, LT 41 %, bonus 8.3 %, 18 decimals, active, fee 10 %, debt ceiling $5M (2 decimals).
CRV_WORD = 3500 | 4100 << 16 | 10830 << 32 | 18 << 48 | 1 << 56 | 1000 << 152 | 500_000_000 << 212 | 51_000_000 << 116
# USDC: LTV 77 %, LT 80 %, bonus 4.5 %, 6 decimals, active, borrowing, borrowable in isolation.
USDC_WORD = 7700 | 8000 << 16 | 10450 << 32 | 6 << 48 | 1 << 56 | 1 << 58 | 1 << 61 | 1000 << 64


def market() -> AaveMarket:
    return AaveMarket(
        provider="0x" + "bb" * 20, pool=POOL, oracle="0x" + "cc" * 20, data_provider="0x" + "dd" * 20,
        pool_revision=1, base_currency="0x" + "00" * 20, base_currency_unit=10**8,
        reserves=(reserve(CRV, 0, CRV_WORD, 51140000, "CRV"), reserve(USDC, 1, USDC_WORD, 99997427, None)),
        emodes=(EModeCategory(1, 9000, 9300, 10100, None, None, "ETH correlated"),
                EModeCategory(2, 9700, 9750, 10100, "0x" + "99" * 20, 100_000_000, "\ufffdbad label")),
    )


def test_bonus_fraction() -> None:
    assert bonus_fraction(10500) == 0.05
    assert bonus_fraction(0) == 0.0


def test_asset_rows_follow_the_model_conventions() -> None:
    rows = {r["asset"]: r for r in assets_frame(market(), 1.0).to_dict("records")}
    crv, usdc = rows[CRV], rows[USDC]
    assert (crv["ltv"], crv["liquidation_threshold"], crv["liquidation_bonus"]) == (0.35, 0.41, 0.083)
    assert (crv["protocol_fee"], crv["debt_ceiling"], crv["is_isolated"], crv["supply_cap"]) == (0.1, 5_000_000.0, True, 51_000_000.0)
    assert crv["price"] == 0.5114 and crv["price_raw"] == 51140000 and crv["symbol"] == "CRV"
    assert not crv["borrowing_enabled"]
    assert usdc["borrowable_in_isolation"] and usdc["reserve_factor"] == 0.1 and not usdc["is_isolated"]
    # A token that would not say its symbol is stored as empty text and flagged in extra.
    assert usdc["symbol"] == "" and usdc["extra"]["token_metadata_missing"] == ["symbol", "name"]
    assert crv["extra"]["configuration"] == CRV_WORD and crv["extra"]["normalized_income"] == 10**27 + 9


def reads() -> list[AccountRead]:
    # Collateral CRV (bit 1), borrowing USDC (bit 2).
    return [AccountRead(USER, 0, 0b0110, (
        ReserveBalances(CRV, True, False, collateral=3 * 10**18 + 1, collateral_scaled=3 * 10**18),
        ReserveBalances(USDC, False, True, variable_debt=500_000_001, variable_debt_scaled=499_000_000,
                        stable_debt=2, stable_debt_principal=1),
    ))]


def test_positions_sum_debt_kinds_and_scale_by_decimals() -> None:
    rows = positions_frame(market(), reads()).to_dict("records")
    assert [(r["asset"], r["collateral_raw"], r["debt_raw"], r["collateral_enabled"]) for r in rows] == [
        (CRV, 3 * 10**18 + 1, 0, True), (USDC, 0, 500_000_003, False),
    ]
    assert rows[1]["debt"] == 500.000003


def test_balance_calls_and_answers_pair_up_by_the_bitmap() -> None:
    m = market()
    calls = _balance_calls(m, USER, 0b0110)
    assert [c.target for c in calls] == [m.reserves[0].a_token, m.reserves[1].variable_debt_token] + [
        m.reserves[1].stable_debt_token] * 2
    # Balances as GenericLogic computes them: scaled rayMul index, half up.
    income, debt_index = m.reserves[0].normalized_income, m.reserves[1].normalized_debt
    assert _balances(m, 0b0110, [3 * 10**18, 499_000_000, 6, 5]) == (
        ReserveBalances(CRV, True, False, (3 * 10**18 * income + 10**27 // 2) // 10**27, 3 * 10**18),
        ReserveBalances(USDC, False, True, 0, 0, (499_000_000 * debt_index + 10**27 // 2) // 10**27, 499_000_000, 6, 5),
    )
    with pytest.raises(DataError):
        _balance_calls(m, USER, 1 << 10)


def test_tables_survive_the_store_exactly() -> None:
    m = market()
    meta = SnapshotMeta("t", "aave-v3", 1, 5, "0x" + "12" * 32, 0, "aave-v3/1", "test", rules_version="3.0")
    state = MarketState(meta, assets_frame(m, 1.0), emodes_frame(m), accounts_frame(m, reads()), positions_frame(m, reads()))
    with Store.open(":memory:") as store:
        back = store.load_state(store.write_snapshot(state))
    for name in ("assets", "emodes", "accounts", "positions"):
        assert getattr(back, name).to_dict("records") == getattr(state, name).to_dict("records"), name


def test_a_reserve_without_stable_debt_token_reads_only_variable_debt() -> None:
    m = market()
    usdc = m.reserves[1]
    bare = Reserve(usdc.asset, usdc.config, {**usdc.data, "stable_debt_token": "0x" + "00" * 20},
                   usdc.normalized_income, usdc.normalized_debt, usdc.price_raw, usdc.price_source, usdc.token)
    m = AaveMarket(**{**m.__dict__, "reserves": (m.reserves[0], bare)})
    calls = _balance_calls(m, USER, 0b0100)
    assert [c.target for c in calls] == [usdc.variable_debt_token]
    debt = (7 * usdc.normalized_debt + 10**27 // 2) // 10**27
    assert _balances(m, 0b0100, [7]) == (ReserveBalances(USDC, False, True, 0, 0, debt, 7, 0, 0),)
