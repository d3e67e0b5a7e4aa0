"""Snapshots of the local Aave v3 market (real contracts on anvil), reconciled with the chain."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from defirisk.adapters.aave_v3 import events
from defirisk.adapters.aave_v3.family import AaveV3Family
from defirisk.adapters.aave_v3.reference import AaveReference
from defirisk.errors import NotTheProtocol, ReconciliationError, ReorgDetected
from defirisk.model import MarketState
from defirisk.snapshot import take_snapshot
from defirisk.store import Store
from tests.adapters.aave_v3 import chain_helpers as h
from tests.adapters.conformance import AdapterConformance, ConformanceCase, Taken, take_and_load
from tests.localchain.contracts import event_topic, read
from tests.localchain.helpers import LocalAave
from tests.localchain.market import EMODE, RESERVES

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def case(local_aave: LocalAave, tmp_path_factory: pytest.TempPathFactory) -> ConformanceCase:
    return h.conformance_case(local_aave, tmp_path_factory.mktemp("aave"))


class TestAaveV3Conformance(AdapterConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def conformance_case(cls, case: ConformanceCase) -> ConformanceCase:
        return case


@pytest.fixture(scope="module")
def taken(case: ConformanceCase, tmp_path_factory: pytest.TempPathFactory) -> Taken:
    return take_and_load(case, tmp_path_factory.mktemp("snap") / "defirisk.duckdb")


def by_account(state: MarketState) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for row in state.positions.itertuples(index=False):
        out.setdefault(row.account, []).append((row.asset, int(row.collateral_raw), int(row.debt_raw),
                                                bool(row.collateral_enabled)))
    return out


# Discovery and parameters, beyond the conformance suite.

def test_event_topics_are_those_of_the_contracts_abi() -> None:
    assert events.SUPPLY == event_topic("Pool", "Supply")
    assert events.BORROW == event_topic("Pool", "Borrow")
    assert events.MINT_UNBACKED == event_topic("Pool", "MintUnbacked")
    assert events.COLLATERAL_ENABLED == event_topic("Pool", "ReserveUsedAsCollateralEnabled")
    assert events.LIQUIDATION_CALL == event_topic("Pool", "LiquidationCall")
    assert events.BALANCE_TRANSFER == event_topic("AToken", "BalanceTransfer")


def test_decoded_configuration_matches_the_data_provider(local_aave: LocalAave, taken: Taken) -> None:
    dp, name = local_aave.data_provider, "AaveProtocolDataProvider"
    for row in taken.state.assets.to_dict("records"):
        asset, cfg = row["asset"], row["extra"]["config"]
        decimals, ltv, lt, bonus, factor, collateral, borrowing, stable, active, frozen = read(
            local_aave.rpc, name, dp, "getReserveConfigurationData", asset)
        assert (cfg["decimals"], cfg["ltv"], cfg["liquidation_threshold"], cfg["liquidation_bonus"]) == (
            decimals, ltv, lt, bonus)
        assert (cfg["reserve_factor"], cfg["borrowing_enabled"], cfg["stable_borrowing_enabled"]) == (
            factor, borrowing, stable)
        assert (cfg["active"], cfg["frozen"], row["usage_as_collateral_enabled"]) == (active, frozen, collateral)
        assert (cfg["borrow_cap"], cfg["supply_cap"]) == read(local_aave.rpc, name, dp, "getReserveCaps", asset)
        assert cfg["paused"] == read(local_aave.rpc, name, dp, "getPaused", asset)
        assert cfg["siloed_borrowing"] == read(local_aave.rpc, name, dp, "getSiloedBorrowing", asset)
        assert cfg["liquidation_protocol_fee"] == read(local_aave.rpc, name, dp, "getLiquidationProtocolFee", asset)
        assert cfg["emode_category"] == read(local_aave.rpc, name, dp, "getReserveEModeCategory", asset)
        assert cfg["debt_ceiling"] == read(local_aave.rpc, name, dp, "getDebtCeiling", asset)
        assert cfg["unbacked_mint_cap"] == read(local_aave.rpc, name, dp, "getUnbackedMintCap", asset)
        assert cfg["flash_loan_enabled"] == read(local_aave.rpc, name, dp, "getFlashLoanEnabled", asset)
        a_token, stable_token, variable_token = read(local_aave.rpc, name, dp, "getReserveTokensAddresses", asset)
        assert (row["extra"]["a_token"], row["extra"]["stable_debt_token"], row["extra"]["variable_debt_token"]) == (
            a_token.lower(), stable_token.lower(), variable_token.lower())


def test_emode_categories(taken: Taken) -> None:
    assert taken.state.emodes.to_dict("records") == [{
        "market": taken.summary.market, "category": EMODE.category_id, "label": EMODE.label,
        "ltv": EMODE.ltv_bps / 1e4, "liquidation_threshold": EMODE.liquidation_threshold_bps / 1e4,
        "liquidation_bonus": (EMODE.liquidation_bonus_bps - 10_000) / 1e4, "price_source": None, "price_raw": None,
    }]
    assert taken.state.meta.rules_version == "3.0"
    assert (taken.state.meta.base_currency, taken.state.meta.base_currency_decimals) == ("USD", 8)


def test_every_kind_of_account_is_stored_and_reconciled(local_aave: LocalAave, taken: Taken) -> None:
    stored = set(taken.state.accounts["account"])
    kinds = Counter(a.kind for a in local_aave.seeded_accounts if a.address.lower() in stored)
    assert set(kinds) == {"single-debt", "multi-debt", "emode", "isolated", "zero-debt", "dust"}
    emode = {r.account for r in taken.state.accounts.itertuples() if r.emode_category == EMODE.category_id}
    assert emode == {a.address.lower() for a in local_aave.seeded_accounts if a.kind == "emode"}
    assert taken.summary.reconciliation["mismatches"] == 0


def test_scaled_balances_are_those_of_the_data_provider(local_aave: LocalAave, taken: Taken) -> None:
    """The stored scaled variable debt and stable principal, read back through the data provider."""
    symbol_of = {local_aave.reserves[r.symbol].underlying.lower(): r.symbol for r in RESERVES}
    checked = 0
    for account in taken.state.accounts.to_dict("records"):
        for asset, b in account["extra"]["reserves"].items():
            if not (b["variable_debt_scaled"] or b["stable_debt_principal"]):
                continue
            answer = read(local_aave.rpc, "AaveProtocolDataProvider", local_aave.data_provider, "getUserReserveData",
                          local_aave.reserves[symbol_of[asset]].underlying, account["account"],
                          block=hex(taken.summary.block_number))
            _, stable, variable, principal_stable, scaled_variable, *_ = answer
            assert (b["variable_debt_scaled"], b["stable_debt_principal"]) == (scaled_variable, principal_stable)
            assert (b["variable_debt"], b["stable_debt"]) == (variable, stable)
            checked += 1
            if checked == 60:
                return
    assert checked > 0


# The float path (engine input) against exact arithmetic and the chain.

def float_health_factors(state: MarketState) -> dict[str, float]:
    """HF from ``AaveV3Family().exposures`` at unshocked prices, vectorised (the engine's formula)."""
    ex = AaveV3Family().exposures(state)
    price = ex.price[ex.pos_feed]
    num = np.bincount(ex.pos_unit, ex.collateral * price * ex.liq_weight, minlength=ex.n_units)
    den = np.bincount(ex.pos_unit, ex.debt * price, minlength=ex.n_units)
    with np.errstate(divide="ignore"):
        hf = np.where(den > 0, num / den, np.inf)
    return dict(zip(ex.unit_account, hf, strict=True))


def exact_health_factors(state: MarketState) -> dict[str, tuple[Fraction, set[int]]]:
    """Σ collateral · price · LT / Σ debt · price in rationals from the raw integers, and the LTs used."""
    assets = {r["asset"]: r for r in state.assets.to_dict("records")}
    emodes = {int(r["category"]): r for r in state.emodes.to_dict("records")}
    emode_of = dict(zip(state.accounts["account"], state.accounts["emode_category"], strict=True))
    num: dict[str, Fraction] = {}
    den: dict[str, Fraction] = {}
    lts: dict[str, set[int]] = {}
    for p in state.positions.to_dict("records"):
        a, account = assets[p["asset"]], p["account"]
        cat = int(emode_of[account])
        lt = a["liquidation_threshold"]
        if cat and int(a["emode_category"]) == cat:
            lt = emodes[cat]["liquidation_threshold"]
        lt_bps = round(lt * 10_000)
        value = Fraction(int(p["collateral_raw"]) * int(a["price_raw"]), 10 ** int(a["decimals"]))
        debt = Fraction(int(p["debt_raw"]) * int(a["price_raw"]), 10 ** int(a["decimals"]))
        if p["collateral_enabled"] and lt_bps and value:
            num[account] = num.get(account, Fraction(0)) + value * lt_bps / 10_000
            lts.setdefault(account, set()).add(lt_bps)
        den[account] = den.get(account, Fraction(0)) + debt
    return {a: (num.get(a, Fraction(0)) / d, lts.get(a, set())) for a, d in den.items() if d}


def test_float_health_factors_agree_with_exact_arithmetic_and_the_chain(taken: Taken) -> None:
    floats = float_health_factors(taken.state)
    exact = exact_health_factors(taken.state)
    chain = {r.account: r.health_factor for r in AaveReference(taken.state).all_accounts().itertuples()}
    non_dust = uniform = 0
    for account, (hf, lts) in exact.items():
        assert abs(floats[account] - float(hf)) <= 1e-9 * float(hf), (account, floats[account], float(hf))
        onchain = Fraction(int(chain[account]), 10**18)
        if onchain == 0:  # debt left without collateral
            assert floats[account] == 0.0
            continue
        rel = abs(Fraction(floats[account]) - onchain) / onchain
        # Aave floors the average liquidation threshold to whole bps: exact only when the account's
        # collateral shares one threshold; otherwise the truncation is below one bps of it.
        bound = Fraction(1, 10**9) if len(lts) <= 1 else Fraction(1, min(lts)) + Fraction(1, 10**9)
        if _is_dust(taken.state, account):
            continue
        non_dust += 1
        uniform += len(lts) <= 1
        assert rel <= bound, (account, float(rel), lts, floats[account], float(onchain))
    assert non_dust > 0 and uniform > 0


def _is_dust(state: MarketState, account: str) -> bool:
    """Positions under $100: the contracts' floor division of base values is then above 1e-9."""
    assets = {r["asset"]: r for r in state.assets.to_dict("records")}
    rows = state.positions[state.positions.account == account]
    for p in rows.itertuples():
        a = assets[p.asset]
        for raw in (int(p.collateral_raw), int(p.debt_raw)):
            if raw and raw * int(a["price_raw"]) // 10 ** int(a["decimals"]) < 100 * 10**8:
                return True
    return False


# Reconciliation on a moved market.

def test_liquidatable_accounts_reconcile_exactly(reverting_aave: LocalAave, case: ConformanceCase,
                                                tmp_path: Path) -> None:
    for symbol, factor in (("WETH", 0.7), ("wstETH", 0.7), ("WBTC", 0.75), ("CRV", 0.6)):
        reserve = next(r for r in RESERVES if r.symbol == symbol)
        reverting_aave.set_price(symbol, reserve.price * factor / 1e8)
    reverting_aave.mine()
    got = take_and_load(case, tmp_path / "db.duckdb")
    assert got.summary.reconciliation == {"checked": len(got.state.accounts), "mismatches": 0, "verified": True}
    hfs = reverting_aave.get_users_account_data(sorted(got.state.accounts["account"]), hex(got.summary.block_number))
    assert sum(d[5] < 10**18 for d in hfs) >= 1
    prices = {r["symbol"]: int(r["price_raw"]) for r in got.state.assets.to_dict("records")}
    assert prices["WETH"] == reverting_aave.price("WETH")


def test_emode_price_source_is_used_exactly(reverting_aave: LocalAave, case: ConformanceCase, tmp_path: Path) -> None:
    """With a price source on the e-mode category, e-mode accounts value both members at its price."""
    weth = reverting_aave.reserves["WETH"].underlying
    h.send(reverting_aave, reverting_aave.deployment.admin, [(
        reverting_aave.pool_configurator, "PoolConfigurator", "setEModeCategory",
        (EMODE.category_id, EMODE.ltv_bps, EMODE.liquidation_threshold_bps, EMODE.liquidation_bonus_bps, weth,
         EMODE.label),
    )])
    reverting_aave.set_price("WETH", 1700)
    reverting_aave.mine()
    got = take_and_load(case, tmp_path / "db.duckdb")
    (row,) = got.state.emodes.to_dict("records")
    assert (row["price_source"], row["price_raw"]) == (weth.lower(), 1700 * 10**8)
    assert got.summary.reconciliation["mismatches"] == 0
    assert got.summary.reconciliation["checked"] == len(got.state.accounts)


# Incremental discovery and pinned blocks.

def test_second_snapshot_scans_only_new_blocks_and_an_earlier_block_reproduces_the_first(
    reverting_aave: LocalAave, case: ConformanceCase, tmp_path: Path
) -> None:
    db = tmp_path / "db.duckdb"
    reverting_aave.mine()
    first = take_and_load(case, db)
    assert first.summary.discovery.cursor == first.summary.block_number

    newcomer = h.new_address("second-snapshot-borrower")
    h.supply_and_borrow(reverting_aave, newcomer, ("WETH", 10 * 10**18), ("USDC", 5_000 * 10**6))
    saver = next(a for a in reverting_aave.seeded_accounts if a.kind == "zero-debt" and "USDC" not in a.supplies)
    h.borrow(reverting_aave, saver.address, "USDC", 10 * 10**6)
    reverting_aave.mine(3)

    second = take_and_load(case, db)
    d = second.summary.discovery
    assert (d.from_block, d.to_block, d.cursor) == (first.summary.block_number + 1, second.summary.block_number,
                                                   second.summary.block_number)
    assert d.log_requests == 1
    assert d.new_accounts == 1
    with Store.open(db, read_only=True) as store:
        assert store.get_cursor(case.deployment.name, 31337) == second.summary.block_number
    after = by_account(second.state)
    assert newcomer.lower() in after and newcomer.lower() not in by_account(first.state)
    usdc = reverting_aave.reserves["USDC"].underlying.lower()
    assert any(asset == usdc and debt >= 10 * 10**6 for asset, _, debt, _ in after[saver.address.lower()])
    assert second.summary.reconciliation["mismatches"] == 0

    again = take_and_load(case, db, block=first.summary.block_number)
    assert again.summary.discovery.from_block is None  # the cursor is past that block: nothing to scan
    assert by_account(again.state) == by_account(first.state)
    assert again.state.accounts.to_dict("records") == first.state.accounts.to_dict("records")
    assert again.state.assets.to_dict("records") == first.state.assets.to_dict("records")


class Interrupted(Exception):
    """Raised from a progress callback to stop a snapshot midway."""


def test_an_interrupted_first_scan_resumes_where_it_stopped(
    case: ConformanceCase, taken: Taken, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import defirisk.snapshot as snapshot_module

    start, head = case.deployment.start_block, taken.summary.block_number
    window = 2
    assert head - start + 1 > 2 * window, "the fixture should span several scan windows"
    monkeypatch.setattr(snapshot_module, "DISCOVERY_WINDOW", window)

    def stop_in_second_window(stage: str, done: int, total: int) -> None:
        if stage == "discovery" and done > window:
            raise Interrupted

    db = tmp_path / "db.duckdb"
    with pytest.raises(Interrupted):
        take_snapshot(case.deployment, case.rpc_url, db_path=db, block=head, on_progress=stop_in_second_window)
    with Store.open(db, read_only=True) as store:
        assert store.get_cursor(case.deployment.name, 31337) == start + window - 1
        assert len(store.list_snapshots()) == 0
    resumed = take_and_load(case, db, block=head)
    assert resumed.summary.discovery.from_block == start + window
    windows = -(-(head - start - window + 1) // window)
    assert resumed.summary.discovery.log_requests == windows
    assert set(resumed.state.accounts["account"]) == set(taken.state.accounts["account"])


def test_accounts_that_only_receive_a_tokens_are_discovered(
    reverting_aave: LocalAave, case: ConformanceCase, tmp_path: Path
) -> None:
    """A liquidator taking aTokens (``receiveAToken``) and an aToken transfer's recipient: neither
    supplies, yet both hold collateral; the next snapshot finds them and reconciles them exactly."""
    from tests.localchain.helpers import LIQUIDATOR

    db = tmp_path / "db.duckdb"
    weth = next(r for r in RESERVES if r.symbol == "WETH")
    reverting_aave.set_price("WETH", weth.price * 0.6 / 1e8)
    reverting_aave.mine()
    first = take_and_load(case, db)
    candidates = [a for a in reverting_aave.seeded_accounts
                  if set(a.supplies) == {"WETH"} and len(a.borrows) == 1 and a.kind != "emode"]
    data = reverting_aave.get_users_account_data([a.address for a in candidates])
    victim = next(a for a, d in zip(candidates, data, strict=True) if d[5] < 10**18)
    (debt_symbol,) = victim.borrows
    reverting_aave.liquidate("WETH", debt_symbol, victim.address, 2**256 - 1, receive_atoken=True)

    recipient = h.new_address("a-token-recipient")
    giver = next(a for a in reverting_aave.seeded_accounts if a.kind == "zero-debt" and "USDC" in a.supplies)
    a_usdc = reverting_aave.reserves["USDC"].a_token
    amount = giver.supplies["USDC"] // 2
    h.send(reverting_aave, giver.address, [(a_usdc, "AToken", "transfer", (recipient, amount))])
    reverting_aave.mine()

    second = take_and_load(case, db)
    found = by_account(second.state)
    assert {LIQUIDATOR.lower(), recipient.lower()} <= set(found) - set(by_account(first.state))
    # The protocol's fee share of the seized aTokens goes to the treasury (a BalanceTransfer too), which
    # is discovered but not stored: the transfer does not mark it in the Pool's bitmap.
    assert second.summary.discovery.new_accounts == 3
    with Store.open(db, read_only=True) as store:
        assert reverting_aave.deployment.treasury.lower() in store.discovered_accounts(case.deployment.name, 31337)
    assert reverting_aave.deployment.treasury.lower() not in found
    assert found[recipient.lower()] == [(reverting_aave.reserves["USDC"].underlying.lower(), amount, 0, True)]
    (seized,) = found[LIQUIDATOR.lower()]
    assert seized[0] == reverting_aave.reserves["WETH"].underlying.lower() and seized[1] > 0 and seized[3]
    assert second.summary.reconciliation == {"checked": len(second.state.accounts), "mismatches": 0,
                                             "verified": True}


def test_accounts_file(case: ConformanceCase, local_aave: LocalAave, tmp_path: Path) -> None:
    chosen = sorted(a.address for a in local_aave.seeded_accounts[:3])
    listing = tmp_path / "accounts.txt"
    listing.write_text("# three seeded accounts\n" + "\n".join(f"{a}  # note" for a in chosen) + "\n\n"
                       + h.new_address("never-used") + "\n")
    got = take_and_load(case, tmp_path / "db.duckdb", accounts_file=listing)
    assert sorted(got.state.accounts["account"]) == sorted(a.lower() for a in chosen)
    assert got.summary.accounts_read == 4
    assert got.summary.discovery.source == "file"
    with Store.open(tmp_path / "db.duckdb", read_only=True) as store:
        assert store.get_cursor(case.deployment.name, 31337) is None


# Errors.

def test_an_address_without_code_is_not_the_protocol(case: ConformanceCase, tmp_path: Path) -> None:
    from dataclasses import replace

    eoa = replace(case.deployment, root=h.new_address("eoa").lower())
    with pytest.raises(NotTheProtocol, match="no contract code"):
        take_snapshot(eoa, case.rpc_url, db_path=tmp_path / "db.duckdb", reorg_lag=0)


def test_a_mismatch_aborts_unless_not_verifying(case: ConformanceCase, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A reference one wei off for one account: nothing stored, or stored with the mismatch row."""
    import defirisk.adapters.aave_v3.reconcile as reconcile_module

    class OffByOne(AaveReference):
        def all_accounts(self):  # type: ignore[no-untyped-def]
            frame = super().all_accounts()
            frame.loc[0, "total_debt_base"] = int(frame.loc[0, "total_debt_base"]) + 1
            return frame

    monkeypatch.setattr(reconcile_module, "AaveReference", OffByOne)
    db = tmp_path / "db.duckdb"
    with pytest.raises(ReconciliationError, match="total_debt_base"):
        take_snapshot(case.deployment, case.rpc_url, db_path=db, reorg_lag=0)
    with Store.open(db, read_only=True) as store:
        assert len(store.list_snapshots()) == 0
    summary = take_snapshot(case.deployment, case.rpc_url, db_path=db, reorg_lag=0, verify=False)
    assert summary.reconciliation["mismatches"] == 1 and not summary.reconciliation["verified"]
    with Store.open(db, read_only=True) as store:
        rows = store.load_mismatches(summary.snapshot_id).to_dict("records")
        assert store.load_reconciliation(summary.snapshot_id)["mismatches"] == 1
    assert [(r["field"], int(r["ours"]) - int(r["chain"])) for r in rows] == [("total_debt_base", 1)]


def test_a_reorg_of_the_pinned_block_is_detected(reverting_aave: LocalAave, case: ConformanceCase,
                                                 tmp_path: Path) -> None:
    reverting_aave.mine()

    def replace_head(stage: str, done: int, total: int) -> None:
        if stage == "reconcile":
            reverting_aave.rpc.call("anvil_reorg", 1, [])

    db = tmp_path / "db.duckdb"
    with pytest.raises(ReorgDetected):
        take_snapshot(case.deployment, case.rpc_url, db_path=db, reorg_lag=0, on_progress=replace_head)
    with Store.open(db, read_only=True) as store:
        assert len(store.list_snapshots()) == 0
