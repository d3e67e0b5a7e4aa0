"""Metrics across the stored snapshots of a deployment (``defirisk history``).

Computed on the fly from each stored snapshot (``defirisk.jobs.metrics``), nothing is cached: a
snapshot of a few thousand accounts takes well under a second, fine for the tens of snapshots a
job's retention keeps.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import pandas as pd

from defirisk.errors import InvalidParameter, SnapshotNotFound
from defirisk.jobs.metrics import METRICS, snapshot_metrics
from defirisk.store import Store

#: Columns before the metrics in a history frame.
HISTORY_COLUMNS = ["snapshot_id", "block_number", "block_timestamp", "created_at"]


def check_metrics(names: Sequence[str]) -> list[str]:
    """``names`` (every metric when empty), in the order given, duplicates dropped.

    ``InvalidParameter`` naming the first unknown one, with the closest known name.
    """
    for name in names:
        if name not in METRICS:
            close = difflib.get_close_matches(name, METRICS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(METRICS)}"
            raise InvalidParameter(f"unknown metric {name!r}; {hint}")
    return list(dict.fromkeys(names)) if names else list(METRICS)


def metric_history(
    store: Store, deployment: str, metrics: Sequence[str] = (), last: int | None = None
) -> pd.DataFrame:
    """One row per complete snapshot of ``deployment`` (oldest first; only the ``last`` newest if
    given): ``HISTORY_COLUMNS`` then one column per metric in ``metrics`` (every metric when empty).

    ``SnapshotNotFound`` when the deployment has no snapshot.
    """
    names = check_metrics(metrics)
    if last is not None and (isinstance(last, bool) or not isinstance(last, int) or last < 1):
        raise InvalidParameter(f"last must be an integer ≥ 1, got {last!r}")
    listing = store.list_snapshots(deployment)
    if listing.empty:
        raise SnapshotNotFound(f"no snapshot of {deployment!r}")
    # Oldest first, as Store.prune counts age: snapshots without a block first, then by block and id.
    listing = listing.assign(_has_block=listing["block_number"].notna()).sort_values(
        ["_has_block", "block_number", "snapshot_id"]
    )
    if last is not None:
        listing = listing.tail(last)
    rows = []
    for row in listing.itertuples(index=False):
        values = snapshot_metrics(store.load_state(int(row.snapshot_id)))
        rows.append(
            [int(row.snapshot_id), _optional_int(row.block_number), _optional_int(row.block_timestamp),
             row.created_at, *(values[n] for n in names)]
        )
    frame = pd.DataFrame(rows, columns=[*HISTORY_COLUMNS, *names])
    # Offline snapshots have no block: keep the column integer instead of float with NaN.
    return frame.astype({"block_number": pd.Int64Dtype(), "block_timestamp": pd.Int64Dtype()})


def _optional_int(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)
