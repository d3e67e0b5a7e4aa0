"""Morpho Blue on anvil: accrual, balances, health and liquidations against the contracts themselves.

The chain's own answers are the reference: ``MorphoBalancesLib`` (in a lens contract) for accrued
totals and balances, ``liquidate`` for health (it reverts with "position is healthy" exactly where
the position is healthy) and for what a liquidation moves.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from defirisk.adapters.morpho_blue.adapter import MorphoBlueAdapter
from defirisk.adapters.morpho_blue.family import MorphoBlueFamily
from defirisk.adapters.morpho_blue.maths import (
    ORACLE_PRICE_SCALE,
    MarketTotals,
    accrue_interest,
    to_assets_down,
)
from defirisk.adapters.morpho_blue.reconcile import reference_health
from defirisk.adapters.morpho_blue.reference import PositionRaw, borrowed_assets, liquidate, max_borrow
from defirisk.chain import RpcClient, pin_block
from defirisk.deployments import load_deployment
from defirisk.errors import DataError, NotTheProtocol
from defirisk.liquidation.rules import BadDebtPolicy
from defirisk.model import MarketState
from defirisk.snapshot import take_snapshot
from defirisk.store import Store
from tests.localchain.anvil import CHAIN_ID
from tests.localchain.morpho import PARAMS, LocalMorpho, account
from tests.localchain.rpc import RpcError
from tests.localchain.tx import Transactor

pytestmark = pytest.mark.chain


def snapshot(chain: LocalMorpho, folder: Path, markets: list[str] | None = None) -> MarketState:
    path = chain.write_deployment_toml(folder / "morpho.toml", markets)
    summary = take_snapshot(str(path), chain.rpc_url, db_path=folder / "db.duckdb", reorg_lag=0)
    with Store.open(folder / "db.duckdb", read_only=True) as store:
        return store.load_state(summary.snapshot_id)


@pytest.fixture(scope="module")
def shared_state(morpho_shared: LocalMorpho, tmp_path_factory: pytest.TempPathFactory) -> MarketState:
    return snapshot(morpho_shared, tmp_path_factory.mktemp("shared"))


def label_of(chain: LocalMorpho, market_id: str) -> str:
    (label,) = [k for k, m in chain.markets.items() if m.id == market_id]
    return label


# Accrual and balances ----------------------------------------------------------------------------

def test_accrued_totals_equal_morpho_balances_lib(morpho_shared: LocalMorpho, shared_state: MarketState) -> None:
    block = shared_state.meta.block_number
    loans = shared_state.assets[shared_state.assets["extra"].map(lambda e: e["role"] == "loan")]
    accrued = 0
    for row in loans.itertuples(index=False):
        mine = row.extra["market_accrued"]
        stored = row.extra["market_stored"]
        lens = morpho_shared.lens_market(label_of(morpho_shared, row.market), block)
        assert (mine["total_supply_assets"], mine["total_supply_shares"],
                mine["total_borrow_assets"], mine["total_borrow_shares"]) == lens
        accrued += mine["total_borrow_assets"] > stored["total_borrow_assets"]
    assert accrued >= 4, "interest should be due in every market with borrows"


def test_every_balance_equals_morpho_balances_lib(morpho_shared: LocalMorpho, shared_state: MarketState) -> None:
    block = shared_state.meta.block_number
    stored = {(r.market, r.account, r.asset): (int(r.collateral_raw), int(r.debt_raw))
              for r in shared_state.positions.itertuples(index=False)}
    expected = {}
    for m in morpho_shared.markets.values():
        for user in m.accounts:
            supplied, borrowed, collateral = morpho_shared.lens_balances(m.label, user, block)
            if supplied or borrowed:
                expected[(m.id, user, m.loan)] = (supplied, borrowed)
            if collateral:
                expected[(m.id, user, m.collateral)] = (collateral, 0)
    assert stored == expected


def test_shared_tokens_and_multi_market_accounts_are_kept_apart(
    morpho_shared: LocalMorpho, shared_state: MarketState
) -> None:
    a, b = morpho_shared.markets["usdc-weth"], morpho_shared.markets["usdc-weth-915"]
    weth = shared_state.assets[shared_state.assets["asset"] == a.collateral].set_index("market")
    assert set(weth.index) == {a.id, b.id}
    assert weth.loc[a.id, "liquidation_threshold"] == 0.86 and weth.loc[b.id, "liquidation_threshold"] == 0.915
    assert weth.loc[a.id, "price_raw"] != weth.loc[b.id, "price_raw"]
    both = set(a.accounts) & set(b.accounts)
    assert len(both) == 5
    rows = shared_state.accounts[shared_state.accounts["account"].isin(both)]
    assert len(rows) == 2 * len(both)
    assert len(shared_state.accounts) == sum(len(m.accounts) for m in morpho_shared.markets.values())


def test_listing_markets_in_the_deployment_restricts_the_snapshot(morpho_shared: LocalMorpho, tmp_path: Path) -> None:
    state = snapshot(morpho_shared, tmp_path, ["usdc-weth-915", "eurc-idle"])
    ids = {morpho_shared.markets[k].id for k in ("usdc-weth-915", "eurc-idle")}
    assert set(state.accounts["market"]) == ids
    assert sorted(state.meta.market_params["markets"]) == sorted(ids)
    idle = state.assets[state.assets["market"] == morpho_shared.markets["eurc-idle"].id]
    assert list(idle["extra"].map(lambda e: e["role"])) == ["loan"]


def test_a_morpho_contract_on_another_address_is_not_the_protocol(morpho_shared: LocalMorpho, tmp_path: Path) -> None:
    path = morpho_shared.write_deployment_toml(tmp_path / "morpho.toml")
    dep = replace(load_deployment(str(path)), root=morpho_shared.lens)
    with pytest.raises(NotTheProtocol):
        take_snapshot(dep, morpho_shared.rpc_url, db_path=tmp_path / "db.duckdb", reorg_lag=0)


# Health at the boundary --------------------------------------------------------------------------

def fund_liquidator(chain: LocalMorpho, labels: list[str]) -> None:
    """Give the liquidator the loan tokens of ``labels`` and approve Morpho (mined transactions)."""
    t = Transactor(chain.rpc)
    t.send([tx for label in labels for tx in chain._fund(t, chain.liquidator, chain.markets[label].loan, 10**40)])


def probe(chain: LocalMorpho, label: str, borrower: str, block: int) -> str:
    """A static ``liquidate`` of one share by the funded liquidator at ``block``: it either reverts
    with "position is healthy" ("healthy") or goes through ("liquidatable"); anything else raises."""
    m = chain.markets[label]
    try:
        chain.call(chain.morpho, f"liquidate({PARAMS},address,uint256,uint256,bytes)", ["uint256", "uint256"],
                   m.params, borrower, 0, 1, b"", block=block, sender=chain.liquidator)
    except RpcError as exc:
        if "position is healthy" in str(exc):
            return "healthy"
        raise
    return "liquidatable"


def state_at(chain: LocalMorpho, label: str, borrower: str, timestamp: int) -> tuple[PositionRaw, MarketTotals]:
    """The position and the market totals accrued to ``timestamp`` from the head block's stored state."""
    m = chain.markets[label]
    stored = MarketTotals(*chain.market(label))
    rate = chain.call(chain.irm, f"borrowRateView({PARAMS},(uint128,uint128,uint128,uint128,uint128,uint128))",
                      ["uint256"], m.params, stored.as_tuple())[0]
    return PositionRaw(*chain.position(label, borrower)), accrue_interest(stored, rate, timestamp)


def price_at_boundary(position: PositionRaw, market: MarketTotals, lltv: int) -> int:
    """The lowest oracle price at which the position is healthy (bisection on the integer reference)."""
    debt = borrowed_assets(position, market)
    low, high = 1, 10**60
    while low < high:
        mid = (low + high) // 2
        if max_borrow(position.collateral, mid, lltv) >= debt:
            high = mid
        else:
            low = mid + 1
    return low


def set_price_at(chain: LocalMorpho, label: str, price: int, timestamp: int) -> int:
    chain.rpc.call("evm_setNextBlockTimestamp", hex(timestamp))
    chain.set_price(label, price)
    return chain.block_number()


@pytest.mark.parametrize("label", ["usdc-weth", "wethb-wbtc", "dai-link", "usdc-weth-915"])
def test_health_flips_exactly_at_the_reference_boundary_price(reverting_shared: LocalMorpho, label: str) -> None:
    chain = reverting_shared
    m = chain.markets[label]
    borrower = next(a for a in m.accounts if chain.position(label, a)[1] > 0)
    fund_liquidator(chain, [label])
    timestamp = int(chain.rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16) + 100
    position, market = state_at(chain, label, borrower, timestamp)
    boundary = price_at_boundary(position, market, m.params[4])
    for price, expected in ((boundary, "healthy"), (boundary - 1, "liquidatable")):
        snap = chain.snapshot()
        block = set_price_at(chain, label, price, timestamp)
        assert probe(chain, label, borrower, block) == expected, (price, boundary)
        assert chain.revert(snap)


def test_reconciliation_agrees_with_the_contract_on_every_account_at_a_stressed_price(
    reverting_shared: LocalMorpho, tmp_path: Path
) -> None:
    chain = reverting_shared
    fund_liquidator(chain, [k for k in chain.markets if k != "eurc-idle"])
    chain.set_price("usdc-weth", chain.price("usdc-weth") * 97 // 100)
    state = snapshot(chain, tmp_path)
    health = reference_health(state)
    block = state.meta.block_number
    for row in health.itertuples(index=False):
        label = label_of(chain, row.market)
        if label == "eurc-idle":
            continue
        assert probe(chain, label, row.account, block) == ("healthy" if row.healthy else "liquidatable")
    stressed = health[health["market"] == chain.markets["usdc-weth"].id]
    assert 0 < (~stressed["healthy"].astype(bool)).sum() < len(stressed)


# Real liquidations -------------------------------------------------------------------------------

def _head_timestamp(chain: LocalMorpho) -> int:
    return int(chain.rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16)


@pytest.mark.parametrize("by", ["seized_assets", "repaid_shares"])
def test_liquidation_moves_exactly_what_the_reference_says(reverting_shared: LocalMorpho, by: str) -> None:
    chain = reverting_shared
    label = "usdc-weth"
    m = chain.markets[label]
    borrower = account("usdc-weth-b2")  # borrowed 90 % of its limit: unhealthy after a 20 % fall
    price = chain.price(label) * 80 // 100
    chain.set_price(label, price)
    timestamp = _head_timestamp(chain) + 7
    position, market = state_at(chain, label, borrower, timestamp)
    amount = position.collateral // 3 if by == "seized_assets" else position.borrow_shares // 4
    expected = liquidate(position, market, price, m.params[4], **{by: amount})
    chain.rpc.call("evm_setNextBlockTimestamp", hex(timestamp))
    event = chain.liquidate(label, borrower, **{by: amount})
    assert int(chain.rpc.call("eth_getBlockByNumber", hex(event["block"]), False)["timestamp"], 16) == timestamp
    assert (event["seized_assets"], event["repaid_shares"], event["repaid_assets"]) == (
        expected.seized_assets, expected.repaid_shares, expected.repaid_assets)
    assert (event["bad_debt_assets"], event["bad_debt_shares"]) == (0, 0)
    assert PositionRaw(*chain.position(label, borrower)) == expected.position
    assert MarketTotals(*chain.market(label)) == expected.market


def test_bad_debt_is_realised_and_socialised_to_suppliers(reverting_shared: LocalMorpho) -> None:
    chain = reverting_shared
    label = "usdc-weth"
    m = chain.markets[label]
    supplier = m.accounts[0]
    borrower = max((a for a in m.accounts if chain.position(label, a)[1] > 0),
                   key=lambda a: chain.position(label, a)[1])
    price = chain.price(label) // 4
    chain.set_price(label, price)
    timestamp = _head_timestamp(chain) + 5
    position, market = state_at(chain, label, borrower, timestamp)
    expected = liquidate(position, market, price, m.params[4], seized_assets=position.collateral)
    assert expected.bad_debt_assets > 0
    supplier_shares = chain.position(label, supplier)[0]
    before = to_assets_down(supplier_shares, market.total_supply_assets, market.total_supply_shares)

    chain.rpc.call("evm_setNextBlockTimestamp", hex(timestamp))
    event = chain.liquidate(label, borrower, seized_assets=position.collateral)
    assert (event["bad_debt_assets"], event["bad_debt_shares"]) == (expected.bad_debt_assets, expected.bad_debt_shares)
    after = MarketTotals(*chain.market(label))
    assert after == expected.market
    assert after.total_supply_assets == market.total_supply_assets - expected.bad_debt_assets
    assert PositionRaw(*chain.position(label, borrower)) == PositionRaw(0, 0, 0)
    lost = before - chain.lens_balances(label, supplier)[0]
    share = supplier_shares / market.total_supply_shares
    assert lost == pytest.approx(expected.bad_debt_assets * share, rel=1e-6, abs=2)


def test_liquidating_a_healthy_position_reverts_as_the_reference_refuses(reverting_shared: LocalMorpho) -> None:
    chain = reverting_shared
    label = "usdt-sdai"
    m = chain.markets[label]
    borrower = next(a for a in m.accounts if chain.position(label, a)[1] > 0)
    timestamp = _head_timestamp(chain) + 3
    position, market = state_at(chain, label, borrower, timestamp)
    assert max_borrow(position.collateral, chain.price(label), m.params[4]) > borrowed_assets(position, market)
    with pytest.raises(DataError, match="position is healthy"):
        liquidate(position, market, chain.price(label), m.params[4], repaid_shares=1)
    t = Transactor(chain.rpc)
    chain.rpc.call("evm_setNextBlockTimestamp", hex(timestamp))
    tx_hash = t.send_unchecked([chain.tx(t, chain.liquidator, chain.morpho,
                                         f"liquidate({PARAMS},address,uint256,uint256,bytes)",
                                         m.params, borrower, 0, 1, b"")])[0]
    assert chain.rpc.call("eth_getTransactionReceipt", tx_hash)["status"] == "0x0"


# The family on the snapshot ----------------------------------------------------------------------

def test_exposure_health_factors_agree_with_the_integer_check(shared_state: MarketState) -> None:
    x = MorphoBlueFamily().exposures(shared_state)
    assert x.n_units == len(shared_state.accounts)
    coll = np.bincount(x.pos_unit, x.collateral * x.price[x.pos_feed] * x.liq_weight, x.n_units)
    debt = np.bincount(x.pos_unit, x.debt * x.price[x.pos_feed], x.n_units)
    with np.errstate(divide="ignore"):
        hf = np.where(debt > 0, coll / np.where(debt > 0, debt, 1), np.inf)
    ref = reference_health(shared_state).set_index(["market", "account"])
    healthy = np.array([bool(ref.loc[(m, a), "healthy"]) for m, a in zip(x.unit_market, x.unit_account, strict=True)])
    clear = np.abs(hf - 1) > 1e-9
    assert np.array_equal((hf >= 1)[clear], healthy[clear])
    assert (~healthy).sum() > 0 and healthy.sum() > 0


def test_liquidation_rules_of_the_snapshot(shared_state: MarketState) -> None:
    rules = MorphoBlueFamily().liquidation_rules(shared_state)
    assert (rules.family, rules.version, rules.liquidation_hf, rules.close_factor) == ("morpho-blue", "1.0", 1.0, 1.0)
    assert rules.bad_debt is BadDebtPolicy.REALISE
    assert rules.write_off(np.array([0.5, 0.5]), np.array([0.0, 1.0]), np.array([5.0, 5.0])).tolist() == [True, False]


def test_prices_are_in_each_markets_loan_token(morpho_shared: LocalMorpho, shared_state: MarketState) -> None:
    assert shared_state.meta.base_currency == "loan token of each market"
    assert np.isnan(shared_state.meta.base_currency_usd)
    for row in shared_state.assets.itertuples(index=False):
        m = morpho_shared.markets[label_of(morpho_shared, row.market)]
        if row.extra["role"] == "loan":
            assert (row.price_raw, row.price) == (ORACLE_PRICE_SCALE, 1.0)
        else:
            assert row.price_raw == morpho_shared.price(m.label, shared_state.meta.block_number)
            assert row.price == pytest.approx(row.price_raw * 10**row.decimals / 10 ** (36 + m.loan_decimals),
                                              rel=1e-15)


def test_adapter_reads_at_the_pinned_block(morpho_shared: LocalMorpho, tmp_path: Path) -> None:
    path = morpho_shared.write_deployment_toml(tmp_path / "morpho.toml")
    with RpcClient(morpho_shared.rpc_url) as client:
        block = pin_block(client, None, reorg_lag=0, min_block=0, expected_chain_id=CHAIN_ID)
        markets = MorphoBlueAdapter().load_market(client, load_deployment(str(path)), block)
    assert not markets.skipped
    assert {m.id for m in markets.markets} == {m.id for m in morpho_shared.markets.values()}
    assert all(m.totals.last_update == block.timestamp or m.totals.total_borrow_assets == 0 for m in markets.markets)


def test_a_market_whose_oracle_reverts_is_left_out_with_the_reason(reverting_shared: LocalMorpho,
                                                                   tmp_path: Path) -> None:
    chain = reverting_shared
    broken = chain.markets["dai-link"]
    chain.rpc.call("anvil_setCode", broken.oracle, "0xfe")  # INVALID: every call reverts
    state = snapshot(chain, tmp_path)
    assert broken.id not in set(state.accounts["market"]) | set(state.assets["market"])
    assert "price() failed" in state.meta.market_params["skipped"][broken.id]
    assert "1 markets left out" in state.meta.note
    assert len(set(state.assets["market"])) == len(chain.markets) - 1
