"""Hardhat artifacts of ``@aave/core-v3``: ABI, library linking, storage layout.

Artifacts are looked up by contract name under ``artifacts/contracts``. Unlinked bytecode holds a
20-byte placeholder ``__$<34 hex>$__`` per library use, where the hex is the first 34 characters of
``keccak256("<source path>:<Library>")``; ``linkReferences`` gives the byte offsets. ``link``
checks each placeholder before writing the address, so a changed artifact fails loudly instead of
deploying broken code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from eth_utils import keccak

from tests.localchain.toolchain import AAVE_ARTIFACTS as ARTIFACTS


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: name, source path, ABI, creation bytecode and its link references."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    link_references: dict[str, dict[str, list[dict[str, int]]]]

    def link(self, libraries: dict[str, str]) -> str:
        """Return the creation bytecode (hex, no 0x) with every library placeholder replaced.

        ``libraries`` maps library name to deployed address; every referenced library must be given.
        """
        code = self.bytecode.removeprefix("0x")
        for source, libs in self.link_references.items():
            for lib, refs in libs.items():
                placeholder = "__$" + keccak(text=f"{source}:{lib}").hex()[:34] + "$__"
                address = libraries[lib].lower().removeprefix("0x")
                for ref in refs:
                    start = 2 * ref["start"]
                    if code[start : start + 40] != placeholder:
                        raise ValueError(f"{self.name}: no {lib} placeholder at byte {ref['start']}")
                    code = code[:start] + address + code[start + 40 :]
        if "__$" in code:
            raise ValueError(f"{self.name}: unlinked placeholder left")
        return code


@cache
def _index() -> dict[str, Path]:
    return {
        path.stem: path
        for path in (ARTIFACTS / "contracts").rglob("*.json")
        if not path.name.endswith(".dbg.json")
    }


@cache
def artifact(name: str) -> Artifact:
    """Load the artifact of contract ``name`` (e.g. ``"Pool"``)."""
    data = json.loads(_index()[name].read_text())
    return Artifact(
        name=data["contractName"],
        source=data["sourceName"],
        abi=data["abi"],
        bytecode=data["bytecode"],
        link_references=data["linkReferences"],
    )


def storage_slots(names: dict[str, list[str]]) -> dict[str, dict[str, int]]:
    """Storage slot of each named variable, from the compiler's storage layout in build-info.

    ``names`` maps contract name to variable labels, e.g. ``{"MockAggregator": ["_latestAnswer"]}``.
    Parsing the whole build-info (32 MB) takes about a second, so only each contract's own output
    object is decoded: it starts after the key ``"<source>":{"<Name>":`` in ``output.contracts``
    (the same key in ``input.sources`` is followed by ``"content"``, not a contract name).
    """
    (build_info,) = (ARTIFACTS / "build-info").glob("*.json")
    text = build_info.read_text()
    decoder = json.JSONDecoder()
    slots: dict[str, dict[str, int]] = {}
    for name, labels in names.items():
        key = json.dumps(artifact(name).source) + ":{" + json.dumps(name) + ":"
        output, _ = decoder.raw_decode(text, text.index(key) + len(key))
        by_label = {entry["label"]: int(entry["slot"]) for entry in output["storageLayout"]["storage"]}
        slots[name] = {label: by_label[label] for label in labels}
    return slots
