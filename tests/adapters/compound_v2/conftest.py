"""Imported snapshots of the bundled Compound v2 dataset, shared by the tests of this folder."""

from __future__ import annotations

import pytest

from defirisk.adapters.compound_v2.importer import import_compound_v2_dataset
from defirisk.model import MarketState


@pytest.fixture(scope="session")
def may_state() -> MarketState:
    return import_compound_v2_dataset("2023-05-09")


@pytest.fixture(scope="session")
def march_state() -> MarketState:
    return import_compound_v2_dataset("2023-03-27")


@pytest.fixture(scope="session")
def march_at_depeg_start() -> MarketState:
    return import_compound_v2_dataset("2023-03-27", price_time="2023-03-10T00:00Z")
