"""Deployments as data: one TOML file per protocol deployment under ``protocols/<family>/``.

A deployment names what cannot be discovered on chain (chain id, the root contract, the first block
worth scanning); everything else is read from the chain. Commands accept a name from the bundled set
(``aave-v3-ethereum``) or a path to such a TOML file.

Required fields: ``name``, ``family``, ``chain_id``, ``label``, ``source`` and the family's root
address field (``ROOT_FIELDS``); ``start_block`` defaults to 0.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from defirisk.errors import InvalidDeployment, UnknownDeployment
from defirisk.paths import protocols_dir

#: The address field each family's discovery starts from.
ROOT_FIELDS: dict[str, str] = {
    "aave-v3": "pool_addresses_provider",
    "compound-v2": "comptroller",
    "comet": "comet",
    "morpho-blue": "morpho",
}


@dataclass(frozen=True)
class Deployment:
    """One protocol deployment on one chain."""

    name: str
    family: str
    chain_id: int
    label: str
    root: str
    start_block: int
    source: str
    path: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def root_field(self) -> str:
        return ROOT_FIELDS[self.family]


def _field(data: dict[str, Any], key: str, kind: type, where: Path) -> Any:
    if key not in data:
        raise InvalidDeployment(f"{where}: missing field {key!r}")
    value = data[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        raise InvalidDeployment(f"{where}: field {key!r} must be {kind.__name__}, got {value!r}")
    return value


def parse_deployment(path: Path) -> Deployment:
    """Read and validate one deployment file."""
    from defirisk.addresses import normalize_address
    from defirisk.errors import InvalidAddress

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidDeployment(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidDeployment(f"{path}: not valid TOML: {exc}") from None
    name = _field(data, "name", str, path)
    family = _field(data, "family", str, path)
    if family not in ROOT_FIELDS:
        raise InvalidDeployment(f"{path}: field 'family' must be one of {sorted(ROOT_FIELDS)}, got {family!r}")
    chain_id = _field(data, "chain_id", int, path)
    if chain_id <= 0:
        raise InvalidDeployment(f"{path}: field 'chain_id' must be positive, got {chain_id}")
    root_key = ROOT_FIELDS[family]
    try:
        root = normalize_address(_field(data, root_key, str, path))
    except InvalidAddress as exc:
        raise InvalidDeployment(f"{path}: field {root_key!r}: {exc}") from None
    start_block = data.get("start_block", 0)
    if isinstance(start_block, bool) or not isinstance(start_block, int) or start_block < 0:
        raise InvalidDeployment(f"{path}: field 'start_block' must be a non-negative integer")
    known = {"name", "family", "chain_id", "label", "source", "start_block", root_key}
    return Deployment(
        name=name,
        family=family,
        chain_id=chain_id,
        label=_field(data, "label", str, path),
        root=root,
        start_block=start_block,
        source=_field(data, "source", str, path),
        path=path,
        extra={k: v for k, v in data.items() if k not in known},
    )


def bundled_deployments() -> list[Deployment]:
    """Every deployment shipped in ``protocols/``, sorted by name."""
    found = [parse_deployment(p) for p in sorted(protocols_dir().glob("*/*.toml"))]
    return sorted(found, key=lambda d: d.name)


def load_deployment(name_or_path: str) -> Deployment:
    """A bundled deployment by name, or a deployment TOML by path."""
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or path.is_file():
        if not path.is_file():
            raise UnknownDeployment(f"no deployment file at {name_or_path}")
        return parse_deployment(path)
    deployments = {d.name: d for d in bundled_deployments()}
    if name_or_path in deployments:
        return deployments[name_or_path]
    close = difflib.get_close_matches(name_or_path, deployments, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else "; `defirisk protocols` lists them"
    raise UnknownDeployment(f"unknown deployment {name_or_path!r}{hint}")
