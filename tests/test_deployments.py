"""Deployments as data: bundled files parse, bad files fail with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from defirisk.addresses import normalize_address
from defirisk.deployments import bundled_deployments, load_deployment
from defirisk.errors import InvalidAddress, InvalidDeployment, UnknownDeployment

GOOD = """
name = "x"
family = "aave-v3"
label = "X"
chain_id = 1
pool_addresses_provider = "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e"
start_block = 5
source = "test"
"""


def test_bundled_deployments_cover_the_required_chains() -> None:
    names = {d.name for d in bundled_deployments()}
    for chain in ("ethereum", "arbitrum", "optimism", "polygon", "base", "avalanche"):
        assert f"aave-v3-{chain}" in names
    assert "spark-ethereum" in names
    for d in bundled_deployments():
        assert d.root == d.root.lower() and d.root.startswith("0x") and len(d.root) == 42
        assert d.source


def test_load_by_name_and_by_path(tmp_path: Path) -> None:
    assert load_deployment("aave-v3-ethereum").chain_id == 1
    path = tmp_path / "x.toml"
    path.write_text(GOOD)
    d = load_deployment(str(path))
    assert (d.name, d.start_block, d.root) == ("x", 5, "0x2f39d218133afab8f2b819b1066c7e434ad94e9e")


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(UnknownDeployment, match="did you mean 'aave-v3-ethereum'"):
        load_deployment("aave-v3-etherum")


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda s: s.replace('chain_id = 1\n', ""), "chain_id"),
        (lambda s: s.replace("chain_id = 1", 'chain_id = "1"'), "chain_id"),
        (lambda s: s.replace('family = "aave-v3"', 'family = "maker"'), "family"),
        (lambda s: s.replace("0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e", "0x2f39d218133afab8f2b819b1066c7e434ad94e9E"), "pool_addresses_provider"),
        (lambda s: s.replace("start_block = 5", "start_block = -1"), "start_block"),
        (lambda s: s + "\n[[[", "TOML"),
    ],
)
def test_bad_deployment_files_name_the_field(tmp_path: Path, edit, field: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(edit(GOOD))
    with pytest.raises(InvalidDeployment, match=field):
        load_deployment(str(path))


def test_addresses_are_normalised_and_checksums_enforced() -> None:
    lower = "0x2f39d218133afab8f2b819b1066c7e434ad94e9e"
    assert normalize_address("0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e") == lower
    assert normalize_address(lower.upper().replace("0X", "0x")) == lower
    for bad in ("0x123", "2f39d218133afab8f2b819b1066c7e434ad94e9e", "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9E"):
        with pytest.raises(InvalidAddress):
            normalize_address(bad)
