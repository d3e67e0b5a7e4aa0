"""Account discovery persists per deployment; accounts and cursor move together."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from defirisk.errors import DataError, StoreError
from defirisk.store import Store, discovery
from tests.store.synthetic import address

POOL, OTHER_POOL = address(0xA000), address(0xA001)


def test_cursor_starts_empty_and_moves_with_the_accounts(store: Store) -> None:
    assert store.get_cursor("aave", 1) is None
    assert store.discovered_accounts("aave", 1) == []
    added = store.add_discovered(
        "aave", 1, [(POOL, address(2), 90), (POOL, address(1), 95)], scanned_to_block=100
    )
    assert added == 2
    assert store.get_cursor("aave", 1) == 100
    assert store.discovered_accounts("aave", 1) == [address(1), address(2)]


def test_rescanned_accounts_are_not_duplicated(db_path: Path) -> None:
    with Store.open(db_path) as store:
        store.add_discovered("aave", 1, [(POOL, address(1), 50)], scanned_to_block=100)
        rows = pd.DataFrame(
            {"market": [POOL, POOL, POOL, OTHER_POOL], "account": [address(1), address(3), address(3), address(1)],
             "first_block": [40, 150, 120, 160]}
        )  # fmt: skip
        assert store.add_discovered("aave", 1, rows, scanned_to_block=200) == 2
        assert store.discovered_accounts("aave", 1) == [address(1), address(3)]
        assert store.discovered_accounts("aave", 1, market=OTHER_POOL) == [address(1)]
        assert store.get_cursor("aave", 1) == 200
    con = duckdb.connect(str(db_path), read_only=True)
    first_blocks = con.execute(
        "SELECT market, account, first_block FROM discovered_accounts ORDER BY ALL"
    ).fetchall()
    con.close()
    assert first_blocks == [(POOL, address(1), 40), (POOL, address(3), 120), (OTHER_POOL, address(1), 160)]


def test_deployments_and_chains_are_kept_apart(store: Store) -> None:
    store.add_discovered("aave", 1, [(POOL, address(1), 5)], scanned_to_block=10)
    store.add_discovered("aave", 8453, [(POOL, address(2), 5)], scanned_to_block=20)
    store.add_discovered("spark", 1, [], scanned_to_block=30)
    assert store.discovered_accounts("aave", 1) == [address(1)]
    assert store.discovered_accounts("aave", 8453) == [address(2)]
    assert store.discovered_accounts("spark", 1) == []
    assert [store.get_cursor(*key) for key in (("aave", 1), ("aave", 8453), ("spark", 1))] == [10, 20, 30]


@pytest.mark.parametrize(
    "accounts, scanned_to_block",
    [
        ([(POOL, "0xABC0000000000000000000000000000000000001", 5)], 10),
        ([(POOL, address(1), 11)], 10),
        ([(POOL, address(1))], 10),
        ([(POOL, address(1), None)], 10),
        ([(POOL, address(1), 5)], "10"),
    ],
    ids=["upper-case", "after-cursor", "short-tuple", "no-block", "text-block"],
)
def test_bad_discoveries_change_nothing(store: Store, accounts: list, scanned_to_block: object) -> None:
    store.add_discovered("aave", 1, [(POOL, address(9), 1)], scanned_to_block=3)
    with pytest.raises(DataError):
        store.add_discovered("aave", 1, accounts, scanned_to_block)  # type: ignore[arg-type]
    assert store.get_cursor("aave", 1) == 3
    assert store.discovered_accounts("aave", 1) == [address(9)]


def test_accounts_and_cursor_are_one_transaction(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discovery, "_SET_CURSOR", "INSERT INTO no_such_table VALUES (?, ?, ?, ?)")
    with pytest.raises(StoreError):
        store.add_discovered("aave", 1, [(POOL, address(1), 5)], scanned_to_block=10)
    monkeypatch.undo()
    assert store.discovered_accounts("aave", 1) == []
    assert store.get_cursor("aave", 1) is None
