"""Block pinning and reorg detection on anvil."""

from __future__ import annotations

import pytest

from defirisk.chain.blocks import check_chain, pin_block, verify_still_canonical
from defirisk.errors import BlockNotAvailable, InvalidParameter, ReorgDetected, WrongChain
from tests.chain.clients import fast_client
from tests.chain.conftest import Chain
from tests.localchain.anvil import CHAIN_ID, Anvil

pytestmark = pytest.mark.chain


def head(chain: Chain) -> int:
    return int(chain.anvil.rpc.call("eth_blockNumber"), 16)


def test_default_pin_lags_the_head(chain: Chain) -> None:
    pinned = pin_block(fast_client(chain.url))
    assert pinned.number == head(chain) - 5
    raw = chain.anvil.rpc.call("eth_getBlockByNumber", hex(pinned.number), False)
    assert (pinned.hash, pinned.timestamp, pinned.chain_id) == (raw["hash"], int(raw["timestamp"], 16), CHAIN_ID)
    assert pinned.tag == hex(pinned.number)


def test_latest_and_explicit_blocks(chain: Chain) -> None:
    client = fast_client(chain.url)
    assert pin_block(client, "latest").number == head(chain)
    assert pin_block(client, 0, reorg_lag=50).number == 0
    assert pin_block(client, None, reorg_lag=0).number == head(chain)
    assert pin_block(client, 12, min_block=12).number == 12


def test_unavailable_blocks(chain: Chain) -> None:
    client = fast_client(chain.url)
    with pytest.raises(BlockNotAvailable, match="beyond the node's head"):
        pin_block(client, head(chain) + 1)
    with pytest.raises(BlockNotAvailable, match="before the deployment's first block 100"):
        pin_block(client, 99, min_block=100)
    with pytest.raises(BlockNotAvailable, match="before the deployment's first block"):
        pin_block(client, None, reorg_lag=5, min_block=head(chain))
    with pytest.raises(BlockNotAvailable, match="less than"):
        pin_block(client, None, reorg_lag=head(chain) + 1)
    for bad in (-1, "12", 1.5, True):
        with pytest.raises(InvalidParameter):
            pin_block(client, bad)  # type: ignore[arg-type]


def test_wrong_chain(chain: Chain) -> None:
    client = fast_client(chain.url)
    with pytest.raises(WrongChain, match="chain id 31337, but the deployment is on chain 1"):
        pin_block(client, expected_chain_id=1)
    with pytest.raises(WrongChain):
        check_chain(client, 1)
    assert check_chain(client, CHAIN_ID) == CHAIN_ID
    assert pin_block(client, expected_chain_id=CHAIN_ID).chain_id == CHAIN_ID


def test_reorg_is_detected() -> None:
    with Anvil() as node:
        client = fast_client(node.rpc_url)
        node.rpc.call("anvil_mine", hex(5))
        fork_point = node.rpc.call("evm_snapshot")
        node.rpc.call("anvil_mine", hex(10))
        pinned = pin_block(client)
        assert pinned.number == 10
        verify_still_canonical(client, pinned)
        node.rpc.call("evm_revert", fork_point)
        with pytest.raises(ReorgDetected, match="block 10 was .* now no block"):
            verify_still_canonical(client, pinned)
        node.rpc.call("evm_setNextBlockTimestamp", hex(pinned.timestamp + 1000))
        node.rpc.call("anvil_mine", hex(10))
        with pytest.raises(ReorgDetected, match=f"block 10 was {pinned.hash} when pinned, now 0x"):
            verify_still_canonical(client, pinned)
