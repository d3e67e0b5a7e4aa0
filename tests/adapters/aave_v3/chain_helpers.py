"""Test helpers on the local Aave market: the conformance case, independent reads, user actions."""

from __future__ import annotations

from pathlib import Path

from eth_utils import keccak, to_checksum_address

from defirisk.adapters.aave_v3.frames import bonus_fraction, fraction
from defirisk.deployments import load_deployment
from tests.adapters.conformance import ChainPositions, ConformanceCase
from tests.localchain import multicall3
from tests.localchain.contracts import calldata, decode_output
from tests.localchain.helpers import LocalAave
from tests.localchain.market import EMODE, RESERVES
from tests.localchain.tx import Transactor

GAS = 1_500_000
VARIABLE = 2


def expected_assets(aave: LocalAave) -> dict[str, dict]:
    """The canonical asset columns the fixture configured (``tests/localchain/market.py``)."""
    out = {}
    for r in RESERVES:
        out[aave.reserves[r.symbol].underlying.lower()] = {
            "symbol": r.symbol,
            "name": r.name,
            "decimals": r.decimals,
            "price_raw": r.price,
            "price": r.price / 1e8,
            "ltv": fraction(r.ltv_bps),
            "liquidation_threshold": fraction(r.liquidation_threshold_bps),
            "liquidation_bonus": bonus_fraction(r.liquidation_bonus_bps),
            "protocol_fee": fraction(r.liquidation_protocol_fee_bps),
            "reserve_factor": fraction(r.reserve_factor_bps),
            "supply_cap": float(r.supply_cap),
            "borrow_cap": float(r.borrow_cap),
            "debt_ceiling": r.debt_ceiling / 100,
            "is_isolated": r.isolated,
            "borrowable_in_isolation": r.borrowable_in_isolation,
            "is_siloed": False,
            "usage_as_collateral_enabled": True,
            "borrowing_enabled": r.borrowing_enabled,
            "is_active": True,
            "is_frozen": False,
            "is_paused": False,
            "emode_category": EMODE.category_id if r.symbol in EMODE.members else 0,
        }
    return out


def data_provider_positions(aave: LocalAave, accounts: list[str], block: int) -> ChainPositions:
    """Positions that count at ``block``, from ``AaveProtocolDataProvider.getUserReserveData``.

    A path independent of the adapter: the data provider, not the Pool's bitmap and token calls.
    """
    assets = [aave.reserves[r.symbol].underlying for r in RESERVES]
    pairs = [(account, asset) for account in accounts for asset in assets]
    calls = [(aave.data_provider, calldata("AaveProtocolDataProvider", "getUserReserveData", asset, account))
             for account, asset in pairs]
    answers = multicall3.aggregate3(aave.rpc, calls, hex(block))
    out: ChainPositions = {}
    for (account, asset), raw in zip(pairs, answers, strict=True):
        a_balance, stable, variable, *_, enabled = decode_output(
            "AaveProtocolDataProvider", "getUserReserveData", 2, raw
        )
        collateral = a_balance if enabled else 0
        if collateral or stable + variable:
            out[(account.lower(), asset.lower())] = (collateral, stable + variable, bool(enabled))
    return out


def conformance_case(aave: LocalAave, folder: Path) -> ConformanceCase:
    toml = folder / "local-aave-v3.toml"
    aave.write_deployment_toml(toml)
    seeded = {a.address.lower() for a in aave.seeded_accounts} | {aave.liquidity_provider.lower()}
    return ConformanceCase(
        deployment=load_deployment(str(toml)),
        rpc_url=aave.rpc_url,
        accounts=seeded,
        assets=expected_assets(aave),
        chain_positions=lambda accounts, block: data_provider_positions(aave, accounts, block),
        foreign_address=aave.reserves["WETH"].underlying.lower(),
    )


def new_address(label: str) -> str:
    """A fresh deterministic address nobody holds a key for (the node impersonates it)."""
    return to_checksum_address(keccak(text=f"defirisk-test:{label}")[12:])


def send(aave: LocalAave, sender: str, txs: list[tuple[str, str, str, tuple]]) -> None:
    """Send ``(to, contract, function, args)`` transactions from ``sender``, mined, receipts checked."""
    transactor = Transactor(aave.rpc)
    aave.rpc.call("anvil_setBalance", sender, hex(10**20))
    transactor.send([transactor.tx(sender, to, calldata(name, fn, *args), GAS) for to, name, fn, args in txs])


def supply_and_borrow(aave: LocalAave, user: str, supply: tuple[str, int], borrow: tuple[str, int] | None) -> None:
    """``user`` mints and supplies ``supply`` (symbol, raw), then borrows ``borrow`` at the variable rate."""
    symbol, amount = supply
    token = aave.reserves[symbol].underlying
    txs = [
        (token, "MintableERC20", "mint", (amount,)),
        (token, "MintableERC20", "approve", (aave.pool, amount)),
        (aave.pool, "Pool", "supply", (token, amount, user, 0)),
    ]
    if borrow is not None:
        debt_symbol, debt = borrow
        txs.append((aave.pool, "Pool", "borrow", (aave.reserves[debt_symbol].underlying, debt, VARIABLE, 0, user)))
    send(aave, user, txs)


def borrow(aave: LocalAave, user: str, symbol: str, amount: int) -> None:
    """``user`` borrows ``amount`` raw units of ``symbol`` at the variable rate."""
    send(aave, user, [(aave.pool, "Pool", "borrow", (aave.reserves[symbol].underlying, amount, VARIABLE, 0, user))])
