"""Fixtures of the job tests: job files on disk, a CliRunner bound to the app, the local chain."""

from __future__ import annotations

from pathlib import Path

import pytest

import defirisk.commands.jobs  # noqa: F401  (registers `job` and `history` on the app)
from tests.jobs.helpers import ChainJob
from tests.localchain.helpers import LocalAave


@pytest.fixture
def chain_job(reverting_aave: LocalAave, tmp_path: Path) -> ChainJob:
    """A folder with the local market's deployment file; ``write_job``/``run`` drive `defirisk job`."""
    return ChainJob.create(reverting_aave, tmp_path)
