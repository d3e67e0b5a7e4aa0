"""Where the pinned EVM toolchain and the fixture's caches live, and which versions are installed.

The npm packages under ``tests/node`` (installed with ``npm ci --prefix tests/node``) pin anvil,
the Aave v3 artifacts and solc-js; their installed versions, together with a hash of this
package's code, key every cache so that a toolchain or fixture change never reuses a stale state.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]
NODE_MODULES = REPO_ROOT / "tests" / "node" / "node_modules"
ANVIL_PACKAGE = "@foundry-rs/anvil-linux-amd64"
AAVE_PACKAGE = "@aave/core-v3"
SOLC_PACKAGE = "solc"
ANVIL_BIN = NODE_MODULES / ANVIL_PACKAGE / "bin" / "anvil"
AAVE_ARTIFACTS = NODE_MODULES / AAVE_PACKAGE / "artifacts"
SOLC_DIR = NODE_MODULES / SOLC_PACKAGE
CACHE_DIR = REPO_ROOT / ".cache" / "localchain"


class ToolchainMissing(RuntimeError):
    """The npm toolchain is not installed: run ``npm ci --prefix tests/node``."""


def installed_version(package: str) -> str:
    """Version of an npm package installed under ``tests/node/node_modules``."""
    manifest = NODE_MODULES / package / "package.json"
    if not manifest.exists():
        raise ToolchainMissing(f"{package} not installed: run `npm ci --prefix tests/node`")
    return json.loads(manifest.read_text())["version"]


#: Modules of other protocols' fixtures, which the Aave chain never runs: editing them must not
#: rebuild the cached Aave state (each keys its own cache on its own source).
OTHER_FIXTURES = ("morpho.py", "venus.py", "hostile.py", "aave_origin.py", "origin_*.py")


@cache
def fixture_code_hash() -> str:
    """SHA-256 over this package's Python and Solidity sources (other protocols' fixtures excepted),
    so editing the Aave fixture rebuilds its cached chain."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.suffix in {".py", ".sol"} and not any(path.match(p) for p in OTHER_FIXTURES):
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(*parts: object) -> str:
    """A short cache key over the toolchain versions, the fixture code and ``parts``."""
    versions = [installed_version(p) for p in (ANVIL_PACKAGE, AAVE_PACKAGE, SOLC_PACKAGE)]
    text = "|".join([*versions, fixture_code_hash(), *map(str, parts)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]
