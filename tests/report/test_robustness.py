"""Every valid document renders: holes (null where the schema allows it), empty lists, offline data."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.report import render_html, render_markdown
from defirisk.report.schema import errors, schema
from defirisk.report.tables import tables, to_csv, to_parquet
from tests.report.sample import sample_audit

Path = tuple[str | int, ...]


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema()["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def _nullable_numbers(value: Any, node: dict[str, Any], path: Path = ()) -> list[Path]:
    """Paths of the numbers in ``value`` whose schema also allows null."""
    node = _resolve(node)
    found: list[Path] = []
    types = node.get("type", [])
    if isinstance(value, float | int) and not isinstance(value, bool) and "null" in types:
        found.append(path)
    if isinstance(value, dict):
        for key, item in value.items():
            child = node.get("properties", {}).get(key) or node.get("additionalProperties")
            if isinstance(child, dict):
                found += _nullable_numbers(item, child, (*path, key))
    if isinstance(value, list) and "items" in node:
        for index, item in enumerate(value):
            found += _nullable_numbers(item, node["items"], (*path, index))
    return found


def _set(document: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


_PATHS = _nullable_numbers(sample_audit(), schema())


def _render_all(document: dict[str, Any]) -> None:
    assert errors(document) == []
    assert render_markdown(document).startswith("# ")
    assert render_html(document).startswith("<!DOCTYPE html>")
    for table in tables(document).values():
        to_csv(table)
        to_parquet(table)


def test_most_numbers_may_be_missing() -> None:
    assert len(_PATHS) > 800


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.floats(min_value=0.05, max_value=1.0))
def test_any_set_of_missing_numbers_renders(seed: int, share: float) -> None:
    document = sample_audit()
    picked = random.Random(seed).sample(_PATHS, k=max(1, int(len(_PATHS) * share)))
    for path in picked:
        _set(document, path, None)
    _render_all(document)
    assert "n/a" in render_markdown(document)


def test_empty_lists_render() -> None:
    document = sample_audit()
    for key in ("liquidation_curves", "stress", "at_risk", "checks", "gates"):
        document[key] = []
    document["market"]["assets"] = []
    document["whatif"]["newly_liquidatable"] = []
    document["method"].update(sources={}, scenarios=[], seeds={}, notes=[])
    document["risk_metrics"]["metrics"] = []
    document["risk_metrics"]["distribution"] = None
    document["cascade"]["steps"] = []
    _render_all(document)
    text = render_markdown(document)
    assert "No account is at risk." in text and "No checks were run." in text
    assert "0 accounts ($0 of debt) are liquidatable only because of the proposed change." in text


def test_an_offline_snapshot_says_so() -> None:
    document = sample_audit(whatif=False)
    document["snapshot"].update(offline=True, block_number=None, block_hash=None, chain_id=1,
                                timestamp=1_683_590_400, note="Compound v2 subgraph export; dates inferred")
    _render_all(document)
    text = render_markdown(document)
    assert text.startswith("# Aave v3 Ethereum: risk audit at offline snapshot\n")
    assert "offline snapshot without a block, dated 2023-05-09 00:00 UTC" in text
    assert "**Note:** Compound v2 subgraph export\\; dates inferred" in text
