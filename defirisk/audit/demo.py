"""``defirisk demo``: the bundled real Compound v2 data, end to end, offline.

1. Import both bundled snapshots (``import_compound_v2_dataset``: ≈2023-05-09 at its own valuation,
   ≈2023-03-27 priced at the start of the USDC depeg) into one fresh store, ``<out>/demo.duckdb``, and
   read them back: the same store and canonical model as a live snapshot. Both are **offline
   snapshots without a block**; their dates are inferred (``data/compound_v2_2023/README.md``).
2. Cross-check that the engine's borrowing power per account reproduces the dataset's own collateral
   totals (``crosscheck_collateral``) on the May snapshot.
3. Audit the May snapshot (``build_audit``: ``DEMO_PATHS`` Monte Carlo paths, seed ``DEMO_SEED``).
4. Replay the March 2023 USDC depeg on the March snapshot (``replay.replay_usdc_depeg``).
5. Write ``report.md``, ``report.html`` and ``audit.json`` (the May audit, with the cross-check among
   its checks and the replay in its notes) and ``demo.json`` (everything above) into ``<out>``.

``DEMO_PATHS`` (1,000) keeps the whole demo near a minute on a 2-core machine; ``defirisk audit
--paths`` runs more.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defirisk.adapters.compound_v2.crosscheck import crosscheck_collateral
from defirisk.adapters.compound_v2.importer import import_compound_v2_dataset
from defirisk.audit.document import build_audit
from defirisk.audit.method import rerun_command
from defirisk.audit.replay import DEPEG_START, ReplayResult, replay_usdc_depeg
from defirisk.engine.results import plain
from defirisk.errors import OutputError
from defirisk.model import MarketState
from defirisk.report import render
from defirisk.report.write import write_atomically
from defirisk.store import Store

Progress = Callable[[str, int, int], None]
DEMO_PATHS = 1000
DEMO_SEED = 7
DATABASE = "demo.duckdb"
MAY, MARCH = "2023-05-09", "2023-03-27"


@dataclass(frozen=True)
class DemoResult:
    """What the demo computed and wrote (``to_dict``: JSON, without the audit document itself)."""

    out_dir: str
    database: str
    snapshots: list[dict[str, Any]]
    crosscheck: dict[str, Any]
    crosscheck_check: dict[str, Any]
    document: dict[str, Any]
    replay: ReplayResult
    files: list[str]
    paths: int
    seed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            "database": self.database,
            "snapshots": self.snapshots,
            "crosscheck": self.crosscheck,
            "crosscheck_check": self.crosscheck_check,
            "audit": {
                "snapshot_id": self.document["snapshot"]["snapshot_id"],
                "accounts": self.document["market"]["accounts"],
                "borrowers": self.document["market"]["borrowers"],
                "bad_debt": self.document["bad_debt"]["today"],
                "gates": self.document["gates"],
            },
            "replay": self.replay.to_dict(),
            "files": self.files,
            "paths": self.paths,
            "seed": self.seed,
        }


def crosscheck_summary(result: dict[str, Any]) -> dict[str, Any]:
    """The cross-check as one document check: how many accounts agree, and who the others are.

    ``ok`` when every account outside the two known groups (holders of a repriced market, accounts
    with a negative subgraph balance) agrees within the tolerance.
    """
    total, other = result["collateral"], result["collateral_other"]
    outside = total["accounts"] - total["within_tolerance"]
    other_outside = other["accounts"] - other["within_tolerance"]
    in_groups = total["accounts"] - other["accounts"]
    markets = "; ".join(
        f"{market}: subgraph {p['subgraph_price_eth']:.4f} ETH, engine {p['price_eth']:.4f} ETH"
        for market, p in sorted(result["repriced_markets"].items())
    )
    text = (
        f"{total['within_tolerance']:,} of {total['accounts']:,} accounts within {result['tolerance']:g} (relative). "
        f"Outside the two known groups {other['within_tolerance']:,} of {other['accounts']:,} agree "
        f"(largest relative error {other['max_rel_error']:.1e}). The {in_groups:,} accounts in them: "
        f"{result['accounts_repriced']:,} hold a market the subgraph prices stale ({markets or 'none'}), "
        f"{result['accounts_negative_balance']:,} have negative subgraph cToken balances (counted as no supply); "
        f"{outside - other_outside:,} of them differ by more than the tolerance."
    )
    return {
        "name": "engine borrowing power vs the dataset's collateral totals",
        "result": text,
        "ok": other["within_tolerance"] == other["accounts"],
    }


def _fresh_database(path: Path) -> None:
    """Remove a previous demo database: the demo rebuilds it on every run."""
    for stale in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def _store(store: Store, state: MarketState) -> tuple[MarketState, dict[str, Any]]:
    snapshot_id = store.write_snapshot(state)
    loaded = store.load_state(snapshot_id)
    return loaded, {
        "snapshot_id": snapshot_id,
        "deployment": loaded.meta.deployment,
        "accounts": len(loaded.accounts),
        "positions": len(loaded.positions),
        "offline": loaded.meta.offline,
        "block_number": loaded.meta.block_number,
        "price_time": loaded.meta.market_params.get("price_time"),
        "note": loaded.meta.note,
    }


def _replay_note(replay: ReplayResult) -> str:
    a = replay.attributable
    return (
        f"USDC depeg replay (demo): positions of {replay.deployment} under the hourly prices of {replay.start} to "
        f"{replay.end}: {replay.newly_liquidatable:,} accounts became liquidatable (debt "
        f"${replay.newly_liquidatable_debt_usd:,.0f} when they did); attributable to the depeg (replay minus prices "
        f"held at the start): ${a.debt_repaid_usd:,.0f} of debt liquidated at a cost to borrowers of "
        f"${a.cost_to_borrowers_usd:,.0f}, bad debt {a.bad_debt_end_usd:+,.0f} USD at the end. Not priced by the "
        f"hourly file: {', '.join(replay.unmapped) or 'none'}."
    )


def run_demo(
    out_dir: str | Path,
    *,
    paths: int = DEMO_PATHS,
    seed: int = DEMO_SEED,
    on_progress: Progress | None = None,
) -> DemoResult:
    """Run the demo into ``out_dir`` (created if missing); see the module docstring."""
    report = on_progress or (lambda stage, done, total: None)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the demo folder {out}: {exc.strerror or exc}") from exc
    database = out / DATABASE
    _fresh_database(database)
    report("import", 0, 2)
    with Store.open(database) as store:
        may, may_info = _store(store, import_compound_v2_dataset(MAY))
        report("import", 1, 2)
        march, march_info = _store(store, import_compound_v2_dataset(MARCH, price_time=DEPEG_START))
        report("import", 2, 2)
    crosscheck = crosscheck_collateral(may)
    check = crosscheck_summary(crosscheck)
    report("replay", 0, 1)
    replay = replay_usdc_depeg(march)
    report("replay", 1, 1)
    document = build_audit(
        may,
        paths=paths,
        seed=seed,
        checks=[check],
        notes=[_replay_note(replay)],
        command=rerun_command(["defirisk", "demo", "--out", str(out)]),
        on_progress=report,
    )
    files = [
        *render(document, "markdown", out / "report.md"),
        *render(document, "html", out / "report.html"),
        *render(document, "json", out / "audit.json"),
    ]
    result = DemoResult(
        out_dir=str(out),
        database=str(database),
        snapshots=[may_info, march_info],
        crosscheck=crosscheck,
        crosscheck_check=check,
        document=document,
        replay=replay,
        files=[str(f) for f in files] + [str(out / "demo.json")],
        paths=paths,
        seed=seed,
    )
    text = json.dumps(plain(result.to_dict()), indent=2, allow_nan=False) + "\n"
    write_atomically({out / "demo.json": text.encode("utf-8")})
    return result
