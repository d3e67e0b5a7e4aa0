"""Multicall3 at its canonical address, compiled from the published source.

anvil does not pre-deploy Multicall3 and no npm package ships its bytecode, so the fixture compiles
``solidity/Multicall3.sol`` (verbatim from github.com/mds1/multicall, ``src/Multicall3.sol`` as
added in commit ebd8b64 and unchanged since; MIT, see ``solidity/LICENSE-Multicall3``) with the
pinned solc-js 0.8.12 and the canonical deployment's settings (optimizer on, 10,000,000 runs), and
writes the runtime code to the canonical address with ``anvil_setCode``.

With the source named ``Multicall3.sol`` and no remappings, the compiler's metadata hash is the one
embedded in the mainnet code (``a2646970667358221220bb2b5c71...``) and the output is byte-identical
to the canonical deployment: ``runtime_code`` refuses anything whose keccak256 differs from
``CANONICAL_CODEHASH``.
The compiled code is cached under ``.cache/localchain`` keyed on the solc version and source hash
(solc-js takes about 2 s to start).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Sequence

import eth_abi
from eth_utils import keccak

from tests.localchain.rpc import Rpc
from tests.localchain.toolchain import CACHE_DIR, PACKAGE_DIR, SOLC_DIR, SOLC_PACKAGE, installed_version

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
# keccak256 of the runtime code at the canonical address on Ethereum mainnet (3,808 bytes).
CANONICAL_CODEHASH = "0xd5c15df687b16f2ff992fc8d767b4216323184a2bbc6ee2f9c398c318e770891"
AGGREGATE3_SELECTOR = "0x82ad56cb"  # aggregate3((address,bool,bytes)[])
SOURCE = PACKAGE_DIR / "solidity" / "Multicall3.sol"
SOURCE_NAME = "Multicall3.sol"

_COMPILE_JS = """
const solc = require(process.argv[1]);
let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => process.stdout.write(solc.compile(input)));
"""


class CompileError(RuntimeError):
    """solc-js reported an error, or produced code other than the canonical Multicall3."""


def _compile() -> str:
    standard_json = {
        "language": "Solidity",
        "sources": {SOURCE_NAME: {"content": SOURCE.read_text()}},
        "settings": {
            "optimizer": {"enabled": True, "runs": 10_000_000},
            "outputSelection": {"*": {"*": ["evm.deployedBytecode.object"]}},
        },
    }
    result = subprocess.run(
        ["node", "-e", _COMPILE_JS, str(SOLC_DIR)],
        input=json.dumps(standard_json).encode(),
        capture_output=True,
        check=True,
    )
    output = json.loads(result.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    if errors:
        raise CompileError("\n".join(errors))
    return "0x" + output["contracts"][SOURCE_NAME]["Multicall3"]["evm"]["deployedBytecode"]["object"]


def runtime_code() -> str:
    """Multicall3 runtime bytecode (0x-hex), from the cache or compiled and checked."""
    source_hash = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    cached = CACHE_DIR / f"multicall3-solc{installed_version(SOLC_PACKAGE)}-{source_hash}.hex"
    if cached.exists():
        return cached.read_text()
    code = _compile()
    codehash = "0x" + keccak(hexstr=code).hex()
    if codehash != CANONICAL_CODEHASH:
        raise CompileError(f"Multicall3 code hash {codehash} is not the canonical {CANONICAL_CODEHASH}")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cached.write_text(code)
    return code


def aggregate3(rpc: Rpc, calls: Sequence[tuple[str, str]], block: str = "latest", chunk: int = 500) -> list[bytes]:
    """Run ``(target, calldata)`` calls through Multicall3 ``aggregate3`` in one ``eth_call`` per chunk.

    Every call must succeed (``allowFailure`` false, so one revert fails its chunk). The chunks go
    out as one JSON-RPC batch. anvil gives an ``eth_call`` the block gas limit, which holds a chunk
    of 500 expensive views (getUserAccountData costs about 137k gas).
    """
    requests = []
    for start in range(0, len(calls), chunk):
        part = [(target, False, bytes.fromhex(data[2:])) for target, data in calls[start : start + chunk]]
        data = AGGREGATE3_SELECTOR + eth_abi.encode(["(address,bool,bytes)[]"], [part]).hex()
        requests.append(("eth_call", [{"to": MULTICALL3_ADDRESS, "data": data}, block]))
    results: list[bytes] = []
    for answer in rpc.batch(requests):
        (decoded,) = eth_abi.decode(["(bool,bytes)[]"], bytes.fromhex(answer[2:]))
        results.extend(return_data for _, return_data in decoded)
    return results


def install(rpc: Rpc) -> str:
    """Put Multicall3 at its canonical address on the node behind ``rpc``; return the address."""
    rpc.call("anvil_setCode", MULTICALL3_ADDRESS, runtime_code())
    return MULTICALL3_ADDRESS
