"""The published schema accepts real documents, rejects broken ones, and says where they break."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.errors import DataError
from defirisk.report import schema as schema_module
from defirisk.report.schema import SUPPORTED, errors, schema, validate
from tests.report.sample import sample_audit


@pytest.mark.parametrize("whatif", [True, False])
@pytest.mark.parametrize("hostile", [False, True])
def test_sample_documents_are_valid_before_and_after_json(whatif: bool, hostile: bool) -> None:
    document = sample_audit(whatif=whatif, hostile=hostile)
    assert errors(document) == []
    validate(json.loads(json.dumps(document, allow_nan=False)))


def _walk(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        found.append((path, node))
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, child in value.items():
                    found += _walk(child, f"{path}/{key}/{name}")
            elif isinstance(value, dict) and key not in ("const",):
                found += _walk(value, f"{path}/{key}")
    return found


def test_schema_is_draft_2020_12_and_only_uses_what_the_validator_checks() -> None:
    root = schema()
    assert root["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for path, node in _walk(root):
        assert set(node) <= SUPPORTED, f"{path} uses {set(node) - SUPPORTED}"
        for name in node.get("required", ()):
            assert name in node.get("properties", {}), f"{path}: required {name!r} has no property schema"
        if "$ref" in node:
            target = node["$ref"].removeprefix("#/$defs/")
            assert target in root["$defs"], f"{path}: dangling {node['$ref']}"


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda doc: doc.pop(key)


def _short_histogram(doc: dict[str, Any]) -> None:
    doc["risk_metrics"]["distribution"]["histogram"]["counts"].pop()


def _unsorted_curve(doc: dict[str, Any]) -> None:
    doc["liquidation_curves"][0]["points"].reverse()


BROKEN = [
    (_delete("market"), "/: missing required 'market'"),
    (_set("schema", "defirisk.audit/2"), "/schema: must be 'defirisk.audit/1'"),
    (_set("extra", 1), "/: unexpected property 'extra'"),
    (_set("market/accounts", True), "/market/accounts: expected integer"),
    (_set("market/accounts", 1.5), "/market/accounts: expected integer"),
    (_set("market/debt_usd", float("nan")), "/market/debt_usd: expected number or null"),
    (_set("market/debt_usd", float("inf")), "/market/debt_usd: expected number or null"),
    (_set("stress/0/kind", "panic"), "/stress/0/kind: must be one of"),
    (_set("at_risk/0/account", "0xABC"), "/at_risk/0/account: '0xABC' does not match"),
    (_set("concentration/top_10_debt_share", 1.5), "/concentration/top_10_debt_share: 1.5 is above the maximum"),
    (_set("risk_metrics/metrics/0/percentile", 1.0), "/risk_metrics/metrics/0/percentile: 1.0 must be below 1"),
    (_set("stress/0/worst_change", {"WETH": -1.5}), "/stress/0/worst_change/WETH: -1.5 is below the minimum -1"),
    (_set("stress/0/worst_change", {1: -0.1}), "/stress/0/worst_change: key 1 is not a string"),
    (_set("risk_metrics/distribution/bad_debt_usd_quantiles", {"p99": 1.0}),
     "/risk_metrics/distribution/bad_debt_usd_quantiles/p99: 'p99' does not match"),
    (_set("method/seeds", {"a/b": "7"}), "/method/seeds/a~1b: expected integer"),
    (_short_histogram, "/risk_metrics/distribution/histogram: 25 edges for 23 counts"),
    (_unsorted_curve, "/liquidation_curves/0/points: not sorted by change"),
]


@pytest.mark.parametrize(("mutate", "message"), BROKEN)
def test_broken_documents_are_rejected_with_the_place_named(
    mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    document = sample_audit()
    mutate(document)
    found = errors(document)
    assert any(problem.startswith(message) for problem in found), found
    with pytest.raises(DataError, match="invalid defirisk.audit/1 document"):
        validate(document)


def test_json_numbers_follow_json_not_python() -> None:
    document = sample_audit()
    document["market"]["accounts"] = 48213.0
    document["snapshot"]["offline"] = 1
    assert errors(document) == ["/snapshot/offline: expected boolean, got 1"]


def test_null_where_the_schema_allows_it_and_not_elsewhere() -> None:
    document = sample_audit(whatif=False)
    document["risk_metrics"] = None
    document["cascade"] = None
    document["at_risk"][0]["health_factor"] = None
    assert errors(document) == []
    document["hf_distribution"] = None
    assert errors(document) == ["/hf_distribution: expected object, got None"]


def test_a_schema_keyword_the_validator_does_not_know_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema_module, "schema", lambda: {"type": "object", "oneOf": [{"type": "object"}]})
    with pytest.raises(DataError, match="unsupported keywords"):
        errors({})


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=80, deadline=None)
@given(value=_json, key=st.sampled_from(sorted(sample_audit())))
def test_any_value_anywhere_gives_a_list_of_problems_never_a_crash(value: Any, key: str) -> None:
    document = {**_SAMPLE, key: value}
    found = errors(document)
    assert isinstance(found, list) and len(found) <= 20
    assert all(isinstance(problem, str) for problem in found)
    assert errors(value) != []


_SAMPLE = sample_audit()
