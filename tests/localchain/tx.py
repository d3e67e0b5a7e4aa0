"""Bulk transactions on anvil: explicit nonces, JSON-RPC batches, blocks mined on demand.

Senders are unlocked by anvil (its own accounts, or any address once auto-impersonation is on), so
nothing is signed here. Each transaction carries its own gas limit (estimation would run against a
state that lacks the earlier transactions of the same batch) and its nonce, tracked locally, so a
sender can have many transactions in one batch. Automine is switched off and transactions go out in
batches of at most ``txs_per_block`` (and one block gas limit), each mined as one block. Block size
is a trade-off measured on 5,000 seeded accounts (17,000 transactions): anvil's cost per block
grows with the whole state, so 200 per block took twice as long as 1,000, while all of them
in one pool and one huge block took 99 s instead of about 8 s.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from tests.localchain.rpc import Rpc

Tx = dict[str, Any]


class TxFailed(RuntimeError):
    """A transaction the fixture relies on reverted."""


class Transactor:
    """Sends transactions from unlocked accounts, tracking each sender's nonce locally."""

    def __init__(self, rpc: Rpc, txs_per_block: int = 1000) -> None:
        self.rpc = rpc
        self.txs_per_block = txs_per_block
        self._block_gas_limit: int | None = None
        self._nonces: dict[str, int] = {}

    def tx(self, sender: str, to: str | None, data: str, gas: int) -> Tx:
        """Build an ``eth_sendTransaction`` object with the sender's next nonce."""
        sender = sender.lower()
        nonce = self._nonces[sender] if sender in self._nonces else self._fetch_nonce(sender)
        self._nonces[sender] = nonce + 1
        tx = {"from": sender, "data": data, "gas": hex(gas), "nonce": hex(nonce)}
        if to is not None:
            tx["to"] = to
        return tx

    def _fetch_nonce(self, sender: str) -> int:
        return int(self.rpc.call("eth_getTransactionCount", sender, "pending"), 16)

    def assume_fresh(self, senders: Sequence[str]) -> None:
        """Declare senders that never sent a transaction, sparing one nonce query each."""
        for sender in senders:
            self._nonces.setdefault(sender.lower(), 0)

    def send(self, txs: Sequence[Tx]) -> list[dict[str, Any]]:
        """Send and mine ``txs``; return their receipts, or raise ``TxFailed`` on the first revert."""
        hashes = self.send_unchecked(txs)
        receipts = self.rpc.batch(("eth_getTransactionReceipt", [h]) for h in hashes)
        for tx_hash, receipt in zip(hashes, receipts, strict=True):
            if receipt is None or receipt["status"] != "0x1":
                trace = self.rpc.call("debug_traceTransaction", tx_hash, {"tracer": "callTracer"})
                reason = trace.get("revertReason") or trace.get("error")
                raise TxFailed(f"transaction {tx_hash} to {trace.get('to')} reverted: {reason}")
        return receipts

    def send_unchecked(self, txs: Sequence[Tx]) -> list[str]:
        """Send ``txs`` block by block and mine them all; return their hashes in order.

        Receipts are not read: bulk callers verify the resulting state instead, which is much
        cheaper than thousands of receipts.
        """
        hashes: list[str] = []
        self.rpc.call("evm_setAutomine", False)
        try:
            for part in self._blocks(txs):
                hashes += self.rpc.batch(("eth_sendTransaction", [tx]) for tx in part)
                self._mine_pending()
        finally:
            self.rpc.call("evm_setAutomine", True)
        return hashes

    def _blocks(self, txs: Sequence[Tx]) -> Iterator[Sequence[Tx]]:
        """Split ``txs`` into blocks of at most ``txs_per_block`` whose gas limits fit one block.

        anvil silently drops a pending transaction that does not fit the block being mined, and
        with it the sender's later nonces, so a block must never be over-full.
        """
        if self._block_gas_limit is None:
            self._block_gas_limit = int(self.rpc.call("eth_getBlockByNumber", "latest", False)["gasLimit"], 16)
        start, gas = 0, 0
        for i, tx in enumerate(txs):
            gas += int(tx["gas"], 16)
            if i > start and (i - start == self.txs_per_block or gas > self._block_gas_limit):
                yield txs[start:i]
                start, gas = i, int(tx["gas"], 16)
        if start < len(txs):
            yield txs[start:]

    def _mine_pending(self) -> None:
        """Mine until the pool is empty (a block also ends at the block gas limit)."""
        while int(self.rpc.call("txpool_status")["pending"], 16):
            self.rpc.call("evm_mine")
