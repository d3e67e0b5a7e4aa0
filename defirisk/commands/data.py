"""Commands about deployments and stored snapshots: protocols, snapshot, snapshots, export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from defirisk.cli import app
from defirisk.commands.common import (
    DbOption,
    JsonOption,
    QuietOption,
    RpcOption,
    emit_json,
    handles_errors,
    progress,
)


@app.command("protocols")
@handles_errors
def protocols_command(as_json: JsonOption = False) -> None:
    """List the bundled protocol deployments (name, family, chain id, root contract)."""
    from defirisk.addresses import display_address
    from defirisk.deployments import bundled_deployments
    from defirisk.output import print_table

    deployments = bundled_deployments()
    if as_json:
        emit_json(
            [
                {
                    "name": d.name,
                    "family": d.family,
                    "chain_id": d.chain_id,
                    "label": d.label,
                    d.root_field: d.root,
                    "start_block": d.start_block,
                    "source": d.source,
                }
                for d in deployments
            ]
        )
        return
    print_table(
        "Bundled deployments",
        ["name", "family", "chain", "root contract", "start block"],
        [[d.name, d.family, d.chain_id, display_address(d.root), d.start_block] for d in deployments],
    )


@app.command("snapshot")
@handles_errors
def snapshot_command(
    deployment: Annotated[str, typer.Argument(help="Deployment name (see `defirisk protocols`) or TOML path.")],
    rpc_url: RpcOption = None,
    block: Annotated[
        str | None, typer.Option("--block", help="Block number to pin (default: latest minus --reorg-lag).")
    ] = None,
    reorg_lag: Annotated[int, typer.Option("--reorg-lag", min=0, help="Blocks behind the tip by default.")] = 5,
    db: DbOption = None,
    accounts: Annotated[
        Path | None, typer.Option("--accounts", help="File of account addresses (one per line) instead of discovery.")
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Store the snapshot even if reconciliation with the chain fails.")
    ] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Sub-calls per Multicall3 call.")] = 500,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Take a snapshot of a deployment at a pinned block and store it (reconciled with the chain)."""
    from defirisk.chain import resolve_rpc_url
    from defirisk.commands.selection import parse_block
    from defirisk.deployments import load_deployment
    from defirisk.snapshot import take_snapshot

    target = load_deployment(deployment)
    url = resolve_rpc_url(rpc_url)
    pinned = "latest" if block == "latest" else parse_block(block)
    with progress(quiet or as_json) as on_progress:
        summary = take_snapshot(
            target,
            url,
            block=pinned,
            reorg_lag=reorg_lag,
            db_path=db,
            accounts_file=accounts,
            verify=not no_verify,
            batch_size=batch_size,
            on_progress=on_progress,
        )
    document = summary.to_dict()
    if as_json:
        emit_json(document)
        return
    _print_summary(document)


def _print_summary(document: dict) -> None:
    from defirisk.output import print_table

    recon = document.get("reconciliation") or {}
    checked = recon.get("checked")
    rows = [
        ["snapshot id", document["id"]],
        ["deployment", document["deployment"]],
        ["chain id", document["chain_id"]],
        ["block", f"{document['block_number']} ({document['block_hash']})"],
        ["accounts stored", document["accounts"]],
        ["reserves", document["reserves"]],
        ["positions", document["positions"]],
        ["reconciled with the chain", "not verified (--no-verify)" if checked is None else f"{checked} accounts"],
        ["mismatches", recon.get("mismatches", "-")],
        ["HTTP requests", (document.get("requests") or {}).get("total", "-")],
    ]
    if document.get("unpriced"):
        rows.append(["oracle price 0 (valued at 0)", ", ".join(document["unpriced"])])
    print_table("Snapshot stored", ["", ""], rows)


@app.command("snapshots")
@handles_errors
def snapshots_command(
    deployment: Annotated[str | None, typer.Argument(help="Only this deployment.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the complete snapshots in the database."""
    from defirisk.output import print_table
    from defirisk.store import Store

    with Store.open(db, read_only=True) as store:
        frame = store.list_snapshots(deployment)
    records = frame.to_dict(orient="records")
    if as_json:
        emit_json(records)
        return
    print_table(
        "Snapshots",
        ["id", "deployment", "chain", "block", "accounts", "verified", "created"],
        [
            [r.get("snapshot_id"), r.get("deployment"), r.get("chain_id"), r.get("block_number"), r.get("accounts"),
             r.get("verified"), r.get("created_at")]
            for r in records
        ],
    )


@app.command("export")
@handles_errors
def export_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write one file per table into.")],
    snapshot: Annotated[int | None, typer.Option("--snapshot", help="Snapshot id (default: all).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write the snapshot tables out as Parquet or CSV files."""
    from defirisk.errors import InvalidParameter
    from defirisk.store import FORMATS, Store

    if fmt not in FORMATS:
        raise InvalidParameter(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    with Store.open(db, read_only=True) as store:
        written = store.export(snapshot, out, fmt)
    if as_json:
        emit_json([str(p) for p in written])
        return
    for path in written:
        typer.echo(str(path))
