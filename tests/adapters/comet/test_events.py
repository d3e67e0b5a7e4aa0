"""Account discovery from Comet logs (pure): which topic names the account, per event."""

from __future__ import annotations

from defirisk.adapters.comet import events
from defirisk.chain import Log
from tests.adapters.comet.factory import COMET

A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
ASSET = "0x" + "cc" * 20


def topic(address: str) -> str:
    return "0x" + "00" * 12 + address[2:]


def log(event: str, *accounts: str, address: str = COMET, block: int = 100) -> Log:
    return Log(address, (event, *(topic(a) for a in accounts)), b"\0" * 32, block, "0x" + "00" * 32,
               "0x" + "11" * 32, 0, 0)


def test_each_event_names_its_account() -> None:
    assert events.accounts_of(log(events.SUPPLY, A, B), COMET) == [B]
    assert events.accounts_of(log(events.WITHDRAW, A, B), COMET) == [A]
    assert events.accounts_of(log(events.SUPPLY_COLLATERAL, A, B, ASSET), COMET) == [B]
    assert events.accounts_of(log(events.TRANSFER_COLLATERAL, A, B, ASSET), COMET) == [B]
    assert events.accounts_of(log(events.TRANSFER, A, B), COMET) == [A, B]


def test_the_zero_address_foreign_contracts_and_other_events_name_nobody() -> None:
    zero = "0x" + "00" * 20
    assert events.accounts_of(log(events.TRANSFER, zero, B), COMET) == [B]
    assert events.accounts_of(log(events.SUPPLY, A, B, address=ASSET), COMET) == []
    absorb_debt = "0x" + "12" * 32
    assert events.accounts_of(log(absorb_debt, A, B), COMET) == []
    assert events.accounts_of(log(events.SUPPLY, A), COMET) == []  # truncated topics


def test_first_block_seen_per_account() -> None:
    logs = [log(events.SUPPLY_COLLATERAL, A, B, ASSET, block=300), log(events.WITHDRAW, B, A, block=200),
            log(events.TRANSFER, A, B, block=250)]
    assert events.accounts_in_logs(logs, COMET) == {B: 200, A: 250}
    assert set(events.ACCOUNT_EVENTS) == {events.SUPPLY, events.WITHDRAW, events.SUPPLY_COLLATERAL,
                                          events.TRANSFER_COLLATERAL, events.TRANSFER}
