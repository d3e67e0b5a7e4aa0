"""The Aave v3.0 integer reference against real ``liquidationCall``s on the local chain, to the wei.

For each case a seeded account is made liquidatable by moving one oracle price (bisected until its
health factor lands in the case's band). Its balances, scaled balances, the reserves' indexes and
parameters are read from the chain at that block; the reference predicts the repaid debt, the
collateral paid to the liquidator, the protocol fee and the balances after; the liquidation is then
mined at the same timestamp (so no interest accrues in between) and every figure must match exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from defirisk.adapters.aave_v3.liquidation import CallInputs, balances_after, liquidation_call_v30
from tests.localchain.contracts import MAX_UINT, read
from tests.localchain.helpers import LIQUIDATOR, LocalAave

pytestmark = pytest.mark.chain

WAD = 10**18
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
STABLES = ("USDC", "USDT", "DAI")


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    hf_band: tuple[float, float]
    receive_atoken: bool = False
    partial: bool = False


CASES = [
    Case("half close factor (0.95 < HF < 1)", "single-debt", (0.96, 0.99)),
    Case("full close factor (HF ≤ 0.95)", "single-debt", (0.88, 0.94)),
    Case("collateral cap binds", "single-debt", (0.45, 0.6)),
    Case("e-mode bonus", "emode", (0.9, 0.99)),
    Case("several debts, part of one repaid, aTokens received", "multi-debt", (0.9, 0.99), receive_atoken=True, partial=True),
]


def _pick(aave: LocalAave, case: Case) -> tuple[str, str, str]:
    """(account, collateral symbol, debt symbol): one collateral priced apart from the debt."""
    for account in aave.seeded_accounts:
        if account.kind != case.kind or not account.borrows or len(account.supplies) != 1:
            continue
        (collateral,) = account.supplies
        debts = [d for d in account.borrows if d != collateral]
        if case.kind == "emode":
            if collateral == "wstETH" and debts == ["WETH"]:
                return account.address, collateral, "WETH"
        elif collateral in ("WETH", "WBTC", "wstETH") and debts and all(d in STABLES for d in debts):
            if case.kind != "multi-debt" or len(debts) >= 2:
                return account.address, collateral, max(debts, key=lambda d: account.borrows[d] / 10 ** _decimals(aave, d))
    raise AssertionError(f"no seeded account fits case {case.name!r}")


def _decimals(aave: LocalAave, symbol: str) -> int:
    return aave.reserves[symbol].decimals


def _health_factor(aave: LocalAave, user: str) -> int:
    return aave.get_user_account_data(user)[5]


def _move_price_into_band(aave: LocalAave, symbol: str, user: str, band: tuple[float, float]) -> None:
    """Bisect the collateral's price until the account's health factor is inside ``band``."""
    start = aave.price(symbol) / 1e8
    low, high = 0.0, start
    for _ in range(60):
        mid = (low + high) / 2
        aave.set_price(symbol, f"{mid:.8f}")
        hf = _health_factor(aave, user) / WAD
        if band[0] <= hf <= band[1]:
            return
        low, high = (low, mid) if hf > band[1] else (mid, high)
    raise AssertionError(f"could not bring the health factor into {band}")


def _call(aave: LocalAave, contract: str, address: str, fn: str, *args: object) -> object:
    return read(aave.rpc, contract, address, fn, *args)


def _inputs(aave: LocalAave, user: str, collateral: str, debt: str, debt_to_cover: int) -> tuple[CallInputs, dict]:
    """``CallInputs`` and the scaled balances and indexes, all read from the chain at the head."""
    c, d = aave.reserves[collateral], aave.reserves[debt]
    dp = aave.data_provider
    c_config = _call(aave, "AaveProtocolDataProvider", dp, "getReserveConfigurationData", c.underlying)
    bonus = c_config[3]
    c_price = aave.price(collateral)
    d_price = aave.price(debt)
    category = _call(aave, "Pool", aave.pool, "getUserEMode", user)
    if category:
        _ltv, _lt, emode_bonus, source, _label = _call(aave, "Pool", aave.pool, "getEModeCategoryData", category)
        source_price = _call(aave, "AaveOracle", aave.oracle, "getAssetPrice", source) if int(source, 16) else 0
        if _call(aave, "AaveProtocolDataProvider", dp, "getReserveEModeCategory", c.underlying) == category:
            bonus = emode_bonus
            c_price = source_price or c_price
        d_price = source_price or d_price
    user_collateral = _call(aave, "AaveProtocolDataProvider", dp, "getUserReserveData", c.underlying, user)
    stable = _call(aave, "StableDebtToken", d.stable_debt_token, "balanceOf", user)
    inputs = CallInputs(
        debt_to_cover=debt_to_cover,
        health_factor=_health_factor(aave, user),
        collateral_balance=_call(aave, "AToken", c.a_token, "balanceOf", user),
        variable_debt=_call(aave, "VariableDebtToken", d.variable_debt_token, "balanceOf", user),
        stable_debt=stable,
        collateral_price=c_price,
        debt_price=d_price,
        collateral_decimals=c_config[0],
        debt_decimals=_call(aave, "AaveProtocolDataProvider", dp, "getReserveConfigurationData", d.underlying)[0],
        liquidation_bonus=bonus,
        protocol_fee=_call(aave, "AaveProtocolDataProvider", dp, "getLiquidationProtocolFee", c.underlying),
        collateral_enabled=bool(user_collateral[8]) and c_config[2] != 0,
    )
    scaled = {
        "collateral": _call(aave, "AToken", c.a_token, "scaledBalanceOf", user),
        "income": _call(aave, "Pool", aave.pool, "getReserveNormalizedIncome", c.underlying),
        "debt": _call(aave, "VariableDebtToken", d.variable_debt_token, "scaledBalanceOf", user),
        "borrow_index": _call(aave, "Pool", aave.pool, "getReserveNormalizedVariableDebt", d.underlying),
        "treasury": _call(aave, "AToken", c.a_token, "RESERVE_TREASURY_ADDRESS"),
        "liquidator_underlying": _call(aave, "MintableERC20", c.underlying, "balanceOf", LIQUIDATOR),
        "liquidator_atoken": _call(aave, "AToken", c.a_token, "balanceOf", LIQUIDATOR),
    }
    return inputs, scaled


def _transfers(receipt: dict, token: str) -> list[tuple[str, str, int]]:
    """ERC-20 ``Transfer`` (from, to, value) logs of ``token`` in a receipt, lower-case addresses."""
    out = []
    for log in receipt["logs"]:
        if log["address"].lower() == token.lower() and log["topics"][0] == TRANSFER_TOPIC:
            out.append(("0x" + log["topics"][1][-40:], "0x" + log["topics"][2][-40:], int(log["data"], 16)))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_liquidation_call_matches_the_reference(reverting_aave: LocalAave, case: Case) -> None:
    aave = reverting_aave
    user, collateral, debt = _pick(aave, case)
    # A month of interest: indexes away from 1 RAY, so that every rayMul / rayDiv rounding counts.
    aave.advance_time(30 * 86_400)
    _move_price_into_band(aave, collateral, user, case.hf_band)
    # A fresh head block: the reads below and the liquidation share its timestamp.
    aave.mine()
    debt_balance = _call(aave, "VariableDebtToken", aave.reserves[debt].variable_debt_token, "balanceOf", user)
    debt_to_cover = debt_balance // 5 if case.partial else MAX_UINT
    inputs, chain = _inputs(aave, user, collateral, debt, debt_to_cover)
    assert inputs.stable_debt == 0 and inputs.health_factor < WAD
    assert chain["income"] > 10**27 and chain["borrow_index"] > 10**27

    predicted = liquidation_call_v30(inputs)
    assert predicted.reverted is None
    after = balances_after(predicted, chain["collateral"], chain["income"], chain["debt"], chain["borrow_index"])
    if "cap" in case.name:
        assert predicted.collateral_seized == inputs.collateral_balance
    if "half" in case.name:
        assert predicted.debt_repaid == (inputs.variable_debt * 5_000 + 5_000) // 10_000
    if "full" in case.name:
        assert predicted.debt_repaid == inputs.variable_debt
    if case.kind == "emode":
        assert inputs.liquidation_bonus == 10_100

    # Mine the liquidation at the head's timestamp: the indexes read above are the ones it uses.
    head = aave.rpc.call("eth_getBlockByNumber", "latest", False)
    aave.rpc.call("evm_setNextBlockTimestamp", hex(int(head["timestamp"], 16)))
    done = aave.liquidate(collateral, debt, user, debt_to_cover, receive_atoken=case.receive_atoken)

    event = done.event
    assert event["debtToCover"] == predicted.debt_repaid
    assert event["liquidatedCollateralAmount"] == predicted.collateral_to_liquidator
    a_token = aave.reserves[collateral].a_token
    treasury = chain["treasury"].lower()
    fee_moves = [v for f, t, v in _transfers(done.receipt, a_token) if f == user.lower() and t == treasury]
    # The treasury gets the predicted fee, less the contract's clamp when the balance runs out.
    assert fee_moves == ([after.protocol_fee] if predicted.protocol_fee else [])
    assert 0 <= predicted.protocol_fee - after.protocol_fee <= (1 if predicted.collateral_disabled else 0)

    c, d = aave.reserves[collateral], aave.reserves[debt]
    assert _call(aave, "AToken", c.a_token, "scaledBalanceOf", user) == after.scaled_collateral
    assert _call(aave, "AToken", c.a_token, "balanceOf", user) == after.collateral
    assert _call(aave, "VariableDebtToken", d.variable_debt_token, "scaledBalanceOf", user) == after.scaled_variable_debt
    assert _call(aave, "VariableDebtToken", d.variable_debt_token, "balanceOf", user) == after.variable_debt
    if case.receive_atoken:
        received = _call(aave, "AToken", c.a_token, "balanceOf", LIQUIDATOR) - chain["liquidator_atoken"]
        assert abs(received - predicted.collateral_to_liquidator) <= 1  # aToken rayMul/rayDiv round trip
    else:
        received = _call(aave, "MintableERC20", c.underlying, "balanceOf", LIQUIDATOR) - chain["liquidator_underlying"]
        assert received == predicted.collateral_to_liquidator
    using = _call(aave, "AaveProtocolDataProvider", aave.data_provider, "getUserReserveData", c.underlying, user)[8]
    assert bool(using) == (not predicted.collateral_disabled)
