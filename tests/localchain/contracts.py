"""Encode and decode calls against the artifacts' ABIs, over the raw ``Rpc`` client.

eth_abi does the encoding directly: web3's ``Contract.encode_abi`` normalises and validates every
argument and costs about 2 ms a call, which dominated bulk reads of thousands of accounts.
Functions are found by name and argument count, which is unambiguous for every function used here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import eth_abi
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address
from eth_utils.abi import collapse_if_tuple

from tests.localchain.artifacts import artifact
from tests.localchain.rpc import Rpc

MAX_UINT = 2**256 - 1


def _types(params: list[dict[str, Any]]) -> list[str]:
    return [collapse_if_tuple(p) for p in params]


@cache
def _function(name: str, fn: str, n_args: int) -> tuple[bytes, list[str], list[str]]:
    """Selector, input types and output types of ``fn`` with ``n_args`` arguments on ``name``."""
    (entry,) = [
        e
        for e in artifact(name).abi
        if e["type"] == "function" and e["name"] == fn and len(e["inputs"]) == n_args
    ]
    inputs = _types(entry["inputs"])
    selector = function_signature_to_4byte_selector(f"{fn}({','.join(inputs)})")
    return selector, inputs, _types(entry["outputs"])


def calldata(name: str, fn: str, *args: Any) -> str:
    """Calldata (0x-hex) for ``fn(*args)`` of contract ``name``; structs are passed as tuples."""
    selector, inputs, _ = _function(name, fn, len(args))
    return "0x" + (selector + eth_abi.encode(inputs, list(args))).hex()


def deploy_data(name: str, *args: Any, libraries: dict[str, str] | None = None) -> str:
    """Creation code of contract ``name`` with libraries linked and constructor ``args`` appended."""
    art = artifact(name)
    code = "0x" + art.link(libraries or {})
    ctor = [entry for entry in art.abi if entry["type"] == "constructor"]
    if ctor:
        code += eth_abi.encode(_types(ctor[0]["inputs"]), list(args)).hex()
    return code


def read(rpc: Rpc, name: str, address: str, fn: str, *args: Any, block: str = "latest") -> Any:
    """``eth_call`` ``fn(*args)`` on ``address``; one output is returned bare, several as a tuple."""
    data = rpc.call("eth_call", {"to": address, "data": calldata(name, fn, *args)}, block)
    outputs = decode_output(name, fn, len(args), data)
    return outputs[0] if len(outputs) == 1 else outputs


def decode_output(name: str, fn: str, n_args: int, data: str | bytes) -> tuple[Any, ...]:
    """Decode the return data (0x-hex or bytes) of ``fn(n_args arguments)`` of contract ``name``."""
    raw = data if isinstance(data, bytes) else bytes.fromhex(data[2:])
    return eth_abi.decode(_function(name, fn, n_args)[2], raw)


@cache
def _event(name: str, event: str) -> tuple[str, list[dict[str, Any]]]:
    (entry,) = [e for e in artifact(name).abi if e["type"] == "event" and e["name"] == event]
    signature = f"{event}({','.join(_types(entry['inputs']))})"
    return "0x" + keccak(text=signature).hex(), entry["inputs"]


def event_topic(name: str, event: str) -> str:
    """topic0 (0x-hex) of ``event`` declared in contract ``name``'s ABI."""
    return _event(name, event)[0]


def decode_log(name: str, event: str, log: dict[str, Any]) -> dict[str, Any]:
    """Decode a JSON-RPC log of ``event`` into {argument name: value}, addresses checksummed."""
    topic, inputs = _event(name, event)
    if log["topics"][0] != topic:
        raise ValueError(f"log is not {event}: topic0 {log['topics'][0]}")
    indexed = [i for i in inputs if i["indexed"]]
    plain = [i for i in inputs if not i["indexed"]]
    values = [eth_abi.decode([i["type"]], bytes.fromhex(t[2:]))[0] for i, t in zip(indexed, log["topics"][1:], strict=True)]
    values += eth_abi.decode(_types(plain), bytes.fromhex(log["data"][2:]))
    return {
        i["name"]: to_checksum_address(v) if i["type"] == "address" else v
        for i, v in zip(indexed + plain, values, strict=True)
    }
