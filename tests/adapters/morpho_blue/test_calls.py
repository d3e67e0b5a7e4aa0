"""Decoders and event parsing on call results and logs recorded from the local Morpho Blue node (pure).

The hex below was answered by Morpho Blue 1.0.0 (compiled from the npm package) on anvil for the
``usdc-weth`` market of the ``ISOLATED`` fixture: 6-decimal loan token, 18-decimal collateral,
LLTV 86 %, fee 10 %, after 30 days of interest.
"""

from __future__ import annotations

import eth_abi
import pytest

from defirisk.adapters.morpho_blue import calls, events
from defirisk.adapters.morpho_blue.ids import MarketParams
from defirisk.adapters.morpho_blue.maths import MarketTotals
from defirisk.adapters.morpho_blue.reference import PositionRaw
from defirisk.chain import Log, Result
from defirisk.errors import DataError

MORPHO = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
MARKET_ID = "0xd9babf0d03bf86535d37a7b655bc90007bd5bf0deb21877f04177e6e95b53e3b"
PARAMS = MarketParams(
    "0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0", "0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9",
    "0xb7f8bc63bbcad18155201308c8f3540b07f84f5e", "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
    860000000000000000,
)
ID_TO_MARKET_PARAMS = bytes.fromhex(
    "0000000000000000000000009fe46736679d2d9a65f0992f2272de9f3c7fa6e0"
    "000000000000000000000000cf7ed3acca5a467e9e704c703e8d87f634fb0fc9"
    "000000000000000000000000b7f8bc63bbcad18155201308c8f3540b07f84f5e"
    "000000000000000000000000e7f1725e7734ce288f8367e1bb143e90bb3f0512"
    "0000000000000000000000000000000000000000000000000bef55718ad60000"
)
MARKET = bytes.fromhex(
    "000000000000000000000000000000000000000000000000000004a8e5d26a14"
    "000000000000000000000000000000000000000000000000471a2ccdeb1fad00"
    "00000000000000000000000000000000000000000000000000000011548707c6"
    "00000000000000000000000000000000000000000000000001087009665cfd80"
    "000000000000000000000000000000000000000000000000000000006b015ef8"
    "000000000000000000000000000000000000000000000000016345785d8a0000"
)
POSITION = bytes.fromhex(
    "0000000000000000000000000000000000000000000000000000000000000000"
    "0000000000000000000000000000000000000000000000000010911329333b40"
    "00000000000000000000000000000000000000000000000029a2241af62c0000"
)
PROBE_HEALTHY = bytes.fromhex(
    "08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000"
    "00000000000000000000000000000013706f736974696f6e206973206865616c74687900000000000000000000000000"
)
PROBE_UNHEALTHY = bytes.fromhex(
    "08c379a0000000000000000000000000000000000000000000000000000000000000002000000000000000000000000000000000"
    "000000000000000000000000000000157472616e7366657246726f6d2072657665727465640000000000000000000000"
)


def test_id_to_market_params_decodes_and_hashes_to_its_id() -> None:
    params = calls.decode_market_params(ID_TO_MARKET_PARAMS)
    assert params == PARAMS
    assert params.id == MARKET_ID


def test_market_decodes_into_totals() -> None:
    market = calls.decode_market(MARKET)
    assert market == MarketTotals(5123456789012, 5123456789012000000, 74432579526, 74432579526000000,
                                  1795251960, 10**17)


def test_position_decodes_shares_and_collateral() -> None:
    assert calls.decode_position(POSITION) == PositionRaw(0, 4663111109000000, 3 * 10**18)


@pytest.mark.parametrize("decoder", [calls.decode_market_params, calls.decode_market, calls.decode_position])
def test_decoders_refuse_answers_of_another_shape(decoder) -> None:
    with pytest.raises(ValueError):
        decoder(MARKET[:-1])
    with pytest.raises(ValueError):
        decoder(b"")


def test_decoders_refuse_words_wider_than_the_types() -> None:
    with pytest.raises(ValueError):
        calls.decode_market(b"\xff" * 32 + MARKET[32:])
    with pytest.raises(ValueError):
        calls.decode_market_params(b"\x01" * 32 + ID_TO_MARKET_PARAMS[32:])


def test_probe_is_healthy_only_for_the_healthy_position_revert() -> None:
    assert calls.probe_says_healthy(Result(False, PROBE_HEALTHY))
    assert not calls.probe_says_healthy(Result(False, PROBE_UNHEALTHY))
    assert not calls.probe_says_healthy(Result(True, b""))
    assert not calls.probe_says_healthy(Result(False, b""))
    assert calls.HEALTHY_REVERT == PROBE_HEALTHY


def test_probe_calldata_asks_for_one_share_on_behalf_of_the_account() -> None:
    call = calls.health_probe_call(MORPHO, PARAMS, "0x" + "ab" * 20)
    args = eth_abi.decode(["(address,address,address,address,uint256)", "address", "uint256", "uint256", "bytes"],
                          call.calldata[4:])
    assert args == (PARAMS.as_tuple(), "0x" + "ab" * 20, 0, 1, b"")
    assert call.allow_failure


def _log(topics: list[str], data: bytes = b"", address: str = MORPHO, block: int = 3) -> Log:
    return Log(address, tuple(topics), data, block, "0x" + "00" * 32, "0x" + "11" * 32, 0, 0)


def test_create_market_log_gives_id_and_params() -> None:
    log = _log([events.CREATE_MARKET, MARKET_ID], ID_TO_MARKET_PARAMS)
    assert log.topics[0] == "0xac4b2400f169220b0c0afdde7a0b32e775ba727ea1cb30b35f935cdaab8683ac"
    assert events.created_market(log, MORPHO) == (MARKET_ID, PARAMS)
    assert events.created_market(_log([events.CREATE_MARKET, MARKET_ID], ID_TO_MARKET_PARAMS, "0x" + "99" * 20),
                                 MORPHO) is None
    with pytest.raises(DataError):
        events.created_market(_log([events.CREATE_MARKET, MARKET_ID], b"\x00" * 10), MORPHO)


def _word(address: str) -> str:
    return "0x" + "00" * 12 + address[2:]


def test_accounts_come_from_the_on_behalf_topic_of_each_event() -> None:
    caller, owner, receiver = "0x" + "01" * 20, "0x" + "02" * 20, "0x" + "03" * 20
    logs = [
        _log([events.SUPPLY, MARKET_ID, _word(caller), _word(owner)], block=9),
        _log([events.BORROW, MARKET_ID, _word(owner), _word(receiver)], block=7),
        _log([events.SUPPLY_COLLATERAL, MARKET_ID, _word(caller), _word(receiver)], block=8),
        _log([events.SUPPLY, "0x" + "ee" * 32, _word(caller), _word(caller)], block=1),  # untracked market
        _log([events.SUPPLY, MARKET_ID, _word(caller), _word(caller)], address="0x" + "99" * 20, block=1),
    ]
    assert events.accounts_in_logs(logs, MORPHO, [MARKET_ID]) == {owner: 7, receiver: 8}
