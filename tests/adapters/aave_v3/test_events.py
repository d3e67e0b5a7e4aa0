"""Which logs name an account that may hold a position (pure, on hand-built logs)."""

from __future__ import annotations

import eth_abi
import pytest

from defirisk.adapters.aave_v3 import events
from defirisk.chain import Log
from defirisk.errors import DataError

POOL = "0x" + "11" * 20
A_TOKEN = "0x" + "22" * 20
OTHER = "0x" + "33" * 20
ASSET = "0x" + "44" * 20


def word(address: str) -> str:
    return "0x" + address[2:].rjust(64, "0")


def user(n: int) -> str:
    return "0x" + f"{n:040x}"


def log(address: str, topics: list[str], data: bytes = b"", block: int = 10) -> Log:
    return Log(address, tuple(topics), data, block, "0x" + "ab" * 32, "0x" + "cd" * 32, 0, 0)


def liquidation(liquidator: str, receive_a_token: bool, block: int = 10) -> Log:
    data = eth_abi.encode(["uint256", "uint256", "address", "bool"], [5, 7, liquidator, receive_a_token])
    return log(POOL, [events.LIQUIDATION_CALL, word(ASSET), word(ASSET), word(user(99))], data, block)


@pytest.mark.parametrize("topic", [events.SUPPLY, events.BORROW, events.MINT_UNBACKED, events.COLLATERAL_ENABLED])
def test_pool_events_name_topic_two(topic: str) -> None:
    entry = log(POOL, [topic, word(ASSET), word(user(1)), word(user(0))])
    assert events.account_of(entry, POOL, frozenset({A_TOKEN})) == user(1)


def test_a_token_transfer_names_the_recipient() -> None:
    entry = log(A_TOKEN, [events.BALANCE_TRANSFER, word(user(1)), word(user(2))])
    assert events.account_of(entry, POOL, frozenset({A_TOKEN})) == user(2)


def test_liquidator_counts_only_when_receiving_a_tokens() -> None:
    tokens = frozenset({A_TOKEN})
    assert events.account_of(liquidation(user(7), True), POOL, tokens) == user(7)
    assert events.account_of(liquidation(user(7), False), POOL, tokens) is None


def test_foreign_emitters_and_swapped_emitters_are_ignored() -> None:
    tokens = frozenset({A_TOKEN})
    assert events.account_of(log(OTHER, [events.SUPPLY, word(ASSET), word(user(1))]), POOL, tokens) is None
    # A BalanceTransfer from the Pool, or a Supply from an aToken, is not an Aave event.
    assert events.account_of(log(POOL, [events.BALANCE_TRANSFER, word(user(1)), word(user(2))]), POOL, tokens) is None
    assert events.account_of(log(A_TOKEN, [events.SUPPLY, word(ASSET), word(user(1))]), POOL, tokens) is None


def test_zero_address_and_unrelated_events_name_nobody() -> None:
    tokens = frozenset({A_TOKEN})
    burn = log(A_TOKEN, [events.BALANCE_TRANSFER, word(user(1)), word("0x" + "00" * 20)])
    assert events.account_of(burn, POOL, tokens) is None
    repay = "0x" + "ee" * 32
    assert events.account_of(log(POOL, [repay, word(ASSET), word(user(1))]), POOL, tokens) is None
    assert events.account_of(log(POOL, []), POOL, tokens) is None


def test_first_block_is_the_earliest_sighting() -> None:
    logs = [
        log(POOL, [events.BORROW, word(ASSET), word(user(1))], block=30),
        log(POOL, [events.SUPPLY, word(ASSET), word(user(1))], block=12),
        log(A_TOKEN, [events.BALANCE_TRANSFER, word(user(1)), word(user(2))], block=20),
        liquidation(user(3), True, block=25),
    ]
    assert events.accounts_in_logs(logs, POOL, [A_TOKEN]) == {user(1): 12, user(2): 20, user(3): 25}


def test_malformed_liquidation_data_is_an_error() -> None:
    broken = log(POOL, [events.LIQUIDATION_CALL, word(ASSET), word(ASSET), word(user(9))], b"\x01" * 10)
    with pytest.raises(DataError):
        events.account_of(broken, POOL, frozenset())


def test_topics_are_the_contract_event_signatures() -> None:
    # topic0 of Supply on Aave v3, as seen on Etherscan for the Ethereum Pool.
    assert events.SUPPLY == "0x2b627736bca15cd5381dcf80b0bf11fd197d01a037c52b927a881a10fb73ba61"
    assert events.BORROW == "0xb3d084820fb1a9decffb176436bd02558d15fac9b0ddfed8c465bc7359d7dce0"
