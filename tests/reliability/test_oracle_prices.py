"""Zero and negative oracle answers on the local chain: flagged or refused, never divided by.

Aave's ``AaveOracle.getAssetPrice`` asks the fallback oracle when a feed answers 0 or less; with no
fallback (the local market, like most) the call reverts, so the Pool itself cannot value an account
holding the asset. Decision: the snapshot then fails with one line naming the oracle call and the
asset, and writes nothing. With a fallback that answers 0, the Pool values the asset at 0; the
snapshot then stores it at 0 (as the Pool's health factors do), reconciles, names it in the note and
in ``unpriced``, and the analysis commands run on it without a division by zero.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from typer.testing import CliRunner

from defirisk.cli import app
from defirisk.store import Store
from tests.localchain.contracts import calldata
from tests.localchain.helpers import LocalAave
from tests.localchain.hostile import deploy_zero_price_oracle
from tests.localchain.tx import Transactor
from tests.reliability.conftest import CleanRun
from tests.reliability.figures import record

pytestmark = pytest.mark.chain

DEFIRISK = [sys.executable, "-c", "from defirisk.cli import main; main()"]
ANSWERS = (0, -1, -(10**8))


def _numbers(document: object) -> list[float]:
    if isinstance(document, dict):
        return [x for v in document.values() for x in _numbers(v)]
    if isinstance(document, list):
        return [x for v in document for x in _numbers(v)]
    return [float(document)] if isinstance(document, int | float) and not isinstance(document, bool) else []


def test_a_feed_answering_zero_or_less_without_fallback_fails_clearly(
    reverting_aave: LocalAave, clean: CleanRun, tmp_path: Path
) -> None:
    aave = reverting_aave
    crv = aave.reserves["CRV"].underlying.lower()
    lines = []
    for answer in ANSWERS:
        aave.set_price("CRV", answer / 10**8)
        aave.mine()
        db = tmp_path / f"p{answer}" / "db.duckdb"
        process = subprocess.run(
            [*DEFIRISK, "snapshot", str(clean.deployment), "--rpc-url", aave.rpc_url, "--db", str(db),
             "--reorg-lag", "0"], capture_output=True, text=True, timeout=120,
        )
        assert process.returncode == 1 and process.stdout == "" and "Traceback" not in process.stderr
        (line,) = process.stderr.splitlines()
        assert f"AaveOracle.getAssetPrice({crv})" in line and "reverted" in line, line
        assert not db.parent.exists()
        lines.append(line)
    record(
        "bad_input_3_oracle_no_price",
        area="Bad input",
        attack="oracle feed answering 0 or a negative price (MockAggregator storage set on the local chain), "
        "no fallback oracle: AaveOracle.getAssetPrice reverts, as for the Pool itself",
        tried=f"{len(ANSWERS)} answers: {', '.join(map(str, ANSWERS))}",
        outcome=f"{len(lines)}/{len(ANSWERS)} exit 1 with one line naming the call and the asset "
        f"({lines[0].replace(crv, 'CRV')!r}); nothing written. Decision: refuse rather than guess a price",
    )


def test_a_zero_price_from_a_fallback_is_flagged_and_never_divided_by(
    reverting_aave: LocalAave, clean: CleanRun, tmp_path: Path
) -> None:
    aave = reverting_aave
    admin = aave.deployment.admin
    transactor = Transactor(aave.rpc)
    fallback = deploy_zero_price_oracle(transactor, admin)
    transactor.send([transactor.tx(admin, aave.oracle, calldata("AaveOracle", "setFallbackOracle", fallback),
                                   500_000)])
    crv = aave.reserves["CRV"].underlying.lower()
    aave.set_price("CRV", 0)
    aave.mine()
    db = tmp_path / "db.duckdb"
    runner = CliRunner()
    taken = runner.invoke(app, ["snapshot", str(clean.deployment), "--rpc-url", aave.rpc_url, "--db", str(db),
                                "--reorg-lag", "0", "--json"])
    assert taken.exit_code == 0, taken.output
    summary = json.loads(taken.stdout)
    assert summary["unpriced"] == [crv]
    assert summary["reconciliation"]["verified"], "the Pool values CRV at 0 too: every account must reconcile"
    with Store.open(db, read_only=True) as store:
        state = store.load_state(summary["id"])
    row = state.assets.set_index("asset").loc[crv]
    assert (int(row["price_raw"]), row["price"]) == (0, 0.0)
    assert crv in state.meta.note and "valued at 0" in state.meta.note
    holders = set(state.positions.loc[state.positions["asset"] == crv, "account"])
    assert holders

    runs = [
        ["stress", "--shock", "CRV=-50%", "--shock", "WETH=-30%"],
        ["curves", "--asset", "CRV", "--asset", "WETH"],
        ["audit", "--paths", "20", "--seed", "3", "--eth-price", "1800"],
    ]
    for argv in runs:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = runner.invoke(app, [*argv, "--snapshot", str(summary["id"]), "--db", str(db), "--json"])
        assert result.exit_code == 0 and result.exception is None, (argv, result.output)
        document = json.loads(result.stdout)
        assert all(math.isfinite(x) for x in _numbers(document)), argv
    record(
        "bad_input_4_oracle_zero_price",
        area="Bad input",
        attack="oracle price 0 from a fallback oracle (ZeroPriceOracle set as AaveOracle's fallback, CRV's "
        "feed at 0): the Pool values CRV at 0",
        tried=f"1 snapshot ({len(holders)} CRV holders), then {len(runs)} analysis runs (stress, curves, "
        "audit with bad debt and 20 Monte Carlo paths) with warnings as errors",
        outcome="snapshot stored and reconciled with the chain; CRV stored at price 0, named in `unpriced` and "
        f"the note; {len(runs)}/{len(runs)} analyses exit 0, no division warning, every JSON number finite",
    )
