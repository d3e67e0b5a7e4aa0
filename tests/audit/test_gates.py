"""``--fail-on`` gates: the parser (no eval), what each metric reads, and how gates are judged."""

from __future__ import annotations

import math
import operator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.audit.gates import METRICS, Gate, evaluate_gates, metric_value, parse_gate, parse_gates
from defirisk.errors import InvalidParameter
from tests.report.sample import sample_audit

OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne}


@pytest.mark.parametrize(
    ("text", "metric", "op", "threshold"),
    [
        ("bad_debt_usd>1e6", "bad_debt_usd", ">", 1e6),
        ("  var99_bad_debt_usd  >=  2.5E+6 ", "var99_bad_debt_usd", ">=", 2.5e6),
        ("accounts_hf_below_1<.5", "accounts_hf_below_1", "<", 0.5),
        ("top_10_debt_share<=0.3", "top_10_debt_share", "<=", 0.3),
        ("borrowers==0", "borrowers", "==", 0.0),
        ("debt_usd!=-1", "debt_usd", "!=", -1.0),
        ("worst_stress_bad_debt_usd>+100", "worst_stress_bad_debt_usd", ">", 100.0),
    ],
)
def test_well_formed_gates_parse(text: str, metric: str, op: str, threshold: float) -> None:
    gate = parse_gate(text)
    assert (gate.metric, gate.op, gate.threshold) == (metric, op, threshold)
    assert gate.text == text.strip()


@pytest.mark.parametrize(
    "text",
    [
        "", "bad_debt_usd", "bad_debt_usd>", ">1", "bad_debt_usd>>1", "bad_debt_usd=>1", "bad_debt_usd > 1 2",
        "bad_debt_usd>1e999", "bad_debt_usd>nan", "bad_debt_usd>inf", "bad_debt_usd>0x10", "Bad_debt_usd>1",
        "__import__('os').system('x')>1", "bad_debt_usd>1; rm -rf /", "nope>1", "bad_debt_usd>1e6" + " " * 300,
        "bad_debt_usd\x00>1", "bad_debt_usd>1%",
    ],
)
def test_malformed_or_unknown_gates_are_usage_errors(text: str) -> None:
    with pytest.raises(InvalidParameter):
        parse_gate(text)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=80))
def test_any_text_parses_or_is_refused_with_a_usage_error(text: str) -> None:
    try:
        gate = parse_gate(text)
    except InvalidParameter as exc:
        assert str(exc)
    else:
        assert gate.metric in METRICS and math.isfinite(gate.threshold)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(sorted(METRICS)),
    st.sampled_from(sorted(OPS)),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.text(alphabet=" \t", max_size=3),
)
def test_built_gates_round_trip(metric: str, op: str, number: float, space: str) -> None:
    gate = parse_gate(f"{space}{metric}{space}{op}{space}{number!r}{space}")
    assert (gate.metric, gate.op, gate.threshold) == (metric, op, number)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(sorted(OPS)), st.floats(-1e9, 1e9), st.floats(-1e9, 1e9))
def test_a_gate_holds_exactly_when_its_comparison_is_true(op: str, value: float, threshold: float) -> None:
    gate = Gate("x", "debt_usd", op, threshold)
    assert gate.holds(value) is OPS[op](value, threshold)


def test_a_metric_that_was_not_computed_fails_closed() -> None:
    gate = parse_gate("bad_debt_usd<1e30")
    assert gate.holds(None) and gate.holds(math.nan)


def test_metrics_read_the_documented_values() -> None:
    doc = sample_audit(whatif=True)
    today = doc["bad_debt"]["today"]
    assert metric_value(doc, "bad_debt_usd") == today["bad_debt_usd"]
    assert metric_value(doc, "liquidatable_debt_usd") == today["liquidatable_debt_usd"]
    below = [b for b in doc["hf_distribution"]["buckets"] if b["upper"] is not None and b["upper"] <= 1.0]
    assert metric_value(doc, "accounts_hf_below_1") == sum(b["count"] for b in below)
    assert metric_value(doc, "worst_stress_bad_debt_usd") == max(s["bad_debt_usd"] for s in doc["stress"])
    var99 = next(m for m in doc["risk_metrics"]["metrics"]
                 if (m["name"], m["measure"], m["percentile"]) == ("bad_debt", "VaR", 0.99))
    assert metric_value(doc, "var99_bad_debt_usd") == var99["value_usd"]
    assert metric_value(doc, "whatif_newly_liquidatable") == len(doc["whatif"]["newly_liquidatable"])
    assert metric_value(doc, "whatif_outside_bounds") == 1
    for name in METRICS:
        value = metric_value(doc, name)
        assert value is None or math.isfinite(value), name
    doc["risk_metrics"] = None
    doc["whatif"] = None
    assert metric_value(doc, "es99_bad_debt_usd") is None
    assert metric_value(doc, "whatif_liquidatable_debt_usd") is None


def test_gates_on_what_the_run_will_not_compute_are_refused_up_front() -> None:
    with pytest.raises(InvalidParameter, match="Monte Carlo"):
        parse_gates(["var99_bad_debt_usd>1"], monte_carlo=False, whatif=True)
    with pytest.raises(InvalidParameter, match="proposal"):
        parse_gates(["whatif_newly_liquidatable>0"], monte_carlo=True, whatif=False)
    assert len(parse_gates(["bad_debt_usd>1", "accounts>0"], monte_carlo=False, whatif=False)) == 2


def test_evaluated_gates_record_value_and_outcome() -> None:
    doc = sample_audit(whatif=False)
    gates = parse_gates(["accounts>48000", "bad_debt_usd>1e6", "whatif_newly_liquidatable>0"],
                        monte_carlo=True, whatif=True)
    recorded = evaluate_gates(doc, gates)
    assert recorded == [
        {"expr": "accounts>48000", "value": 48_213.0, "failed": True},
        {"expr": "bad_debt_usd>1e6", "value": 0.0, "failed": False},
        {"expr": "whatif_newly_liquidatable>0", "value": None, "failed": True},
    ]
