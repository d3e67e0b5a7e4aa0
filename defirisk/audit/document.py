"""``build_audit``: one snapshot in, one audit document (``defirisk.audit/1``) out.

    from defirisk.audit import build_audit
    document = build_audit(state, paths=1000, seed=7)            # a dict; json.dumps works
    defirisk.report.render(document, "markdown", "audit.md")

Every figure is computed from the snapshot through its family (``defirisk.families.get_family``): the
engine's kernel for today's exposure, curves and the stress scenarios' worst points, the bad-debt
estimator (liquidator economics, liquidity, cascades) for bad debt, liquidations and the Monte Carlo
risk measures. What each section means is in the docstrings of ``sections``, ``estimates``,
``stress_set``, ``whatif`` and ``gates``; the document records its own method (sources, scenario
definitions, seeds, the command to rerun).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from defirisk import __version__
from defirisk.audit import estimates, method, sections
from defirisk.audit.calibration import choose_calibration
from defirisk.audit.estimates import EstimatorSetting
from defirisk.audit.feeds import MAJOR_COUNT, feed_labels, gas_economics, major_collaterals
from defirisk.audit.gates import Gate, evaluate_gates
from defirisk.audit.proposal import Proposal
from defirisk.audit.scope import borrowers_only, money_basis, unique_labels
from defirisk.audit.stress_set import SHOCK_MOVES, standard_stress_set
from defirisk.audit.whatif import whatif_section
from defirisk.engine import ExposureMatrix, exposures_of, simulate_paths
from defirisk.engine.episodes import parse_step
from defirisk.engine.history import load_history
from defirisk.engine.scenarios import ScenarioContext
from defirisk.engine.vocabulary import groups_with, symbol_map_with
from defirisk.errors import InvalidParameter, InvalidScenario
from defirisk.families import get_family
from defirisk.liquidation import Economics, Liquidity, default_economics, default_liquidity
from defirisk.model import MarketState
from defirisk.report.schema import SCHEMA_ID, validate

Progress = Callable[[str, int, int], None]
STEP = "1h"
MAX_PATHS = 1_000_000


@dataclass(frozen=True)
class StressSpec:
    """Which standard stress set: ``episodes`` (names; ``None`` = every bundled one), the shock
    ``moves`` and how many major collaterals they hit."""

    episodes: tuple[str, ...] | None = None
    moves: tuple[float, ...] = SHOCK_MOVES
    majors: int = MAJOR_COUNT


def _horizon_steps(horizon: str) -> int:
    try:
        return parse_step(horizon) // parse_step(STEP)
    except InvalidScenario as exc:
        raise InvalidParameter(f"--horizon: {exc}") from None


def build_audit(
    state: MarketState,
    *,
    stress_set: StressSpec | None = None,
    paths: int = 1000,
    horizon: str = "24h",
    seed: int = 0,
    economics: Economics | None = None,
    liquidity: Liquidity | None = None,
    whatif: Proposal | None = None,
    gates: Sequence[Gate] = (),
    checks: Sequence[dict[str, Any]] = (),
    notes: Sequence[str] = (),
    command: str | None = None,
    generated_at: str | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """The audit document of ``state`` (validated against the published schema).

    ``paths`` Monte Carlo paths over ``horizon`` in 1-hour steps from ``seed`` (0 = no Monte Carlo);
    shocks are held for ``horizon``. ``economics`` and ``liquidity`` default to the bundled ones.
    ``whatif`` adds the proposal's section, ``gates`` are evaluated and recorded (raising is the
    caller's: see ``failed_gates``), ``checks`` and ``notes`` are appended to the document's own.
    ``command`` reruns the audit (default: a ``defirisk audit --snapshot`` line).
    """
    if not isinstance(paths, int) or not 0 <= paths <= MAX_PATHS:
        raise InvalidParameter(f"--paths must be an integer between 0 and {MAX_PATHS:,}")
    spec = stress_set or StressSpec()
    report = on_progress or (lambda stage, done, total: None)
    horizon_steps = _horizon_steps(horizon)
    family = get_family(state.meta.family)
    checks = [*method.basic_checks(state), *checks]
    state, basis = money_basis(state)
    rules = family.liquidation_rules(state)
    x_all = exposures_of(state)
    matrix_all = ExposureMatrix.from_exposures(x_all)
    owing = borrowers_only(state)
    x = exposures_of(owing)
    matrix = ExposureMatrix.from_exposures(x)
    labels = feed_labels(x)
    economics = gas_economics(economics or default_economics(), x)
    liquidity = liquidity or default_liquidity()
    setting = EstimatorSetting(economics, liquidity, horizon_steps)
    history = load_history()
    groups = groups_with(None)
    context = ScenarioContext(x, groups, symbol_map_with(None), history)
    majors = major_collaterals(x, matrix, spec.majors)

    today, today_run = estimates.today_section(owing, x, setting)
    items, stress_notes = standard_stress_set(context, majors, horizon, spec.episodes, spec.moves)
    rows, runs = [], []
    for done, item in enumerate(items):
        report("stress scenarios", done, len(items))
        row, run = estimates.stress_row(item, owing, matrix, labels, setting)
        rows.append(row)
        runs.append(run)
    report("stress scenarios", len(items), len(items))

    risk = None
    mc_notes: list[str] = []
    if paths:
        report("monte carlo", 0, 1)
        calibration = choose_calibration(x, matrix, history)
        simulated = simulate_paths(
            x, n_paths=paths, horizon=horizon, step=STEP, seed=seed,
            episodes=calibration.episodes, symbols=calibration.symbols or None, history=history,
        )
        risk = estimates.risk_section(setting.run(owing, simulated), simulated)
        mc_notes.append(
            f"Monte Carlo paths resample joint hourly returns (demeaned) of the episodes {', '.join(calibration.episodes)}."
        )
        if calibration.left_out:
            mc_notes.append(
                f"No episode prices all held assets hourly together: {', '.join(calibration.left_out)} "
                f"({calibration.left_out_share:.1%} of held value) keep their snapshot price on every path."
            )
        report("monte carlo", 1, 1)

    asset_labels = unique_labels(state.assets["symbol"].astype(str), state.assets["asset"], state.assets["market"])
    document: dict[str, Any] = {
        "schema": SCHEMA_ID,
        "generated_at": generated_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tool": {"name": "defirisk", "version": __version__},
        "snapshot": method.snapshot_section(state, rules),
        "market": sections.market_section(state, x_all, matrix_all),
        "hf_distribution": sections.hf_section(matrix),
        "liquidation_curves": sections.curves_section(x, matrix, labels, majors, groups),
        "stress": rows,
        "bad_debt": {"today": today},
        "risk_metrics": risk,
        "cascade": estimates.cascade_section(rows, runs, owing, x, liquidity),
        "at_risk": sections.at_risk_section(x, matrix, labels),
        "concentration": sections.concentration_section(matrix_all),
        "whatif": whatif_section(owing, whatif, today_run, setting, asset_labels) if whatif else None,
        "checks": checks,
        "method": {
            "command": command or method.rerun_command(_default_command(state, paths, horizon, seed)),
            "sources": method.sources(state, economics, liquidity),
            "scenarios": [{"name": r["name"], "definition": r["description"]} for r in rows],
            "seeds": {"monte_carlo": seed, "bootstrap": setting.bootstrap_seed} if paths else {},
            "notes": [
                *([basis.caveat] if basis.caveat else []),
                *_method_notes(x_all.n_units, x.n_units, [m.label for m in majors], horizon),
                *stress_notes,
                *mc_notes,
                *notes,
            ],
        },
        "gates": [],
    }
    document["gates"] = evaluate_gates(document, gates)
    validate(document)
    return document


def _default_command(state: MarketState, paths: int, horizon: str, seed: int) -> list[str]:
    words = ["defirisk", "audit"]
    if state.meta.snapshot_id is not None:
        words += ["--snapshot", str(state.meta.snapshot_id)]
    else:
        words.append(state.meta.deployment)
    return [*words, "--paths", str(paths), "--horizon", horizon, "--seed", str(seed), "--json"]


def _method_notes(accounts: int, borrowers: int, majors: Sequence[str], horizon: str) -> list[str]:
    return [
        f"Liquidation and bad-debt figures are computed on the {borrowers:,} accounts with debt (of {accounts:,}); "
        "an account without debt can neither be liquidated nor leave bad debt.",
        f"Major collaterals (shocked −10/−20/−30/−50 % and given liquidation curves): {', '.join(majors) or 'none'}, "
        "the largest feeds by collateral that counts, at most four, each at least 1 % of it.",
        "Liquidatable: at the scenario's worst point, before liquidations. Liquidated: debt repaid by the simulated "
        "liquidations (liquidator economics, liquidity curves, cascades). Bad debt and unliquidatable debt: at the "
        f"scenario's end (shocks held {horizon}). Liquidation cost: collateral seized minus debt repaid.",
    ]


def failed_gates(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's gates that held."""
    return [g for g in document["gates"] if g["failed"]]
