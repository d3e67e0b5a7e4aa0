"""Local Morpho Blue nodes for this folder's chain tests (``tests/localchain/morpho.py``).

``morpho_isolated``: every market with its own tokens and every account in one market, the shape
the shared conformance suite keys on. ``morpho_shared``: the same plus a second market on the
``usdc-weth`` tokens and accounts in both; tests that change it take ``reverting_shared``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.localchain.morpho import ISOLATED, SHARED, LocalMorpho


@pytest.fixture(scope="session")
def morpho_isolated() -> Iterator[LocalMorpho]:
    with LocalMorpho.start(ISOLATED) as chain:
        yield chain


@pytest.fixture(scope="session")
def morpho_shared() -> Iterator[LocalMorpho]:
    with LocalMorpho.start(SHARED) as chain:
        yield chain


@pytest.fixture
def reverting_shared(morpho_shared: LocalMorpho) -> Iterator[LocalMorpho]:
    """``morpho_shared``, with every change the test makes undone afterwards."""
    snapshot = morpho_shared.snapshot()
    yield morpho_shared
    assert morpho_shared.revert(snapshot), "evm_revert failed: later tests would see a changed chain"
