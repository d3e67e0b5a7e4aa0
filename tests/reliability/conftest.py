"""The reliability suite's shared pieces: the local market's deployment file, small discovery
windows, and a clean reference snapshot taken through a fault-free proxy.

Discovery windows are shrunk to ``WINDOW`` blocks so that a snapshot of the small local chain (a
few blocks) scans and saves its cursor several times, as a long first scan of a real chain does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

import defirisk.snapshot as snapshot_module
from defirisk.snapshot import SnapshotSummary, take_snapshot
from tests.localchain.helpers import LocalAave
from tests.reliability.dbcheck import contents
from tests.reliability.proxies import HookedProxy, stage_of_requests

WINDOW = 2


@contextmanager
def small_windows(window: int = WINDOW) -> Iterator[None]:
    """``defirisk.snapshot.DISCOVERY_WINDOW`` set to ``window`` blocks for the duration."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snapshot_module, "DISCOVERY_WINDOW", window)
        yield


@dataclass(frozen=True)
class CleanRun:
    """A snapshot taken through a proxy injecting nothing: the reference every faulted run must equal.

    ``upstream``: the node's own URL; ``trace``: methods of each HTTP request; ``stages``: the stage
    each request belongs to.
    """

    upstream: str
    deployment: Path
    db: Path
    summary: SnapshotSummary
    contents: dict[str, list[tuple]]
    trace: list[tuple[str, ...]]
    stages: list[str]

    @property
    def block(self) -> int:
        return self.summary.block_number


@pytest.fixture(scope="session")
def deployment_file(local_aave: LocalAave, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("deployment") / "local-aave-v3.toml"
    local_aave.write_deployment_toml(path)
    return path


@pytest.fixture(scope="session")
def clean(local_aave: LocalAave, deployment_file: Path, tmp_path_factory: pytest.TempPathFactory) -> CleanRun:
    db = tmp_path_factory.mktemp("clean") / "clean.duckdb"
    with small_windows(), HookedProxy(local_aave.rpc_url) as proxy:
        summary = take_snapshot(str(deployment_file), proxy.url, db_path=db, block="latest")
    assert summary.reconciliation["verified"] and summary.accounts > 100
    stages = stage_of_requests(summary.requests)
    assert len(stages) == len(proxy.trace) == summary.requests["total"]
    return CleanRun(local_aave.rpc_url, deployment_file, db, summary, contents(db), list(proxy.trace), stages)


@pytest.fixture
def at_clean_block(local_aave: LocalAave, clean: CleanRun) -> CleanRun:
    """``clean``, checking that the chain's head has not moved since it was taken."""
    assert local_aave.block_number() == clean.block, "the chain moved: faulted runs would read another block"
    return clean
