"""The local-chain fixture: a real Aave v3 market on anvil, reloaded from the cached state.

Every assertion reads the chain itself (data provider, Pool, oracle, logs), so a fixture that
deploys the wrong parameters, loses history in the state dump or seeds the wrong portfolios fails
here rather than in the adapter tests built on it.
"""

from __future__ import annotations

import json
import statistics
import tomllib
from collections import Counter

import pytest
from eth_utils import keccak

from tests.localchain import multicall3
from tests.localchain.contracts import MAX_UINT, calldata, decode_log, decode_output, event_topic, read
from tests.localchain.helpers import LocalAave
from tests.localchain.market import EMODE, RAY, RESERVES
from tests.localchain.portfolio import KINDS
from tests.localchain.state import strip_traces
from tests.localchain.tx import TxFailed

pytestmark = pytest.mark.chain

WAD = 10**18
NO_DEBT_HEALTH_FACTOR = 2**256 - 1
BORROWABLE_IN_ISOLATION_BIT = 61


def _account_rows(aave: LocalAave) -> list[tuple]:
    """(seeded account, getUserAccountData) for every seeded account."""
    data = aave.get_users_account_data([a.address for a in aave.seeded_accounts])
    return list(zip(aave.seeded_accounts, data, strict=True))


def _batch_read(aave: LocalAave, name: str, fn: str, calls: list[tuple[str, tuple]]) -> list[tuple]:
    """One JSON-RPC batch of ``eth_call`` ``fn(*args)`` on (address, args) pairs."""
    requests = [("eth_call", [{"to": to, "data": calldata(name, fn, *args)}, "latest"]) for to, args in calls]
    n_args = len(calls[0][1])
    return [decode_output(name, fn, n_args, answer) for answer in aave.rpc.batch(requests)]


def test_reserves_have_the_real_parameters(local_aave: LocalAave) -> None:
    listed = read(local_aave.rpc, "AaveProtocolDataProvider", local_aave.data_provider, "getAllReservesTokens")
    assert [symbol for symbol, _ in listed] == [r.symbol for r in RESERVES]
    assert len(listed) >= 6
    assert {r.decimals for r in RESERVES} >= {18, 8, 6}
    for reserve in RESERVES:
        asset = local_aave.reserves[reserve.symbol].underlying
        config = read(local_aave.rpc, "AaveProtocolDataProvider", local_aave.data_provider,
                      "getReserveConfigurationData", asset)
        assert config == (
            reserve.decimals, reserve.ltv_bps, reserve.liquidation_threshold_bps, reserve.liquidation_bonus_bps,
            reserve.reserve_factor_bps, True, reserve.borrowing_enabled, False, True, False,
        ), reserve.symbol
        caps = read(local_aave.rpc, "AaveProtocolDataProvider", local_aave.data_provider, "getReserveCaps", asset)
        assert caps == (reserve.borrow_cap, reserve.supply_cap)
        fee = read(local_aave.rpc, "AaveProtocolDataProvider", local_aave.data_provider,
                   "getLiquidationProtocolFee", asset)
        assert fee == reserve.liquidation_protocol_fee_bps
        assert local_aave.price(reserve.symbol) == reserve.price
        assert read(local_aave.rpc, "MintableERC20", asset, "decimals") == reserve.decimals
        strategy = local_aave.reserves[reserve.symbol].strategy
        slope1 = read(local_aave.rpc, "DefaultReserveInterestRateStrategy", strategy, "getVariableRateSlope1")
        optimal = read(local_aave.rpc, "DefaultReserveInterestRateStrategy", strategy, "OPTIMAL_USAGE_RATIO")
        assert (slope1, optimal) == (reserve.rates.constructor_args()[2], reserve.rates.constructor_args()[0])


def test_parameters_match_the_published_report(local_aave: LocalAave) -> None:
    """Spot checks against literal values of the 2023-10-31 report, guarding the copied table."""
    def config(symbol: str) -> tuple:
        return read(local_aave.rpc, "AaveProtocolDataProvider", local_aave.data_provider,
                    "getReserveConfigurationData", local_aave.reserves[symbol].underlying)

    assert config("WETH")[:4] == (18, 8050, 8300, 10500)
    assert config("WBTC")[:4] == (8, 7300, 7800, 10500)
    assert config("USDC")[:4] == (6, 7700, 8000, 10450)
    assert config("CRV")[:4] == (18, 3500, 4100, 10830)
    assert local_aave.price("WETH") == 181685499606
    assert local_aave.price("WBTC") == 3481414003279
    strategy = local_aave.reserves["WETH"].strategy
    assert read(local_aave.rpc, "DefaultReserveInterestRateStrategy", strategy, "getVariableRateSlope1") == 38 * RAY // 1000


def test_emode_category_is_eth_correlated(local_aave: LocalAave) -> None:
    category = read(local_aave.rpc, "Pool", local_aave.pool, "getEModeCategoryData", EMODE.category_id)
    assert category == (9000, 9300, 10100, "0x" + "00" * 20, "ETH correlated")
    for reserve in RESERVES:
        got = read(local_aave.rpc, "AaveProtocolDataProvider", local_aave.data_provider,
                   "getReserveEModeCategory", local_aave.reserves[reserve.symbol].underlying)
        assert got == (1 if reserve.symbol in {"WETH", "wstETH"} else 0), reserve.symbol


def test_isolated_asset_has_its_debt_ceiling(local_aave: LocalAave) -> None:
    crv = local_aave.reserves["CRV"].underlying
    dp = local_aave.data_provider
    assert read(local_aave.rpc, "AaveProtocolDataProvider", dp, "getDebtCeiling", crv) == 500_000_000
    assert read(local_aave.rpc, "AaveProtocolDataProvider", dp, "getDebtCeilingDecimals") == 2
    for reserve in RESERVES:
        (config,) = read(local_aave.rpc, "Pool", local_aave.pool, "getConfiguration",
                         local_aave.reserves[reserve.symbol].underlying)
        in_isolation = bool(config >> BORROWABLE_IN_ISOLATION_BIT & 1)
        assert in_isolation == (reserve.symbol in {"USDC", "USDT", "DAI"}), reserve.symbol
    isolation_debt = read(local_aave.rpc, "Pool", local_aave.pool, "getReserveData", crv)[14]
    assert 0 < isolation_debt < 500_000_000


def test_seeded_health_factors_spread_from_one_to_ten(local_aave: LocalAave) -> None:
    rows = _account_rows(local_aave)
    kinds = Counter(account.kind for account, _ in rows)
    assert set(kinds) == set(KINDS)
    debtors = [data[5] / WAD for account, data in rows if account.borrows]
    assert all(1 < hf <= 10.5 for hf in debtors)
    assert min(debtors) < 1.1 and max(debtors) > 5
    assert 1.5 < statistics.median(debtors) < 5
    for account, (collateral, debt, *_, health_factor) in rows:
        assert collateral > 0
        if not account.borrows:
            assert (debt, health_factor) == (0, NO_DEBT_HEALTH_FACTOR)
        if account.kind == "dust":
            assert collateral < 25 * 10**8


def test_seeded_accounts_have_their_intended_kind(local_aave: LocalAave) -> None:
    accounts = local_aave.seeded_accounts
    pool = local_aave.pool
    emodes = _batch_read(local_aave, "Pool", "getUserEMode", [(pool, (a.address,)) for a in accounts])
    configs = _batch_read(local_aave, "Pool", "getUserConfiguration", [(pool, (a.address,)) for a in accounts])
    reserve_ids = {r.symbol: i for i, r in enumerate(RESERVES)}
    for account, (emode,), ((bits,),) in zip(accounts, emodes, configs, strict=True):
        borrowing = {s for s, i in reserve_ids.items() if bits >> (2 * i) & 1}
        collateral = {s for s, i in reserve_ids.items() if bits >> (2 * i + 1) & 1}
        assert borrowing == set(account.borrows), account
        assert collateral == set(account.supplies), account
        assert emode == (EMODE.category_id if account.kind == "emode" else 0)
        if account.kind == "isolated":
            assert collateral == {"CRV"} and borrowing <= {"USDC", "USDT", "DAI"}
        if account.kind == "multi-debt":
            assert len(borrowing) >= 2
        if account.kind == "zero-debt":
            assert not borrowing


def test_pool_logs_survive_the_state_reload(local_aave: LocalAave) -> None:
    assert local_aave.node.load_state == local_aave.chain.state_file
    head = local_aave.block_number()

    def logs(event: str) -> list[dict]:
        raw = local_aave.rpc.call("eth_getLogs", {
            "address": local_aave.pool, "fromBlock": hex(local_aave.start_block), "toBlock": hex(head),
            "topics": [event_topic("Pool", event)],
        })
        return [decode_log("Pool", event, entry) for entry in raw]

    suppliers = {e["onBehalfOf"] for e in logs("Supply")}
    borrowers = {e["onBehalfOf"] for e in logs("Borrow")}
    assert {a.address for a in local_aave.seeded_accounts} <= suppliers
    assert {a.address for a in local_aave.seeded_accounts if a.borrows} == borrowers
    assert {e["user"] for e in logs("UserEModeSet")} == {
        a.address for a in local_aave.seeded_accounts if a.kind == "emode"
    }


def test_call_at_the_head_block_matches_latest(local_aave: LocalAave) -> None:
    head = hex(local_aave.block_number())
    account = next(a.address for a in local_aave.seeded_accounts if a.borrows)
    assert local_aave.get_user_account_data(account, block=head) == local_aave.get_user_account_data(account)


def test_clock_resumes_at_the_head_block(local_aave: LocalAave) -> None:
    with LocalAave.start(len(local_aave.seeded_accounts)) as fresh:
        head = fresh.rpc.call("eth_getBlockByNumber", "latest", False)
        fresh.mine()
        new = fresh.rpc.call("eth_getBlockByNumber", "latest", False)
    # The cache may have been built days ago: without anvil_setTime the gap would be that long.
    assert 0 < int(new["timestamp"], 16) - int(head["timestamp"], 16) < 30


def _riskiest_single_debt(aave: LocalAave) -> tuple[str, str, str]:
    """(address, collateral, debt) of the lowest-health-factor account with one collateral, one debt."""
    account = min(
        (a for a in aave.seeded_accounts if a.kind == "single-debt" and len(a.supplies) == 1),
        key=lambda a: a.target_health_factor,
    )
    (collateral,), (debt,) = account.supplies, account.borrows
    return account.address, collateral, debt


def _drop_health_factor_to(aave: LocalAave, user: str, collateral: str, target: float) -> None:
    """Move the collateral's oracle price so that ``user``'s health factor becomes ``target``."""
    health_factor = aave.get_user_account_data(user)[5]
    aave.set_price(collateral, aave.price(collateral) / 10**8 * target * WAD / health_factor)


def test_oracle_drop_makes_a_seeded_account_liquidatable(reverting_aave: LocalAave) -> None:
    aave = reverting_aave
    user, collateral, debt = _riskiest_single_debt(aave)
    _drop_health_factor_to(aave, user, collateral, 0.97)
    assert 0.96 * WAD < aave.get_user_account_data(user)[5] < WAD

    debt_token = aave.reserves[debt].variable_debt_token
    debt_before = read(aave.rpc, "VariableDebtToken", debt_token, "balanceOf", user)
    liquidation = aave.liquidate(collateral, debt, user, debt_before // 2)
    debt_after = read(aave.rpc, "VariableDebtToken", debt_token, "balanceOf", user)

    assert liquidation.receipt["status"] == "0x1"
    event = liquidation.event
    assert event["user"] == user
    assert event["collateralAsset"] == aave.reserves[collateral].underlying
    assert event["debtAsset"] == aave.reserves[debt].underlying
    assert event["debtToCover"] == debt_before // 2
    assert event["liquidatedCollateralAmount"] > 0
    assert event["receiveAToken"] is False
    # Repaid half, less the seconds of interest accrued between the two reads.
    assert abs((debt_before - debt_after) - debt_before // 2) <= debt_before // 10**6


def test_liquidating_everything_below_095_repays_the_whole_debt(reverting_aave: LocalAave) -> None:
    aave = reverting_aave
    user, collateral, debt = _riskiest_single_debt(aave)
    _drop_health_factor_to(aave, user, collateral, 0.9)
    liquidation = aave.liquidate(collateral, debt, user, MAX_UINT)
    assert liquidation.event["debtToCover"] > 0
    assert read(aave.rpc, "VariableDebtToken", aave.reserves[debt].variable_debt_token, "balanceOf", user) == 0


def test_liquidating_a_healthy_account_reverts_with_aave_error_45(reverting_aave: LocalAave) -> None:
    user, collateral, debt = _riskiest_single_debt(reverting_aave)
    with pytest.raises(TxFailed, match="45"):
        reverting_aave.liquidate(collateral, debt, user, 1000)


def test_snapshot_and_revert_restore_the_oracle(local_aave: LocalAave) -> None:
    before = local_aave.price("WBTC")
    snapshot = local_aave.snapshot()
    local_aave.set_price("WBTC", 20_000)
    assert local_aave.price("WBTC") == 20_000 * 10**8
    assert local_aave.revert(snapshot)
    assert local_aave.price("WBTC") == before


def test_multicall3_is_the_canonical_code(local_aave: LocalAave) -> None:
    code = local_aave.rpc.call("eth_getCode", multicall3.MULTICALL3_ADDRESS, "latest")
    assert "0x" + keccak(hexstr=code).hex() == multicall3.CANONICAL_CODEHASH


def test_deployment_toml_points_at_the_provider(local_aave: LocalAave, tmp_path) -> None:
    path = tmp_path / "local.toml"
    local_aave.write_deployment_toml(path)
    toml = tomllib.loads(path.read_text())
    assert toml == {
        "name": "local-aave-v3", "family": "aave-v3", "label": "Local anvil Aave v3 fixture",
        "chain_id": 31337, "pool_addresses_provider": local_aave.provider,
        "start_block": local_aave.start_block, "source": "tests/localchain fixture",
    }
    block = local_aave.rpc.call("eth_getBlockByNumber", hex(toml["start_block"]), False)
    first = local_aave.rpc.call("eth_getTransactionReceipt", block["transactions"][0])
    assert first["contractAddress"].lower() == local_aave.provider.lower()


def test_second_start_reuses_the_cache(local_aave: LocalAave) -> None:
    mtime = local_aave.chain.state_file.stat().st_mtime_ns
    with LocalAave.start(len(local_aave.seeded_accounts)) as again:
        assert not again.chain.built
        assert again.chain.state_file == local_aave.chain.state_file
        assert again.chain.state_file.stat().st_mtime_ns == mtime
        assert again.provider == local_aave.provider
        assert again.block_number() == local_aave.block_number()


def test_strip_traces_empties_only_the_trace_arrays() -> None:
    dump = {
        "blocks": [{"header": {"number": "0x1"}}],
        "transactions": [
            {"info": {"traces": [{"trace": {"data": "0x]\"exit\":"}, "children": [[1]]}], "exit": "Return"},
             "receipt": {"logs": [{"data": "0x01"}]}},
            {"info": {"traces": [], "exit": "Revert"}, "receipt": {"logs": []}},
        ],
    }
    stripped = json.loads(strip_traces(json.dumps(dump, separators=(",", ":")).encode()))
    assert [tx["info"] for tx in stripped["transactions"]] == [
        {"traces": [], "exit": "Return"}, {"traces": [], "exit": "Revert"}
    ]
    assert stripped["transactions"][0]["receipt"] == dump["transactions"][0]["receipt"]
    assert stripped["blocks"] == dump["blocks"]
