"""The adapter conformance suite: what every protocol family's snapshot adapter must prove.

Shipped as a base class, like web3.py's ``web3/_utils/module_testing``: a family's test module
subclasses ``AdapterConformance`` and provides one fixture, ``conformance_case``, returning a
``ConformanceCase`` for a market running on the local chain. The base class takes one snapshot of it
through the public ``take_snapshot`` and checks:

* discovery — every account the fixture gave a position is stored, and nothing but accounts holding
  something;
* parameters — the stored asset rows equal the values the fixture configured;
* positions — every stored balance equals an independent read of the chain at the snapshot block
  (the family's own lens or data provider, not the adapter's code path), and every position that
  counts on chain is stored;
* reconciliation — every account was checked against the protocol's own view, with no mismatch;
* liquidation rules — the family answers ``liquidation_rules`` for the snapshot;
* errors — a foreign contract as the root raises ``NotTheProtocol``; a deployment naming another
  chain raises ``WrongChain``;
* the summary is JSON and agrees with what the store holds.

A known gap is an ``xfail`` with a reason in the subclass, never a skip.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from defirisk.adapters.base import Adapter, get_adapter
from defirisk.deployments import Deployment
from defirisk.errors import NotTheProtocol, WrongChain
from defirisk.families import get_family
from defirisk.model import MarketState
from defirisk.snapshot import SnapshotSummary, take_snapshot
from defirisk.store import Store

#: (account, asset) → (collateral_raw, debt_raw, collateral_enabled), positions that count on chain.
ChainPositions = dict[tuple[str, str], tuple[int, int, bool]]


@dataclass
class ConformanceCase:
    """A family's market on the local chain, and what the test fixture knows about it.

    ``accounts``: lower-case accounts the fixture gave a position. ``assets``: per asset address,
    canonical asset columns with the values the fixture configured (a subset of ``ASSET_COLUMNS``).
    ``chain_positions(accounts, block)``: the positions that count at ``block`` (debt > 0, or
    collateral enabled and > 0), read through a path independent of the adapter. ``foreign_address``:
    a contract on the chain that is not the family's root contract.
    """

    deployment: Deployment
    rpc_url: str
    accounts: set[str]
    assets: dict[str, dict[str, Any]]
    chain_positions: Callable[[list[str], int], ChainPositions]
    foreign_address: str
    snapshot_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Taken:
    """One snapshot of the case, with what the store holds for it."""

    summary: SnapshotSummary
    state: MarketState
    reconciliation: dict[str, Any] | None
    db_path: Path


def take_and_load(case: ConformanceCase, db_path: Path, **kwargs: Any) -> Taken:
    """``take_snapshot`` of the case into ``db_path``, then its state read back from the store."""
    summary = take_snapshot(case.deployment, case.rpc_url, db_path=db_path, reorg_lag=0,
                            **{**case.snapshot_kwargs, **kwargs})
    with Store.open(db_path, read_only=True) as store:
        state = store.load_state(summary.snapshot_id)
        reconciliation = store.load_reconciliation(summary.snapshot_id)
    return Taken(summary, state, reconciliation, db_path)


def stored_positions(state: MarketState) -> ChainPositions:
    """The snapshot's positions in ``ChainPositions`` form (collateral counted only if enabled)."""
    out: ChainPositions = {}
    for row in state.positions.itertuples(index=False):
        collateral = int(row.collateral_raw) if row.collateral_enabled else 0
        if collateral or int(row.debt_raw):
            out[(row.account, row.asset)] = (collateral, int(row.debt_raw), bool(row.collateral_enabled))
    return out


def deployment_on_chain(deployment: Deployment, chain_id: int, folder: Path) -> Path:
    """A copy of the deployment's TOML file that names ``chain_id``."""
    text = deployment.path.read_text(encoding="utf-8")
    changed, count = re.subn(r"(?m)^chain_id\s*=\s*\d+\s*$", f"chain_id = {chain_id}", text)
    assert count == 1, "the deployment file should have one chain_id line"
    path = folder / f"{deployment.name}-chain{chain_id}.toml"
    path.write_text(changed, encoding="utf-8")
    return path


class AdapterConformance:
    """Base class of every family's adapter tests; subclasses provide ``conformance_case``::

        class TestMyFamilyConformance(AdapterConformance):
            @pytest.fixture(scope="class")
            @classmethod
            def conformance_case(cls, local_chain) -> ConformanceCase:
                return ConformanceCase(...)
    """

    @pytest.fixture(scope="class")
    @classmethod
    def taken(cls, conformance_case: ConformanceCase, tmp_path_factory: pytest.TempPathFactory) -> Taken:
        return take_and_load(conformance_case, tmp_path_factory.mktemp("conformance") / "defirisk.duckdb")

    @pytest.fixture(scope="class")
    @classmethod
    def adapter(cls, conformance_case: ConformanceCase) -> Adapter:
        return get_adapter(conformance_case.deployment.family)

    # Discovery

    def test_adapter_is_registered_for_its_family(self, conformance_case: ConformanceCase, adapter: Adapter) -> None:
        assert adapter.family == conformance_case.deployment.family
        assert get_family(adapter.family).name == adapter.family

    def test_every_seeded_account_is_stored(self, conformance_case: ConformanceCase, taken: Taken) -> None:
        stored = set(taken.state.accounts["account"])
        missing = conformance_case.accounts - stored
        assert not missing, f"{len(missing)} seeded accounts not stored, e.g. {sorted(missing)[:3]}"
        assert taken.summary.accounts == len(stored)

    def test_only_accounts_holding_something_are_stored(self, taken: Taken) -> None:
        holders = set(taken.state.positions["account"])
        assert set(taken.state.accounts["account"]) == holders

    # Parameters

    def test_asset_parameters_are_the_configured_ones(self, conformance_case: ConformanceCase, taken: Taken) -> None:
        rows = {row["asset"]: row for row in taken.state.assets.to_dict("records")}
        assert set(conformance_case.assets) <= set(rows)
        for asset, expected in conformance_case.assets.items():
            for column, value in expected.items():
                got = rows[asset][column]
                if isinstance(value, float):
                    assert math.isclose(got, value, rel_tol=1e-12, abs_tol=1e-15), (asset, column, got, value)
                else:
                    assert got == value, (asset, column, got, value)

    def test_snapshot_is_pinned_to_one_block(self, taken: Taken) -> None:
        meta = taken.state.meta
        assert (meta.block_number, meta.block_hash, meta.chain_id) == (
            taken.summary.block_number, taken.summary.block_hash, taken.summary.chain_id,
        )
        assert re.fullmatch(r"0x[0-9a-f]{64}", meta.block_hash)

    # Positions

    def test_positions_equal_an_independent_chain_read(self, conformance_case: ConformanceCase, taken: Taken) -> None:
        accounts = sorted(set(taken.state.accounts["account"]) | conformance_case.accounts)
        on_chain = conformance_case.chain_positions(accounts, taken.summary.block_number)
        stored = stored_positions(taken.state)
        differ = {k: (stored.get(k), on_chain.get(k)) for k in stored.keys() | on_chain.keys()
                  if stored.get(k) != on_chain.get(k)}
        assert not differ, f"{len(differ)} positions differ (stored, chain), e.g. {list(differ.items())[:3]}"
        assert len(stored) > 0

    # Reconciliation

    def test_reconciliation_is_exact_for_every_account(self, taken: Taken) -> None:
        assert taken.summary.reconciliation == {
            "checked": len(taken.state.accounts), "mismatches": 0, "verified": True,
        }
        assert taken.reconciliation is not None
        assert taken.reconciliation["accounts_checked"] == len(taken.state.accounts)
        assert taken.reconciliation["mismatches"] == 0

    # Liquidation rules

    def test_liquidation_rules_are_present(self, taken: Taken) -> None:
        rules = get_family(taken.state.meta.family).liquidation_rules(taken.state)
        assert rules.family == taken.state.meta.family

    # Errors

    def test_foreign_root_contract_is_not_the_protocol(
        self, conformance_case: ConformanceCase, tmp_path: Path
    ) -> None:
        foreign = replace(conformance_case.deployment, root=conformance_case.foreign_address)
        with pytest.raises(NotTheProtocol):
            take_snapshot(foreign, conformance_case.rpc_url, db_path=tmp_path / "db.duckdb", reorg_lag=0)

    def test_deployment_on_another_chain_is_refused(self, conformance_case: ConformanceCase, tmp_path: Path) -> None:
        path = deployment_on_chain(conformance_case.deployment, 1, tmp_path)
        with pytest.raises(WrongChain):
            take_snapshot(str(path), conformance_case.rpc_url, db_path=tmp_path / "db.duckdb", reorg_lag=0)

    # Summary

    def test_summary_is_json_and_matches_the_store(self, taken: Taken) -> None:
        data = json.loads(json.dumps(taken.summary.to_dict()))
        assert data["id"] == taken.state.meta.snapshot_id
        assert (data["accounts"], data["reserves"], data["positions"]) == (
            len(taken.state.accounts), len(taken.state.assets), len(taken.state.positions),
        )
        assert data["requests"]["total"] == sum(v for k, v in data["requests"].items()
                                                if k in ("market", "discovery", "read", "verify"))
