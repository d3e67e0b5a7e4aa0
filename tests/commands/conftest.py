"""A stored real snapshot (the bundled Compound v2 May 2023 dataset) for command tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from defirisk.adapters.compound_v2.importer import import_compound_v2_dataset
from defirisk.store import Store


@pytest.fixture(scope="session")
def compound_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("commands") / "compound.duckdb"
    with Store.open(path) as store:
        assert store.write_snapshot(import_compound_v2_dataset("2023-05-09")) == 1
    return path
