"""Fixtures shared by the whole suite.

``local_aave``: one anvil node per session running a full Aave v3 market with seeded borrowers
(``tests/localchain``), started from the cached state in ``.cache/localchain/`` (built on first
use, in seconds). ``DEFIRISK_TEST_ACCOUNTS`` sets the number of seeded accounts (default 400).
Tests that change the chain take ``reverting_aave`` instead, which wraps the test in
``evm_snapshot``/``evm_revert`` so that later tests see the same chain. Both need the npm
toolchain (``npm ci --prefix tests/node``) and belong under the ``chain`` marker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.localchain.helpers import DEFAULT_ACCOUNTS, DEFAULT_SEED, LocalAave


@pytest.fixture(scope="session")
def local_aave() -> Iterator[LocalAave]:
    """The session's local Aave v3 market; do not change its state (use ``reverting_aave``)."""
    n_accounts = int(os.environ.get("DEFIRISK_TEST_ACCOUNTS", DEFAULT_ACCOUNTS))
    with LocalAave.start(n_accounts, DEFAULT_SEED) as aave:
        yield aave


@pytest.fixture
def reverting_aave(local_aave: LocalAave) -> Iterator[LocalAave]:
    """``local_aave``, with every change the test makes undone afterwards."""
    snapshot = local_aave.snapshot()
    yield local_aave
    assert local_aave.revert(snapshot), "evm_revert failed: later tests would see a changed chain"
