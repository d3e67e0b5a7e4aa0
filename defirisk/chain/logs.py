"""Log scanning over a block range in chunks that adapt to what the node accepts.

Each chunk is one ``eth_getLogs``. When the node refuses a range (too many blocks or results, or no
answer in time) the executor halves it, down to single blocks; after each chunk the size grows back
by ``grow`` (×1.5 by default) up to ``max_chunk``. Logs come out in (block, log index) order, and
the union of the chunks is exactly the range asked for, so the result equals one big query.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from defirisk.addresses import normalize_address
from defirisk.chain.blocks import quantity
from defirisk.chain.faults import TransientFault
from defirisk.chain.rpc import RpcClient, hex_bytes
from defirisk.errors import InvalidParameter, ReorgDetected

_TOPIC = re.compile(r"0x[0-9a-f]{64}")

Topic = str | Sequence[str] | None
Range = tuple[int, int]


@dataclass(frozen=True)
class Log:
    """One event log; hashes and addresses lower-case 0x-hex."""

    address: str
    topics: tuple[str, ...]
    data: bytes
    block_number: int
    block_hash: str
    transaction_hash: str
    transaction_index: int
    log_index: int


def _topic(value: str) -> str:
    topic = value.lower()
    if not _TOPIC.fullmatch(topic):
        raise InvalidParameter(f"not a 32-byte topic: {value[:70]!r}")
    return topic


def normalize_topics(topics: Sequence[Topic]) -> list[str | list[str] | None]:
    """Topic filter positions: None (any), one topic, or a list of alternatives (OR)."""
    out: list[str | list[str] | None] = []
    for position in topics:
        if position is None or isinstance(position, str):
            out.append(None if position is None else _topic(position))
        else:
            out.append([_topic(t) for t in position])
    return out


def parse_log(raw: Any) -> Log:
    """A log object from ``eth_getLogs``; a malformed one is a transient fault (a garbled answer)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("topics"), list):
        raise TransientFault("malformed log object", shrink=True)
    if raw.get("removed") is True:
        raise ReorgDetected(f"the node reports a removed log in block {raw.get('blockNumber')}")
    return Log(
        address=str(raw.get("address", "")).lower(),
        topics=tuple(str(t).lower() for t in raw["topics"]),
        data=hex_bytes(raw.get("data"), "log data"),
        block_number=quantity(raw.get("blockNumber"), "log block number"),
        block_hash=str(raw.get("blockHash", "")).lower(),
        transaction_hash=str(raw.get("transactionHash", "")).lower(),
        transaction_index=quantity(raw.get("transactionIndex"), "log transaction index"),
        log_index=quantity(raw.get("logIndex"), "log index"),
    )


def split_range(span: Range) -> tuple[Range, Range] | None:
    """The two halves of an inclusive block range, or None for a single block."""
    start, end = span
    if start >= end:
        return None
    mid = (start + end) // 2
    return (start, mid), (mid + 1, end)


def scan_logs(
    client: RpcClient,
    from_block: int,
    to_block: int,
    *,
    address: str | Sequence[str] | None = None,
    topics: Sequence[Topic] = (),
    chunk: int = 2_000,
    max_chunk: int | None = None,
    grow: float = 1.5,
    on_progress: Callable[[int, int], None] | None = None,
) -> Iterator[Log]:
    """Every log in blocks ``[from_block, to_block]`` matching ``address`` and ``topics``, in order.

    ``topics[0]`` may list several event signatures' topics at once. ``on_progress(done, total)``
    is called after each chunk with the blocks scanned so far and the blocks in the range.
    """
    if from_block < 0 or to_block < from_block:
        raise InvalidParameter(f"bad block range [{from_block}, {to_block}]")
    if chunk < 1 or grow < 1:
        raise InvalidParameter("chunk must be at least 1 and grow at least 1")
    ceiling = chunk if max_chunk is None else max_chunk
    base: dict[str, Any] = {"topics": normalize_topics(topics)}
    if address is not None:
        base["address"] = (
            normalize_address(address) if isinstance(address, str) else [normalize_address(a) for a in address]
        )

    def fetch(span: Range) -> tuple[Range, list[Log]]:
        reply = client.attempt("eth_getLogs", [{**base, "fromBlock": hex(span[0]), "toBlock": hex(span[1])}])
        raw = client.unwrap("eth_getLogs", reply)
        if not isinstance(raw, list):
            raise TransientFault("malformed eth_getLogs answer (not a list)", shrink=True)
        logs = sorted((parse_log(item) for item in raw), key=lambda log: (log.block_number, log.log_index))
        if logs and not span[0] <= logs[0].block_number <= logs[-1].block_number <= span[1]:
            raise TransientFault(f"eth_getLogs answered logs outside blocks {span}", shrink=True)
        return span, logs

    total = to_block - from_block + 1
    size = min(chunk, ceiling)
    start = from_block
    while start <= to_block:
        end = min(to_block, start + size - 1)
        pieces = client.executor.run_split((start, end), fetch, split_range, f"eth_getLogs [{start}, {end}]")
        for _, logs in pieces:
            yield from logs
        worked = size if len(pieces) == 1 else min(b - a + 1 for (a, b), _ in pieces)
        size = min(ceiling, math.ceil(worked * grow))
        start = end + 1
        if on_progress is not None:
            on_progress(start - from_block, total)
