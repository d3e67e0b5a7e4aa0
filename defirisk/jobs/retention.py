"""Retention: after a run, delete the snapshots of a deployment that the job no longer keeps.

Two rules, both applied when both are set: ``keep_last`` keeps the newest N snapshots (newest as in
``Store.prune``: highest block, snapshots without a block oldest, then highest id); ``max_age_days``
deletes snapshots *stored* (``created_at``, UTC) more than that many days before the run. The
snapshot the run has just taken or found is never deleted, whatever the rules say, so the next run
always has it to compare with.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from defirisk.jobs.jobfile import Retention
from defirisk.store import Store


def doomed(listing: pd.DataFrame, retention: Retention, now: datetime, keep: int) -> list[int]:
    """Ids of ``listing`` (``Store.list_snapshots`` rows of one deployment) that ``retention`` drops.

    ``now`` is naive UTC, as ``created_at`` is. Snapshot ``keep`` is never among them.
    """
    if listing.empty:
        return []
    newest_first = listing.assign(_no_block=listing["block_number"].isna()).sort_values(
        ["_no_block", "block_number", "snapshot_id"], ascending=[True, False, False]
    )
    drop = pd.Series(False, index=newest_first.index)
    if retention.keep_last is not None:
        drop.iloc[retention.keep_last :] = True
    if retention.max_age_days is not None:
        cutoff = now - timedelta(days=retention.max_age_days)
        drop |= pd.to_datetime(newest_first["created_at"]) < cutoff
    drop &= newest_first["snapshot_id"] != keep
    return sorted(int(i) for i in newest_first.loc[drop, "snapshot_id"])


def apply_retention(store: Store, deployment: str, retention: Retention, keep: int, now: datetime) -> list[int]:
    """Delete what ``retention`` drops of ``deployment`` (never ``keep``); return the ids deleted."""
    if retention.keep_last is None and retention.max_age_days is None:
        return []
    ids = doomed(store.list_snapshots(deployment), retention, now, keep)
    for snapshot_id in ids:
        store.delete_snapshot(snapshot_id)
    return ids
