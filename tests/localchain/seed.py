"""Seed planned accounts on chain, through the real Pool.

Every supply, ``setUserUseReserveAsCollateral``, ``setUserEMode`` and borrow is a real Pool
transaction, so the Pool emits the events (``Supply``, ``Borrow``, ``UserEModeSet``,
``ReserveUsedAsCollateralEnabled``) from which an adapter discovers accounts. Only the set-up
around them is written directly, because thousands of transactions for it would dominate the run
time: ETH for gas (``anvil_setBalance``), token balances and the Pool's allowance
(``anvil_setStorageAt`` on ``MintableERC20``'s ``_balances`` and ``_allowances`` slots), and the
senders are impersonated (``anvil_autoImpersonateAccount``). A liquidity provider supplies the
borrowed assets first.

Health factors down to 1.01 lie below what LTVs allow at origination, so the seeding runs with LTVs
raised to the liquidation thresholds and restores the real ones after (``set_ltv_headroom``).

The result is checked by state, not receipts: every account's ``getUserAccountData`` (one
Multicall3 ``eth_call`` per 500 accounts) must show its target health factor.
"""

from __future__ import annotations

from decimal import Decimal

from eth_utils import keccak

from tests.localchain import multicall3
from tests.localchain.aave import Deployment, set_ltv_headroom
from tests.localchain.contracts import MAX_UINT, calldata, decode_output
from tests.localchain.market import BY_SYMBOL, EMODE, ORACLE_DECIMALS
from tests.localchain.portfolio import (
    BORROWABLE,
    SUPPLY_CAP_SHARE,
    SeededAccount,
    account_address,
    plan_accounts,
    raw_from_base,
)
from tests.localchain.rpc import Rpc
from tests.localchain.tx import Transactor

# Gas limits with headroom over what the seeding uses (supply <= 234k, borrow <= 380k).
SUPPLY_GAS, SETTING_GAS, BORROW_GAS = 350_000, 200_000, 600_000
VARIABLE_RATE = 2
ETH_FOR_GAS = hex(10**20)
# The provider may fill supply caps up to 95 % together with the seeded accounts' supplies.
PROVIDER_CAP_SHARE = Decimal("0.95") - SUPPLY_CAP_SHARE
PROVIDER_FLOOR_USD = 1_000_000
# On-chain health factor vs target: rounding of dust amounts and seconds of interest stay far below.
HEALTH_FACTOR_TOLERANCE = 0.02


class SeedingFailed(RuntimeError):
    """Seeded accounts do not show the positions they were planned with."""


def _slot(key: str, slot: int | bytes) -> bytes:
    """Storage slot of ``mapping[key]`` for a mapping at ``slot``: keccak256(key . slot)."""
    position = slot if isinstance(slot, bytes) else slot.to_bytes(32, "big")
    return keccak(bytes.fromhex(key[2:].rjust(64, "0")) + position)


def _fund_calls(deployment: Deployment, holdings: dict[str, dict[str, int]]) -> list[tuple[str, list]]:
    """``anvil_setBalance`` and ``anvil_setStorageAt`` calls giving each account ETH for gas, its
    tokens, and the Pool an allowance on them.

    ``holdings`` maps account to {symbol: raw}. The tokens have no supply before seeding, so each
    ``totalSupply`` is set to the sum handed out and stays consistent with the balances.
    """
    slots = deployment.slots["MintableERC20"]
    totals = dict.fromkeys(BY_SYMBOL, 0)
    calls: list[tuple[str, list]] = []
    for account, amounts in holdings.items():
        calls.append(("anvil_setBalance", [account, ETH_FOR_GAS]))
        for symbol, raw in amounts.items():
            token = deployment.reserves[symbol].underlying
            totals[symbol] += raw
            calls.append(("anvil_setStorageAt", [token, "0x" + _slot(account, slots["_balances"]).hex(), _word(raw)]))
            allowance = _slot(deployment.pool, _slot(account, slots["_allowances"]))
            calls.append(("anvil_setStorageAt", [token, "0x" + allowance.hex(), _word(MAX_UINT)]))
    for symbol, total in totals.items():
        slot = _word(slots["_totalSupply"])
        calls.append(("anvil_setStorageAt", [deployment.reserves[symbol].underlying, slot, _word(total)]))
    return calls


def _word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def _supply_txs(transactor: Transactor, deployment: Deployment, user: str, supplies: dict[str, int]) -> list[dict]:
    return [
        transactor.tx(user, deployment.pool, calldata("Pool", "supply", deployment.reserves[s].underlying, raw, user, 0),
                      SUPPLY_GAS)
        for s, raw in supplies.items()
    ]


def _account_txs(transactor: Transactor, deployment: Deployment, account: SeededAccount) -> list[dict]:
    """The account's Pool transactions in nonce order: supplies, collateral switch, e-mode, borrows."""
    pool, user = deployment.pool, account.address

    def tx(gas: int, fn: str, *args: object) -> dict:
        return transactor.tx(user, pool, calldata("Pool", fn, *args), gas)

    def asset(symbol: str) -> str:
        return deployment.reserves[symbol].underlying

    txs = _supply_txs(transactor, deployment, user, account.supplies)
    if account.kind == "isolated":
        # Since Aave v3.0.2 a supply enables an isolated asset as collateral only for holders of
        # ISOLATED_COLLATERAL_SUPPLIER_ROLE; users enable it themselves, as here.
        txs += [tx(SETTING_GAS, "setUserUseReserveAsCollateral", asset(s), True) for s in account.supplies]
    if account.kind == "emode":
        txs.append(tx(SETTING_GAS, "setUserEMode", EMODE.category_id))
    txs += [tx(BORROW_GAS, "borrow", asset(s), raw, VARIABLE_RATE, 0, user) for s, raw in account.borrows.items()]
    return txs


def _provider_supplies(accounts: list[SeededAccount]) -> dict[str, int]:
    """What the liquidity provider supplies: three times the seeded debt, at least $1M, within caps."""
    borrowed = dict.fromkeys(BORROWABLE, 0)
    for account in accounts:
        for symbol, raw in account.borrows.items():
            borrowed[symbol] += raw
    amounts = {}
    for symbol, raw in borrowed.items():
        reserve = BY_SYMBOL[symbol]
        floor = raw_from_base(symbol, Decimal(PROVIDER_FLOOR_USD * 10**ORACLE_DECIMALS))
        cap = int(PROVIDER_CAP_SHARE * reserve.supply_cap * 10**reserve.decimals)
        amounts[symbol] = min(max(3 * raw, floor), cap)
        if amounts[symbol] < raw:
            raise ValueError(f"{symbol}: seeded debt exceeds what the supply cap leaves to lend")
    return amounts


def seed_accounts(
    rpc: Rpc, transactor: Transactor, deployment: Deployment, n: int, seed: int
) -> tuple[list[SeededAccount], str]:
    """Create ``n`` seeded accounts on chain; return them and the liquidity provider's address."""
    accounts = plan_accounts(n, seed)
    provider = account_address(seed, -1)
    provider_supplies = _provider_supplies(accounts)
    holdings = {provider: provider_supplies} | {a.address: a.supplies for a in accounts}
    rpc.batch(_fund_calls(deployment, holdings))
    rpc.call("anvil_autoImpersonateAccount", True)
    transactor.assume_fresh(list(holdings))

    transactor.send(_supply_txs(transactor, deployment, provider, provider_supplies))
    set_ltv_headroom(transactor, deployment, raised=True)
    transactor.send_unchecked([tx for a in accounts for tx in _account_txs(transactor, deployment, a)])
    set_ltv_headroom(transactor, deployment, raised=False)
    verify_accounts(rpc, deployment, accounts)
    return accounts, provider


def account_data(rpc: Rpc, deployment: Deployment, addresses: list[str], block: str = "latest") -> list[tuple[int, ...]]:
    """``Pool.getUserAccountData`` of each address via Multicall3: (collateral, debt, available
    borrows in base currency, liquidation threshold, LTV, health factor)."""
    calls = [(deployment.pool, calldata("Pool", "getUserAccountData", a)) for a in addresses]
    results = multicall3.aggregate3(rpc, calls, block)
    return [decode_output("Pool", "getUserAccountData", 1, r) for r in results]


def verify_accounts(rpc: Rpc, deployment: Deployment, accounts: list[SeededAccount]) -> None:
    """Raise ``SeedingFailed`` unless every account shows its planned collateral and health factor."""
    data = account_data(rpc, deployment, [a.address for a in accounts])
    wrong = []
    for account, (collateral, debt, *_, health_factor) in zip(accounts, data, strict=True):
        if account.target_health_factor is None:
            ok = collateral > 0 and debt == 0
        else:
            ratio = health_factor / 1e18 / account.target_health_factor
            ok = debt > 0 and abs(ratio - 1) <= HEALTH_FACTOR_TOLERANCE
        if not ok:
            wrong.append((account.address, account.kind, account.target_health_factor, collateral, debt, health_factor))
    if wrong:
        raise SeedingFailed(f"{len(wrong)} of {len(accounts)} accounts wrong, e.g. {wrong[:3]}")
