"""Deploy a complete Aave v3.0 market from the ``@aave/core-v3`` Hardhat artifacts.

The order follows Aave's own deployment: the addresses provider first; the ACL admin is set on
the provider before ``ACLManager`` is deployed (its constructor reads it); the Pool implementation,
linked against its seven logic libraries (``FlashLoanLogic`` itself links ``BorrowLogic``), is
registered before the PoolConfigurator's (the configurator proxy caches the pool address when it
is initialised); then oracle, data provider, token implementations, one interest-rate strategy per
reserve, ``initReserves`` and every risk parameter from ``market.py``.

Prices come from ``MockAggregator`` feeds. The mock has no setter, so a price is moved by writing
its ``_latestAnswer`` storage slot; the slot (like the ERC-20 balance slots the seeding writes) is
read from the compiler's storage layout in the artifacts' build-info, not assumed.

Contract addresses are predicted from the deployer's nonce (``CREATE``), so each phase is one
batch of transactions; receipts are checked, so any revert stops the deployment.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from eth_utils import to_checksum_address
from web3.utils.address import get_create_address

from tests.localchain import multicall3
from tests.localchain.artifacts import storage_slots
from tests.localchain.contracts import calldata, deploy_data, read
from tests.localchain.market import EMODE, ORACLE_DECIMALS, RESERVES
from tests.localchain.rpc import Rpc
from tests.localchain.tx import Transactor, Tx

MARKET_ID = "Local Aave v3"
DEPLOY_GAS = 16_000_000
CALL_GAS = 2_000_000
CONFIGURATOR = "PoolConfigurator"
ZERO_ADDRESS = "0x" + "00" * 20
POOL_LIBRARIES = ("BorrowLogic", "BridgeLogic", "EModeLogic", "LiquidationLogic", "PoolLogic", "SupplyLogic")


@dataclass
class ReserveAddresses:
    """Addresses belonging to one reserve."""

    symbol: str
    decimals: int
    underlying: str
    aggregator: str
    strategy: str
    a_token: str = ""
    variable_debt_token: str = ""
    stable_debt_token: str = ""


@dataclass
class Deployment:
    """Everything later code needs to find and drive the deployed market; JSON-serialisable."""

    admin: str
    treasury: str
    provider: str
    acl_manager: str
    pool: str
    pool_configurator: str
    oracle: str
    data_provider: str
    multicall3: str
    start_block: int
    reserves: dict[str, ReserveAddresses] = field(default_factory=dict)
    slots: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_json(self) -> dict:
        """Plain-dict form, for the cache's metadata file."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Deployment:
        """Inverse of ``to_json``."""
        reserves = {k: ReserveAddresses(**v) for k, v in data["reserves"].items()}
        return cls(**{**data, "reserves": reserves})


class _Deployer:
    """Deploys from ``admin`` and predicts each new contract's address from its nonce."""

    def __init__(self, transactor: Transactor, admin: str) -> None:
        self.transactor = transactor
        self.admin = admin
        self.txs: list[Tx] = []

    def deploy(self, name: str, *args: object, libraries: dict[str, str] | None = None) -> str:
        tx = self.transactor.tx(self.admin, None, deploy_data(name, *args, libraries=libraries), DEPLOY_GAS)
        self.txs.append(tx)
        return get_create_address(self.admin, int(tx["nonce"], 16))

    def call(self, to: str, name: str, fn: str, *args: object, gas: int = CALL_GAS) -> None:
        self.txs.append(self.transactor.tx(self.admin, to, calldata(name, fn, *args), gas))

    def flush(self) -> None:
        self.transactor.send(self.txs)
        self.txs = []


def deploy_market(rpc: Rpc, transactor: Transactor) -> Deployment:
    """Deploy and configure the market of ``market.py``; return its addresses."""
    admin, treasury = map(to_checksum_address, rpc.call("eth_accounts")[:2])
    d = _Deployer(transactor, admin)
    start_block = int(rpc.call("eth_blockNumber"), 16) + 1

    provider = d.deploy("PoolAddressesProvider", MARKET_ID, admin)
    d.call(provider, "PoolAddressesProvider", "setACLAdmin", admin)
    acl = d.deploy("ACLManager", provider)
    d.call(provider, "PoolAddressesProvider", "setACLManager", acl)
    for role in ("addPoolAdmin", "addEmergencyAdmin", "addRiskAdmin"):
        d.call(acl, "ACLManager", role, admin)

    libraries = {lib: d.deploy(lib) for lib in POOL_LIBRARIES}
    libraries["FlashLoanLogic"] = d.deploy("FlashLoanLogic", libraries={"BorrowLogic": libraries["BorrowLogic"]})
    pool_impl = d.deploy("Pool", provider, libraries=libraries)
    # As Aave's deploy scripts do: initialise the implementation so nobody else can.
    d.call(pool_impl, "Pool", "initialize", provider)
    d.call(provider, "PoolAddressesProvider", "setPoolImpl", pool_impl)
    configurator_logic = d.deploy("ConfiguratorLogic")
    configurator_impl = d.deploy(CONFIGURATOR, libraries={"ConfiguratorLogic": configurator_logic})
    d.call(configurator_impl, CONFIGURATOR, "initialize", provider)
    d.call(provider, "PoolAddressesProvider", "setPoolConfiguratorImpl", configurator_impl)

    reserves = {
        r.symbol: ReserveAddresses(
            symbol=r.symbol,
            decimals=r.decimals,
            underlying=d.deploy("MintableERC20", r.name, r.symbol, r.decimals),
            aggregator=d.deploy("MockAggregator", r.price),
            strategy=d.deploy("DefaultReserveInterestRateStrategy", provider, *r.rates.constructor_args()),
        )
        for r in RESERVES
    }
    assets = [a.underlying for a in reserves.values()]
    # Base currency USD: address(0) and a unit of 10**8, as on Aave v3 Ethereum.
    oracle = d.deploy(
        "AaveOracle", provider, assets, [a.aggregator for a in reserves.values()],
        ZERO_ADDRESS, ZERO_ADDRESS, 10**ORACLE_DECIMALS,
    )
    d.call(provider, "PoolAddressesProvider", "setPriceOracle", oracle)
    data_provider = d.deploy("AaveProtocolDataProvider", provider)
    d.call(provider, "PoolAddressesProvider", "setPoolDataProvider", data_provider)
    d.flush()

    pool = to_checksum_address(read(rpc, "PoolAddressesProvider", provider, "getPool"))
    configurator = to_checksum_address(read(rpc, "PoolAddressesProvider", provider, "getPoolConfigurator"))
    a_token_impl = d.deploy("AToken", pool)
    stable_impl = d.deploy("StableDebtToken", pool)
    variable_impl = d.deploy("VariableDebtToken", pool)
    for r in RESERVES:
        init_input = (
            a_token_impl, stable_impl, variable_impl, r.decimals, reserves[r.symbol].strategy,
            reserves[r.symbol].underlying, treasury, ZERO_ADDRESS,
            f"Aave Local {r.symbol}", f"aLoc{r.symbol}",
            f"Aave Local Variable Debt {r.symbol}", f"variableDebtLoc{r.symbol}",
            f"Aave Local Stable Debt {r.symbol}", f"stableDebtLoc{r.symbol}", b"",
        )
        # One reserve per call: each deploys three token proxies (about 2.3M gas per reserve).
        d.call(configurator, CONFIGURATOR, "initReserves", [init_input], gas=DEPLOY_GAS)
    _configure_reserves(d, configurator, reserves)
    d.flush()

    for addresses in reserves.values():
        tokens = read(rpc, "AaveProtocolDataProvider", data_provider, "getReserveTokensAddresses", addresses.underlying)
        addresses.a_token, addresses.stable_debt_token, addresses.variable_debt_token = map(to_checksum_address, tokens)
    slots = storage_slots(
        {"MockAggregator": ["_latestAnswer"], "MintableERC20": ["_balances", "_allowances", "_totalSupply"]}
    )
    return Deployment(
        admin=admin,
        treasury=treasury,
        provider=provider,
        acl_manager=acl,
        pool=pool,
        pool_configurator=configurator,
        oracle=oracle,
        data_provider=data_provider,
        multicall3=multicall3.install(rpc),
        start_block=start_block,
        reserves=reserves,
        slots=slots,
    )


def _configure_reserves(d: _Deployer, configurator: str, reserves: dict[str, ReserveAddresses]) -> None:
    _collateral_parameters(d, configurator, reserves, raised=False)
    for r in RESERVES:
        asset = reserves[r.symbol].underlying
        d.call(configurator, CONFIGURATOR, "setReserveBorrowing", asset, r.borrowing_enabled)
        d.call(configurator, CONFIGURATOR, "setReserveFactor", asset, r.reserve_factor_bps)
        d.call(configurator, CONFIGURATOR, "setLiquidationProtocolFee", asset, r.liquidation_protocol_fee_bps)
        d.call(configurator, CONFIGURATOR, "setSupplyCap", asset, r.supply_cap)
        d.call(configurator, CONFIGURATOR, "setBorrowCap", asset, r.borrow_cap)
        d.call(configurator, CONFIGURATOR, "setReserveFlashLoaning", asset, r.flashloanable)
        d.call(configurator, CONFIGURATOR, "setBorrowableInIsolation", asset, r.borrowable_in_isolation)
        if r.debt_ceiling:
            d.call(configurator, CONFIGURATOR, "setDebtCeiling", asset, r.debt_ceiling)
    _emode_category(d, configurator, raised=False)
    for symbol in EMODE.members:
        d.call(configurator, CONFIGURATOR, "setAssetEModeCategory", reserves[symbol].underlying, EMODE.category_id)


def _collateral_parameters(
    d: _Deployer, configurator: str, reserves: dict[str, ReserveAddresses], raised: bool
) -> None:
    for r in RESERVES:
        ltv = r.liquidation_threshold_bps if raised else r.ltv_bps
        d.call(configurator, CONFIGURATOR, "configureReserveAsCollateral", reserves[r.symbol].underlying,
               ltv, r.liquidation_threshold_bps, r.liquidation_bonus_bps)


def _emode_category(d: _Deployer, configurator: str, raised: bool) -> None:
    ltv = EMODE.liquidation_threshold_bps if raised else EMODE.ltv_bps
    d.call(configurator, CONFIGURATOR, "setEModeCategory", EMODE.category_id, ltv,
           EMODE.liquidation_threshold_bps, EMODE.liquidation_bonus_bps, ZERO_ADDRESS, EMODE.label)


def set_ltv_headroom(transactor: Transactor, deployment: Deployment, raised: bool) -> None:
    """Raise every LTV to its liquidation threshold (``raised``), or put the real LTVs back.

    Borrowing is capped by LTV, so at origination an account's health factor cannot go below
    threshold / LTV (1.03 for WETH, 1.17 for CRV). The seeding raises the LTVs to place
    accounts just above 1, then restores the market's real parameters, leaving those accounts
    above their LTV, as a price move would on mainnet. E-mode's LTV must stay strictly above its
    members' LTVs, hence the order: raise reserves first, lower e-mode first.
    """
    d = _Deployer(transactor, deployment.admin)
    configurator = deployment.pool_configurator
    if raised:
        _collateral_parameters(d, configurator, deployment.reserves, raised)
        _emode_category(d, configurator, raised)
    else:
        _emode_category(d, configurator, raised)
        _collateral_parameters(d, configurator, deployment.reserves, raised)
    d.flush()
