"""Commands that analyse a snapshot: ``audit``, ``report`` (with what-if proposals) and ``demo``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
    progress,
)
from defirisk.commands.selection import Loaded, load_snapshot, say

if TYPE_CHECKING:
    from defirisk.audit.demo import DemoResult

DeploymentArgument = Annotated[
    str | None,
    typer.Argument(help="Deployment name (see `defirisk protocols`), TOML path, or a stored deployment name."),
]
BlockOption = Annotated[
    str | None,
    typer.Option(
        "--block",
        help="With an RPC URL: the block to snapshot, or 'latest' (default: 5 blocks behind the head). "
        "Without one: the newest stored snapshot at or before it.",
    ),
]
PathsOption = Annotated[int, typer.Option("--paths", min=0, help="Monte Carlo price paths (0: none).")]
HorizonOption = Annotated[str, typer.Option("--horizon", help="Monte Carlo horizon and how long shocks are held (1h steps).")]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed of the Monte Carlo paths.")]
GasOption = Annotated[
    float | None, typer.Option("--gas-price", min=0, help="Gas price in gwei (default: median base fee of real liquidations).")
]
MevOption = Annotated[
    float | None,
    typer.Option("--mev-share", min=0, max=0.999999, help="Share of a liquidation's surplus paid to the block builder."),
]
EthPriceOption = Annotated[
    float | None, typer.Option("--eth-price", min=0, help="ETH price in USD for gas, when the snapshot has no WETH feed.")
]
LiquidityOption = Annotated[
    Path | None, typer.Option("--liquidity", help="Liquidity curves file (TOML; default: the bundled curves).")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="Proposed parameter, ASSET.param=VALUE (e.g. WETH.liquidation_threshold=78%). Repeatable."),
]
MaxChangeOption = Annotated[
    list[str] | None,
    typer.Option("--max-change", help="Risk-steward bound, param=VALUE (e.g. liquidation_threshold=2%, or none). Repeatable."),
]
FailOnOption = Annotated[
    list[str] | None,
    typer.Option("--fail-on", help="Exit with status 3 when METRIC OP NUMBER holds (e.g. bad_debt_usd>1e6). Repeatable."),
]


@dataclass
class Analysis:
    """The options every analysing command shares (kept to rebuild the rerun command)."""

    paths: int
    horizon: str
    seed: int
    gas_price: float | None
    mev_share: float | None
    eth_price: float | None
    liquidity: Path | None
    sets: list[str] = field(default_factory=list)
    max_changes: list[str] = field(default_factory=list)
    fail_on: list[str] = field(default_factory=list)

    def words(self) -> list[str]:
        words = ["--paths", str(self.paths), "--horizon", self.horizon, "--seed", str(self.seed)]
        for flag, value in (("--gas-price", self.gas_price), ("--mev-share", self.mev_share),
                            ("--eth-price", self.eth_price), ("--liquidity", self.liquidity)):
            if value is not None:
                words += [flag, str(value)]
        for flag, values in (("--set", self.sets), ("--max-change", self.max_changes), ("--fail-on", self.fail_on)):
            for value in values:
                words += [flag, value]
        return words


def analyse(loaded: Loaded, options: Analysis, command: list[str], quiet: bool) -> dict[str, Any]:
    """The audit document of the loaded snapshot under ``options`` (gates recorded, not raised)."""
    from defirisk.audit import build_audit, parse_gates, parse_proposal
    from defirisk.audit.method import rerun_command
    from defirisk.liquidation import default_economics, load_liquidity

    gates = parse_gates(options.fail_on, monte_carlo=options.paths > 0, whatif=bool(options.sets))
    proposal = parse_proposal(loaded.state, options.sets, options.max_changes)
    economics = default_economics().with_overrides(
        gas_price_gwei=options.gas_price, builder_share=options.mev_share, eth_price_usd=options.eth_price
    )
    liquidity = load_liquidity(options.liquidity) if options.liquidity is not None else None
    with progress(quiet) as on_progress:
        return build_audit(
            loaded.state,
            paths=options.paths,
            horizon=options.horizon,
            seed=options.seed,
            economics=economics,
            liquidity=liquidity,
            whatif=proposal,
            gates=gates,
            checks=loaded.checks,
            command=rerun_command(["defirisk", *command, *loaded.selection, *options.words()]),
            on_progress=on_progress,
        )


def raise_held_gates(document: dict[str, Any]) -> None:
    """``GateFailed`` (exit 3) naming the gates that held; call after the output is printed."""
    from defirisk.audit import failed_gates
    from defirisk.errors import GateFailed

    held = failed_gates(document)
    if held:
        shown = ", ".join(f"{g['expr']} (value {g['value']!r})" for g in held)
        raise GateFailed(f"{len(held)} --fail-on gate(s) held: {shown}")


def print_audit(document: dict[str, Any]) -> None:
    from defirisk.audit.view import audit_tables
    from defirisk.output import print_table

    for title, headers, rows in audit_tables(document):
        print_table(title, headers, rows)
    for note in document["method"]["notes"]:
        typer.echo(f"note: {_safe(note)}")
    typer.echo(f"Rerun: {_safe(document['method']['command'])}")


def _safe(text: str) -> str:
    from defirisk.text import terminal_safe

    return terminal_safe(text, limit=2000)


@app.command("audit")
@handles_errors
def audit_command(
    deployment: DeploymentArgument = None,
    rpc_url: RpcOption = None,
    block: BlockOption = None,
    snapshot: SnapshotOption = None,
    db: DbOption = None,
    paths: PathsOption = 1000,
    horizon: HorizonOption = "24h",
    seed: SeedOption = 0,
    gas_price: GasOption = None,
    mev_share: MevOption = None,
    eth_price: EthPriceOption = None,
    liquidity: LiquidityOption = None,
    sets: SetOption = None,
    max_change: MaxChangeOption = None,
    fail_on: FailOnOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Audit a snapshot: market, health factors, liquidation curves, the standard stress set, bad debt,
    VaR/ES, accounts at risk, concentration.

    Takes a new snapshot of DEPLOYMENT through --rpc-url (or $ETH_RPC_URL); without an RPC URL uses the
    newest stored snapshot of DEPLOYMENT; --snapshot ID uses that stored one.

    Exit status: 0 ok, 1 a failure, 2 a usage error, 3 a --fail-on gate held (after printing the audit).
    """
    options = Analysis(paths, horizon, seed, gas_price, mev_share, eth_price, liquidity,
                       sets or [], max_change or [], fail_on or [])
    _precheck(options)
    loaded = load_snapshot(deployment, rpc_url, block, snapshot, db, quiet or as_json)
    document = analyse(loaded, options, ["audit"], quiet or as_json)
    if as_json:
        emit_json(document)
    else:
        print_audit(document)
    raise_held_gates(document)


def _precheck(options: Analysis) -> None:
    """Refuse malformed gates and bounds before any snapshot is read."""
    from defirisk.audit import parse_gates
    from defirisk.audit.proposal import parse_max_change

    parse_gates(options.fail_on, monte_carlo=options.paths > 0, whatif=bool(options.sets))
    parse_max_change(options.max_changes)


@app.command("report")
@handles_errors
def report_command(
    out: Annotated[Path, typer.Option("--out", help="File to write (a folder for csv and parquet).")],
    deployment: DeploymentArgument = None,
    fmt: Annotated[str, typer.Option("--format", help="markdown, html, json, csv or parquet.")] = "markdown",
    rpc_url: RpcOption = None,
    block: BlockOption = None,
    snapshot: SnapshotOption = None,
    db: DbOption = None,
    paths: PathsOption = 1000,
    horizon: HorizonOption = "24h",
    seed: SeedOption = 0,
    gas_price: GasOption = None,
    mev_share: MevOption = None,
    eth_price: EthPriceOption = None,
    liquidity: LiquidityOption = None,
    sets: SetOption = None,
    max_change: MaxChangeOption = None,
    fail_on: FailOnOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the audit document as JSON.")] = False,
    quiet: QuietOption = False,
) -> None:
    """Write a governance report of a snapshot: Markdown for forums, self-contained HTML, JSON, or CSV /
    Parquet tables. With --set, a proposal's before/after and the accounts it makes liquidatable.

    Snapshot selection as for `defirisk audit`. Exit status: 0 ok, 1 a failure, 2 a usage error, 3 a
    --fail-on gate held (after the report is written).
    """
    from defirisk.errors import InvalidParameter
    from defirisk.report import FORMATS, render

    if fmt not in FORMATS:
        raise InvalidParameter(f"--format must be one of {', '.join(FORMATS)}, got {fmt[:40]!r}")
    options = Analysis(paths, horizon, seed, gas_price, mev_share, eth_price, liquidity,
                       sets or [], max_change or [], fail_on or [])
    _precheck(options)
    loaded = load_snapshot(deployment, rpc_url, block, snapshot, db, quiet or as_json)
    document = analyse(loaded, options, ["report", "--format", fmt, "--out", str(out)], quiet or as_json)
    written = render(document, fmt, out)
    if as_json:
        emit_json(document)
    for path in written:
        if as_json:
            say(f"wrote {path}")
        else:
            typer.echo(f"wrote {_safe(str(path))}")
    raise_held_gates(document)


@app.command("demo")
@handles_errors
def demo_command(
    out: Annotated[Path, typer.Option("--out", help="Folder for the demo database and reports.")] = Path("demo-out"),
    paths: Annotated[
        int | None, typer.Option("--paths", min=1, help="Monte Carlo paths of the audit (default 1,000).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the demo's figures and the audit document as JSON.")
    ] = False,
    quiet: QuietOption = False,
) -> None:
    """Run the embedded real-data demo offline: import both bundled Compound v2 snapshots (29,369 real
    accounts), audit the May 2023 one, replay the March 2023 USDC depeg, and write report.md and
    report.html into --out."""
    from defirisk.audit.demo import run_demo

    started = time.monotonic()
    with progress(quiet or as_json) as on_progress:
        result = run_demo(out, on_progress=on_progress) if paths is None else run_demo(
            out, paths=paths, on_progress=on_progress
        )
    if as_json:
        emit_json({**result.to_dict(), "audit": result.document})
        return
    _print_demo(result, time.monotonic() - started)


def _print_demo(result: DemoResult, seconds: float) -> None:
    from defirisk.audit.demo_view import demo_output
    from defirisk.output import print_table

    for item in demo_output(result, seconds):
        if isinstance(item, str):
            typer.echo(_safe(item))
        else:
            print_table(*item)
