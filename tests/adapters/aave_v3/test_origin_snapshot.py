"""Snapshots of a real Aave v3.6 market (compiled aave-v3-origin 3.6.0 on anvil), reconciled to the wei.

The conformance suite runs on it; beyond that: the e-mode bitmaps are stored as the chain holds them,
every account (e-mode in categories sharing an asset, e-mode-only collateral, ltvzero, isolated,
multi-debt, near liquidation) reconciles with ``getUserAccountData`` under the v3.6 maths and *not*
under the older generations' maths (so the comparison has teeth), balances round as ``TokenMath``
does, and the family's float exposures give the reference's health factors.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import eth_abi
import numpy as np
import pandas as pd
import pytest

from defirisk.adapters.aave_v3.frames import bonus_fraction, fraction
from defirisk.adapters.aave_v3.liquidation import aave_rules
from defirisk.adapters.aave_v3.reconcile import reconcile
from defirisk.adapters.aave_v3.reference import AaveReference
from defirisk.deployments import load_deployment
from defirisk.engine import health_factors
from defirisk.families import get_family
from defirisk.model import MarketState
from defirisk.units import RAY
from tests.adapters.conformance import (
    AdapterConformance,
    ChainPositions,
    ConformanceCase,
    Taken,
    take_and_load,
)
from tests.localchain import multicall3
from tests.localchain.aave_origin import LocalAaveOrigin
from tests.localchain.origin_deploy import calldata
from tests.localchain.origin_market import BY_CATEGORY, EMODES, NAMED, RESERVES

pytestmark = pytest.mark.chain

USER_RESERVE = ["uint256", "uint256", "uint256", "uint256", "uint256", "uint256", "uint256", "uint40", "bool"]


@pytest.fixture(scope="module")
def origin() -> Iterator[LocalAaveOrigin]:
    with LocalAaveOrigin.start() as chain:
        yield chain


def expected_assets(origin: LocalAaveOrigin) -> dict[str, dict]:
    """Canonical asset columns as ``origin_market`` configured them (``emode_category`` 0 from v3.2)."""
    return {
        origin.reserves[r.symbol].underlying: {
            "symbol": r.symbol, "name": r.name, "decimals": r.decimals, "price_raw": r.price, "price": r.price / 1e8,
            "ltv": fraction(r.ltv), "liquidation_threshold": fraction(r.liquidation_threshold),
            "liquidation_bonus": bonus_fraction(r.liquidation_bonus), "protocol_fee": fraction(r.protocol_fee),
            "reserve_factor": fraction(r.reserve_factor), "supply_cap": float(r.supply_cap),
            "borrow_cap": float(r.borrow_cap), "debt_ceiling": r.debt_ceiling / 100, "is_isolated": r.debt_ceiling != 0,
            "borrowable_in_isolation": r.borrowable_in_isolation, "is_siloed": False,
            "usage_as_collateral_enabled": r.liquidation_threshold != 0, "borrowing_enabled": r.borrowing_enabled,
            "is_active": True, "is_frozen": False, "is_paused": False, "emode_category": 0,
        }
        for r in RESERVES
    }


def data_provider_positions(origin: LocalAaveOrigin, accounts: list[str], block: int) -> ChainPositions:
    """Positions that count at ``block`` (v3.6: debt, or enabled collateral whatever its LT), from the
    data provider's ``getUserReserveData`` (token ``balanceOf``s), not the adapter's path."""
    dp = origin.deployment.data_provider
    pairs = [(a, r.underlying) for a in accounts for r in origin.reserves.values()]
    answers = multicall3.aggregate3(origin.rpc, [
        (dp, calldata("getUserReserveData(address,address)", asset, account)) for account, asset in pairs
    ], hex(block))
    out: ChainPositions = {}
    for (account, asset), raw in zip(pairs, answers, strict=True):
        balance, _, variable, *_, enabled = eth_abi.decode(USER_RESERVE, raw)
        collateral = balance if enabled else 0
        if collateral or variable:
            out[(account, asset)] = (collateral, variable, bool(enabled))
    return out


def conformance_case(origin: LocalAaveOrigin, folder: Path) -> ConformanceCase:
    return ConformanceCase(
        deployment=load_deployment(str(origin.write_deployment_toml(folder / "local-aave-v3-origin.toml"))),
        rpc_url=origin.rpc_url,
        accounts=set(origin.deployment.accounts.values()),
        assets=expected_assets(origin),
        chain_positions=lambda accounts, block: data_provider_positions(origin, accounts, block),
        foreign_address=origin.reserves["WETH"].underlying,
    )


@pytest.fixture(scope="module")
def case(origin: LocalAaveOrigin, tmp_path_factory: pytest.TempPathFactory) -> ConformanceCase:
    return conformance_case(origin, tmp_path_factory.mktemp("origin"))


class TestAaveV36Conformance(AdapterConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def conformance_case(cls, case: ConformanceCase) -> ConformanceCase:
        return case


@pytest.fixture(scope="module")
def taken(case: ConformanceCase, tmp_path_factory: pytest.TempPathFactory) -> Taken:
    return take_and_load(case, tmp_path_factory.mktemp("snap") / "defirisk.duckdb")


@pytest.fixture(scope="module")
def chain_view(origin: LocalAaveOrigin, taken: Taken) -> pd.DataFrame:
    """``getUserAccountData`` of every stored account, read apart from the adapter (same block: the
    module's node is never changed)."""
    rows = [(taken.summary.market, a, *origin.account_data(a)) for a in taken.state.accounts["account"]]
    return pd.DataFrame(rows, columns=["market", "account", "total_collateral_base", "total_debt_base",
                                       "available_borrows_base", "current_liquidation_threshold", "ltv",
                                       "health_factor"], dtype=object)


def with_revision(state: MarketState, revision: int) -> MarketState:
    meta = replace(state.meta, market_params={**state.meta.market_params, "pool_revision": revision})
    return replace(state, meta=meta)


def test_pool_revision_rules_and_note(taken: Taken) -> None:
    meta = taken.state.meta
    assert meta.market_params["pool_revision"] == 10
    assert meta.rules_version == "3.6"
    assert "bitmaps" in meta.note and "v3.6" in meta.note
    rules = aave_rules(taken.state)
    assert (rules.version, rules.close_factor_of_position, rules.min_leftover) == ("3.3", True, 1000.0)
    assert "verified on chain" in rules.note


def test_emode_categories_and_bitmaps_are_the_chains(origin: LocalAaveOrigin, taken: Taken) -> None:
    assert taken.state.emodes.drop(columns="market").to_dict("records") == [
        {"category": e.category, "label": e.label, "ltv": e.ltv / 1e4,
         "liquidation_threshold": e.liquidation_threshold / 1e4, "liquidation_bonus": (e.liquidation_bonus - 10_000) / 1e4,
         "price_source": None, "price_raw": None}
        for e in EMODES
    ]
    ids = {row["symbol"]: row["extra"]["reserve_id"] for row in taken.state.assets.to_dict("records")}
    stored = taken.state.meta.market_params["emode_bitmaps"]
    for e in EMODES:
        expected = {name: sum(1 << ids[s] for s in members) for name, members in
                    (("collateral", e.collateral), ("borrowable", e.borrowable), ("ltv_zero", e.ltv_zero))}
        on_chain = {name: origin.uint(origin.pool, f"getEModeCategory{fn}Bitmap(uint8)", e.category)
                    for name, fn in (("collateral", "Collateral"), ("borrowable", "Borrowable"), ("ltv_zero", "Ltvzero"))}
        assert stored[str(e.category)] == expected == on_chain
    extra = {row["symbol"]: row["extra"] for row in taken.state.assets.to_dict("records")}
    assert (extra["wstETH"]["emode_collateral"], extra["wstETH"]["emode_borrowable"]) == ([1, 2], [1])
    assert (extra["WETH"]["emode_collateral"], extra["WETH"]["emode_ltv_zero"]) == ([1, 3], [3])
    assert (extra["EMC"]["emode_collateral"], extra["USDT"]["emode_borrowable"]) == ([2], [2, 3])


def test_every_named_account_is_stored_in_its_emode(origin: LocalAaveOrigin, taken: Taken) -> None:
    stored = {row["account"]: row["emode_category"] for row in taken.state.accounts.to_dict("records")}
    for plan in NAMED:
        assert stored[origin.account(plan.label)] == plan.emode, plan.label
    positions = taken.state.positions
    wsteth = positions[(positions["asset"] == _asset(taken, "wstETH")) & positions["collateral_enabled"]]
    assert {1, 2} <= {stored[a] for a in wsteth["account"]}


def test_reconciliation_is_exact_and_would_fail_under_older_maths(taken: Taken, chain_view: pd.DataFrame) -> None:
    assert len(reconcile(taken.state, chain_view).mismatches) == 0
    emc = set(taken.state.positions.loc[taken.state.positions["asset"] == _asset(taken, "EMC"), "account"])
    # v3.5 ignores collateral whose own liquidation threshold is 0, even inside e-mode.
    v35 = reconcile(with_revision(taken.state, 9), chain_view).mismatches
    assert emc and emc <= set(v35["account"])
    # v3.2's half-up balances and flooring differ by a unit of base currency here and there.
    v32 = reconcile(with_revision(taken.state, 5), chain_view).mismatches
    assert len(set(v32["account"])) > len(emc)


def _asset(taken: Taken, symbol: str) -> str:
    return taken.state.assets.loc[taken.state.assets["symbol"] == symbol, "asset"].item()


def test_balances_round_as_token_math(origin: LocalAaveOrigin, taken: Taken) -> None:
    """Collateral is ``rayMulFloor`` and debt ``rayMulCeil`` of the scaled balances; half-up would differ."""
    reserves = {row["asset"]: row["extra"] for row in taken.state.assets.to_dict("records")}
    differs = 0
    for row in taken.state.accounts.to_dict("records"):
        for asset, b in row["extra"]["reserves"].items():
            income, index = reserves[asset]["normalized_income"], reserves[asset]["normalized_variable_debt"]
            # Indexes away from 1 RAY (EMC and ISO, never borrowed, stay there): the roundings count.
            assert (income > RAY and index > RAY) or reserves[asset]["variable_borrow_index"] == RAY
            position = taken.state.positions[(taken.state.positions["account"] == row["account"])
                                             & (taken.state.positions["asset"] == asset)]
            collateral = b["collateral_scaled"] * income // RAY
            debt = -(-b["variable_debt_scaled"] * index // RAY)
            assert (int(position["collateral_raw"].item()), int(position["debt_raw"].item())) == (collateral, debt)
            half_up = ((b["collateral_scaled"] * income + RAY // 2) // RAY, (b["variable_debt_scaled"] * index + RAY // 2) // RAY)
            differs += half_up != (collateral, debt)
    assert differs > 0


def test_family_exposures_give_the_reference_health_factors(taken: Taken) -> None:
    exposures = get_family("aave-v3").exposures(taken.state)
    assert exposures.weight_quantum == 0.0
    hf = health_factors(exposures, np.ones(exposures.n_feeds))[:, 0]
    reference = AaveReference(taken.state)
    for n, (market, account) in enumerate(zip(exposures.unit_market, exposures.unit_account, strict=True)):
        data = reference.account_data(market, account)
        if data.total_debt_base == 0:
            assert np.isinf(hf[n])
            continue
        assert hf[n] == pytest.approx(data.health_factor / 1e18, rel=1e-9, abs=1e-12), account
        mine = exposures.pos_unit == n
        value = exposures.collateral[mine] * exposures.price[exposures.pos_feed[mine]]
        borrow = float(np.sum(value * exposures.borrow_weight[mine]))
        collateral = float(np.sum(value * (exposures.liq_weight[mine] > 0)))
        if collateral:
            assert borrow / collateral == pytest.approx(data.ltv / 1e4, abs=1.01e-4), account


def test_emode_ltv_zero_and_emode_only_collateral_on_chain(origin: LocalAaveOrigin, taken: Taken) -> None:
    """The two v3.6 rules, seen on the chain itself: WETH adds no LTV in e-mode 3; EMC (own LT 0) counts."""
    emode3 = origin.account_data(origin.account("emode3"))
    emc_only = origin.account_data(origin.account("emode2-emc"))
    category = BY_CATEGORY[2]
    assert emode3[4] < BY_CATEGORY[3].ltv  # WETH's share carries LTV 0
    assert emc_only[0] > 0 and (emc_only[3], emc_only[4]) == (category.liquidation_threshold, category.ltv)
