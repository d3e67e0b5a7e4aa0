"""``defirisk demo`` end to end on the bundled real Compound v2 data: what it stores and writes, and
figures equal to direct calls of the cross-check, the engine and the estimator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from defirisk.adapters.compound_v2.crosscheck import crosscheck_collateral
from defirisk.adapters.compound_v2.price_path import usdc_depeg_path
from defirisk.audit.demo import DemoResult
from defirisk.audit.replay import DEPEG_END, DEPEG_START, Liquidations, ReplayResult
from defirisk.audit.scope import borrowers_only
from defirisk.commands.report import _print_demo
from defirisk.engine import exposures_of, unit_values
from defirisk.liquidation import default_economics, estimate_bad_debt
from defirisk.model import MarketState
from defirisk.report.schema import errors
from defirisk.store import Store
from tests.audit.conftest import DEMO_TEST_PATHS

Run = tuple[Path, dict[str, Any], str]


@pytest.fixture(scope="module")
def march(demo_run: Run) -> MarketState:
    out, document, _ = demo_run
    with Store.open(out / "demo.duckdb", read_only=True) as store:
        return store.load_state(document["snapshots"][1]["snapshot_id"])


def test_files_and_the_audit_document(demo_run: Run) -> None:
    out, printed, _ = demo_run
    for name in ("report.md", "report.html", "audit.json", "demo.json", "demo.duckdb"):
        assert (out / name).is_file(), name
    document = printed["audit"]
    assert errors(document) == []
    assert json.loads((out / "audit.json").read_text()) == document
    assert document["market"]["accounts"] == 29_369  # the dataset's known count of accounts
    assert document["snapshot"]["offline"] is True and document["snapshot"]["block_number"] is None
    assert document["risk_metrics"]["paths"] == DEMO_TEST_PATHS
    assert document["method"]["command"] == f"defirisk demo --out {out}"
    assert len(document["stress"]) == 7 + 16 and document["cascade"]["steps"]
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "offline snapshot" in markdown and "29,369 accounts" in markdown
    summary = json.loads((out / "demo.json").read_text())
    assert summary["replay"] == printed["replay"] and summary["crosscheck"] == printed["crosscheck"]


def test_both_snapshots_went_through_the_store(demo_run: Run) -> None:
    out, printed, _ = demo_run
    with Store.open(out / "demo.duckdb", read_only=True) as store:
        listed = store.list_snapshots()
    assert list(listed["snapshot_id"]) == [1, 2]
    assert list(listed["deployment"]) == ["compound-v2-ethereum-dataset-2023-05-09",
                                          "compound-v2-ethereum-dataset-2023-03-27"]
    assert [s["accounts"] for s in printed["snapshots"]] == [29_369, 29_296]
    assert [s["block_number"] for s in printed["snapshots"]] == [None, None]
    assert printed["snapshots"][1]["price_time"] == "2023-03-10T00:00Z"


def test_the_crosscheck_is_the_direct_one(demo_run: Run, may: MarketState) -> None:
    _, printed, _ = demo_run
    direct = crosscheck_collateral(may)
    assert printed["crosscheck"] == json.loads(json.dumps(direct))
    other = direct["collateral_other"]
    check = printed["crosscheck_check"]
    assert check["ok"] is (other["within_tolerance"] == other["accounts"])
    assert f"{other['within_tolerance']:,} of {other['accounts']:,} agree" in check["result"]
    assert f"{direct['collateral']['within_tolerance']:,} of 29,369 accounts" in check["result"]
    assert check in printed["audit"]["checks"]


def test_the_replay_is_the_engine_and_the_estimator_on_the_depeg_path(demo_run: Run, march: MarketState) -> None:
    replay = demo_run[1]["replay"]
    owing = borrowers_only(march)
    x = exposures_of(owing)
    path = usdc_depeg_path(march, DEPEG_START, DEPEG_END)
    values = unit_values(x, path.multipliers.T)
    hf, debt = values.health_factor, values.debt
    below = (hf < 1) & (debt > 0)
    newly = below.any(axis=1) & ~below[:, 0]
    first = below[newly].argmax(axis=1)
    assert replay["liquidatable_at_start"] == int(below[:, 0].sum())
    assert replay["newly_liquidatable"] == int(newly.sum()) > 0
    assert replay["newly_liquidatable_debt_usd"] == pytest.approx(
        float((debt[newly, first] * path.base_usd[first]).sum()), rel=1e-12
    )
    assert replay["unmapped"] == path.unmapped and replay["assumed_peg"] == path.assumed_peg
    direct = estimate_bad_debt(march, path.multipliers, default_economics(), step_hours=1.0)
    to_usd = path.base_usd / march.meta.base_currency_usd
    repaid = direct.cascade.steps["repaid"][0]
    assert replay["replay"]["debt_repaid_usd"] == pytest.approx(float((repaid * to_usd).sum()), rel=1e-9)
    assert replay["replay"]["bad_debt_end_usd"] == pytest.approx(
        float(direct.cascade.steps["bad_debt"][0, -1] * to_usd[-1]), rel=1e-9
    )
    for key, value in replay["attributable"].items():
        assert value == pytest.approx(replay["replay"][key] - replay["flat"][key], rel=1e-12, abs=1e-9), key
    assert replay["replay"]["debt_repaid_usd"] > replay["flat"]["debt_repaid_usd"]
    assert replay["worst_point"]["usdc_usd"] == pytest.approx(0.8774, abs=1e-4)  # Yahoo's daily low, bundled


def test_the_printed_demo_states_the_computed_figures(
    demo_run: Run, capsys: pytest.CaptureFixture[str]
) -> None:
    out, printed, _ = demo_run
    replay_dict = printed["replay"]
    replay = ReplayResult(**{
        **replay_dict,
        **{k: Liquidations(**replay_dict[k]) for k in ("replay", "flat", "attributable")},
    })
    result = DemoResult(
        out_dir=str(out), database=printed["database"], snapshots=printed["snapshots"],
        crosscheck=printed["crosscheck"], crosscheck_check=printed["crosscheck_check"], document=printed["audit"],
        replay=replay, files=printed["files"], paths=printed["paths"], seed=printed["seed"],
    )
    _print_demo(result, 12.0)
    text = capsys.readouterr().out
    other = printed["crosscheck"]["collateral_other"]
    for shown in (
        "29,369",
        "offline snapshots without a block number",
        "inferred",
        f"{other['within_tolerance']:,} of {other['accounts']:,}",
        f"{replay.newly_liquidatable:,} accounts",
        replay.largest_newly[0]["account"],
        "Stress set",
        f"Monte Carlo: {DEMO_TEST_PATHS:,} paths",
        "report.html",
        "Done in 12 s",
    ):
        assert shown in text, shown
    assert np.isfinite(replay.usdc_low_hourly_usd)
