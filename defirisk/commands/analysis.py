"""Analysis commands on one snapshot: ``stress``, ``curves`` and ``bad-debt``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from defirisk.cli import app
from defirisk.commands.common import (
    DbOption,
    JsonOption,
    QuietOption,
    RpcOption,
    SnapshotOption,
    emit_json,
    handles_errors,
)

DeploymentArgument = Annotated[
    str | None,
    typer.Argument(help="Deployment name or TOML path (omit with --snapshot)."),
]
BlockOption = Annotated[str | None, typer.Option("--block", help="Block to snapshot at (with an RPC URL).")]
ShockOption = Annotated[
    list[str] | None,
    typer.Option(
        "--shock",
        help="A scenario of price moves applied together, comma-separated: 'WETH=-30%' or "
        "'group:eth=-20%,USDC=-5%'. Repeat for several scenarios.",
    ),
]
EpisodeOption = Annotated[
    list[str] | None,
    typer.Option("--episode", help="A bundled stress episode (or a unique prefix, e.g. 2022-06). Repeatable."),
]
ScenarioFileOption = Annotated[
    Path | None, typer.Option("--scenario", help="A TOML scenario file (see data/scenarios/example.toml).")
]


def _scenarios(shocks: list[str] | None, episodes: list[str] | None, scenario_file: Path | None) -> tuple[list, dict]:
    """Scenario objects from the options, and the file's group/symbol overrides."""
    from defirisk.engine import EpisodeScenario, ShockScenario, load_scenario_file

    items: list[Any] = [ShockScenario.parse([s.strip() for s in text.split(",") if s.strip()]) for text in shocks or []]
    items += [EpisodeScenario(name) for name in episodes or []]
    overrides: dict[str, Any] = {}
    if scenario_file is not None:
        loaded = load_scenario_file(scenario_file)
        items += list(loaded.scenarios)
        overrides = {"groups": loaded.groups or None, "symbols": loaded.symbols or None}
    return items, overrides


def _all_episodes() -> list[Any]:
    from defirisk.engine import EpisodeScenario
    from defirisk.engine.history import load_history

    return [EpisodeScenario(name) for name in sorted(load_history().episodes)]


def _usd(value: Any) -> str:
    """Dollars for people; a missing or undefined value (no liquidation price) is a dash."""
    import math

    from defirisk.report.format import usd

    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return usd(value)


@app.command("stress")
@handles_errors
def stress_command(
    deployment: DeploymentArgument = None,
    snapshot: SnapshotOption = None,
    db: DbOption = None,
    rpc_url: RpcOption = None,
    block: BlockOption = None,
    shock: ShockOption = None,
    episode: EpisodeOption = None,
    scenario: ScenarioFileOption = None,
    top: Annotated[int, typer.Option("--top", min=0, help="At-risk accounts shown per scenario.")] = 10,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Health factors under price shocks: HF distribution, liquidatable debt and at-risk accounts.

    Without --shock/--episode/--scenario every bundled stress episode is replayed.
    """
    from defirisk.commands.selection import select_state
    from defirisk.engine import stress

    items, overrides = _scenarios(shock, episode, scenario)
    state = select_state(deployment, snapshot, db, rpc_url, block, quiet or as_json)
    result = stress(state, items or _all_episodes(), at_risk_limit=top, **overrides)
    if as_json:
        emit_json(result.to_dict())
        return
    from defirisk.output import print_table

    meta = result.meta
    typer.echo(
        f"{meta.get('deployment')} snapshot {meta.get('snapshot_id')} "
        f"({'offline, no block' if meta.get('block_number') is None else 'block ' + str(meta['block_number'])}): "
        f"{meta['units']} accounts, debt {_usd(meta['debt_usd'])}, collateral {_usd(meta['collateral_usd'])}, "
        f"liquidatable now {_usd(meta['debt_liquidatable_usd'])}"
    )
    print_table(
        "Scenarios (at each path's worst step)",
        ["scenario", "accounts HF<1", "debt HF<1", "newly liquidatable debt", "unmapped assets"],
        [
            [r.scenario, r.units_liquidatable, _usd(r.debt_liquidatable_usd), _usd(r.debt_newly_liquidatable_usd),
             r.unmapped_feeds]
            for r in result.summary.itertuples(index=False)
        ],
    )
    dist = result.distribution
    print_table(
        "Debt by health factor",
        ["bucket", *dist["scenario"].unique()],
        [
            [bucket, *(_usd(v) for v in dist[dist["bucket"] == bucket]["debt_usd"])]
            for bucket in dist["bucket"].unique()
        ],
    )
    if len(result.at_risk):
        print_table(
            "Largest liquidatable accounts",
            ["scenario", "account", "HF before", "HF after", "debt", "driver", "liquidation price"],
            [
                [r.scenario, r.account, r.hf_snapshot, r.hf_scenario, _usd(r.debt_usd), r.driver_symbol,
                 _usd(r.liquidation_price_usd)]
                for r in result.at_risk.itertuples(index=False)
            ],
        )
    if len(result.unmapped):
        print_table(
            "Assets the episodes could not price (held at snapshot prices)",
            ["scenario", "symbol", "reason", "collateral", "debt"],
            [[r.scenario, r.symbol, r.reason, _usd(r.collateral_usd), _usd(r.debt_usd)]
             for r in result.unmapped.itertuples(index=False)],
        )


_CURVE_POINTS = (-0.9, -0.7, -0.5, -0.3, -0.2, -0.1, 0.1, 0.2, 0.5, 1.0)


@app.command("curves")
@handles_errors
def curves_command(
    deployment: DeploymentArgument = None,
    snapshot: SnapshotOption = None,
    db: DbOption = None,
    rpc_url: RpcOption = None,
    block: BlockOption = None,
    asset: Annotated[
        list[str] | None, typer.Option("--asset", help="Asset symbol, address or group:NAME. Repeatable.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write every curve point to this CSV file.")] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Liquidation curves: debt that becomes liquidatable as one asset (or group) moves −90 % … +100 %."""
    from defirisk.commands.selection import select_state
    from defirisk.engine import curves

    state = select_state(deployment, snapshot, db, rpc_url, block, quiet or as_json)
    result = curves(state, targets=asset or None)
    if out is not None:
        _write_csv(result.curves, out)
    if as_json:
        emit_json(result.to_dict())
        return
    from defirisk.output import print_table

    frame = result.curves
    rows = []
    for target, group in frame.groupby("target", sort=False):
        by_move = dict(zip(group["move"].round(4), group["debt_usd"], strict=True))
        rows.append([target, *(_usd(by_move.get(round(m, 4))) for m in _CURVE_POINTS)])
    print_table(
        f"Liquidatable debt by price move (already liquidatable: {_usd(result.already['debt_liquidatable_usd'])})",
        ["asset or group", *(f"{m:+.0%}" for m in _CURVE_POINTS)],
        rows,
    )
    if out is not None:
        typer.echo(f"Wrote {len(frame)} curve points to {out}")


def _write_csv(frame: Any, out: Path) -> None:
    """CSV with untrusted text neutralised for spreadsheets, written atomically."""
    import pyarrow as pa

    from defirisk.report.tables import to_csv
    from defirisk.report.write import write_atomically

    write_atomically({out: to_csv(pa.Table.from_pandas(frame, preserve_index=False)).encode("utf-8")})


@app.command("bad-debt")
@handles_errors
def bad_debt_command(
    deployment: DeploymentArgument = None,
    snapshot: SnapshotOption = None,
    db: DbOption = None,
    rpc_url: RpcOption = None,
    block: BlockOption = None,
    shock: Annotated[
        str | None, typer.Option("--shock", help="Price moves applied at once, comma-separated ('WETH=-40%').")
    ] = None,
    episode: Annotated[str | None, typer.Option("--episode", help="Replay a bundled stress episode.")] = None,
    scenario: ScenarioFileOption = None,
    paths: Annotated[int | None, typer.Option("--paths", min=1, help="Monte Carlo price paths.")] = None,
    horizon: Annotated[str, typer.Option("--horizon", help="Monte Carlo horizon, e.g. 24h or 7d.")] = "24h",
    step: Annotated[str, typer.Option("--step", help="Monte Carlo step, e.g. 1h.")] = "1h",
    method: Annotated[str, typer.Option("--method", help="Monte Carlo method: bootstrap or student-t.")] = "bootstrap",
    seed: Annotated[int, typer.Option("--seed", help="Monte Carlo seed.")] = 0,
    gas_price: Annotated[float | None, typer.Option("--gas-price", min=0, help="Gas price in gwei.")] = None,
    mev_share: Annotated[
        float | None, typer.Option("--mev-share", min=0, max=1, help="Share paid to block builders (0..1).")
    ] = None,
    liquidity: Annotated[Path | None, typer.Option("--liquidity", help="Liquidity curves TOML file.")] = None,
    eth_price: Annotated[
        float | None,
        typer.Option("--eth-price", min=0, help="ETH price in USD for gas, when the snapshot has no WETH feed."),
    ] = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Bad debt and unliquidatable debt after rational liquidations and their cascade.

    Give one of --shock, --episode, --scenario (its first scenario) or --paths (Monte Carlo: VaR/ES).
    """
    from defirisk.commands.selection import select_state
    from defirisk.errors import InvalidParameter
    from defirisk.liquidation import default_economics, estimate_bad_debt

    chosen = [x for x in (shock, episode, scenario, paths) if x is not None]
    if len(chosen) != 1:
        raise InvalidParameter("give exactly one of --shock, --episode, --scenario or --paths")
    state = select_state(deployment, snapshot, db, rpc_url, block, quiet or as_json)
    if paths is not None:
        from defirisk.engine import exposures_of, simulate_paths

        what: Any = simulate_paths(
            exposures_of(state), n_paths=paths, horizon=horizon, step=step, method=method, seed=seed
        )
    elif shock is not None or episode is not None:
        what = _scenarios([shock] if shock else None, [episode] if episode else None, None)[0][0]
    else:
        what = _scenarios(None, None, scenario)[0][0]
    economics = default_economics().with_overrides(
        gas_price_gwei=gas_price, builder_share=mev_share, eth_price_usd=eth_price
    )
    result = estimate_bad_debt(state, what, economics=economics, liquidity=liquidity, seed=seed)
    document = result.to_dict()
    if as_json:
        emit_json(document)
        return
    _print_bad_debt(document)


def _print_bad_debt(document: dict[str, Any]) -> None:
    from defirisk.output import print_table

    metrics = document["metrics"]
    scenario = document["scenario"]
    typer.echo(f"Scenario: {scenario.get('name')} ({scenario.get('kind')})")
    print_table("Before any move", ["measure", "USD"], [[k, _usd(v)] for k, v in document["initial"].items()])
    rows = [
        [
            key,
            m["quantity"],
            "" if m["level"] is None else f"{m['level']:.0%}",
            _usd(m["value"]),
            "" if m["ci_low"] is None else f"{_usd(m['ci_low'])} – {_usd(m['ci_high'])}",
        ]
        for key, m in metrics["measures"].items()
    ]
    print_table(
        f"Risk measures (horizon {metrics['horizon']}, {metrics['n_paths']} paths, seed {metrics['seed']})",
        ["measure", "quantity", "level", "value", "bootstrap interval"],
        rows,
    )
    steps = document["per_step"]
    money = ["repaid", "seized", "liquidator_profit", "gas", "slippage", "bad_debt", "unliquidatable"]
    print_table(
        "Cascade by step (mean over paths; USD)",
        ["step", "calls", *money],
        [
            [t, f"{steps['calls'][t]:.1f}", *(_usd(steps[k][t]) for k in money)]
            for t in range(len(steps["calls"]))
        ],
    )
