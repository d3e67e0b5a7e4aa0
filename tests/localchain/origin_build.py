"""Compile Aave v3.6 from the Solidity sources of ``@aave-dao/aave-v3-origin`` 3.6.0, and cache the output.

The npm package ships sources only (BUSL-1.1), so the test setup compiles them; nothing compiled is
committed. Settings are those of the repository's ``foundry.toml`` at tag v3.6.0 (the package does not
ship it): solc 0.8.27, optimizer on with 200 runs, EVM shanghai, no metadata hash, no via-IR. Imports
are resolved here, from the entry contracts down, with the repository's one remapping that the core
needs: ``openzeppelin-contracts/`` → OpenZeppelin Contracts 5.1.0 (the version its ``solidity-utils``
submodule pins through ``openzeppelin-contracts-upgradeable`` v5.1.0), installed under the npm alias
``openzeppelin-contracts-5.1.0`` so that the hoisted 4.9.3 other fixtures use stays where it is.

The output (ABI, creation code, library link references and the storage layouts the fixture writes
into) is cached under ``.cache/localchain`` keyed on the solc, origin and OpenZeppelin versions and a
hash of the exact compiler input; ``compile_seconds`` in the cached file records how long solc-js took.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from eth_utils import keccak

from tests.localchain.toolchain import CACHE_DIR, NODE_MODULES, installed_version

ORIGIN_PACKAGE = "@aave-dao/aave-v3-origin"
OZ_PACKAGE = "openzeppelin-contracts-5.1.0"
SOLC_PACKAGE = "solc-0.8.27"
ORIGIN_DIR = NODE_MODULES / ORIGIN_PACKAGE
OZ_DIR = NODE_MODULES / OZ_PACKAGE
#: The npm package of OpenZeppelin Contracts holds the repository's ``contracts/`` folder at its root.
OZ_FOLDER = "openzeppelin-contracts/contracts/"

#: Contracts the fixture deploys, by source unit (``src/`` of the package).
ENTRY_CONTRACTS = {
    "src/contracts/protocol/configuration/PoolAddressesProvider.sol": "PoolAddressesProvider",
    "src/contracts/protocol/configuration/ACLManager.sol": "ACLManager",
    "src/contracts/instances/PoolInstance.sol": "PoolInstance",
    "src/contracts/instances/PoolConfiguratorInstance.sol": "PoolConfiguratorInstance",
    "src/contracts/instances/ATokenInstance.sol": "ATokenInstance",
    "src/contracts/instances/VariableDebtTokenInstance.sol": "VariableDebtTokenInstance",
    "src/contracts/misc/AaveOracle.sol": "AaveOracle",
    "src/contracts/misc/DefaultReserveInterestRateStrategyV2.sol": "DefaultReserveInterestRateStrategyV2",
    "src/contracts/helpers/AaveProtocolDataProvider.sol": "AaveProtocolDataProvider",
    "src/contracts/mocks/oracle/CLAggregators/MockAggregator.sol": "MockAggregator",
    "src/contracts/mocks/tokens/MintableERC20.sol": "MintableERC20",
    "src/contracts/protocol/libraries/logic/BorrowLogic.sol": "BorrowLogic",
    "src/contracts/protocol/libraries/logic/ConfiguratorLogic.sol": "ConfiguratorLogic",
    "src/contracts/protocol/libraries/logic/FlashLoanLogic.sol": "FlashLoanLogic",
    "src/contracts/protocol/libraries/logic/LiquidationLogic.sol": "LiquidationLogic",
    "src/contracts/protocol/libraries/logic/PoolLogic.sol": "PoolLogic",
    "src/contracts/protocol/libraries/logic/SupplyLogic.sol": "SupplyLogic",
}
#: Contracts whose storage layout the fixture needs (a price is moved by writing the feed's answer).
LAYOUTS = ("MockAggregator",)
SETTINGS = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "shanghai",
    "metadata": {"bytecodeHash": "none"},
}

_IMPORT = re.compile(r"""^\s*import\s+(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]\s*;""", re.MULTILINE)
_COMPILE_JS = """
const solc = require(process.argv[1]);
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => process.stdout.write(solc.compile(input)));
"""


class CompileError(RuntimeError):
    """solc-js reported an error, or an import could not be resolved."""


def _file_of(unit: str) -> Path:
    if unit.startswith(OZ_FOLDER):
        return OZ_DIR / unit.removeprefix(OZ_FOLDER)
    return ORIGIN_DIR / unit


def _resolve(importer: str, path: str) -> str:
    """The source unit name an ``import`` in ``importer`` refers to (relative paths, the one remapping)."""
    if path.startswith("."):
        parts: list[str] = []
        for part in (*PurePosixPath(importer).parent.parts, *PurePosixPath(path).parts):
            if part == "..":
                parts.pop()
            elif part != ".":
                parts.append(part)
        return "/".join(parts)
    if path.startswith((OZ_FOLDER, "src/")):
        return path
    raise CompileError(f"{importer} imports {path}, which no remapping of the fixture resolves")


def sources() -> dict[str, str]:
    """Every source unit the entry contracts need, by name, with its text."""
    found: dict[str, str] = {}
    todo = list(ENTRY_CONTRACTS)
    while todo:
        unit = todo.pop()
        if unit in found:
            continue
        file = _file_of(unit)
        if not file.is_file():
            raise CompileError(f"source {unit} not found at {file}")
        found[unit] = file.read_text()
        todo += [_resolve(unit, path) for path in _IMPORT.findall(found[unit])]
    return dict(sorted(found.items()))


def standard_json() -> dict[str, Any]:
    """solc's standard-JSON input for the entry contracts."""
    selection = ["abi", "evm.bytecode.object", "evm.bytecode.linkReferences", "storageLayout"]
    return {
        "language": "Solidity",
        "sources": {unit: {"content": text} for unit, text in sources().items()},
        "settings": {
            **SETTINGS,
            "outputSelection": {unit: {name: selection} for unit, name in ENTRY_CONTRACTS.items()},
        },
    }


@dataclass(frozen=True)
class Compiled:
    """One compiled contract: ABI, unlinked creation code, link references, storage slots by label."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    link_references: dict[str, dict[str, list[dict[str, int]]]]
    slots: dict[str, int]

    def link(self, libraries: dict[str, str]) -> str:
        """Creation code (0x-hex) with every library placeholder replaced by its address.

        A placeholder is ``__$<first 34 hex of keccak256("<source unit>:<Library>")>$__``; each is
        checked before it is overwritten, so changed output fails loudly instead of deploying junk.
        """
        code = self.bytecode
        for unit, libs in self.link_references.items():
            for lib, refs in libs.items():
                placeholder = "__$" + keccak(text=f"{unit}:{lib}").hex()[:34] + "$__"
                address = libraries[lib].lower().removeprefix("0x")
                for ref in refs:
                    start = 2 * ref["start"]
                    if code[start : start + 40] != placeholder:
                        raise CompileError(f"{self.name}: no {lib} placeholder at byte {ref['start']}")
                    code = code[:start] + address + code[start + 40 :]
        if "__$" in code:
            raise CompileError(f"{self.name}: unlinked placeholder left")
        return "0x" + code


def _compile(text: str) -> dict[str, Any]:
    result = subprocess.run(
        ["node", "-e", _COMPILE_JS, str(NODE_MODULES / SOLC_PACKAGE)],
        input=text.encode(), capture_output=True, check=True,
    )
    output = json.loads(result.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise CompileError("\n".join(errors))
    return output


def cache_file() -> Path:
    """Where the output of the current sources and toolchain is (or will be) cached."""
    text = json.dumps(standard_json(), sort_keys=True)
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    versions = "-".join(installed_version(p) for p in (SOLC_PACKAGE, ORIGIN_PACKAGE, OZ_PACKAGE))
    return CACHE_DIR / f"aave-origin-{versions}-{key}.json"


@cache
def build() -> dict[str, Any]:
    """``{"compile_seconds": float, "contracts": {name: {abi, bytecode, link_references, slots}}}``.

    From the cache, or compiled (11–13 s with solc-js 0.8.27 on the 2-core machine) and cached first.
    """
    cached = cache_file()
    if cached.exists():
        return json.loads(cached.read_text())
    text = json.dumps(standard_json(), sort_keys=True)
    started = time.perf_counter()
    output = _compile(text)
    seconds = time.perf_counter() - started
    contracts = {}
    for unit, name in ENTRY_CONTRACTS.items():
        c = output["contracts"][unit][name]
        layout = c.get("storageLayout") or {"storage": []}
        contracts[name] = {
            "abi": c["abi"],
            "bytecode": c["evm"]["bytecode"]["object"],
            "link_references": c["evm"]["bytecode"]["linkReferences"],
            "slots": {e["label"]: int(e["slot"]) for e in layout["storage"]} if name in LAYOUTS else {},
        }
    built = {"compile_seconds": seconds, "contracts": contracts}
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps(built))
    tmp.replace(cached)
    return built


@cache
def contract(name: str) -> Compiled:
    """The compiled contract ``name`` (a value of ``ENTRY_CONTRACTS``)."""
    c = build()["contracts"][name]
    return Compiled(name, c["abi"], c["bytecode"], c["link_references"], c["slots"])
