"""``LocalAave``: a running local Aave v3 market with seeded borrowers, for tests and benchmarks.

    with LocalAave.start(n_accounts=400, seed=20231031) as aave:
        aave.set_price("WETH", 1500)
        aave.get_user_account_data(aave.seeded_accounts[0].address)

The node always starts from the cached state file (built first if missing), so every test sees a
reloaded chain, the same one a later run sees. The chain's own view (``getUserAccountData``,
``liquidationCall``) is the reference that adapters are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from eth_utils import keccak, to_checksum_address

from tests.localchain.aave import Deployment, ReserveAddresses
from tests.localchain.anvil import CHAIN_ID, Anvil
from tests.localchain.contracts import MAX_UINT, calldata, decode_log, event_topic, read
from tests.localchain.market import ORACLE_DECIMALS
from tests.localchain.portfolio import SeededAccount
from tests.localchain.seed import account_data
from tests.localchain.state import CachedChain, load_or_build, start_node
from tests.localchain.toolchain import CACHE_DIR
from tests.localchain.tx import Transactor

DEFAULT_ACCOUNTS = 400
DEFAULT_SEED = 20231031
LIQUIDATOR_GAS = 2_000_000
LIQUIDATOR = to_checksum_address(keccak(text="defirisk-localchain:liquidator")[12:])


@dataclass(frozen=True)
class Liquidation:
    """A mined ``liquidationCall``: its receipt and its decoded ``LiquidationCall`` event."""

    receipt: dict[str, Any]
    event: dict[str, Any]


class LocalAave:
    """A local Aave v3 market on anvil, started from the cached deployed-and-seeded state."""

    def __init__(self, node: Anvil, chain: CachedChain) -> None:
        self.node = node
        self.chain = chain
        self.deployment: Deployment = chain.deployment
        self.seeded_accounts: list[SeededAccount] = chain.accounts
        self.liquidity_provider = chain.liquidity_provider
        self.rpc = node.rpc
        self.rpc_url = node.rpc_url
        # Any address may send: the liquidator, and tests acting as seeded accounts.
        self.rpc.call("anvil_autoImpersonateAccount", True)
        self.rpc.call("anvil_setBalance", LIQUIDATOR, hex(10**21))

    @classmethod
    def start(cls, n_accounts: int = DEFAULT_ACCOUNTS, seed: int = DEFAULT_SEED, cache_dir: Path = CACHE_DIR) -> LocalAave:
        """Start a node from the cache entry for (``n_accounts``, ``seed``), building it if missing."""
        chain = load_or_build(n_accounts, seed, cache_dir)
        return cls(start_node(chain), chain)

    def stop(self) -> None:
        """Stop the node."""
        self.node.stop()

    def __enter__(self) -> LocalAave:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Addresses -----------------------------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        """anvil's chain id."""
        return CHAIN_ID

    @property
    def provider(self) -> str:
        """PoolAddressesProvider."""
        return self.deployment.provider

    @property
    def pool(self) -> str:
        """Pool (proxy)."""
        return self.deployment.pool

    @property
    def pool_configurator(self) -> str:
        """PoolConfigurator (proxy)."""
        return self.deployment.pool_configurator

    @property
    def oracle(self) -> str:
        """AaveOracle."""
        return self.deployment.oracle

    @property
    def data_provider(self) -> str:
        """AaveProtocolDataProvider."""
        return self.deployment.data_provider

    @property
    def acl_manager(self) -> str:
        """ACLManager."""
        return self.deployment.acl_manager

    @property
    def multicall3(self) -> str:
        """Multicall3, at its canonical address."""
        return self.deployment.multicall3

    @property
    def reserves(self) -> dict[str, ReserveAddresses]:
        """Per symbol: underlying, aToken, debt tokens, aggregator, rate strategy, decimals."""
        return self.deployment.reserves

    @property
    def start_block(self) -> int:
        """Block in which the PoolAddressesProvider was deployed."""
        return self.deployment.start_block

    # Chain control -------------------------------------------------------------------------------

    def block_number(self) -> int:
        """Current head block number."""
        return int(self.rpc.call("eth_blockNumber"), 16)

    def mine(self, n: int = 1) -> None:
        """Mine ``n`` empty blocks."""
        self.rpc.call("anvil_mine", hex(n))

    def advance_time(self, seconds: int) -> None:
        """Move the clock forward and mine a block at the new time (interest accrues)."""
        self.rpc.call("evm_increaseTime", hex(seconds))
        self.mine()

    def snapshot(self) -> str:
        """Take an ``evm_snapshot``; pass its id to ``revert``."""
        return self.rpc.call("evm_snapshot")

    def revert(self, snapshot_id: str) -> bool:
        """Return the chain to ``snapshot_id`` (which is consumed, as in anvil)."""
        return self.rpc.call("evm_revert", snapshot_id)

    # Market --------------------------------------------------------------------------------------

    def set_price(self, symbol: str, usd_price: float | Decimal | str) -> None:
        """Set the oracle price of ``symbol`` in USD, by writing its MockAggregator's answer slot."""
        answer = int(Decimal(str(usd_price)) * 10**ORACLE_DECIMALS)
        slot = self.deployment.slots["MockAggregator"]["_latestAnswer"]
        word = "0x" + answer.to_bytes(32, "big", signed=True).hex()
        self.rpc.call("anvil_setStorageAt", self.reserves[symbol].aggregator, hex(slot), word)

    def price(self, symbol: str) -> int:
        """Oracle price of ``symbol`` (USD, 8 decimals), as the Pool sees it."""
        return read(self.rpc, "AaveOracle", self.oracle, "getAssetPrice", self.reserves[symbol].underlying)

    def get_user_account_data(self, account: str, block: str = "latest") -> tuple[int, int, int, int, int, int]:
        """``Pool.getUserAccountData``: total collateral and debt and available borrows (base
        currency, USD with 8 decimals), liquidation threshold and LTV (bps), health factor (WAD)."""
        return read(self.rpc, "Pool", self.pool, "getUserAccountData", account, block=block)

    def get_users_account_data(self, accounts: list[str], block: str = "latest") -> list[tuple[int, ...]]:
        """``getUserAccountData`` of many accounts through Multicall3 (500 per ``eth_call``)."""
        return account_data(self.rpc, self.deployment, accounts, block)

    def liquidate(
        self, collateral_symbol: str, debt_symbol: str, user: str, debt_to_cover: int, receive_atoken: bool = False
    ) -> Liquidation:
        """Run a real ``liquidationCall`` and return its receipt and decoded event.

        The liquidator mints ``debt_to_cover`` of the debt asset (raw units; ``2**256 - 1`` means
        "as much as allowed" and mints the user's whole debt plus 1 %) and approves the Pool, all
        by real transactions, mined in one block. A revert raises ``TxFailed`` with Aave's error code.
        """
        debt = self.reserves[debt_symbol]
        funding = debt_to_cover
        if debt_to_cover == MAX_UINT:
            funding = read(self.rpc, "VariableDebtToken", debt.variable_debt_token, "balanceOf", user) * 101 // 100
        args = (self.reserves[collateral_symbol].underlying, debt.underlying, user, debt_to_cover, receive_atoken)
        # A fresh Transactor reads the liquidator's nonce from the chain: evm_revert rewinds it.
        transactor = Transactor(self.rpc)
        txs = [
            transactor.tx(LIQUIDATOR, debt.underlying, calldata("MintableERC20", "mint", funding), LIQUIDATOR_GAS),
            transactor.tx(LIQUIDATOR, debt.underlying, calldata("MintableERC20", "approve", self.pool, funding), LIQUIDATOR_GAS),
            transactor.tx(LIQUIDATOR, self.pool, calldata("Pool", "liquidationCall", *args), LIQUIDATOR_GAS),
        ]
        receipt = transactor.send(txs)[-1]
        topic = event_topic("Pool", "LiquidationCall")
        (log,) = [entry for entry in receipt["logs"] if entry["topics"][0] == topic]
        return Liquidation(receipt, decode_log("Pool", "LiquidationCall", log))

    def write_deployment_toml(self, path: Path) -> None:
        """Write the deployment file (``protocols/<family>/<chain>.toml`` format) of this market."""
        path.write_text(
            f'name = "local-aave-v3"\n'
            f'family = "aave-v3"\n'
            f'label = "Local anvil Aave v3 fixture"\n'
            f"chain_id = {CHAIN_ID}\n"
            f'pool_addresses_provider = "{self.provider}"\n'
            f"start_block = {self.start_block}\n"
            f'source = "tests/localchain fixture"\n'
        )

