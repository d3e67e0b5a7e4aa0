"""``run_job``: one run of a job file, for cron or a systemd timer. Runs once and returns.

Under the job lock (``defirisk.jobs.lock``), for each deployment in the job's order:

1. read the RPC URL from the environment variable the job names (the URL is never logged);
2. pin the block ``reorg_lag`` blocks behind the tip; if the store already has a snapshot of this
   deployment, chain and block (``Store.find_snapshot``), the deployment is ``skipped``: a run is
   idempotent, and a chain that has not moved costs three RPC calls;
3. otherwise ``take_snapshot`` at exactly that block: account discovery resumes from the store's
   cursor, so only blocks after the last scan are read;
4. compute the metrics (``defirisk.jobs.metrics``) of the new snapshot and of the previous snapshot
   of the deployment (the newest at a lower block), and raise the alerts whose thresholds were
   crossed: each goes to ``on_alert`` and, when the job has an ``alert_file``, is appended there;
5. apply the retention rules (after ``skipped`` too: age-based retention moves with the clock).

A deployment that fails (any ``DefiriskError``: node down, wrong chain, reconciliation mismatch,
database held by another writer) is recorded as ``failed`` and the next one still runs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from defirisk.chain import RpcClient, pin_block
from defirisk.chain.rpc import check_url
from defirisk.errors import DefiriskError, SnapshotNotFound, UsageError
from defirisk.jobs.alerts import Alert, AlertFile, SnapshotRef, evaluate
from defirisk.jobs.jobfile import Job, JobDeployment
from defirisk.jobs.lock import job_lock
from defirisk.jobs.metrics import Metrics, snapshot_metrics
from defirisk.jobs.retention import apply_retention
from defirisk.snapshot import take_snapshot
from defirisk.store import Store

#: Outcomes of one deployment in a run.
TAKEN, SKIPPED, FAILED = "taken", "skipped", "failed"


@dataclass
class DeploymentRun:
    """What a run did for one deployment.

    ``status``: ``taken`` (a new snapshot), ``skipped`` (already stored at this block) or ``failed``
    (``error_type`` and one-line ``error``). ``discovery``: the blocks scanned and accounts found
    (``SnapshotSummary.discovery``) when a snapshot was taken. ``metrics``: of the new snapshot.
    """

    deployment: str
    rpc_env: str
    status: str = FAILED
    chain_id: int | None = None
    block_number: int | None = None
    snapshot_id: int | None = None
    previous_snapshot_id: int | None = None
    discovery: dict[str, Any] | None = None
    metrics: Metrics | None = None
    alerts: list[Alert] = field(default_factory=list)
    pruned: list[int] = field(default_factory=list)
    error_type: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["alerts"] = [a.to_dict() for a in self.alerts]
        return data


@dataclass
class JobRun:
    """One run of a job: when, and what happened to each deployment (in the job's order)."""

    job: str
    path: str
    database: str
    cadence: str | None
    started_at: str
    finished_at: str = ""
    deployments: list[DeploymentRun] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Whether any deployment failed."""
        return any(d.status == FAILED for d in self.deployments)

    @property
    def alerts(self) -> list[Alert]:
        return [a for d in self.deployments for a in d.alerts]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"type": "run", "job", ..., "ok", "deployments": [...]}``."""
        data = asdict(self)
        data["deployments"] = [d.to_dict() for d in self.deployments]
        return {"type": "run", **data, "ok": not self.failed}


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _rpc_url(entry: JobDeployment, environ: Mapping[str, str]) -> str:
    url = (environ.get(entry.rpc_env) or "").strip()
    if not url:
        raise UsageError(f"environment variable {entry.rpc_env} (rpc_env of {entry.name}) is not set")
    check_url(url)
    return url


def _previous_id(store: Store, deployment: str, block_number: int) -> int | None:
    try:
        return store.latest_snapshot_id(deployment, block_number - 1)
    except SnapshotNotFound:
        return None


def _ref(store: Store, snapshot_id: int) -> tuple[SnapshotRef, Metrics]:
    state = store.load_state(snapshot_id)
    ref = SnapshotRef(snapshot_id, state.meta.block_number, state.meta.timestamp)
    return ref, snapshot_metrics(state)


def _run_one(
    job: Job,
    entry: JobDeployment,
    record: DeploymentRun,
    environ: Mapping[str, str],
    on_alert: Callable[[Alert], None],
) -> None:
    dep = entry.deployment
    url = _rpc_url(entry, environ)
    with RpcClient(url) as client:
        pinned = pin_block(client, None, reorg_lag=job.reorg_lag, min_block=dep.start_block,
                           expected_chain_id=dep.chain_id)
    record.chain_id, record.block_number = pinned.chain_id, pinned.number
    with Store.open(job.database) as store:
        existing = store.find_snapshot(dep.name, pinned.chain_id, pinned.number)
        if existing is not None:
            record.status, record.snapshot_id = SKIPPED, existing
            record.pruned = apply_retention(store, dep.name, job.retention, existing, _utc_now())
            return
    summary = take_snapshot(
        dep, url, block=pinned.number, reorg_lag=job.reorg_lag, db_path=job.database,
        verify=entry.verify, batch_size=entry.batch_size,
    )
    record.status, record.snapshot_id = TAKEN, summary.snapshot_id
    record.discovery = asdict(summary.discovery)
    with Store.open(job.database) as store:
        current_ref, current = _ref(store, summary.snapshot_id)
        record.metrics = current
        previous_id = _previous_id(store, dep.name, pinned.number)
        previous_ref, previous = _ref(store, previous_id) if previous_id is not None else (None, None)
        record.previous_snapshot_id = previous_id
        record.alerts = evaluate(
            job.alerts, job=job.name, deployment=dep.name, chain_id=pinned.chain_id, current=current,
            current_ref=current_ref, previous=previous, previous_ref=previous_ref,
        )
        for alert in record.alerts:
            on_alert(alert)
        record.pruned = apply_retention(store, dep.name, job.retention, summary.snapshot_id, _utc_now())


def run_job(
    job: Job,
    *,
    wait: float = 0.0,
    environ: Mapping[str, str] | None = None,
    on_alert: Callable[[Alert], None] | None = None,
    on_deployment: Callable[[DeploymentRun], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> JobRun:
    """Run ``job`` once (see the module docstring) and return what happened.

    ``wait``: seconds to wait for another run's lock (``DatabaseLocked`` after that, before any
    work; ``on_wait(message)`` is told when the waiting starts). ``environ``: where the RPC URLs
    are read (default ``os.environ``). ``on_alert(alert)`` is called as each alert fires, after it
    was appended to the alert file; ``on_deployment(record)`` after each deployment, failed ones
    included. An alert file that cannot be opened raises ``InvalidParameter`` before any
    deployment runs.
    """
    env = os.environ if environ is None else environ
    run = JobRun(job.name, str(job.path), str(job.database), job.cadence, _utc_now().isoformat() + "Z")
    with job_lock(job.database, wait, on_wait):
        sink = AlertFile(job.alert_file) if job.alert_file is not None else None

        def emit(alert: Alert) -> None:
            if sink is not None:
                sink.append(alert)
            if on_alert is not None:
                on_alert(alert)

        try:
            for entry in job.deployments:
                record = DeploymentRun(entry.name, entry.rpc_env)
                try:
                    _run_one(job, entry, record, env, emit)
                except DefiriskError as exc:
                    text = str(exc).strip()
                    record.status = FAILED
                    record.error_type = type(exc).__name__
                    record.error = text.splitlines()[0] if text else type(exc).__name__
                run.deployments.append(record)
                if on_deployment is not None:
                    on_deployment(record)
        finally:
            if sink is not None:
                sink.close()
    run.finished_at = _utc_now().isoformat() + "Z"
    return run
