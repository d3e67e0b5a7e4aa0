"""Commands for scheduled jobs: ``job run``, ``job check`` and ``history``."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from defirisk.cli import app
from defirisk.commands.common import DbOption, JsonOption, emit_json, handles_errors

if TYPE_CHECKING:
    from defirisk.jobs.runner import DeploymentRun, JobRun

job_app = typer.Typer(
    name="job",
    help="Scheduled snapshot jobs: run a job file once (from cron or a systemd timer), or check it.",
    no_args_is_help=True,
)
app.add_typer(job_app, name="job")

JobFileArgument = Annotated[Path, typer.Argument(help="Job file (TOML; format in cli/README.md).")]


def _json_line(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), allow_nan=False, default=str)


def _error_line(text: str) -> str:
    from defirisk.text import terminal_safe

    return terminal_safe(text, limit=400)


def _report_failure(record: DeploymentRun) -> None:
    if record.status == "failed":
        typer.echo(_error_line(f"Error: {record.deployment}: {record.error_type}: {record.error}"), err=True)


@job_app.command("run")
@handles_errors
def job_run_command(
    jobfile: JobFileArgument,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Wait up to SECONDS for another run of the job to finish.")
    ] = 0.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only alerts (and errors on stderr).")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON lines only: the alerts, then one line describing the run.")
    ] = False,
) -> None:
    """Run a job once: snapshot each deployment behind the tip, raise alerts, prune, and exit.

    Every alert is one JSON line on stdout (and in the job's alert file).

    Exit status: 0 ok (snapshotted or already up to date), 1 a deployment failed (the others still ran), 2 an invalid job file, 4 another run holds the job's lock.
    """
    from defirisk.jobs.jobfile import load_job
    from defirisk.jobs.runner import run_job

    job = load_job(jobfile)
    run = run_job(
        job,
        wait=wait,
        on_alert=lambda alert: typer.echo(alert.to_json_line()),
        on_deployment=_report_failure,
        on_wait=None if quiet else lambda message: typer.echo(_error_line(message), err=True),
    )
    if as_json:
        typer.echo(_json_line(run.to_dict()))
    elif not quiet:
        _print_run(run)
    if run.failed:
        raise typer.Exit(1)


def _print_run(run: JobRun) -> None:
    from defirisk.output import print_table

    rows = []
    for d in run.deployments:
        scanned = ""
        if d.discovery and d.discovery.get("from_block") is not None:
            scanned = f"{d.discovery['from_block']}–{d.discovery['to_block']} (+{d.discovery['new_accounts']})"
        note = d.error if d.status == "failed" else (f"pruned {len(d.pruned)}" if d.pruned else "")
        rows.append([d.deployment, d.status, _dash(d.block_number), _dash(d.snapshot_id), scanned, len(d.alerts), note])
    print_table(
        f"Job {run.job}",
        ["deployment", "status", "block", "snapshot", "blocks scanned (+accounts)", "alerts", "note"],
        rows,
    )


def _dash(value: object) -> object:
    return "-" if value is None else value


@job_app.command("check")
@handles_errors
def job_check_command(jobfile: JobFileArgument, as_json: JsonOption = False) -> None:
    """Validate a job file and show what it would do (environment variable names only, never values)."""
    from defirisk.jobs.jobfile import load_job
    from defirisk.output import print_table

    job = load_job(jobfile)
    document = job.to_dict()
    for entry in document["deployments"]:
        entry["rpc_env_set"] = bool(os.environ.get(entry["rpc_env"], "").strip())
    if as_json:
        emit_json(document)
        return
    print_table(
        f"Job {job.name}",
        ["", ""],
        [
            ["database", document["database"]],
            ["reorg lag", f"{job.reorg_lag} blocks"],
            ["cadence", _dash(job.cadence)],
            ["alert file", _dash(document["alert_file"])],
            ["keep last", _dash(job.retention.keep_last)],
            ["max age (days)", _dash(job.retention.max_age_days)],
        ],
    )
    print_table(
        "Deployments",
        ["deployment", "family", "chain", "rpc_env", "set here"],
        [[d["deployment"], d["family"], d["chain_id"], d["rpc_env"], "yes" if d["rpc_env_set"] else "no"]
         for d in document["deployments"]],
    )
    print_table(
        "Alerts",
        ["metric", "comparison", "threshold", "deployments"],
        [[a["metric"], a["comparison"], a["threshold"], ", ".join(a["deployments"]) or "all"]
         for a in document["alerts"]],
    )


@app.command("history")
@handles_errors
def history_command(
    deployment: Annotated[str, typer.Argument(help="Deployment name as stored (see `defirisk snapshots`) or TOML path.")],
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="Metric to show (repeatable; default: all). `--metric list` names them."),
    ] = None,
    last: Annotated[int | None, typer.Option("--last", min=1, help="Only the newest N snapshots.")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show metrics (accounts, debt, debt below HF 1, ...) across the stored snapshots of a deployment."""
    from defirisk.jobs.history import HISTORY_COLUMNS, metric_history
    from defirisk.jobs.metrics import METRICS
    from defirisk.output import print_table
    from defirisk.store import Store

    if metric == ["list"]:
        if as_json:
            emit_json(METRICS)
        else:
            print_table("Metrics", ["metric", "meaning"], [[k, v] for k, v in METRICS.items()])
        return
    name = deployment
    if deployment.endswith(".toml"):
        from defirisk.deployments import load_deployment

        name = load_deployment(deployment).name
    with Store.open(db, read_only=True) as store:
        frame = metric_history(store, name, metric or (), last)
    records = frame.to_dict(orient="records")
    names = list(frame.columns[len(HISTORY_COLUMNS) :])
    if as_json:
        emit_json({"deployment": name, "metrics": names, "snapshots": records})
        return
    headers = ["id", "block", "block time (UTC)", *names]
    rows = [
        [r["snapshot_id"], _dash(r["block_number"]), _when(r["block_timestamp"]), *(r[c] for c in names)]
        for r in records
    ]
    print_table(f"History of {name}", headers, rows)


def _when(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")
