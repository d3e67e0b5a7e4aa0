"""stress, curves and bad-debt from the command line, checked against direct library calls."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from defirisk.cli import app
from defirisk.engine import curves, stress
from defirisk.store import Store

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_stress_json_equals_the_library(compound_db: Path) -> None:
    code, out = run("stress", "--snapshot", "1", "--db", str(compound_db), "--shock", "ETH=-30%", "--json")
    assert code == 0, out
    document = json.loads(out)
    with Store.open(compound_db, read_only=True) as store:
        direct = stress(store.load_state(1), ["ETH=-30%"], at_risk_limit=10).to_dict()
    assert document["summary"] == direct["summary"]
    assert document["meta"]["units"] == 29_369
    (row,) = document["summary"]
    assert row["debt_liquidatable_usd"] > document["meta"]["debt_liquidatable_usd"] > 0


def test_stress_combines_shocks_and_lists_unmapped_episode_assets(compound_db: Path) -> None:
    code, out = run(
        "stress", "--snapshot", "1", "--db", str(compound_db),
        "--shock", "ETH=-30%,WBTC=-30%", "--episode", "2023-03", "--json",
    )
    assert code == 0, out
    document = json.loads(out)
    assert [r["scenario"] for r in document["summary"]] == ["ETH=-30%, WBTC=-30%", "2023-03"]
    assert {u["symbol"] for u in document["unmapped"]} >= {"DAI"}


def test_stress_table_is_readable(compound_db: Path) -> None:
    code, out = run("stress", "--snapshot", "1", "--db", str(compound_db), "--shock", "ETH=-30%")
    assert code == 0, out
    assert "29369 accounts" in out and "offline, no block" in out
    assert "Largest liquidatable accounts" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--shock", "ETH=abc"], "ETH=abc"),
        (["--shock", "ETH=-150%"], "-150%"),
        (["--shock", "NOPE=-10%"], "NOPE"),
        (["--episode", "1999"], "episode"),
    ],
)
def test_bad_scenarios_are_usage_errors(compound_db: Path, args: list[str], message: str) -> None:
    code, out = run("stress", "--snapshot", "1", "--db", str(compound_db), *args)
    assert code == 2
    assert message in out and "Traceback" not in out
    assert len(out.strip().splitlines()) == 1


def test_snapshot_and_deployment_are_exclusive(compound_db: Path) -> None:
    code, out = run("stress", "aave-v3-ethereum", "--snapshot", "1", "--db", str(compound_db))
    assert code == 2 and "one of them" in out
    code, out = run("stress", "--db", str(compound_db))
    assert code == 2


def test_curves_csv_and_json_agree_with_the_library(compound_db: Path, tmp_path: Path) -> None:
    out_csv = tmp_path / "curves.csv"
    code, out = run("curves", "--snapshot", "1", "--db", str(compound_db), "--asset", "ETH", "--out", str(out_csv), "--json")
    assert code == 0, out
    document = json.loads(out)
    with Store.open(compound_db, read_only=True) as store:
        direct = curves(store.load_state(1), targets=["ETH"]).to_dict()
    assert document["curves"] == direct["curves"]
    rows = list(csv.DictReader(out_csv.open()))
    assert len(rows) == len(direct["curves"]) > 100
    down = [float(r["debt_usd"]) for r in rows if float(r["move"]) <= 0]
    assert down == sorted(down, reverse=True), "more ETH drop never lowers ETH-collateral liquidations"


def test_bad_debt_shock_and_monte_carlo(compound_db: Path) -> None:
    code, out = run("bad-debt", "--snapshot", "1", "--db", str(compound_db), "--shock", "ETH=-40%", "--json")
    assert code == 0, out
    shock = json.loads(out)
    measures = shock["metrics"]["measures"]
    assert measures["bad_debt_var_99"]["value"] >= shock["initial"]["bad_debt"] >= 0
    code, out = run(
        "bad-debt", "--snapshot", "1", "--db", str(compound_db), "--paths", "20", "--horizon", "6h",
        "--seed", "3", "--gas-price", "30", "--mev-share", "0.5", "--eth-price", "2500", "--json",
    )
    assert code == 0, out
    mc = json.loads(out)
    assert mc["metrics"]["n_paths"] == 20 and mc["metrics"]["seed"] == 3 and mc["metrics"]["horizon"] == "6h"
    assert mc["economics"]["gas_price_gwei"] == 30 and mc["economics"]["builder_share"] == 0.5
    assert mc["economics"]["eth_price_usd"] == 2500
    low, high = mc["metrics"]["measures"]["bad_debt_var_95"]["ci_low"], mc["metrics"]["measures"]["bad_debt_var_95"]["ci_high"]
    assert low <= mc["metrics"]["measures"]["bad_debt_var_95"]["value"] <= high


def test_bad_debt_needs_exactly_one_scenario(compound_db: Path) -> None:
    code, out = run("bad-debt", "--snapshot", "1", "--db", str(compound_db))
    assert code == 2 and "exactly one" in out
    code, out = run("bad-debt", "--snapshot", "1", "--db", str(compound_db), "--shock", "ETH=-1%", "--paths", "3")
    assert code == 2
