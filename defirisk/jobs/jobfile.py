"""Job files: what a scheduled snapshot job does, as TOML, validated strictly.

A job file names a database, the deployments to snapshot and the alerts to raise. The schedule
itself lives in cron or a systemd timer (``cli/``); ``cadence`` only records it. Relative paths are
taken from the job file's folder, so a job behaves the same whatever directory cron starts it in.

.. code-block:: toml

    [job]
    name = "aave-watch"                 # letters, digits, '.', '_', '-'
    database = "defirisk.duckdb"        # the snapshot store (not ":memory:")
    reorg_lag = 12                      # blocks behind the tip (default 5)
    cadence = "*/15 * * * *"            # informational: the schedule cron/systemd runs it on
    alert_file = "alerts.jsonl"         # optional: alerts are appended here as JSON lines

    [job.retention]                     # optional; at least one key when present
    keep_last = 96                      # keep the newest N snapshots of each deployment
    max_age_days = 30                   # and/or delete snapshots stored longer ago than this

    [[deployments]]                     # one or more
    deployment = "aave-v3-ethereum"     # a bundled name, or a deployment TOML path
    rpc_env = "ETH_RPC_URL"             # the NAME of the environment variable holding the URL
    verify = true                       # optional: refuse snapshots that disagree with the chain
    batch_size = 500                    # optional: sub-calls per Multicall3 call

    [[alerts]]                          # zero or more; exactly one comparison each
    metric = "debt_hf_below_1_usd"      # a name from defirisk.jobs.metrics.METRICS
    change_above = 1e6                  # value now − value at the previous snapshot > 1e6
    deployments = ["aave-v3-ethereum"]  # optional: only these (default: every deployment)

    [[alerts]]
    metric = "accounts_hf_below_1"
    above = 10                          # the value went from ≤ 10 to > 10

Comparisons (``AlertRule.crossed``): ``above`` / ``below`` compare the value with the threshold and
fire when it crosses it (on the first snapshot of a deployment: when it is beyond it);
``change_above`` / ``change_below`` compare the change since the previous snapshot of the same
deployment (never on the first snapshot). The RPC URL never appears in a job file: it carries
credentials, so it stays in the environment (systemd ``EnvironmentFile``) and the file names the
variable.

Every problem raises ``InvalidParameter`` naming the file and the field (``[job] reorg_lag``,
``[[deployments]] #2 rpc_env``); an unknown deployment keeps its own ``UnknownDeployment`` or
``InvalidDeployment``. All are ``UsageError``.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from defirisk.deployments import Deployment, load_deployment
from defirisk.errors import InvalidDeployment, InvalidParameter, UnknownDeployment
from defirisk.jobs.metrics import METRICS
from defirisk.snapshot import DEFAULT_BATCH_SIZE, DEFAULT_REORG_LAG

#: Comparisons an alert may use; the ``change_`` ones compare consecutive snapshots.
COMPARISONS = ("above", "below", "change_above", "change_below")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_MAX_PATH = 4096
_MAX_NUMBER = 1e300
_JOB_KEYS = {"name", "database", "reorg_lag", "cadence", "alert_file", "retention"}
_RETENTION_KEYS = {"keep_last", "max_age_days"}
_DEPLOYMENT_KEYS = {"deployment", "rpc_env", "verify", "batch_size"}
_ALERT_KEYS = {"metric", "deployments", *COMPARISONS}


@dataclass(frozen=True)
class Retention:
    """Which snapshots a run keeps: the newest ``keep_last`` per deployment, and none stored more
    than ``max_age_days`` ago (the snapshot a run has just taken is always kept)."""

    keep_last: int | None = None
    max_age_days: float | None = None


@dataclass(frozen=True)
class JobDeployment:
    """One deployment a job snapshots, and the environment variable that holds its RPC URL."""

    deployment: Deployment
    rpc_env: str
    verify: bool = True
    batch_size: int = DEFAULT_BATCH_SIZE

    @property
    def name(self) -> str:
        return self.deployment.name


@dataclass(frozen=True)
class AlertRule:
    """``metric`` compared by ``comparison`` (one of ``COMPARISONS``) with ``threshold``.

    ``deployments``: the deployment names it applies to; empty means every deployment of the job.
    """

    metric: str
    comparison: str
    threshold: float
    deployments: tuple[str, ...] = ()

    def applies_to(self, deployment: str) -> bool:
        return not self.deployments or deployment in self.deployments

    def crossed(self, value: float, previous: float | None) -> bool:
        """Whether this rule fires for ``value`` now and ``previous`` at the previous snapshot.

        ``above``: ``value > t`` and not ``previous > t``; ``below``: ``value < t`` and not
        ``previous < t`` (no previous snapshot: the value alone decides). ``change_above``:
        ``value − previous > t``; ``change_below``: ``value − previous < t`` (never without a
        previous snapshot).
        """
        t = self.threshold
        if self.comparison == "above":
            return value > t and not (previous is not None and previous > t)
        if self.comparison == "below":
            return value < t and not (previous is not None and previous < t)
        if previous is None:
            return False
        change = value - previous
        return change > t if self.comparison == "change_above" else change < t


@dataclass(frozen=True)
class Job:
    """A validated job file (paths absolute)."""

    name: str
    path: Path
    database: Path
    deployments: tuple[JobDeployment, ...]
    reorg_lag: int = DEFAULT_REORG_LAG
    cadence: str | None = None
    alert_file: Path | None = None
    retention: Retention = field(default_factory=Retention)
    alerts: tuple[AlertRule, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The job as JSON-ready data (environment variable names only, never their values)."""
        return {
            "name": self.name,
            "path": str(self.path),
            "database": str(self.database),
            "reorg_lag": self.reorg_lag,
            "cadence": self.cadence,
            "alert_file": None if self.alert_file is None else str(self.alert_file),
            "retention": {"keep_last": self.retention.keep_last, "max_age_days": self.retention.max_age_days},
            "deployments": [
                {"deployment": d.name, "family": d.deployment.family, "chain_id": d.deployment.chain_id,
                 "rpc_env": d.rpc_env, "verify": d.verify, "batch_size": d.batch_size}
                for d in self.deployments
            ],
            "alerts": [
                {"metric": a.metric, "comparison": a.comparison, "threshold": a.threshold,
                 "deployments": list(a.deployments)}
                for a in self.alerts
            ],
        }


class _Fields:
    """Reads one TOML table, naming ``where`` (``[job]``, ``[[alerts]] #2``) in every error."""

    def __init__(self, source: Path, where: str, table: Any, known: set[str]) -> None:
        self.source = source
        self.where = where
        if not isinstance(table, dict):
            self.fail(f"must be a table, got {_shown(table)}")
        unknown = sorted(set(table) - known)
        if unknown:
            hint = difflib.get_close_matches(unknown[0], known, n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else f"; known keys: {', '.join(sorted(known))}"
            self.fail(f"unknown key {_shown(unknown[0])}{extra}")
        self.table: dict[str, Any] = table

    def fail(self, message: str, key: str | None = None) -> NoReturn:
        at = " ".join(part for part in (self.where, key) if part)
        raise InvalidParameter(f"{self.source}: {at} {message}" if at else f"{self.source}: {message}")

    def get(self, key: str, check: Callable[[Any], bool], wanted: str, default: Any = None,
            required: bool = False) -> Any:
        if key not in self.table:
            if required:
                self.fail("is required", key)
            return default
        value = self.table[key]
        if not check(value):
            self.fail(f"must be {wanted}, got {_shown(value)}", key)
        return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """A TOML int or float that is a finite float (TOML integers may be arbitrarily large)."""
    if _is_int(value):
        return abs(value) <= _MAX_NUMBER
    return isinstance(value, float) and math.isfinite(value)


def _is_path_text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_PATH and "\x00" not in value


def _path(fields: _Fields, key: str, value: str) -> Path:
    try:
        path = Path(value).expanduser() if value.startswith("~") else Path(value)
    except RuntimeError:
        fields.fail(f"names the home folder of an unknown user: {_shown(value)}", key)
    if not path.is_absolute():
        path = fields.source.parent / path
    if path.name == "":
        fields.fail(f"must name a file, got {_shown(value)}", key)
    return path


def _job_table(source: Path, data: Mapping[str, Any]) -> tuple[str, Path, int, str | None, Path | None, Retention]:
    f = _Fields(source, "[job]", data.get("job"), _JOB_KEYS)
    name = f.get("name", lambda v: isinstance(v, str) and bool(_NAME.fullmatch(v)),
                 "1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit)", required=True)
    database_text = f.get("database", _is_path_text, "a file path", required=True)
    if database_text.strip() == ":memory:":
        f.fail("must be a file: a job's snapshots have to outlive the run", "database")
    database = _path(f, "database", database_text)
    reorg_lag = f.get("reorg_lag", lambda v: _is_int(v) and 0 <= v <= 10_000,
                      "an integer from 0 to 10000 (blocks)", DEFAULT_REORG_LAG)
    cadence = f.get("cadence", lambda v: isinstance(v, str) and 0 < len(v) <= 200 and v.isprintable(),
                    "a printable string of at most 200 characters")
    alert_text = f.get("alert_file", _is_path_text, "a file path")
    alert_file = None if alert_text is None else _path(f, "alert_file", alert_text)
    if alert_file is not None and alert_file == database:
        f.fail("must not be the database file", "alert_file")
    retention = Retention()
    if "retention" in f.table:
        r = _Fields(source, "[job.retention]", f.table["retention"], _RETENTION_KEYS)
        if not r.table:
            r.fail("needs keep_last, max_age_days or both")
        retention = Retention(
            keep_last=r.get("keep_last", lambda v: _is_int(v) and 1 <= v <= 10**9, "an integer ≥ 1"),
            max_age_days=r.get("max_age_days", lambda v: _is_number(v) and 0 < v <= 36_500,
                               "a number of days from 0 (excluded) to 36500"),
        )
    return name, database, reorg_lag, cadence, alert_file, retention


def _deployment(source: Path, index: int, table: Any) -> JobDeployment:
    where = f"[[deployments]] #{index}"
    if isinstance(table, dict) and "rpc_url" in table:
        raise InvalidParameter(
            f"{source}: {where} must not hold rpc_url: put the URL in the environment and name the "
            "variable with rpc_env (e.g. rpc_env = \"ETH_RPC_URL\")"
        )
    f = _Fields(source, where, table, _DEPLOYMENT_KEYS)
    target = f.get("deployment", _is_path_text, "a deployment name or TOML path", required=True)
    rpc_env = f.get("rpc_env", lambda v: isinstance(v, str), "an environment variable name", required=True)
    if "://" in rpc_env:
        f.fail("names an environment variable (e.g. ETH_RPC_URL), never the URL itself", "rpc_env")
    if not _ENV_NAME.fullmatch(rpc_env):
        f.fail(f"must be an environment variable name (letters, digits, '_'), got {_shown(rpc_env)}", "rpc_env")
    looks_like_path = target.endswith(".toml") or "/" in target
    try:
        deployment = load_deployment(str(_path(f, "deployment", target)) if looks_like_path else target)
    except (UnknownDeployment, InvalidDeployment) as exc:
        raise type(exc)(f"{source}: {f.where} deployment: {exc}") from None
    except (OSError, ValueError) as exc:
        raise InvalidParameter(f"{source}: {f.where} deployment: cannot read {_shown(target)}: {exc}") from None
    return JobDeployment(
        deployment=deployment,
        rpc_env=rpc_env,
        verify=f.get("verify", lambda v: isinstance(v, bool), "true or false", True),
        batch_size=f.get("batch_size", lambda v: _is_int(v) and 1 <= v <= 10_000,
                         "an integer from 1 to 10000", DEFAULT_BATCH_SIZE),
    )


def _alert(source: Path, index: int, table: Any, deployments: set[str]) -> AlertRule:
    f = _Fields(source, f"[[alerts]] #{index}", table, _ALERT_KEYS)
    metric = f.get("metric", lambda v: isinstance(v, str), "a metric name", required=True)
    if metric not in METRICS:
        hint = difflib.get_close_matches(metric, METRICS, n=1)
        extra = f"did you mean {hint[0]!r}?" if hint else f"known: {', '.join(METRICS)}"
        f.fail(f"is not a known metric {_shown(metric)}; {extra}", "metric")
    given = [c for c in COMPARISONS if c in f.table]
    if len(given) != 1:
        f.fail(f"needs exactly one of {', '.join(COMPARISONS)}; got {', '.join(given) or 'none'}")
    comparison = given[0]
    threshold = f.get(comparison, _is_number, "a finite number")
    names = f.get("deployments", lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
                  "a list of deployment names", [])
    strangers = [n for n in names if n not in deployments]
    if strangers:
        f.fail(f"names {_shown(strangers[0])}, which is not a deployment of this job", "deployments")
    return AlertRule(metric, comparison, float(threshold), tuple(dict.fromkeys(names)))


def parse_job(data: Mapping[str, Any], source: Path) -> Job:
    """Validate parsed TOML ``data`` of the job file at ``source`` (relative paths resolve from its folder)."""
    source = Path(source).absolute()
    top = _Fields(source, "", data, {"job", "deployments", "alerts"})
    if "job" not in top.table:
        top.fail("is required", "[job]")
    name, database, reorg_lag, cadence, alert_file, retention = _job_table(source, top.table)
    tables = top.get("deployments", lambda v: isinstance(v, list) and len(v) > 0,
                     "one or more [[deployments]] tables", required=True)
    deployments = tuple(_deployment(source, i, t) for i, t in enumerate(tables, start=1))
    seen: set[str] = set()
    for i, d in enumerate(deployments, start=1):
        if d.name in seen:
            top.fail(f"lists deployment {d.name!r} twice (again as #{i})", "[[deployments]]")
        seen.add(d.name)
    alert_tables = top.get("alerts", lambda v: isinstance(v, list), "a list of [[alerts]] tables", [])
    alerts = tuple(_alert(source, i, t, seen) for i, t in enumerate(alert_tables, start=1))
    return Job(name, source, database, deployments, reorg_lag, cadence, alert_file, retention, alerts)


def parse_job_text(text: str, source: Path) -> Job:
    """Parse and validate job-file ``text`` (``source`` names it and anchors relative paths)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameter(f"{source}: not valid TOML: {exc}") from None
    return parse_job(data, source)


def load_job(path: str | Path) -> Job:
    """Read and validate the job file at ``path``."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameter(f"cannot read the job file {source}: {exc}") from None
    return parse_job_text(text, source)
