"""Which snapshot a read command works on: ``DEPLOYMENT`` or ``--snapshot ID``.

* ``--snapshot ID`` — that stored snapshot;
* ``DEPLOYMENT`` with an RPC URL (``--rpc-url`` or ``$ETH_RPC_URL``) — a new snapshot is taken and
  stored first;
* ``DEPLOYMENT`` without an RPC URL — the latest stored snapshot of that deployment (said on stderr).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import typer

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


def select_state(
    deployment: str | None,
    snapshot: int | None,
    db: Path | None,
    rpc_url: str | None,
    block: str | None,
    on_progress: Callable[[str, int, int], None],
    quiet: bool = False,
) -> MarketState:
    """The ``MarketState`` the command analyses (see the module docstring)."""
    from defirisk.store import Store

    if (deployment is None) == (snapshot is None):
        raise InvalidParameter("give either a DEPLOYMENT or --snapshot ID (not both)")
    if snapshot is not None:
        with Store.open(db, read_only=True) as store:
            return store.load_state(snapshot)
    from defirisk.deployments import load_deployment

    target = load_deployment(deployment)
    if rpc_url or os.environ.get("ETH_RPC_URL"):
        from defirisk.chain import resolve_rpc_url
        from defirisk.snapshot import take_snapshot

        summary = take_snapshot(
            target, resolve_rpc_url(rpc_url), block=parse_block(block), db_path=db, on_progress=on_progress
        )
        snapshot_id = summary.to_dict()["id"]
    else:
        if block is not None:
            raise InvalidParameter("--block needs an RPC URL (--rpc-url or $ETH_RPC_URL) to take a snapshot")
        with Store.open(db, read_only=True) as store:
            snapshot_id = store.latest_snapshot_id(target.name)
        if not quiet:
            typer.echo(f"No RPC URL given: using stored snapshot {snapshot_id} of {target.name}.", err=True)
    with Store.open(db, read_only=True) as store:
        return store.load_state(snapshot_id)
