"""Snapshots of a local Venus pool (a production Compound v2 fork, real contracts on anvil), reconciled
with the chain, and a real liquidation against the family's integer prediction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import eth_abi
import numpy as np
import pytest
from eth_utils import keccak

from defirisk.adapters.compound_v2 import events
from defirisk.adapters.compound_v2.family import CompoundV2Family
from defirisk.adapters.compound_v2.reconcile import reference_liquidity
from defirisk.adapters.compound_v2.reference import CompoundV2Reference
from defirisk.adapters.compound_v2.seize import predict_liquidation
from defirisk.engine.kernel import health_factors
from defirisk.errors import ReconciliationError
from defirisk.store import Store
from tests.adapters.compound_v2 import onchain_helpers as h
from tests.adapters.conformance import AdapterConformance, ConformanceCase, Taken, take_and_load
from tests.localchain.tx import TxFailed
from tests.localchain.venus import (
    CLOSE_FACTOR,
    DEPRECATED,
    LIQUIDATION_INCENTIVE,
    MARKETS,
    TREASURY_PERCENT,
    LocalVenus,
    account,
    artifact,
)

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def venus() -> Iterator[LocalVenus]:
    with LocalVenus.start() as node:
        yield node


@pytest.fixture
def reverting(venus: LocalVenus) -> Iterator[LocalVenus]:
    """``venus``, with every change the test makes undone afterwards."""
    snapshot = venus.snapshot()
    yield venus
    assert venus.revert(snapshot), "evm_revert failed: later tests would see a changed chain"


@pytest.fixture(scope="module")
def case(venus: LocalVenus, tmp_path_factory: pytest.TempPathFactory) -> ConformanceCase:
    return h.conformance_case(venus, tmp_path_factory.mktemp("venus"))


class TestCompoundV2Conformance(AdapterConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def conformance_case(cls, case: ConformanceCase) -> ConformanceCase:
        return case


@pytest.fixture(scope="module")
def taken(case: ConformanceCase, tmp_path_factory: pytest.TempPathFactory) -> Taken:
    return take_and_load(case, tmp_path_factory.mktemp("snap") / "defirisk.duckdb")


# Discovery and parameters, beyond the conformance suite.

def test_event_topics_are_those_of_the_contracts_abi() -> None:
    def topic(name: str, event: str) -> str:
        (entry,) = [e for e in artifact(name)["abi"] if e["type"] == "event" and e["name"] == event]
        return "0x" + keccak(text=f"{event}({','.join(i['type'] for i in entry['inputs'])})").hex()

    assert events.MARKET_ENTERED == topic("MarketFacet", "MarketEntered")
    assert events.BORROW == topic("VBep20Delegate", "Borrow")
    assert events.MINT_VENUS == topic("VBep20Delegate", "Mint")
    assert events.MINT_BEHALF == topic("VBep20Delegate", "MintBehalf")


def test_every_seeded_kind_is_read_and_only_holders_are_stored(venus: LocalVenus, taken: Taken) -> None:
    seeded = venus.seeded_accounts()
    stored = set(taken.state.accounts["account"])
    assert stored == {a for label, a in seeded.items() if label not in h.NOT_STORED}
    assert taken.summary.accounts_read == len(seeded)  # the two empty ones were discovered and read
    shortfall = reference_liquidity(taken.state).set_index("account")["shortfall"]
    in_shortfall = {label for label, a in seeded.items() if a in shortfall.index and shortfall[a] > 0}
    assert in_shortfall == {"tWETH-tUSDC-0.999", "tUSDT-tWBTC-0.999", "tWETH-tWBTC-0.999", "old-0.5", "old-0.8"}
    receiver = taken.state.accounts.set_index("account").loc[seeded["receiver"], "extra"]
    assert receiver["entered_markets"] == [venus.market("tWETH")] and receiver["ctoken_balances"]


def test_comptroller_and_fork_parameters(venus: LocalVenus, taken: Taken) -> None:
    params = taken.state.meta.market_params
    assert (params["close_factor_mantissa"], params["liquidation_incentive_mantissa"]) == (
        CLOSE_FACTOR, LIQUIDATION_INCENTIVE)
    assert (params["liquidator_contract"], params["treasury_percent_mantissa"]) == (
        venus.deployment.liquidator, TREASURY_PERCENT)
    assert (params["oracle"], params["comptroller_lens"], params["vai_controller"]) == (
        venus.deployment.oracle, venus.deployment.lens, None)
    assert taken.state.meta.rules_version == "compound-v2"
    assets = {r["asset"]: r for r in taken.state.assets.to_dict("records")}
    old = assets[venus.market(DEPRECATED)]["extra"]
    assert (old["mint_paused"], old["borrow_paused"], old["isForcedLiquidationEnabled"]) == (True, True, True)
    for m in MARKETS:
        extra = assets[venus.market(m.symbol)]["extra"]
        (rate,) = venus.view(venus.market(m.symbol), "exchangeRateStored()", ["uint256"], block=taken.summary.block_number)
        assert extra["exchange_rate_mantissa"] == rate > m.initial_exchange_rate
        assert extra["price_mantissa"] == m.price_mantissa
        assert (extra["ctoken_symbol"], extra["ctoken_decimals"], extra["underlying"]) == (
            m.vsymbol, 8, venus.deployment.underlyings[m.symbol])
        assert extra["accrualBlockNumber"] < taken.summary.block_number  # stored values, not accrued to the block
        assert extra["borrowIndex"] > 10**18 and extra["totalReserves"] > 0
    borrower, wbtc = account("tWETH-tWBTC-0.6"), venus.market("tWBTC")
    stored = taken.state.positions.set_index(["account", "asset"]).loc[(borrower, wbtc), "debt_raw"]
    (current,) = venus.view(wbtc, "borrowBalanceCurrent(address)", ["uint256"], borrower)
    assert current > stored == venus.view(wbtc, "borrowBalanceStored(address)", ["uint256"], borrower)[0]


def test_collateral_is_ctokens_times_the_stored_exchange_rate(taken: Taken) -> None:
    rates = {r["asset"]: r["extra"]["exchange_rate_mantissa"] for r in taken.state.assets.to_dict("records")}
    balances = dict(zip(taken.state.accounts["account"], taken.state.accounts["extra"], strict=True))
    checked = 0
    for p in taken.state.positions.itertuples(index=False):
        ctokens = balances[p.account]["ctoken_balances"].get(p.asset, 0)
        assert int(p.collateral_raw) == ctokens * rates[p.asset] // 10**18
        checked += ctokens > 0
    assert checked > 40


def test_engine_health_factors_agree_with_the_comptroller_sums(taken: Taken) -> None:
    """Family exposures → engine HF (floats) vs ``sumCollateral / sumBorrow`` of the integer reference."""
    exposures = CompoundV2Family().exposures(taken.state)
    hf = dict(zip(exposures.unit_account, health_factors(exposures, np.ones(exposures.n_feeds))[:, 0], strict=True))
    ref = reference_liquidity(taken.state)
    borrowers = 0
    for r in ref.itertuples(index=False):
        if r.sum_borrow == 0:
            assert hf[r.account] == np.inf
            continue
        borrowers += 1
        exact = Fraction(int(r.sum_collateral), int(r.sum_borrow))
        assert abs(Fraction(float(hf[r.account])) - exact) <= Fraction(1, 10**9) * exact, (r.account, hf[r.account])
        assert (hf[r.account] < 1) == (r.shortfall > 0)
    assert borrowers >= 30


# Reconciliation.

def test_reconciliation_stays_exact_after_a_price_crash(reverting: LocalVenus, case: ConformanceCase, taken: Taken,
                                                        tmp_path: Path) -> None:
    weth = next(m for m in MARKETS if m.symbol == "tWETH")
    reverting.set_price("tWETH", weth.price_mantissa * 7 // 10)
    got = take_and_load(case, tmp_path / "db.duckdb")
    assert got.summary.reconciliation == {"checked": len(got.state.accounts), "mismatches": 0, "verified": True}

    def in_shortfall(state) -> set[str]:  # type: ignore[no-untyped-def]
        ref = reference_liquidity(state)
        return set(ref.loc[ref["shortfall"] > 0, "account"])

    before, after = in_shortfall(taken.state), in_shortfall(got.state)
    assert before < after and len(after) >= 2 * len(before)


def test_a_mismatch_aborts_unless_not_verifying(case: ConformanceCase, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import defirisk.adapters.compound_v2.reconcile as reconcile_module

    class OffByOne(CompoundV2Reference):
        def all_accounts(self):  # type: ignore[no-untyped-def]
            frame = super().all_accounts()
            frame.loc[0, "liquidity"] = int(frame.loc[0, "liquidity"]) + 1
            return frame

    monkeypatch.setattr(reconcile_module, "CompoundV2Reference", OffByOne)
    db = tmp_path / "db.duckdb"
    with pytest.raises(ReconciliationError, match="liquidity"):
        take_and_load(case, db)
    with Store.open(db, read_only=True) as store:
        assert len(store.list_snapshots()) == 0
    got = take_and_load(case, db, verify=False)
    assert got.summary.reconciliation["mismatches"] == 1 and not got.summary.reconciliation["verified"]


# Liquidation against the chain.

def _liquidator_event(receipt: dict) -> tuple[int, int, int]:
    topic = "0x" + keccak(text="LiquidateBorrowedTokens(address,address,uint256,address,address,uint256,uint256)").hex()
    (log,) = [entry for entry in receipt["logs"] if entry["topics"][0] == topic]
    repay, _, treasury, liquidator = eth_abi.decode(["uint256", "address", "uint256", "uint256"],
                                                    bytes.fromhex(log["data"][2:]))
    return repay, treasury, liquidator


def _balance(venus: LocalVenus, symbol: str, holder: str) -> int:
    return venus.view(venus.market(symbol), "balanceOf(address)", ["uint256"], holder)[0]


def test_a_real_liquidation_matches_the_prediction_to_the_wei(reverting: LocalVenus, case: ConformanceCase,
                                                               tmp_path: Path) -> None:
    """WETH falls 5 %; the 99 % WETH→USDC borrower is liquidated through Venus's Liquidator for the
    close-factor maximum. Repaid amount, seized vTokens and the treasury's share equal the prediction.

    Both markets move to a 0 % interest model first, so the block between the snapshot and the
    liquidation accrues nothing: the call then sees exactly the stored values the snapshot read.
    """
    venus, borrower = reverting, account("tWETH-tUSDC-0.99")
    zero = venus.deploy_zero_rate_model()
    for symbol in ("tUSDC", "tWETH"):
        venus.set_interest_rate_model(symbol, zero)
    weth = next(m for m in MARKETS if m.symbol == "tWETH")
    venus.set_price("tWETH", weth.price_mantissa * 95 // 100)
    got = take_and_load(case, tmp_path / "db.duckdb")
    usdc, vweth = venus.market("tUSDC"), venus.market("tWETH")

    plan = predict_liquidation(got.state, borrower, usdc, vweth)
    assert plan.outcome == "ok"
    assert predict_liquidation(got.state, borrower, usdc, vweth, repay=plan.max_repay + 1).outcome == "too much repay"
    liquidator = account("liquidator")
    with pytest.raises(TxFailed):
        venus.liquidate(liquidator, "tUSDC", borrower, plan.max_repay + 1, "tWETH")

    debt_before = venus.view(usdc, "borrowBalanceStored(address)", ["uint256"], borrower)[0]
    collateral_before = _balance(venus, "tWETH", borrower)
    assert plan.max_repay == debt_before * CLOSE_FACTOR // 10**18
    receipt = venus.liquidate(liquidator, "tUSDC", borrower, plan.repay, "tWETH")
    repay, treasury, theirs = _liquidator_event(receipt)
    assert (repay, treasury, theirs) == (plan.repay, plan.protocol_tokens, plan.liquidator_tokens)
    assert collateral_before - _balance(venus, "tWETH", borrower) == plan.seize_tokens
    assert _balance(venus, "tWETH", liquidator) == plan.liquidator_tokens
    assert _balance(venus, "tWETH", venus.deployment.treasury) == plan.protocol_tokens
    assert debt_before - venus.view(usdc, "borrowBalanceStored(address)", ["uint256"], borrower)[0] == plan.repay
    assert plan.protocol_tokens == plan.seize_tokens * TREASURY_PERCENT // LIQUIDATION_INCENTIVE > 0


def test_healthy_accounts_cannot_be_liquidated_but_forced_markets_can(reverting: LocalVenus, taken: Taken) -> None:
    """A healthy borrower of the deprecated market: the prediction refuses nothing (forced liquidation,
    whole balance), and the chain agrees; a healthy USDC borrower is refused by both."""
    venus = reverting
    healthy = account("tWETH-tUSDC-0.3")
    usdc, vweth, vold = venus.market("tUSDC"), venus.market("tWETH"), venus.market(DEPRECATED)
    refused = predict_liquidation(taken.state, healthy, usdc, vweth, repay=10**6)
    assert refused.outcome == "insufficient shortfall"
    with pytest.raises(TxFailed):
        venus.liquidate(account("liquidator"), "tUSDC", healthy, 10**6, "tWETH")

    borrower = account("old-borrower-0.4")
    assert reference_liquidity(taken.state).set_index("account").loc[borrower, "shortfall"] == 0
    forced = predict_liquidation(taken.state, borrower, vold, vweth, repay=10**18)
    assert forced.outcome == "ok" and forced.max_repay == venus.view(
        vold, "borrowBalanceStored(address)", ["uint256"], borrower)[0]
    venus.liquidate(account("liquidator"), DEPRECATED, borrower, 10**18, "tWETH")
    assert _balance(venus, "tWETH", account("liquidator")) > 0


def test_summary_reports_requests_by_pass(taken: Taken) -> None:
    data = json.loads(json.dumps(taken.summary.to_dict()))
    assert data["requests"]["accounts"] >= 1 and data["requests"]["positions"] >= 1


# The generic layers on a Venus snapshot: the CLI and the bad-debt estimator.

def test_cli_snapshot_of_the_local_deployment(case: ConformanceCase, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from defirisk.cli import app

    result = CliRunner().invoke(app, ["snapshot", str(case.deployment.path), "--rpc-url", case.rpc_url,
                                      "--reorg-lag", "0", "--db", str(tmp_path / "db.duckdb"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["family"] == "compound-v2" and data["accounts"] == len(case.accounts)
    assert data["reconciliation"] == {"checked": len(case.accounts), "mismatches": 0, "verified": True}


def test_bad_debt_estimator_runs_on_the_snapshot_without_family_branches(taken: Taken) -> None:
    from dataclasses import replace

    from defirisk.liquidation import estimate_bad_debt
    from defirisk.liquidation.economics import default_economics

    # The local tokens are no mainnet WETH, so gas is priced at a given ETH price.
    economics = replace(default_economics(), eth_price_usd=3_000.0)
    calm = estimate_bad_debt(taken.state, "tWETH=-1%", economics, n_bootstrap=20)
    crash = estimate_bad_debt(taken.state, "tWETH=-60%", economics, n_bootstrap=20)
    assert crash.rules["family"] == "compound-v2" and crash.rules["close_factor"] == CLOSE_FACTOR / 10**18
    seized = [float(np.sum(r.cascade.steps["seized"])) for r in (calm, crash)]
    assert 0 < seized[0] < seized[1]
