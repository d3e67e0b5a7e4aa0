"""``LocalAaveOrigin``: a seeded Aave v3.6 market on anvil, built once and cached as a state file.

    with LocalAaveOrigin.start() as aave:
        aave.set_price("WETH", 150_000_000_000)
        aave.liquidate("WETH", "USDC", aave.account("single-near"), 2**256 - 1)

Building compiles v3.6 (``origin_build``, cached), deploys and seeds it (``origin_deploy``) and
keeps anvil's state dump, stripped of call traces like the v3.0 fixture's (``state.strip_traces``),
under ``.cache/localchain`` keyed on the toolchain, the compiler output, this package's code and the
plan (random accounts, seed). A reloaded node answers calls at its head block; ``evm_snapshot`` /
``evm_revert`` undo what a test changes.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

import eth_abi

from defirisk.chain import event_topic
from tests.localchain.anvil import CHAIN_ID, Anvil, AnvilError
from tests.localchain.origin_build import cache_file
from tests.localchain.origin_deploy import (
    OriginDeployment,
    ReserveAddresses,
    calldata,
    deploy_market,
    eth_call,
    seed,
    user_address,
)
from tests.localchain.origin_market import DEFAULT_RANDOM, DEFAULT_SEED, plans
from tests.localchain.state import strip_traces
from tests.localchain.toolchain import CACHE_DIR, cache_key
from tests.localchain.tx import Transactor

LIQUIDATOR = user_address("liquidator")
LIQUIDATOR_GAS = 3_000_000
MAX_UINT = 2**256 - 1
LIQUIDATION_CALL = event_topic("LiquidationCall(address,address,address,uint256,uint256,address,bool)")


def _build(n_random: int, seed_value: int, state_file: Path) -> dict[str, Any]:
    raw = state_file.with_suffix(".raw.json")
    started = time.perf_counter()
    node = Anvil(dump_state=raw)
    try:
        transactor = Transactor(node.rpc)
        deployment = deploy_market(node.rpc, transactor)
        deployed = time.perf_counter()
        deployment.accounts = seed(node.rpc, transactor, deployment, plans(n_random, seed_value))
        seeded = time.perf_counter()
    finally:
        node.stop()
    if node.process.returncode != 0 or not raw.exists():
        raise AnvilError(f"anvil exited with {node.process.returncode} without writing {raw}")
    state_file.write_bytes(strip_traces(raw.read_bytes()))
    raw.unlink()
    timings = {"deploy_s": deployed - started, "seed_s": seeded - deployed}
    return {"deployment": deployment.to_json(), "timings": timings}


def load_or_build(n_random: int = DEFAULT_RANDOM, seed_value: int = DEFAULT_SEED,
                  cache_dir: Path = CACHE_DIR) -> tuple[Path, dict[str, Any]]:
    """The state file and metadata of the cache entry, built first if missing (under a file lock)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    stem = cache_dir / f"aave-origin-{cache_key(cache_file().name, n_random, seed_value)}-r{n_random}-s{seed_value}"
    state_file, meta_file = stem.with_suffix(".state.json"), stem.with_suffix(".meta.json")
    with open(stem.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not meta_file.exists():
            meta = _build(n_random, seed_value, state_file)
            tmp = meta_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(meta))
            os.replace(tmp, meta_file)
            for old in cache_dir.glob(f"aave-origin-*-r{n_random}-s{seed_value}.*"):
                if not old.name.startswith(stem.name + "."):
                    old.unlink(missing_ok=True)
    return state_file, json.loads(meta_file.read_text())


class LocalAaveOrigin:
    """A node running the cached v3.6 market; the chain's own answers are the reference."""

    def __init__(self, node: Anvil, deployment: OriginDeployment) -> None:
        self.node = node
        self.rpc = node.rpc
        self.rpc_url = node.rpc_url
        self.deployment = deployment
        self.rpc.call("anvil_autoImpersonateAccount", True)
        self.rpc.call("anvil_setBalance", LIQUIDATOR, hex(10**21))

    @classmethod
    def start(cls, n_random: int = DEFAULT_RANDOM, seed_value: int = DEFAULT_SEED) -> LocalAaveOrigin:
        """A node from the cache entry (built if missing), its clock a second after the head block."""
        state_file, meta = load_or_build(n_random, seed_value)
        node = Anvil(load_state=state_file)
        try:
            head = node.rpc.call("eth_getBlockByNumber", "latest", False)
            node.rpc.call("anvil_setTime", int(head["timestamp"], 16) + 1)
            return cls(node, OriginDeployment.from_json(meta["deployment"]))
        except BaseException:
            node.stop()
            raise

    def stop(self) -> None:
        self.node.stop()

    def __enter__(self) -> LocalAaveOrigin:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # Addresses ------------------------------------------------------------------------------------

    @property
    def pool(self) -> str:
        return self.deployment.pool

    @property
    def reserves(self) -> dict[str, ReserveAddresses]:
        return self.deployment.reserves

    def account(self, label: str) -> str:
        """The address seeded for plan ``label``."""
        return self.deployment.accounts[label]

    # Chain control --------------------------------------------------------------------------------

    def snapshot(self) -> str:
        return self.rpc.call("evm_snapshot")

    def revert(self, snapshot_id: str) -> bool:
        return self.rpc.call("evm_revert", snapshot_id)

    def mine(self) -> None:
        self.rpc.call("evm_mine")

    def head(self) -> dict[str, Any]:
        return self.rpc.call("eth_getBlockByNumber", "latest", False)

    def mine_next_at_head_time(self) -> None:
        """The next block gets the head's timestamp: no interest accrues between the two."""
        self.rpc.call("evm_setNextBlockTimestamp", hex(int(self.head()["timestamp"], 16)))

    # Reads and writes ---------------------------------------------------------------------------------

    def call(self, to: str, signature: str, out: list[str], *args: Any) -> tuple:
        return eth_call(self.rpc, to, signature, out, *args)

    def uint(self, to: str, signature: str, *args: Any) -> int:
        return self.call(to, signature, ["uint256"], *args)[0]

    def account_data(self, user: str) -> tuple[int, ...]:
        """``Pool.getUserAccountData``: collateral, debt, available borrows (base), LT, LTV (bps), HF (WAD)."""
        return self.call(self.pool, "getUserAccountData(address)", ["uint256"] * 6, user)

    def price(self, symbol: str) -> int:
        return self.uint(self.deployment.oracle, "getAssetPrice(address)", self.reserves[symbol].underlying)

    def set_price(self, symbol: str, answer: int) -> None:
        """Write the ``MockAggregator``'s answer (USD, 8 decimals) into its storage slot."""
        slot = self.deployment.slots["MockAggregator"]["_latestAnswer"]
        word = "0x" + answer.to_bytes(32, "big", signed=True).hex()
        self.rpc.call("anvil_setStorageAt", self.reserves[symbol].aggregator, hex(slot), word)

    def liquidation_calldata(self, collateral: str, debt: str, user: str, debt_to_cover: int,
                             receive_atoken: bool = False) -> str:
        return calldata("liquidationCall(address,address,address,uint256,bool)", self.reserves[collateral].underlying,
                        self.reserves[debt].underlying, user, debt_to_cover, receive_atoken)

    def fund_liquidator(self, debt: str, amount: int) -> None:
        """Mint ``amount`` of ``debt`` to the liquidator and approve the Pool, in one mined block."""
        token = self.reserves[debt].underlying
        t = Transactor(self.rpc)
        t.send([t.tx(LIQUIDATOR, token, calldata("mint(uint256)", amount), LIQUIDATOR_GAS),
                t.tx(LIQUIDATOR, token, calldata("approve(address,uint256)", self.pool, amount), LIQUIDATOR_GAS)])

    def liquidate(self, collateral: str, debt: str, user: str, debt_to_cover: int,
                  receive_atoken: bool = False) -> tuple[dict[str, Any], dict[str, int]]:
        """A real ``liquidationCall`` by the (funded) liquidator: the receipt and the event's amounts."""
        t = Transactor(self.rpc)
        receipt = t.send([{**t.tx(LIQUIDATOR, self.pool, "0x", LIQUIDATOR_GAS),
                           "data": self.liquidation_calldata(collateral, debt, user, debt_to_cover, receive_atoken)}])[0]
        (log,) = [e for e in receipt["logs"] if e["topics"][0] == LIQUIDATION_CALL]
        repaid, seized, _, _ = eth_abi.decode(["uint256", "uint256", "address", "bool"], bytes.fromhex(log["data"][2:]))
        return receipt, {"debt_to_cover": repaid, "liquidated_collateral": seized}

    def write_deployment_toml(self, path: Path) -> Path:
        """The deployment file (``protocols/<family>/<chain>.toml`` format) of this market."""
        path.write_text(
            'name = "local-aave-v3-origin"\n'
            'family = "aave-v3"\n'
            'label = "Local anvil Aave v3.6 fixture"\n'
            f"chain_id = {CHAIN_ID}\n"
            f'pool_addresses_provider = "{self.deployment.provider}"\n'
            f"start_block = {self.deployment.start_block}\n"
            'source = "tests/localchain/aave_origin.py fixture"\n'
        )
        return path
