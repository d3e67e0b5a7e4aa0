"""``--set`` and ``--max-change``: parsing against a snapshot, applying to a copy, risk-steward bounds."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.audit.proposal import (
    DEFAULT_MAX_CHANGE,
    PARAMETERS,
    apply_proposal,
    changes_table,
    parse_assignment,
    parse_max_change,
    parse_proposal,
    within_bounds,
)
from defirisk.errors import InvalidParameter
from defirisk.model import MarketState
from tests.audit.states import MORPHO_MARKETS, WETH, morpho_state

CWBTC2 = "0xccf4429db6322d5c611ee964527d42e5d685dd6a"
CWBTC_LEGACY = "0xc11b1268c1a384e55c48c2391d8d480264a3a7f4"


@pytest.mark.parametrize(
    ("text", "parameter", "value"),
    [
        ("WETH.liquidation_threshold=78%", "liquidation_threshold", 0.78),
        ("WETH.liquidation_threshold=0.78", "liquidation_threshold", 0.78),
        ("WETH.ltv = 80 %", "ltv", 0.80),
        ("USDC.liquidation_bonus=4.5%", "liquidation_bonus", 0.045),
        ("USDC.supply_cap=1.5e9", "supply_cap", 1.5e9),
        ("wstETH.borrow_cap=12000", "borrow_cap", 12_000.0),
        ("CRV.debt_ceiling=2e6", "debt_ceiling", 2e6),
        (f"{WETH.upper().replace('0X', '0x')}.ltv=70%", "ltv", 0.70),
    ],
)
def test_assignments_parse_symbols_addresses_and_values(
    synthetic: MarketState, text: str, parameter: str, value: float
) -> None:
    a = parse_assignment(synthetic, text)
    assert a.parameter == parameter and a.value == pytest.approx(value, rel=1e-15)
    target = text.rpartition("=")[0].strip().rpartition(".")[0]
    row = synthetic.assets.iloc[a.row]
    assert row["asset"] == target.lower() if target.startswith("0x") else row["symbol"] == target
    assert row["symbol"] == a.label


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("WETH.colour=1", "unknown parameter"),
        ("NOPE.ltv=50%", "no asset"),
        ("WETH.liquidation_threshold=83", "did you mean 83%"),
        ("WETH.liquidation_threshold=101%", "below 1"),
        ("WETH.liquidation_bonus=1", "below 1"),
        ("WETH.ltv=-5%", "negative"),
        ("WETH.ltv=abc", "not a number"),
        ("WETH.ltv=nan", "not a number"),
        ("WETH.supply_cap=1e400", "finite"),
        ("WETH.ltv", "ASSET.parameter=VALUE"),
        ("ltv=5%", "ASSET.parameter=VALUE"),
        ("zz/0x" + "11" * 20 + ".ltv=5%", "market key"),
    ],
)
def test_bad_assignments_are_usage_errors(synthetic: MarketState, text: str, reason: str) -> None:
    with pytest.raises(InvalidParameter, match=reason):
        parse_assignment(synthetic, text)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60))
def test_any_assignment_text_parses_or_is_a_usage_error(synthetic: MarketState, text: str) -> None:
    try:
        a = parse_assignment(synthetic, text)
    except InvalidParameter:
        return
    assert a.parameter in PARAMETERS


def test_an_ambiguous_symbol_names_its_addresses_and_an_address_settles_it(may: MarketState) -> None:
    with pytest.raises(InvalidParameter) as info:
        parse_assignment(may, "WBTC.liquidation_threshold=65%")
    assert CWBTC2 in str(info.value) and CWBTC_LEGACY in str(info.value)
    a = parse_assignment(may, f"{CWBTC2}.liquidation_threshold=65%")
    assert may.assets.at[a.row, "asset"] == CWBTC2


def test_a_token_in_several_markets_needs_its_market() -> None:
    state = morpho_state()
    with pytest.raises(InvalidParameter, match="MARKET/ADDRESS"):
        parse_assignment(state, f"{WETH}.liquidation_threshold=80%")
    a = parse_assignment(state, f"{MORPHO_MARKETS[1]}/{WETH}.liquidation_threshold=75%")
    assert state.assets.at[a.row, "market"] == MORPHO_MARKETS[1]
    assert a.value == 0.75


def test_applying_changes_a_copy_only(synthetic: MarketState) -> None:
    before = synthetic.assets.copy()
    proposal = parse_proposal(synthetic, ["WETH.liquidation_threshold=78%", "WETH.ltv=75%", "WETH.ltv=76%"])
    changed = apply_proposal(synthetic, proposal)
    assert synthetic.assets.equals(before)
    row = changed.assets.index[changed.assets["asset"] == WETH][0]
    assert changed.assets.at[row, "liquidation_threshold"] == 0.78
    assert changed.assets.at[row, "ltv"] == 0.76  # the later assignment wins
    others = changed.assets.drop(index=row)
    assert others.equals(before.drop(index=row))


def test_a_threshold_below_the_ltv_is_refused(synthetic: MarketState) -> None:
    proposal = parse_proposal(synthetic, ["WETH.liquidation_threshold=70%"])
    with pytest.raises(InvalidParameter, match="above its liquidation threshold"):
        apply_proposal(synthetic, proposal)


def test_bounds_default_and_overrides() -> None:
    assert parse_max_change([]) == DEFAULT_MAX_CHANGE
    bounds = parse_max_change(["liquidation_threshold=2%", "supply_cap=0.5", "borrow_cap=none"])
    assert bounds["liquidation_threshold"] == 0.02 and bounds["supply_cap"] == 0.5 and bounds["borrow_cap"] is None
    for bad in ("colour=1", "ltv", "ltv=abc", "ltv=-1%", "ltv=inf"):
        with pytest.raises(InvalidParameter):
            parse_max_change([bad])


@pytest.mark.parametrize(
    ("parameter", "current", "proposed", "bound", "inside"),
    [
        ("liquidation_threshold", 0.83, 0.78, 0.05, True),  # exactly 5 pp
        ("liquidation_threshold", 0.83, 0.779, 0.05, False),
        ("ltv", 0.80, 0.86, 0.05, False),
        ("liquidation_bonus", 0.05, 0.07, 0.02, True),
        ("supply_cap", 1000.0, 2000.0, 1.0, True),  # +100 %
        ("supply_cap", 1000.0, 2001.0, 1.0, False),
        ("borrow_cap", 1000.0, 0.0, 1.0, True),  # -100 %
        ("supply_cap", 0.0, 1000.0, 1.0, False),  # from no cap: not a relative change
        ("supply_cap", None, 1000.0, 1.0, False),  # unknown current value
        ("debt_ceiling", 1e6, 1e9, None, True),  # no bound
    ],
)
def test_within_bounds(parameter: str, current: float | None, proposed: float, bound: float | None, inside: bool) -> None:
    assert within_bounds(parameter, current, proposed, bound) is inside


def test_changes_table_shows_current_proposed_and_flags(synthetic: MarketState) -> None:
    proposal = parse_proposal(synthetic, ["WETH.liquidation_threshold=70%", "WETH.ltv=70%", "USDC.supply_cap=1e9"],
                              ["ltv=20%"])
    labels = list(synthetic.assets["symbol"])
    rows = {(r["asset"], r["parameter"]): r for r in changes_table(synthetic, proposal, labels)}
    lt = rows[("WETH", "liquidation_threshold")]
    assert (lt["current"], lt["proposed"], lt["max_change"], lt["within_bounds"]) == (0.83, 0.70, 0.05, False)
    assert rows[("WETH", "ltv")]["within_bounds"] is True  # 80.5 % → 70 % within the 20 pp given
    assert rows[("USDC", "supply_cap")]["within_bounds"] is False  # the synthetic reserve has no cap (0)
