"""Deploy and seed an Aave v3.6 market (``@aave-dao/aave-v3-origin`` 3.6.0, compiled by ``origin_build``).

The order follows the package's deployment procedures (``src/deployments``): addresses provider; ACL
admin, then ``ACLManager`` (its constructor reads the admin); the logic libraries; the one
``DefaultReserveInterestRateStrategyV2`` (v3.4+ pools have a single, immutable strategy); the
``PoolInstance`` implementation linked against ``BorrowLogic``, ``FlashLoanLogic`` (itself linked to
``BorrowLogic``), ``LiquidationLogic``, ``PoolLogic`` and ``SupplyLogic``, registered on the provider
(which deploys the proxy and initialises it); the configurator the same way; tokens and
``MockAggregator`` feeds, the ``AaveOracle`` (base currency USD, unit 10⁸) and the data provider; then
``ATokenInstance`` / ``VariableDebtTokenInstance`` implementations, ``initReserves`` with each
reserve's rate data, every risk parameter and the e-mode categories with their bitmaps.

Seeding (``seed``) sends real Pool transactions for every plan of ``origin_market``: ``setUserEMode``
before the supplies (so e-mode LTVs decide what is enabled as collateral), ``supply``,
``setUserUseReserveAsCollateral`` for the isolated reserve (v3.6 never enables it automatically),
then borrows sized from ``getUserAccountData``. LTVs are raised to the liquidation thresholds for
the borrows and restored after; then WETH goes on e-mode 3's ltvzero bitmap and a month passes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import eth_abi
from eth_utils import keccak
from web3.utils.address import get_create_address

from defirisk.chain import encode_call
from tests.localchain import multicall3
from tests.localchain.origin_build import contract
from tests.localchain.origin_market import BY_SYMBOL, EMODES, ORACLE_DECIMALS, RESERVES, AccountPlan
from tests.localchain.rpc import Rpc
from tests.localchain.tx import Transactor, Tx

MARKET_ID = "Local Aave v3.6"
DEPLOY_GAS = 16_000_000
CALL_GAS = 2_000_000
USER_GAS = 1_500_000
VARIABLE = 2
LIBRARIES = ("BorrowLogic", "ConfiguratorLogic", "LiquidationLogic", "PoolLogic", "SupplyLogic")
INIT_RESERVE = "(address,address,address,string,string,string,string,bytes,bytes)"
ZERO_ADDRESS = "0x" + "00" * 20
SECONDS_AFTER_SEEDING = 30 * 86_400


def calldata(signature: str, *args: Any) -> str:
    """``signature``'s selector and ABI-encoded ``args`` (0x-hex)."""
    return "0x" + encode_call(signature, args).hex()


def user_address(label: str) -> str:
    """The deterministic address of a seeded plan (lower-case; nobody holds its key)."""
    return "0x" + keccak(text=f"defirisk-localchain:origin:{label}")[12:].hex()


@dataclass
class ReserveAddresses:
    """One reserve's contracts (lower-case addresses)."""

    symbol: str
    decimals: int
    underlying: str
    aggregator: str
    a_token: str = ""
    variable_debt_token: str = ""


@dataclass
class OriginDeployment:
    """Addresses of the deployed market and what was seeded; JSON-serialisable."""

    admin: str
    treasury: str
    provider: str
    acl_manager: str
    pool: str
    pool_configurator: str
    oracle: str
    data_provider: str
    strategy: str
    multicall3: str
    start_block: int
    reserves: dict[str, ReserveAddresses] = field(default_factory=dict)
    slots: dict[str, dict[str, int]] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)  # plan label → address

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> OriginDeployment:
        reserves = {k: ReserveAddresses(**v) for k, v in data["reserves"].items()}
        return cls(**{**data, "reserves": reserves})


class _Deployer:
    """Sends from ``admin``, predicting each new contract's address from the nonce."""

    def __init__(self, transactor: Transactor, admin: str) -> None:
        self.transactor = transactor
        self.admin = admin
        self.txs: list[Tx] = []

    def deploy(self, name: str, *args: Any, libraries: dict[str, str] | None = None) -> str:
        compiled = contract(name)
        code = compiled.link(libraries or {})
        ctor = [e for e in compiled.abi if e["type"] == "constructor"]
        if ctor:
            types = [p["type"] for p in ctor[0]["inputs"]]
            code += eth_abi.encode(types, list(args)).hex()
        tx = self.transactor.tx(self.admin, None, code, DEPLOY_GAS)
        self.txs.append(tx)
        return get_create_address(self.admin, int(tx["nonce"], 16)).lower()

    def call(self, to: str, signature: str, *args: Any, gas: int = CALL_GAS) -> None:
        self.txs.append(self.transactor.tx(self.admin, to, calldata(signature, *args), gas))

    def flush(self) -> None:
        self.transactor.send(self.txs)
        self.txs = []


def eth_call(rpc: Rpc, to: str, signature: str, out: list[str], *args: Any, block: str = "latest") -> tuple:
    """``eth_call`` of ``signature`` on ``to``, decoded as ``out``."""
    data = rpc.call("eth_call", {"to": to, "data": calldata(signature, *args)}, block)
    return eth_abi.decode(out, bytes.fromhex(data[2:]))


def _address(rpc: Rpc, to: str, signature: str, *args: Any) -> str:
    return eth_call(rpc, to, signature, ["address"], *args)[0].lower()


def deploy_market(rpc: Rpc, transactor: Transactor) -> OriginDeployment:
    """Deploy and configure the market of ``origin_market``; return its addresses."""
    admin, treasury = (a.lower() for a in rpc.call("eth_accounts")[:2])
    d = _Deployer(transactor, admin)
    start_block = int(rpc.call("eth_blockNumber"), 16) + 1

    provider = d.deploy("PoolAddressesProvider", MARKET_ID, admin)
    d.call(provider, "setACLAdmin(address)", admin)
    acl = d.deploy("ACLManager", provider)
    d.call(provider, "setACLManager(address)", acl)
    for role in ("addPoolAdmin", "addEmergencyAdmin", "addRiskAdmin"):
        d.call(acl, f"{role}(address)", admin)
    libraries = {name: d.deploy(name) for name in LIBRARIES}
    libraries["FlashLoanLogic"] = d.deploy("FlashLoanLogic", libraries={"BorrowLogic": libraries["BorrowLogic"]})
    strategy = d.deploy("DefaultReserveInterestRateStrategyV2", provider)
    pool_impl = d.deploy("PoolInstance", provider, strategy, libraries=libraries)
    d.call(provider, "setPoolImpl(address)", pool_impl)
    configurator_impl = d.deploy("PoolConfiguratorInstance", libraries=libraries)
    d.call(provider, "setPoolConfiguratorImpl(address)", configurator_impl)
    reserves = {
        r.symbol: ReserveAddresses(
            symbol=r.symbol,
            decimals=r.decimals,
            underlying=d.deploy("MintableERC20", r.name, r.symbol, r.decimals),
            aggregator=d.deploy("MockAggregator", r.price),
        )
        for r in RESERVES
    }
    oracle = d.deploy("AaveOracle", provider, [a.underlying for a in reserves.values()],
                      [a.aggregator for a in reserves.values()], ZERO_ADDRESS, ZERO_ADDRESS, 10**ORACLE_DECIMALS)
    d.call(provider, "setPriceOracle(address)", oracle)
    data_provider = d.deploy("AaveProtocolDataProvider", provider)
    d.call(provider, "setPoolDataProvider(address)", data_provider)
    d.flush()

    pool = _address(rpc, provider, "getPool()")
    configurator = _address(rpc, provider, "getPoolConfigurator()")
    a_token_impl = d.deploy("ATokenInstance", pool, ZERO_ADDRESS, treasury)
    debt_impl = d.deploy("VariableDebtTokenInstance", pool, ZERO_ADDRESS)
    for r in RESERVES:
        rates = eth_abi.encode(["(uint16,uint32,uint32,uint32)"], [r.rates.as_tuple()])
        init = (a_token_impl, debt_impl, reserves[r.symbol].underlying, f"Aave Origin {r.symbol}", f"aOrg{r.symbol}",
                f"Aave Origin Variable Debt {r.symbol}", f"variableDebtOrg{r.symbol}", b"", rates)
        d.call(configurator, f"initReserves({INIT_RESERVE}[])", [init], gas=DEPLOY_GAS)
    _configure(d, configurator, reserves)
    d.flush()

    for a in reserves.values():
        a.a_token = _address(rpc, pool, "getReserveAToken(address)", a.underlying)
        a.variable_debt_token = _address(rpc, pool, "getReserveVariableDebtToken(address)", a.underlying)
    return OriginDeployment(
        admin=admin, treasury=treasury, provider=provider, acl_manager=acl, pool=pool,
        pool_configurator=configurator, oracle=oracle, data_provider=data_provider, strategy=strategy,
        multicall3=multicall3.install(rpc).lower(), start_block=start_block, reserves=reserves,
        slots={"MockAggregator": contract("MockAggregator").slots},
    )


def _configure(d: _Deployer, configurator: str, reserves: dict[str, ReserveAddresses]) -> None:
    for r in RESERVES:
        asset = reserves[r.symbol].underlying
        if r.liquidation_threshold:
            d.call(configurator, "configureReserveAsCollateral(address,uint256,uint256,uint256)",
                   asset, r.ltv, r.liquidation_threshold, r.liquidation_bonus)
        d.call(configurator, "setReserveBorrowing(address,bool)", asset, r.borrowing_enabled)
        d.call(configurator, "setReserveFactor(address,uint256)", asset, r.reserve_factor)
        d.call(configurator, "setLiquidationProtocolFee(address,uint256)", asset, r.protocol_fee)
        d.call(configurator, "setSupplyCap(address,uint256)", asset, r.supply_cap)
        d.call(configurator, "setBorrowCap(address,uint256)", asset, r.borrow_cap)
        d.call(configurator, "setBorrowableInIsolation(address,bool)", asset, r.borrowable_in_isolation)
        if r.debt_ceiling:
            d.call(configurator, "setDebtCeiling(address,uint256)", asset, r.debt_ceiling)
    for e in EMODES:
        d.call(configurator, "setEModeCategory(uint8,uint16,uint16,uint16,string)",
               e.category, e.ltv, e.liquidation_threshold, e.liquidation_bonus, e.label)
        for symbol in e.collateral:
            d.call(configurator, "setAssetCollateralInEMode(address,uint8,bool)",
                   reserves[symbol].underlying, e.category, True)
        for symbol in e.borrowable:
            d.call(configurator, "setAssetBorrowableInEMode(address,uint8,bool)",
                   reserves[symbol].underlying, e.category, True)


def set_ltvs(transactor: Transactor, dep: OriginDeployment, raised: bool) -> None:
    """Every LTV (reserves and e-modes) at its liquidation threshold (``raised``) or back to the real one."""
    d = _Deployer(transactor, dep.admin)
    for r in RESERVES:
        if r.liquidation_threshold:
            d.call(dep.pool_configurator, "configureReserveAsCollateral(address,uint256,uint256,uint256)",
                   dep.reserves[r.symbol].underlying, r.liquidation_threshold if raised else r.ltv,
                   r.liquidation_threshold, r.liquidation_bonus)
    for e in EMODES:
        d.call(dep.pool_configurator, "setEModeCategory(uint8,uint16,uint16,uint16,string)", e.category,
               e.liquidation_threshold if raised else e.ltv, e.liquidation_threshold, e.liquidation_bonus, e.label)
    d.flush()


def _user_txs(t: Transactor, dep: OriginDeployment, user: str, plan: AccountPlan) -> list[Tx]:
    txs = []
    if plan.emode:
        txs.append(t.tx(user, dep.pool, calldata("setUserEMode(uint8)", plan.emode), USER_GAS))
    for symbol, amount in plan.supplies:
        token = dep.reserves[symbol].underlying
        raw = int(amount * 10 ** BY_SYMBOL[symbol].decimals)
        txs += [
            t.tx(user, token, calldata("mint(uint256)", raw), USER_GAS),
            t.tx(user, token, calldata("approve(address,uint256)", dep.pool, raw), USER_GAS),
            t.tx(user, dep.pool, calldata("supply(address,uint256,address,uint16)", token, raw, user, 0), USER_GAS),
        ]
        if plan.isolated:
            txs.append(t.tx(user, dep.pool, calldata("setUserUseReserveAsCollateral(address,bool)", token, True),
                            USER_GAS))
    return txs


def available_borrows(rpc: Rpc, dep: OriginDeployment, user: str) -> int:
    """``getUserAccountData``'s available borrows (base currency)."""
    return eth_call(rpc, dep.pool, "getUserAccountData(address)", ["uint256"] * 6, user)[2]


def seed(rpc: Rpc, transactor: Transactor, dep: OriginDeployment, plans: tuple[AccountPlan, ...]) -> dict[str, str]:
    """Seed ``plans`` (see the module docstring); return plan label → account address."""
    users = {p.label: user_address(p.label) for p in plans}
    rpc.call("anvil_autoImpersonateAccount", True)
    rpc.batch(("anvil_setBalance", [u, hex(10**21)]) for u in users.values())
    transactor.assume_fresh(list(users.values()))
    set_ltvs(transactor, dep, raised=True)
    transactor.send([tx for p in plans for tx in _user_txs(transactor, dep, users[p.label], p)])
    borrows = []
    for p in plans:
        if not p.borrows:
            continue
        available = available_borrows(rpc, dep, users[p.label])
        for symbol, fraction in p.borrows:
            r = BY_SYMBOL[symbol]
            raw = int(Decimal(available) * fraction) * 10**r.decimals // r.price
            borrows.append(transactor.tx(users[p.label], dep.pool, calldata(
                "borrow(address,uint256,uint256,uint16,address)", dep.reserves[symbol].underlying, raw, VARIABLE, 0,
                users[p.label]), USER_GAS))
    transactor.send(borrows)
    set_ltvs(transactor, dep, raised=False)
    d = _Deployer(transactor, dep.admin)
    for e in EMODES:
        for symbol in e.ltv_zero:
            d.call(dep.pool_configurator, "setAssetLtvzeroInEMode(address,uint8,bool)",
                   dep.reserves[symbol].underlying, e.category, True)
    d.flush()
    rpc.call("evm_increaseTime", hex(SECONDS_AFTER_SEEDING))
    rpc.call("evm_mine")
    return users

