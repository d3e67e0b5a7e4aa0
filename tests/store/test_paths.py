"""Where the database lives by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from defirisk.store import Store, default_db_path


def test_default_path_is_under_the_home_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("DEFIRISK_DB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_db_path() == tmp_path / ".local" / "share" / "defirisk" / "defirisk.duckdb"


def test_the_environment_variable_wins_and_parents_are_created(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "a" / "b" / "risk.duckdb"
    monkeypatch.setenv("DEFIRISK_DB", str(target))
    assert default_db_path() == target
    with Store.open() as store:
        assert store.path == target
    assert target.is_file()


def test_in_memory_database() -> None:
    with Store.open(":memory:") as store:
        assert store.list_snapshots().empty
