"""Which snapshot a read command works on: ``DEPLOYMENT`` or ``--snapshot ID``.

* ``--snapshot ID`` — that stored snapshot;
* ``DEPLOYMENT`` with an RPC URL (``--rpc-url`` or ``$ETH_RPC_URL``) — a new snapshot is taken and
  stored first;
* ``DEPLOYMENT`` without an RPC URL — the latest stored snapshot of that deployment (at or before
  ``--block``), said on stderr.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import typer

from defirisk.commands.common import progress
from defirisk.errors import InvalidParameter
from defirisk.model import MarketState


def parse_block(block: str | None) -> int | Literal["latest"] | None:
    """``--block``: a block number, ``latest`` (the head itself) or nothing (``None``: the head minus
    the reorg lag)."""
    if block is None or block == "latest":
        return block
    if not block.isdigit():
        raise InvalidParameter(f"--block must be a block number or 'latest', got {block!r}")
    return int(block)


@dataclass
class Loaded:
    """A snapshot to analyse, how to name it in a rerun command, and what the store knows of it."""

    state: MarketState
    selection: list[str]
    checks: list[dict[str, Any]]


def say(text: str) -> None:
    """One line on stderr, with untrusted text made inert."""
    from defirisk.text import terminal_safe

    typer.echo(terminal_safe(text, limit=400), err=True)


def _stored_name(deployment: str) -> str:
    """The deployment name a snapshot is stored under: a TOML file's ``name``, else the text itself."""
    if deployment.endswith(".toml") or Path(deployment).is_file():
        from defirisk.deployments import load_deployment

        return load_deployment(deployment).name
    return deployment


def _db_words(db: Path | None) -> list[str]:
    return ["--db", str(db)] if db is not None else []


def _reconciliation_check(record: dict[str, Any] | None, offline: bool) -> list[dict[str, Any]]:
    if record is None:
        if offline:
            return []
        return [{"name": "reconciled with the protocol's own view", "result": "not reconciled", "ok": False}]
    checked = int(record.get("accounts_checked", 0))
    mismatches = int(record.get("mismatches", 0))
    return [
        {
            "name": "reconciled with the protocol's own view",
            "result": f"{checked:,} accounts checked at the block, {mismatches:,} mismatching values",
            "ok": checked > 0 and mismatches == 0,
        }
    ]


def _load_stored(snapshot_id: int, db: Path | None) -> tuple[MarketState, list[dict[str, Any]]]:
    from defirisk.store import Store

    with Store.open(db, read_only=True) as store:
        state = store.load_state(snapshot_id)
        record = store.load_reconciliation(snapshot_id)
    return state, _reconciliation_check(record, bool(state.meta.offline))


def load_snapshot(
    deployment: str | None, rpc_url: str | None, block: str | None, snapshot: int | None, db: Path | None, quiet: bool
) -> Loaded:
    """The snapshot to analyse: ``--snapshot`` from the store; a deployment snapshotted through the RPC
    URL (``--rpc-url`` or ``$ETH_RPC_URL``); or, without one, the deployment's newest stored snapshot."""
    from defirisk.chain.rpc import ENV_VAR, resolve_rpc_url
    from defirisk.errors import InvalidParameter

    if (deployment is None) == (snapshot is None):
        raise InvalidParameter("give a DEPLOYMENT or --snapshot ID (one of them)")
    if snapshot is not None:
        state, checks = _load_stored(snapshot, db)
        return Loaded(state, ["--snapshot", str(snapshot), *_db_words(db)], checks)
    pinned = parse_block(block)
    url = (rpc_url or os.environ.get(ENV_VAR) or "").strip()
    if url:
        from defirisk.snapshot import take_snapshot

        with progress(quiet) as on_progress:
            summary = take_snapshot(deployment, resolve_rpc_url(url), block=pinned, db_path=db, on_progress=on_progress)
        state, checks = _load_stored(summary.snapshot_id, db)
        return Loaded(state, [deployment, "--block", str(summary.block_number), *_db_words(db)], checks)
    from defirisk.store import Store

    name = _stored_name(deployment)
    with Store.open(db, read_only=True) as store:
        snapshot_id = store.latest_snapshot_id(name, None if pinned == "latest" else pinned)
    state, checks = _load_stored(snapshot_id, db)
    where = "offline" if state.meta.block_number is None else f"block {state.meta.block_number}"
    say(f"No RPC URL (--rpc-url or ${ENV_VAR}): using stored snapshot {snapshot_id} of {name} ({where}).")
    return Loaded(state, ["--snapshot", str(snapshot_id), *_db_words(db)], checks)


def select_state(
    deployment: str | None, snapshot: int | None, db: Path | None, rpc_url: str | None, block: str | None, quiet: bool
) -> MarketState:
    """The ``MarketState`` a read command analyses (see the module docstring)."""
    return load_snapshot(deployment, rpc_url, block, snapshot, db, quiet).state
