"""The on-chain Compound v2 adapter's pure parts: log decoding, answer decoding, canonical tables, VAI,
and the liquidation prediction on hand-made reads (no node)."""

from __future__ import annotations

from dataclasses import replace

import eth_abi
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.adapters.compound_v2 import calls, events, frames
from defirisk.adapters.compound_v2.accounts import AccountRead, Holding
from defirisk.adapters.compound_v2.adapter import market_params
from defirisk.adapters.compound_v2.discovery import CompoundAsset, CompoundMarket
from defirisk.adapters.compound_v2.family import CompoundV2Family
from defirisk.adapters.compound_v2.reconcile import reference_liquidity
from defirisk.adapters.compound_v2.reference import CompoundV2Reference
from defirisk.adapters.compound_v2.seize import predict_liquidation
from defirisk.chain import Log, TokenMetadata
from defirisk.engine.kernel import health_factors
from defirisk.errors import DataError
from defirisk.model import EMODE_COLUMNS, MarketState, SnapshotMeta, empty_frame

EXP = 10**18
COMPTROLLER = "0x" + "c0" * 20
ALICE = "0x" + "a1" * 20
CETH, CUSDC = "0x" + "e1" * 20, "0x" + "e2" * 20
USDC, VAI = "0x" + "d2" * 20, "0x" + "fa" * 20


def _log(address: str, topics: list[str], data: bytes, block: int = 7) -> Log:
    return Log(address, tuple(topics), data, block, "0x" + "00" * 32, "0x" + "11" * 32, 0, 0)


def _word(address: str) -> str:
    return "0x" + "00" * 12 + address[2:]


# Logs.

def test_market_entered_is_read_indexed_or_not_and_only_from_the_comptroller() -> None:
    indexed = _log(COMPTROLLER, [events.MARKET_ENTERED, _word(CUSDC), _word(ALICE)], b"", block=9)
    plain = _log(COMPTROLLER, [events.MARKET_ENTERED], eth_abi.encode(["address", "address"], [CUSDC, ALICE]), 5)
    foreign = _log("0x" + "66" * 20, [events.MARKET_ENTERED], eth_abi.encode(["address", "address"], [CUSDC, USDC]))
    assert events.accounts_in_logs([indexed, plain, foreign], COMPTROLLER, [CUSDC]) == {ALICE: 5}


@pytest.mark.parametrize(("topic", "types", "values"), [
    (events.BORROW, ["address", "uint256", "uint256", "uint256"], [ALICE, 1, 2, 3]),
    (events.MINT, ["address", "uint256", "uint256"], [ALICE, 1, 2]),
    (events.MINT_VENUS, ["address", "uint256", "uint256", "uint256"], [ALICE, 1, 2, 3]),
    (events.MINT_BEHALF, ["address", "address", "uint256", "uint256", "uint256"], [USDC, ALICE, 1, 2, 3]),
])
def test_market_events_name_the_account_in_their_data(topic: str, types: list[str], values: list) -> None:
    log = _log(CUSDC, [topic], eth_abi.encode(types, values))
    assert events.account_of(log, COMPTROLLER, frozenset({CUSDC})) == ALICE
    assert events.account_of(replace(log, address=CETH), COMPTROLLER, frozenset({CUSDC})) is None


def test_a_malformed_market_log_is_a_data_error() -> None:
    with pytest.raises(DataError, match="word 0"):
        events.account_of(_log(CUSDC, [events.BORROW], b"\x01" * 32), COMPTROLLER, frozenset({CUSDC}))


# Answers.

@pytest.mark.parametrize("words", [3, 7])
def test_markets_answer_keeps_the_two_leading_words_of_every_fork(words: int) -> None:
    data = eth_abi.encode(["bool", "uint256"] + ["uint256"] * (words - 2), [True, 825 * 10**15] + [1] * (words - 2))
    call = calls.market_calls(COMPTROLLER, COMPTROLLER, CUSDC)["market"]
    assert call.decoder is not None and call.decoder(data) == (True, 825 * 10**15)
    with pytest.raises(ValueError):
        call.decoder(data[:32])


@settings(max_examples=60, deadline=None)
@given(mantissa=st.integers(0, 10**60), decimals=st.integers(0, 36))
def test_price_raw_is_usd_per_whole_token_with_18_decimals(mantissa: int, decimals: int) -> None:
    assert frames.price_raw(mantissa, decimals) == mantissa * 10**decimals // 10**18


# A hand-made Comptroller read: cETH (native) and cUSDC, one account, optionally VAI.

def _asset(ctoken: str, underlying: str | None, decimals: int, cf: int, rate: int, price: int,
           share: int | None = None) -> CompoundAsset:
    values = {name: None for name in calls.market_calls(COMPTROLLER, COMPTROLLER, ctoken)}
    values |= {"market": (True, cf), "comptroller": COMPTROLLER, "decimals": 8, "price": price,
               "exchangeRateStored": rate, "reserveFactorMantissa": 10**17, "protocolSeizeShareMantissa": share,
               **{name: 0 for name in ("totalBorrows", "totalReserves", "getCash", "totalSupply", "borrowIndex")}}
    token = TokenMetadata(underlying or "0x" + "ee" * 20, "ETH" if underlying is None else "USDC", "t", decimals)
    return CompoundAsset(ctoken, token.address, underlying is None, TokenMetadata(ctoken, "cT", "c", 8), token,
                         decimals, values)


def _state(vai_repay: int = 0, treasury: int | None = None, share: int | None = 28 * 10**15,
           ctokens: int = 2_500 * 10**8, borrow: int = 60_000 * 10**6) -> MarketState:
    eth = _asset(CETH, None, 18, 825 * 10**15, 2 * 10**26 + 12345, 3_000 * EXP, share)
    usdc = _asset(CUSDC, USDC, 6, 855 * 10**15, 2 * 10**14 + 7, 10**30, share)
    market = CompoundMarket(COMPTROLLER, "0x" + "0c" * 20, 5 * 10**17, 108 * 10**16, (eth, usdc),
                            liquidator_contract="0x" + "1d" * 20 if treasury is not None else None,
                            treasury_percent=treasury,
                            vai_controller="0x" + "fc" * 20 if vai_repay else None,
                            vai=TokenMetadata(VAI, "VAI", "VAI Stablecoin", 18) if vai_repay else None,
                            ctokens=frozenset({CETH, CUSDC}))
    read = AccountRead(ALICE, (Holding(CETH, ctokens, 0, eth.exchange_rate), Holding(CUSDC, 0, borrow, usdc.exchange_rate)),
                       vai_repay, (0, 0, 0))
    meta = SnapshotMeta("synthetic", "compound-v2", 1, 1, "0x" + "00" * 32, 0, "test", "test", "USD", 18, 1.0,
                        "compound-v2", market_params=market_params(market))
    state = MarketState(meta, frames.assets_frame(market), empty_frame(EMODE_COLUMNS),
                        frames.accounts_frame(market, [read]), frames.positions_frame(market, [read]))
    state.validate()
    return state


def test_a_native_market_is_keyed_by_the_ctoken_with_the_native_placeholder() -> None:
    assets = _state().assets.set_index("asset")
    assert (assets.loc[CETH, "symbol"], assets.loc[CETH, "extra"]["native"]) == ("ETH", True)
    assert assets.loc[CETH, "price_raw"] == 3_000 * EXP and assets.loc[CUSDC, "price_raw"] == EXP


def test_protocol_fee_is_the_forks_share_of_the_bonus() -> None:
    compound = _state().assets.set_index("asset")["protocol_fee"]
    venus = _state(treasury=5 * 10**16, share=None).assets.set_index("asset")["protocol_fee"]
    assert compound[CUSDC] == pytest.approx(0.028 * 1.08 / 0.08, rel=1e-15)
    assert venus[CUSDC] == pytest.approx(0.05 / 0.08, rel=1e-15)
    assert _state(share=None).assets["protocol_fee"].tolist() == [0.0, 0.0]


def test_vai_debt_adds_to_the_borrow_side_at_par() -> None:
    vai = 7_000 * EXP
    with_vai, without = _state(vai_repay=vai), _state()
    ref = reference_liquidity(with_vai).iloc[0]
    plain = {k: int(v) for k, v in CompoundV2Reference(without).all_accounts().iloc[0].items()
             if k not in ("market", "account")}
    assert ref["sum_borrow"] == plain["sum_borrow"] + vai and ref["sum_collateral"] == plain["sum_collateral"]
    assert ref["liquidity"] - ref["shortfall"] == plain["liquidity"] - plain["shortfall"] - vai > 0
    position = with_vai.positions.set_index("asset").loc[VAI]
    assert (position["debt_raw"], position["collateral_enabled"]) == (vai, False)
    x = CompoundV2Family().exposures(with_vai)
    (hf,) = health_factors(x, np.ones(x.n_feeds))[:, 0]
    assert hf == pytest.approx(int(ref["sum_collateral"]) / int(ref["sum_borrow"]), rel=1e-12)


def test_compound_liquidation_splits_by_the_protocol_seize_share() -> None:
    state = _state(ctokens=1_500 * 10**8)  # 30 ETH (50 cETH each) · 3000 · 0.825 = 74,250 USD of power vs 60,000
    assert predict_liquidation(state, ALICE, CUSDC, CETH).outcome == "insufficient shortfall"
    state = _state(ctokens=1_200 * 10**8)  # 24 ETH: 59,400 < 60,000, a shortfall
    call = predict_liquidation(state, ALICE, CUSDC, CETH)
    assert (call.outcome, call.repay, call.max_repay) == ("ok", 30_000 * 10**6, 30_000 * 10**6)
    rate = 2 * 10**26 + 12345
    seize = ((108 * 10**16 * 10**30 // EXP) * EXP // (3_000 * EXP * rate // EXP)) * 30_000 * 10**6 // EXP
    assert call.seize_tokens == seize
    assert (call.protocol_tokens, call.liquidator_tokens) == (seize * 28 * 10**15 // EXP, seize - seize * 28 * 10**15 // EXP)
    assert predict_liquidation(state, ALICE, CUSDC, CETH, repay=call.max_repay + 1).outcome == "too much repay"
    assert predict_liquidation(state, ALICE, CUSDC, CETH, repay=0).outcome == "zero repay"
    tiny = _state(ctokens=50 * 10**8, borrow=6_000 * 10**6)  # 1 ETH cannot cover 3,000 USDC × 1.08
    assert predict_liquidation(tiny, ALICE, CUSDC, CETH).outcome == "seize too much"


@settings(max_examples=40, deadline=None)
@given(ctokens=st.integers(1, 10**12), borrow=st.integers(1, 10**12), fraction=st.integers(1, 100))
def test_a_liquidation_never_repays_more_than_allowed_and_conserves_seized_tokens(
    ctokens: int, borrow: int, fraction: int
) -> None:
    state = _state(ctokens=ctokens, borrow=borrow, treasury=5 * 10**16, share=None)
    call = predict_liquidation(state, ALICE, CUSDC, CETH, repay=None)
    partial = predict_liquidation(state, ALICE, CUSDC, CETH, repay=max(1, call.max_repay * fraction // 100))
    for c in (call, partial):
        assert c.max_repay == borrow // 2
        if c.outcome == "ok":
            assert 0 < c.repay <= c.max_repay
            assert c.protocol_tokens + c.liquidator_tokens == c.seize_tokens <= ctokens
            assert c.protocol_tokens == c.seize_tokens * 5 * 10**16 // (108 * 10**16)
    assert (call.outcome == "insufficient shortfall") == (reference_liquidity(state).iloc[0]["shortfall"] == 0)
