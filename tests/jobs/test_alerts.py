"""Alert evaluation between two sets of metrics, and the alert file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from defirisk.errors import InvalidParameter
from defirisk.jobs.alerts import AlertFile, SnapshotRef, evaluate
from defirisk.jobs.jobfile import AlertRule
from defirisk.jobs.metrics import METRICS

CURRENT = SnapshotRef(7, 19_000_100, 1_700_001_200)
PREVIOUS = SnapshotRef(5, 19_000_000, 1_700_000_000)


def metrics(**values: float) -> dict[str, float]:
    return {name: values.get(name, 0) for name in METRICS}


RULES = [
    AlertRule("debt_hf_below_1_usd", "change_above", 1e6),
    AlertRule("accounts_hf_below_1", "above", 10, ("aave-v3-ethereum",)),
    AlertRule("debt_usd", "change_below", -5e8),
]


def run(deployment: str, now: dict[str, float], before: dict[str, float] | None) -> list:
    return evaluate(RULES, job="watch", deployment=deployment, chain_id=1, current=now, current_ref=CURRENT,
                    previous=before, previous_ref=None if before is None else PREVIOUS)


def test_each_crossing_rule_raises_one_alert_with_its_numbers() -> None:
    before = metrics(debt_hf_below_1_usd=2e5, accounts_hf_below_1=3, debt_usd=3e9)
    now = metrics(debt_hf_below_1_usd=1.5e6, accounts_hf_below_1=12, debt_usd=2.4e9)
    alerts = run("aave-v3-ethereum", now, before)
    assert [(a.metric, a.comparison) for a in alerts] == [
        ("debt_hf_below_1_usd", "change_above"), ("accounts_hf_below_1", "above"), ("debt_usd", "change_below"),
    ]
    first = alerts[0].to_dict()
    assert first == {
        "type": "alert", "job": "watch", "deployment": "aave-v3-ethereum", "chain_id": 1,
        "metric": "debt_hf_below_1_usd", "comparison": "change_above", "threshold": 1e6,
        "value": 1.5e6, "previous": 2e5, "change": 1.5e6 - 2e5,
        "snapshot_id": 7, "block_number": 19_000_100, "block_timestamp": 1_700_001_200,
        "previous_snapshot_id": 5, "previous_block_number": 19_000_000,
        "message": first["message"],
    }
    assert first["message"] == (
        "aave-v3-ethereum: debt_hf_below_1_usd rose by 1,300,000 to 1,500,000 (was 200,000); "
        "the alert is for a change of more than 1,000,000"
    )
    assert alerts[1].message == "aave-v3-ethereum: accounts_hf_below_1 = 12 (was 3), above 10"
    assert "fell by 600,000,000" in alerts[2].message
    for alert in alerts:
        line = alert.to_json_line()
        assert "\n" not in line and json.loads(line) == alert.to_dict()


def test_rules_limited_to_other_deployments_stay_silent() -> None:
    now = metrics(accounts_hf_below_1=50)
    assert run("aave-v3-base", now, metrics()) == []
    assert [a.metric for a in run("aave-v3-ethereum", now, metrics())] == ["accounts_hf_below_1"]


def test_no_change_no_alert_and_first_snapshot_only_value_rules() -> None:
    same = metrics(debt_hf_below_1_usd=5e6, accounts_hf_below_1=40, debt_usd=1e9)
    assert run("aave-v3-ethereum", same, same) == []
    first = run("aave-v3-ethereum", same, None)
    assert [(a.metric, a.previous, a.change, a.previous_snapshot_id) for a in first] == [
        ("accounts_hf_below_1", None, None, None)
    ]


def test_the_alert_file_gets_one_json_line_per_alert(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "alerts.jsonl"
    path.parent.mkdir()
    path.write_text('{"earlier": true}\n')
    alerts = run("aave-v3-ethereum", metrics(debt_hf_below_1_usd=3e6, accounts_hf_below_1=11), metrics())
    with AlertFile(path) as sink:
        for alert in alerts:
            sink.append(alert)
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"earlier": True}
    assert [json.loads(line) for line in lines[1:]] == [a.to_dict() for a in alerts]
    assert len(lines) == 3


def test_an_alert_file_path_that_is_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match=r"cannot open the alert file .*\(\[job\] alert_file\)"):
        AlertFile(tmp_path)
