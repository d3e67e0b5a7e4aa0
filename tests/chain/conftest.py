"""A local anvil chain for the chain-access tests: Multicall3, two ERC-20s, 1,000 holders, event history.

Built once per session from ``tests/localchain`` (anvil pinned by ``tests/node``, Multicall3 at its
canonical address). The history gives ``eth_getLogs`` something to chew on: Transfer and Approval
events spread over about 160 blocks with gaps of empty blocks between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_utils import keccak

from defirisk.chain.abi import encode_call
from tests.localchain import multicall3
from tests.localchain.anvil import Anvil
from tests.localchain.contracts import deploy_data

HOLDERS = 1_000
TOKEN = "MintableERC20"


@dataclass(frozen=True)
class Chain:
    """The session chain: node, tokens, holders, and the block span of the event history."""

    anvil: Anvil
    url: str
    dev: str
    token_a: str
    token_b: str
    holders: tuple[str, ...]
    history: tuple[int, int]


def holder(n: int) -> str:
    """A deterministic EOA-looking address."""
    return "0x" + keccak(text=f"holder-{n}")[-20:].hex()


class _Sender:
    """Sends calls from one unlocked account, ``per_block`` transactions to a mined block."""

    def __init__(self, anvil: Anvil, sender: str) -> None:
        self.rpc = anvil.rpc
        self.sender = sender
        self.nonce = int(self.rpc.call("eth_getTransactionCount", sender, "pending"), 16)

    def send(self, calls: list[tuple[str | None, str]], per_block: int = 200) -> list[str]:
        """Send ``(to, calldata)`` pairs; return the transaction hashes."""
        txs = []
        for to, data in calls:
            tx = {"from": self.sender, "data": data, "gas": hex(3_000_000), "nonce": hex(self.nonce)}
            if to is not None:
                tx["to"] = to
            txs.append(tx)
            self.nonce += 1
        hashes: list[str] = []
        self.rpc.call("evm_setAutomine", False)
        try:
            for start in range(0, len(txs), per_block):
                hashes += self.rpc.batch(("eth_sendTransaction", [tx]) for tx in txs[start : start + per_block])
                self.rpc.call("evm_mine")
        finally:
            self.rpc.call("evm_setAutomine", True)
        return hashes

    def deploy(self, *args: object) -> str:
        (tx_hash,) = self.send([(None, deploy_data(TOKEN, *args))])
        receipt = self.rpc.call("eth_getTransactionReceipt", tx_hash)
        assert receipt["status"] == "0x1"
        return receipt["contractAddress"].lower()


def calldata(signature: str, *args: object) -> str:
    """0x-hex calldata of ``signature`` with ``args``."""
    return "0x" + encode_call(signature, args).hex()


@pytest.fixture(scope="session")
def chain() -> Iterator[Chain]:
    with Anvil() as anvil:
        multicall3.install(anvil.rpc)
        dev = anvil.rpc.call("eth_accounts")[0].lower()
        sender = _Sender(anvil, dev)
        token_a = sender.deploy("Token A", "TKA", 18)
        token_b = sender.deploy("Token B", "TKB", 6)
        holders = tuple(holder(n) for n in range(HOLDERS))
        mint = "mint(address,uint256)"
        sender.send(
            [(token_a, calldata(mint, h, (n + 1) * 10**15)) for n, h in enumerate(holders)]
            + [(token_b, calldata(mint, h, 7 * n + 1)) for n, h in enumerate(holders[::3])]
        )
        sender.send([(token_a, calldata("mint(uint256)", 10**30))])
        start = int(anvil.rpc.call("eth_blockNumber"), 16) + 1
        for burst in range(8):
            history = []
            for n in range(40):
                who = holders[(burst * 40 + n) % HOLDERS]
                kind = "transfer(address,uint256)" if n % 3 else "approve(address,uint256)"
                history.append((token_a, calldata(kind, who, 10**12 + n)))
            sender.send(history, per_block=2 + burst % 3)
            anvil.rpc.call("anvil_mine", hex(3 + burst))
        end = int(anvil.rpc.call("eth_blockNumber"), 16)
        yield Chain(anvil, anvil.rpc_url, dev, token_a, token_b, holders, (start, end))
