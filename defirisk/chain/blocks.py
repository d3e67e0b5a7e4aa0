"""Block pinning: every read of a snapshot happens at one block, chosen and checked here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from defirisk.chain.rpc import RpcClient
from defirisk.errors import BlockNotAvailable, InvalidParameter, ReorgDetected, RpcError, WrongChain

_HASH = re.compile(r"0x[0-9a-f]{64}")


@dataclass(frozen=True)
class PinnedBlock:
    """The block a snapshot reads: number, hash (lower-case 0x-hex), timestamp (Unix seconds)."""

    number: int
    hash: str
    timestamp: int
    chain_id: int

    @property
    def tag(self) -> str:
        """The block number as a JSON-RPC block parameter."""
        return hex(self.number)


def quantity(value: Any, what: str) -> int:
    """A JSON-RPC hex quantity as int; ``RpcError`` when the node sent something else."""
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise RpcError(f"node sent a malformed {what}: {str(value)[:80]!r}")


def chain_id(client: RpcClient) -> int:
    """The node's chain id (``eth_chainId``)."""
    return quantity(client.call("eth_chainId"), "chain id")


def check_chain(client: RpcClient, expected: int) -> int:
    """The node's chain id; ``WrongChain`` unless it is ``expected``."""
    got = chain_id(client)
    if got != expected:
        raise WrongChain(f"{client.endpoint} serves chain id {got}, but the deployment is on chain {expected}")
    return got


def _block(client: RpcClient, number: int, chain: int) -> PinnedBlock | None:
    raw = client.call("eth_getBlockByNumber", [hex(number), False])
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise RpcError(f"node sent a malformed block {number}")
    block_hash = str(raw.get("hash", "")).lower()
    if not _HASH.fullmatch(block_hash) or quantity(raw.get("number"), "block number") != number:
        raise RpcError(f"node sent a malformed block {number}")
    return PinnedBlock(number, block_hash, quantity(raw.get("timestamp"), "block timestamp"), chain)


def pin_block(
    client: RpcClient,
    block: int | Literal["latest"] | None = None,
    *,
    reorg_lag: int = 5,
    min_block: int = 0,
    expected_chain_id: int | None = None,
) -> PinnedBlock:
    """Choose and read the block a snapshot is taken at.

    ``None``: the head minus ``reorg_lag`` blocks (a block that deep is unlikely to be replaced);
    ``"latest"``: the head itself, as asked; an int: that block. ``BlockNotAvailable`` when the block
    is beyond the head or below ``min_block`` (the deployment's start); ``WrongChain`` when
    ``expected_chain_id`` is given and the node serves another chain.
    """
    if block is not None and block != "latest" and (isinstance(block, bool) or not isinstance(block, int)):
        raise InvalidParameter(f"block must be a non-negative integer or 'latest', got {block!r}")
    if isinstance(block, int) and block < 0 or reorg_lag < 0 or min_block < 0:
        raise InvalidParameter("block, reorg_lag and min_block must not be negative")
    raw_chain, raw_head = client.batch([("eth_chainId", []), ("eth_blockNumber", [])])
    chain = quantity(raw_chain, "chain id")
    if expected_chain_id is not None and chain != expected_chain_id:
        raise WrongChain(
            f"{client.endpoint} serves chain id {chain}, but the deployment is on chain {expected_chain_id}"
        )
    head = quantity(raw_head, "block number")
    if block is None:
        number = head - reorg_lag
    elif block == "latest":
        number = head
    else:
        number = block
    if number < 0:
        raise BlockNotAvailable(f"the chain's head {head} is less than {reorg_lag} blocks deep")
    if number > head:
        raise BlockNotAvailable(f"block {number} is beyond the node's head {head}")
    if number < min_block:
        raise BlockNotAvailable(f"block {number} is before the deployment's first block {min_block}")
    pinned = _block(client, number, chain)
    if pinned is None:
        raise BlockNotAvailable(f"{client.endpoint} does not serve block {number}")
    return pinned


def verify_still_canonical(client: RpcClient, pinned: PinnedBlock) -> None:
    """``ReorgDetected`` unless block ``pinned.number`` still has the pinned hash."""
    now = _block(client, pinned.number, pinned.chain_id)
    if now is None or now.hash != pinned.hash:
        got = "no block" if now is None else now.hash
        raise ReorgDetected(f"block {pinned.number} was {pinned.hash} when pinned, now {got}")
