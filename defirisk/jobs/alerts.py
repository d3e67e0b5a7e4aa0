"""Alerts: a metric crossing a job's threshold between consecutive snapshots of a deployment.

``evaluate`` is pure (rules and two sets of metrics in, alerts out). ``AlertFile`` appends each alert
as one JSON line (``Alert.to_json_line``) to the job's ``alert_file``, one ``write`` per line on a file
opened with ``O_APPEND``, so lines from runs that follow each other never interleave.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from defirisk.errors import InvalidParameter
from defirisk.jobs.jobfile import AlertRule
from defirisk.jobs.metrics import Metrics


@dataclass(frozen=True)
class SnapshotRef:
    """Which snapshot a set of metrics belongs to."""

    snapshot_id: int
    block_number: int | None
    block_timestamp: int | None


@dataclass(frozen=True)
class Alert:
    """One rule that fired. ``change`` is ``value − previous`` (``None`` without a previous snapshot).

    ``to_dict`` is the JSON form: ``{"type": "alert", "job", "deployment", "chain_id", "metric",
    "comparison", "threshold", "value", "previous", "change", "snapshot_id", "block_number",
    "block_timestamp", "previous_snapshot_id", "previous_block_number", "message"}``.
    """

    job: str
    deployment: str
    chain_id: int
    metric: str
    comparison: str
    threshold: float
    value: float
    previous: float | None
    change: float | None
    snapshot_id: int
    block_number: int | None
    block_timestamp: int | None
    previous_snapshot_id: int | None
    previous_block_number: int | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "alert", **asdict(self)}

    def to_json_line(self) -> str:
        """One line of JSON (no NaN or infinity: every metric is finite)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"


def _message(rule: AlertRule, deployment: str, value: float, previous: float | None) -> str:
    was = "" if previous is None else f" (was {_number(previous)})"
    if rule.comparison in ("above", "below"):
        return f"{deployment}: {rule.metric} = {_number(value)}{was}, {rule.comparison} {_number(rule.threshold)}"
    assert previous is not None
    change = value - previous
    verb = "rose" if change >= 0 else "fell"
    limit = "more than" if rule.comparison == "change_above" else "less than"
    return (
        f"{deployment}: {rule.metric} {verb} by {_number(abs(change))} to {_number(value)}{was}; "
        f"the alert is for a change of {limit} {_number(rule.threshold)}"
    )


def evaluate(
    rules: Sequence[AlertRule],
    *,
    job: str,
    deployment: str,
    chain_id: int,
    current: Metrics,
    current_ref: SnapshotRef,
    previous: Metrics | None,
    previous_ref: SnapshotRef | None,
) -> list[Alert]:
    """The alerts ``rules`` raise for ``deployment`` from ``previous`` to ``current`` metrics."""
    alerts = []
    for rule in rules:
        if not rule.applies_to(deployment):
            continue
        value = current[rule.metric]
        before = None if previous is None else previous[rule.metric]
        if not rule.crossed(value, before):
            continue
        alerts.append(
            Alert(
                job=job,
                deployment=deployment,
                chain_id=chain_id,
                metric=rule.metric,
                comparison=rule.comparison,
                threshold=rule.threshold,
                value=value,
                previous=before,
                change=None if before is None else value - before,
                snapshot_id=current_ref.snapshot_id,
                block_number=current_ref.block_number,
                block_timestamp=current_ref.block_timestamp,
                previous_snapshot_id=None if previous_ref is None else previous_ref.snapshot_id,
                previous_block_number=None if previous_ref is None else previous_ref.block_number,
                message=_message(rule, deployment, value, before),
            )
        )
    return alerts


class AlertFile:
    """The job's alert file, open for appending; ``InvalidParameter`` when it cannot be written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)
        except OSError as exc:
            raise InvalidParameter(f"cannot open the alert file {path} ([job] alert_file): {exc.strerror or exc}") from None

    def append(self, alert: Alert) -> None:
        """Append ``alert`` as one JSON line."""
        data = (alert.to_json_line() + "\n").encode("utf-8")
        try:
            written = os.write(self._fd, data)
        except OSError as exc:
            raise InvalidParameter(f"cannot write the alert file {self.path}: {exc.strerror or exc}") from None
        if written != len(data):
            raise InvalidParameter(f"cannot write the alert file {self.path}: short write (disk full?)")

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> AlertFile:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
