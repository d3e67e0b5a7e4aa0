"""Multicall3 ``aggregate3``: many contract reads in few requests, all at one block.

Calls are grouped ``batch_size`` to an ``aggregate3`` and up to ``client.max_batch`` aggregates to
one JSON-RPC batch, so 1,000 reads cost one HTTP request (plus one ``eth_getCode`` that checks
Multicall3 exists at the block). Every sub-call is sent with ``allowFailure = true``: a failing
sub-call then comes back as ``Result(success=False)`` instead of reverting its neighbours, and
``MulticallFailed`` names the required ones (``Call.allow_failure = False``) that failed.

An ``aggregate3`` the node cannot run for lack of gas is split (its JSON-RPC batch first, then the
aggregate itself) by the executor, down to single sub-calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import eth_abi

from defirisk.addresses import normalize_address
from defirisk.chain.abi import ABI_DECODE_ERRORS, calldata, selector
from defirisk.chain.blocks import PinnedBlock
from defirisk.chain.faults import TransientFault, is_gas_refusal
from defirisk.chain.rpc import RpcClient, hex_bytes
from defirisk.errors import InvalidParameter, MulticallFailed

MULTICALL3 = "0xca11bde05977b3631167028862be2a173976ca11"
AGGREGATE3 = selector("aggregate3((address,bool,bytes)[])")
_ERROR_STRING = selector("Error(string)")
_PANIC = selector("Panic(uint256)")


@dataclass(frozen=True)
class Call:
    """One read: ``calldata`` sent to ``target``; ``decoder`` turns the return data into ``value``.

    ``target`` is stored lower-case; a malformed one raises ``InvalidAddress``.

    A decoder signals malformed data by raising one of ``abi.ABI_DECODE_ERRORS`` (what eth_abi
    raises); the call then counts as failed. ``label`` names the call in errors.
    """

    target: str
    calldata: bytes
    allow_failure: bool = True
    decoder: Callable[[bytes], Any] | None = None
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", normalize_address(self.target))


@dataclass(frozen=True)
class Result:
    """The outcome of one ``Call``: ``value`` is the decoded return data when ``success``."""

    success: bool
    return_data: bytes
    value: Any = None
    error: str = ""


def _word(n: int) -> bytes:
    return n.to_bytes(32, "big")


_TRUE = _word(1)
_BYTES_AT = _word(0x60)  # offset of ``callData`` inside one (address, bool, bytes) tuple


def read_call(
    target: str,
    signature: str,
    args: Sequence[Any],
    decoder: Callable[[bytes], Any],
    label: str,
    allow_failure: bool = False,
) -> Call:
    """A ``Call`` of ``signature(args)`` on ``target`` (calldata from ``abi.calldata``)."""
    return Call(target, calldata(signature, args), allow_failure=allow_failure, decoder=decoder, label=label)


def encode_aggregate3(calls: Sequence[Call]) -> bytes:
    """Calldata of ``aggregate3`` over ``calls``, each with ``allowFailure = true``.

    Written out by hand (the ABI head/tail layout of ``(address,bool,bytes)[]``) because eth_abi's
    generic encoder took most of a snapshot's CPU time; ``tests/chain/test_multicall_codec.py``
    proves it byte-identical to ``eth_abi.encode``.
    """
    heads, tails, offset = [], [], 32 * len(calls)
    for call in calls:
        data = call.calldata
        tail = b"".join(
            (bytes(12), bytes.fromhex(call.target[2:]), _TRUE, _BYTES_AT, _word(len(data)), data, bytes(-len(data) % 32))
        )
        heads.append(_word(offset))
        tails.append(tail)
        offset += len(tail)
    return AGGREGATE3 + _word(32) + _word(len(calls)) + b"".join(heads) + b"".join(tails)


def decode_aggregate3(data: bytes, expected: int) -> list[tuple[bool, bytes]]:
    """``(success, returnData)`` per sub-call; ``MulticallFailed`` if the answer is malformed.

    Reads the ``(bool,bytes)[]`` layout directly, checking every offset and length against the
    answer's size (a hostile or broken node cannot make it read out of bounds).
    """
    size = len(data)
    malformed = MulticallFailed(f"Multicall3 answered {size} bytes that are not {expected} aggregate3 results")

    def word(at: int) -> int:
        if at < 0 or at + 32 > size:
            raise malformed
        return int.from_bytes(data[at : at + 32], "big")

    start = word(0) + 32
    if word(start - 32) != expected:
        raise malformed
    out = []
    for i in range(expected):
        element = start + word(start + 32 * i)
        ok = word(element)
        at = element + word(element + 32)
        length = word(at)
        if ok > 1 or at + 32 + length > size:
            raise malformed
        out.append((ok == 1, bytes(data[at + 32 : at + 32 + length])))
    return out


def revert_reason(data: bytes) -> str:
    """A short description of revert data: the ``Error(string)`` text (repr'd, untrusted) or panic code."""
    if data[:4] == _ERROR_STRING:
        try:
            (text,) = eth_abi.decode(["string"], data[4:])
        except ABI_DECODE_ERRORS:
            return "reverted with a malformed reason"
        return f"reverted: {text[:120]!r}"
    if data[:4] == _PANIC and len(data) == 36:
        return f"panic 0x{int.from_bytes(data[4:], 'big'):x}"
    return "reverted" if data else "reverted without data"


def to_result(call: Call, success: bool, data: bytes) -> Result:
    """Apply the call's decoder to a successful sub-call."""
    if not success:
        return Result(False, data, error=revert_reason(data))
    if call.decoder is None:
        return Result(True, data, value=data)
    try:
        return Result(True, data, value=call.decoder(data))
    except ABI_DECODE_ERRORS as exc:
        return Result(False, data, error=f"undecodable answer ({type(exc).__name__})")


def failures(results: Sequence[Result]) -> list[int]:
    """Indexes of the results that failed."""
    return [i for i, r in enumerate(results) if not r.success]


def _describe(call: Call, result: Result) -> str:
    name = call.label or f"{call.target} 0x{call.calldata[:4].hex()}"
    return f"{name}: {result.error}"


def _split(unit: list[list[Call]]) -> tuple[list[list[Call]], list[list[Call]]] | None:
    """Halve the JSON-RPC batch, or when it holds one aggregate, the aggregate."""
    if len(unit) > 1:
        mid = len(unit) // 2
        return unit[:mid], unit[mid:]
    (calls,) = unit
    if len(calls) > 1:
        mid = len(calls) // 2
        return [calls[:mid]], [calls[mid:]]
    return None


def require_multicall3(client: RpcClient, block_tag: str) -> None:
    """``MulticallFailed`` unless Multicall3 has code at the block."""
    code = client.call("eth_getCode", [MULTICALL3, block_tag])
    if code in (None, "0x", ""):
        raise MulticallFailed(
            f"no Multicall3 contract at {MULTICALL3} at block {int(block_tag, 16)} on {client.endpoint} "
            "(on Ethereum it exists from block 14,353,601)"
        )


def multicall(
    client: RpcClient, calls: Sequence[Call], block: int | PinnedBlock, *, batch_size: int = 100
) -> list[Result]:
    """Run ``calls`` through Multicall3 at ``block``; one ``Result`` per call, in order.

    ``MulticallFailed`` when a call with ``allow_failure=False`` fails; failures of the others are
    in their results (``failures`` lists them).
    """
    if batch_size < 1:
        raise InvalidParameter(f"batch_size must be at least 1, got {batch_size}")
    if not calls:
        return []
    tag = hex(block.number if isinstance(block, PinnedBlock) else block)
    require_multicall3(client, tag)

    def attempt(unit: list[list[Call]]) -> list[list[tuple[bool, bytes]]]:
        requests_ = [
            ("eth_call", [{"to": MULTICALL3, "data": "0x" + encode_aggregate3(sub).hex()}, tag]) for sub in unit
        ]
        decoded = []
        for sub, reply in zip(unit, client.attempt_batch(requests_), strict=True):
            if reply.error is not None and is_gas_refusal(reply.error):
                raise TransientFault(f"aggregate3 of {len(sub)} calls: {reply.error}", too_big=True)
            data = hex_bytes(client.unwrap("eth_call", reply), "eth_call result")
            decoded.append(decode_aggregate3(data, len(sub)))
        return decoded

    aggregates = [list(calls[i : i + batch_size]) for i in range(0, len(calls), batch_size)]
    pairs: list[tuple[bool, bytes]] = []
    for start in range(0, len(aggregates), client.max_batch):
        unit = aggregates[start : start + client.max_batch]
        what = f"multicall of {sum(map(len, unit))} calls at block {int(tag, 16)}"
        for piece in client.executor.run_split(unit, attempt, _split, what):
            for sub in piece:
                pairs.extend(sub)
    results = [to_result(call, ok, data) for call, (ok, data) in zip(calls, pairs, strict=True)]
    required = [i for i in failures(results) if not calls[i].allow_failure]
    if required:
        shown = "; ".join(_describe(calls[i], results[i]) for i in required[:5])
        more = f" and {len(required) - 5} more" if len(required) > 5 else ""
        raise MulticallFailed(f"{len(required)} required calls failed at block {int(tag, 16)}: {shown}{more}")
    return results


def multicall_with_progress(
    client: RpcClient,
    calls: Sequence[Call],
    block: int | PinnedBlock,
    *,
    batch_size: int,
    stage: str,
    on_progress: Callable[[str, int, int], None] | None,
) -> list[Result]:
    """``multicall`` in groups of about one HTTP request each, reporting ``on_progress(stage, done, total)``
    after every group."""
    capacity = max(1, batch_size * client.max_batch)
    out: list[Result] = []
    for start in range(0, len(calls), capacity):
        out += multicall(client, calls[start : start + capacity], block, batch_size=batch_size)
        if on_progress is not None:
            on_progress(stage, min(start + capacity, len(calls)), len(calls))
    return out
