"""The v3.5/v3.6 liquidation model against real ``liquidationCall``s of compiled Aave v3.6, to the wei.

Each case moves oracle prices until a seeded account's health factor is in the case's band, mines
a block, takes a snapshot of the account at that block (``take_snapshot``, reconciled), and predicts
the call from the snapshot alone (``call_inputs`` → ``liquidation_call`` under the snapshot's rules
version → ``balances_after_v35``). The call is then mined at the same timestamp, so the indexes are
the snapshot's, and every figure must match: the ``LiquidationCall`` amounts, the fee transferred to
the treasury, the borrower's scaled and rounded balances, the reserves' deficits and the collateral
flag. The cases cover the position-level close factor, the 0.95 and small-position full closes,
the ``MUST_NOT_LEAVE_DUST`` revert, deficit creation across every debt reserve, e-mode bonuses of an
asset in two categories, e-mode-only collateral, aTokens received, isolation, and a sweep of random
portfolios.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from defirisk.adapters.aave_v3.liquidation import (
    CallInputs,
    CallOutcome,
    balances_after_v35,
    call_inputs,
    liquidation_call,
)
from defirisk.chain import event_topic
from defirisk.model import MarketState
from defirisk.snapshot import take_snapshot
from defirisk.store import Store
from tests.localchain.aave_origin import LIQUIDATOR, MAX_UINT, LocalAaveOrigin
from tests.localchain.origin_market import BY_SYMBOL, AccountPlan, plans
from tests.localchain.rpc import RpcError

pytestmark = pytest.mark.chain

WAD = 10**18
TRANSFER = event_topic("Transfer(address,address,uint256)")
MUST_NOT_LEAVE_DUST = "0x" + event_topic("MustNotLeaveDust()")[2:10]


@pytest.fixture(scope="module")
def node() -> Iterator[LocalAaveOrigin]:
    with LocalAaveOrigin.start() as chain:
        yield chain


@pytest.fixture
def origin(node: LocalAaveOrigin) -> Iterator[LocalAaveOrigin]:
    """The module's node, with every change a test makes undone afterwards."""
    snapshot = node.snapshot()
    yield node
    assert node.revert(snapshot)


@dataclass
class Prepared:
    """An account made liquidatable, its snapshot at the head block, and the prediction."""

    user: str
    collateral: str
    debt: str
    state: MarketState
    outcome: CallOutcome
    inputs: CallInputs

    def with_cover(self, cover: int) -> Prepared:
        """The same call with another ``debt_to_cover``, predicted again."""
        inputs = replace(self.inputs, debt_to_cover=cover)
        return replace(self, inputs=inputs, outcome=liquidation_call(self.state.meta.rules_version, inputs))


def _health_factor(origin: LocalAaveOrigin, user: str) -> int:
    return origin.account_data(user)[5]


def move_into_band(origin: LocalAaveOrigin, symbols: tuple[str, ...], user: str, band: tuple[float, float]) -> None:
    """Scale the prices of ``symbols`` together (bisection) until the health factor is inside ``band``."""
    start = {s: origin.price(s) for s in symbols}
    low, high = 0.0, 1.0
    for _ in range(80):
        mid = (low + high) / 2
        for s in symbols:
            origin.set_price(s, max(1, int(start[s] * mid)))
        hf = _health_factor(origin, user) / WAD
        if band[0] <= hf <= band[1]:
            return
        low, high = (low, mid) if hf > band[1] else (mid, high)
    raise AssertionError(f"could not bring the health factor into {band}")


def snapshot_of(origin: LocalAaveOrigin, user: str, folder: Path) -> MarketState:
    """A reconciled snapshot of ``user`` alone at the head block."""
    toml = origin.write_deployment_toml(folder / "origin.toml")
    db = folder / "db.duckdb"
    summary = take_snapshot(str(toml), origin.rpc_url, db_path=db, reorg_lag=0, accounts=[user])
    assert summary.reconciliation == {"checked": 1, "mismatches": 0, "verified": True}
    with Store.open(db, read_only=True) as store:
        return store.load_state(summary.snapshot_id)


def prepare(origin: LocalAaveOrigin, folder: Path, label: str, collateral: str, debt: str,
            band: tuple[float, float], move: tuple[str, ...], debt_to_cover: int | None = None) -> Prepared:
    user = origin.account(label)
    origin.fund_liquidator(debt, 10**40)
    move_into_band(origin, move, user, band)
    origin.mine()
    state = snapshot_of(origin, user, folder)
    assert (state.meta.rules_version, state.meta.market_params["pool_revision"]) == ("3.6", 10)
    assets = {row["symbol"]: row["asset"] for row in state.assets.to_dict("records")}
    inputs = call_inputs(state, state.meta.market_params["pool"], user, assets[collateral], assets[debt],
                         MAX_UINT if debt_to_cover is None else debt_to_cover)
    return Prepared(user, collateral, debt, state, liquidation_call(state.meta.rules_version, inputs), inputs)


def _scaled(state: MarketState, user: str, asset: str, key: str) -> int:
    (extra,) = state.accounts.loc[state.accounts["account"] == user, "extra"]
    return extra["reserves"].get(asset, {}).get(key, 0)


def _asset_extra(state: MarketState, symbol: str) -> dict:
    (extra,) = state.assets.loc[state.assets["symbol"] == symbol, "extra"]
    return extra


def _deficits(origin: LocalAaveOrigin) -> dict[str, int]:
    return {s: origin.uint(origin.pool, "getReserveDeficit(address)", r.underlying) for s, r in origin.reserves.items()}


def liquidate_and_check(origin: LocalAaveOrigin, p: Prepared, receive_atoken: bool = False) -> dict:
    """Run the call at the snapshot's timestamp and check every predicted figure; return the event."""
    assert p.outcome.reverted is None
    c, d = origin.reserves[p.collateral], origin.reserves[p.debt]
    cx, dx = _asset_extra(p.state, p.collateral), _asset_extra(p.state, p.debt)
    after = balances_after_v35(
        p.outcome,
        _scaled(p.state, p.user, c.underlying, "collateral_scaled"), cx["normalized_income"],
        _scaled(p.state, p.user, d.underlying, "variable_debt_scaled"), dx["normalized_variable_debt"],
    )
    other_debts = {
        s: origin.uint(r.variable_debt_token, "balanceOf(address)", p.user)
        for s, r in origin.reserves.items() if s != p.debt
    }
    deficits = _deficits(origin)
    origin.mine_next_at_head_time()
    receipt, event = origin.liquidate(p.collateral, p.debt, p.user, p.inputs.debt_to_cover, receive_atoken)

    assert event == {"debt_to_cover": p.outcome.debt_repaid, "liquidated_collateral": p.outcome.collateral_to_liquidator}
    fee_moves = [int(log["data"], 16) for log in receipt["logs"]
                 if log["address"] == c.a_token and log["topics"][0] == TRANSFER
                 and log["topics"][1][-40:] == p.user[2:] and log["topics"][2][-40:] == origin.deployment.treasury[2:]]
    assert fee_moves == ([after.protocol_fee] if p.outcome.protocol_fee else [])
    assert origin.uint(c.a_token, "scaledBalanceOf(address)", p.user) == after.scaled_collateral
    assert origin.uint(c.a_token, "balanceOf(address)", p.user) == after.collateral
    assert origin.uint(d.variable_debt_token, "scaledBalanceOf(address)", p.user) == after.scaled_variable_debt
    assert origin.uint(d.variable_debt_token, "balanceOf(address)", p.user) == after.variable_debt

    now = _deficits(origin)
    assert now[p.debt] - deficits[p.debt] == p.outcome.deficit
    for symbol, balance in other_debts.items():
        burned = balance if p.outcome.burns_other_debt else 0
        assert now[symbol] - deficits[symbol] == burned, symbol
        assert origin.uint(origin.reserves[symbol].variable_debt_token, "balanceOf(address)", p.user) == balance - burned
    config = origin.uint(origin.pool, "getUserConfiguration(address)", p.user)
    reserve_id = _asset_extra(p.state, p.collateral)["reserve_id"]
    assert bool(config >> (2 * reserve_id + 1) & 1) == (not p.outcome.collateral_disabled)
    received = (origin.uint(c.a_token, "balanceOf(address)", LIQUIDATOR) if receive_atoken
                else origin.uint(c.underlying, "balanceOf(address)", LIQUIDATOR))
    assert abs(received - p.outcome.collateral_to_liquidator) <= (1 if receive_atoken else 0)
    return event


def test_close_factor_applies_to_the_whole_position(origin: LocalAaveOrigin, tmp_path: Path) -> None:
    """USDC is 70 % of the debt: v3.3+ lets half of the *position* be repaid in USDC, not half of USDC."""
    p = prepare(origin, tmp_path, "multi-near", "WETH", "USDC", (0.96, 0.99), ("WETH",))
    inp = p.inputs
    half = (inp.total_debt_base * 5_000 + 5_000) // 10_000
    assert inp.variable_debt * inp.debt_price // 10**6 > half
    assert p.outcome.debt_repaid == half * 10**6 // inp.debt_price
    assert p.outcome.debt_repaid > (inp.variable_debt * 5_000 + 5_000) // 10_000  # the v3.0 cap
    liquidate_and_check(origin, p)


@pytest.mark.parametrize(("label", "band", "why"), [
    ("single-near", (0.85, 0.94), "health factor at or below 0.95"),
    ("small", (0.96, 0.99), "collateral and debt both worth less than 2,000"),
])
def test_whole_reserve_debt_may_be_repaid(origin: LocalAaveOrigin, tmp_path: Path, label: str,
                                          band: tuple[float, float], why: str) -> None:
    p = prepare(origin, tmp_path, label, "WETH", "USDC", band, ("WETH",))
    assert p.outcome.debt_repaid == p.inputs.variable_debt, why
    liquidate_and_check(origin, p)


def reverts_on_chain(origin: LocalAaveOrigin, p: Prepared, error_selector: str) -> None:
    """``liquidationCall`` of ``p`` as an ``eth_call`` from the liquidator reverts with ``error_selector``."""
    data = origin.liquidation_calldata(p.collateral, p.debt, p.user, p.inputs.debt_to_cover)
    with pytest.raises(RpcError, match=error_selector):
        origin.rpc.call("eth_call", {"from": LIQUIDATOR, "to": origin.pool, "data": data}, "latest")


def test_dust_is_refused_like_the_contract(origin: LocalAaveOrigin, tmp_path: Path) -> None:
    """Leaving less than 1,000 of debt (collateral left above it) reverts; leaving 1,500 goes through."""
    p = prepare(origin, tmp_path, "single-near", "WETH", "USDC", (0.92, 0.945), ("WETH",))
    usd = 10**8 * 10**6 // p.inputs.debt_price  # USDC units per USD, floored
    dusty = p.with_cover(p.inputs.variable_debt - 500 * usd)
    assert dusty.outcome.reverted == "MUST_NOT_LEAVE_DUST"
    reverts_on_chain(origin, dusty, MUST_NOT_LEAVE_DUST)
    liquidate_and_check(origin, p.with_cover(p.inputs.variable_debt - 1_500 * usd))


def test_last_collateral_seized_creates_deficit_in_every_debt_reserve(origin: LocalAaveOrigin, tmp_path: Path) -> None:
    p = prepare(origin, tmp_path, "multi-near", "WETH", "USDC", (0.4, 0.5), ("WETH",))
    assert p.outcome.collateral_seized == p.inputs.collateral_balance
    assert p.outcome.deficit > 0 and p.outcome.burns_other_debt and p.outcome.borrowing_cleared
    liquidate_and_check(origin, p)
    assert origin.account_data(p.user)[:2] == (0, 0)


@pytest.mark.parametrize(("label", "debt", "bonus"), [("emode1-near", "WETH", 10_100), ("emode2-near", "USDT", 10_400)])
def test_emode_bonus_of_an_asset_in_two_categories(origin: LocalAaveOrigin, tmp_path: Path, label: str, debt: str,
                                                   bonus: int) -> None:
    """wstETH is collateral in e-modes 1 and 2: the borrower's category sets the bonus."""
    p = prepare(origin, tmp_path, label, "wstETH", debt, (0.9, 0.99), ("wstETH",))
    assert p.inputs.liquidation_bonus == bonus != BY_SYMBOL["wstETH"].liquidation_bonus
    liquidate_and_check(origin, p)


def test_emode_only_collateral_is_liquidated_with_the_emode_bonus(origin: LocalAaveOrigin, tmp_path: Path) -> None:
    """EMC has no liquidation threshold of its own; v3.6 liquidates it inside e-mode 2 (v3.5 would refuse)."""
    p = prepare(origin, tmp_path, "emode2-emc", "EMC", "USDT", (0.9, 0.99), ("EMC",))
    assert p.inputs.collateral_enabled and p.inputs.liquidation_bonus == 10_400 and p.outcome.protocol_fee > 0
    liquidate_and_check(origin, p)


def test_atokens_received_and_protocol_fee(origin: LocalAaveOrigin, tmp_path: Path) -> None:
    p = prepare(origin, tmp_path, "multi", "WBTC", "USDT", (0.9, 0.99), ("WETH", "WBTC"), debt_to_cover=2_000 * 10**6)
    assert p.outcome.debt_repaid == 2_000 * 10**6 and p.outcome.protocol_fee > 0
    liquidate_and_check(origin, p, receive_atoken=True)


def test_isolated_collateral(origin: LocalAaveOrigin, tmp_path: Path) -> None:
    p = prepare(origin, tmp_path, "isolated-near", "ISO", "USDT", (0.9, 0.99), ("ISO",))
    assert p.inputs.liquidation_bonus == 11_000
    liquidate_and_check(origin, p)


def _sweepable(plan: AccountPlan) -> bool:
    """Debt, and no asset both supplied and borrowed (so that the collateral prices alone sink it)."""
    borrowed = {d for d, _ in plan.borrows}
    return bool(plan.borrows) and all(s not in borrowed for s, _ in plan.supplies)


SWEEP = [plan for plan in plans() if plan.kind == "random" and _sweepable(plan)][:8]


@pytest.mark.parametrize("plan", SWEEP, ids=[plan.label for plan in SWEEP])
def test_random_portfolios(origin: LocalAaveOrigin, tmp_path: Path, plan: AccountPlan) -> None:
    """Every collateral falls until HF ≈ 0.9; the largest is liquidated for the first debt, as much
    as allowed (a predicted revert must be the chain's too)."""
    moved = tuple(s for s, _ in plan.supplies)
    collateral = max(moved, key=lambda s: dict(plan.supplies)[s] * BY_SYMBOL[s].price / 10 ** BY_SYMBOL[s].decimals)
    p = prepare(origin, tmp_path, plan.label, collateral, plan.borrows[0][0], (0.85, 0.97), moved)
    if p.outcome.reverted == "MUST_NOT_LEAVE_DUST":
        reverts_on_chain(origin, p, MUST_NOT_LEAVE_DUST)
    else:
        liquidate_and_check(origin, p)
