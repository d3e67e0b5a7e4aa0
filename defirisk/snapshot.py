"""Take a snapshot of any deployment: the protocol-neutral orchestrator over the family adapters.

``take_snapshot`` runs, at one pinned block (number and hash recorded):

1. pin the block (``--block`` or head − ``reorg_lag``) and check the node's chain id (``WrongChain``);
2. discover the market from the deployment's root contract (``NotTheProtocol``);
3. find the accounts: the caller's list, or the family's events scanned from the stored discovery
   cursor + 1 (the deployment's ``start_block`` the first time) to the pinned block; the accounts found
   and the new cursor are stored together, so the next snapshot scans only newer blocks;
4. read every account at the block and build the canonical ``MarketState``;
5. reconcile our reference maths with the protocol's own per-account view; a mismatch raises
   ``ReconciliationError`` and nothing is written, unless ``verify=False``;
   assets the oracle prices at zero are named in the snapshot's note (``flag_unpriced``);
6. check the pinned block still has its hash (``ReorgDetected``), then write the snapshot atomically.

The database is opened after step 2, so a dead node, a wrong chain or a foreign contract leaves it
untouched. On ``ReorgDetected`` the discovery cursor is put back where the run found it: blocks it
scanned may have been replaced, and the next snapshot scans them again.

Progress is reported as ``on_progress(stage, done, total)`` with the stages ``market``,
``discovery`` (blocks), ``accounts`` and ``positions`` (accounts), ``reconcile`` and ``write``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, Literal

from defirisk.adapters.base import Adapter, Progress, Reconciliation, get_adapter
from defirisk.addresses import normalize_address
from defirisk.chain import PinnedBlock, RpcClient, pin_block, scan_logs, verify_still_canonical
from defirisk.deployments import Deployment, load_deployment
from defirisk.errors import InvalidAddress, InvalidParameter, ReconciliationError, ReorgDetected
from defirisk.model import MarketState
from defirisk.store import Store

#: Blocks kept behind the head by default: a block this deep is unlikely to be replaced.
DEFAULT_REORG_LAG = 5
#: Sub-calls per Multicall3 ``aggregate3``.
DEFAULT_BATCH_SIZE = 100
#: ``eth_getLogs`` ranges: the first chunk, and how far a chunk may grow while the node accepts it.
LOG_CHUNK = 2_000
LOG_MAX_CHUNK = 50_000
#: Blocks scanned between two saves of the discovery cursor.
DISCOVERY_WINDOW = 250_000


@dataclass(frozen=True)
class DiscoveryResult:
    """How the accounts were found: ``source`` is ``"events"`` or ``"file"``.

    For events: the blocks scanned (``None`` when the cursor was already past the pinned block),
    the ``eth_getLogs`` HTTP requests made, the accounts new to the store, and the cursor after.
    """

    source: str
    from_block: int | None = None
    to_block: int | None = None
    log_requests: int = 0
    new_accounts: int = 0
    cursor: int | None = None


@dataclass(frozen=True)
class SnapshotSummary:
    """What a snapshot stored; ``to_dict`` is its JSON form (``id`` is the snapshot id).

    ``accounts``: accounts stored (those holding something); ``accounts_read``: accounts asked about.
    ``reconciliation``: ``checked`` accounts and ``mismatches`` found (``verified`` when none).
    ``unpriced``: assets the protocol's oracle prices at zero (or less, or not at all), which count
    for nothing, as in the protocol's own health factors.
    ``requests``: HTTP requests to the node by stage (``market``, ``discovery``, ``read`` and within it
    the adapter's own passes, e.g. ``accounts`` and ``positions``, ``verify``) and ``total``.
    """

    snapshot_id: int
    deployment: str
    family: str
    chain_id: int
    block_number: int
    block_hash: str
    block_timestamp: int
    market: str
    accounts: int
    accounts_read: int
    reserves: int
    positions: int
    reconciliation: dict[str, Any]
    discovery: DiscoveryResult
    requests: dict[str, int] = field(default_factory=dict)
    db_path: str = ""
    unpriced: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {"id": data.pop("snapshot_id"), **data}


def read_accounts_file(path: str | Path) -> list[str]:
    """Accounts listed in a text file: one address per line; blank lines and ``#`` comments skipped.

    Returns distinct lower-case addresses, sorted. ``InvalidParameter`` if the file cannot be read,
    ``InvalidAddress`` (naming the line) for a malformed address.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameter(f"cannot read the accounts file {path}: {exc}") from None
    found: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        try:
            found.add(normalize_address(entry))
        except InvalidAddress as exc:
            raise InvalidAddress(f"{path}, line {number}: {exc}") from None
    return sorted(found)


class _Requests:
    """HTTP requests per stage, from the client's running count."""

    def __init__(self, client: RpcClient) -> None:
        self._client = client
        self._mark = client.http_requests
        self.by_stage: dict[str, int] = {}

    def stage(self, name: str) -> None:
        now = self._client.http_requests
        self.by_stage[name] = self.by_stage.get(name, 0) + now - self._mark
        self._mark = now


def _discover(
    client: RpcClient,
    store: Store,
    adapter: Adapter,
    deployment: Deployment,
    market: Any,
    pinned: PinnedBlock,
    on_progress: Progress | None,
) -> tuple[list[str], DiscoveryResult]:
    """Scan the blocks after the cursor up to the pinned block, storing what is found as it goes.

    The range is scanned in windows of ``DISCOVERY_WINDOW`` blocks; after each, the accounts found and
    the cursor are stored together (once the pinned block is seen to still be canonical), so a long
    first scan that is interrupted resumes where it stopped.
    """
    cursor = store.get_cursor(deployment.name, pinned.chain_id)
    start = deployment.start_block if cursor is None else cursor + 1
    key = adapter.market_key(market)
    if start > pinned.number:
        accounts = store.discovered_accounts(deployment.name, pinned.chain_id, market=key)
        return accounts, DiscoveryResult("events", cursor=cursor)
    wanted = adapter.event_filter(market)
    total = pinned.number - start + 1
    log_requests = added = 0
    window_start = start
    while window_start <= pinned.number:
        window_end = min(pinned.number, window_start + DISCOVERY_WINDOW - 1)
        before = client.http_requests
        logs = scan_logs(
            client, window_start, window_end, address=list(wanted.addresses), topics=[list(wanted.topics)],
            chunk=LOG_CHUNK, max_chunk=LOG_MAX_CHUNK,
            on_progress=partial(_scan_progress, on_progress, window_start - start, total),
        )
        found = adapter.accounts_in_logs(market, logs)
        log_requests += client.http_requests - before
        # Logs of a block that was since replaced must not move the cursor.
        verify_still_canonical(client, pinned)
        rows = [(key, account, block) for account, block in sorted(found.items())]
        added += store.add_discovered(deployment.name, pinned.chain_id, rows, window_end)
        window_start = window_end + 1
    accounts = store.discovered_accounts(deployment.name, pinned.chain_id, market=key)
    return accounts, DiscoveryResult("events", start, pinned.number, log_requests, added, pinned.number)


def _scan_progress(on_progress: Progress | None, offset: int, total: int, done: int, _window: int) -> None:
    if on_progress is not None:
        on_progress("discovery", offset + done, total)


def _mismatch_error(rec: Reconciliation, block: int) -> ReconciliationError:
    shown = "; ".join(
        f"{row.account} {row.field}: ours {row.ours}, chain {row.chain}"
        for row in rec.mismatches.head(3).itertuples(index=False)
    )
    accounts = rec.mismatches["account"].nunique()
    return ReconciliationError(
        f"{rec.mismatch_count} values of {accounts} accounts (of {rec.accounts_checked} checked) differ from "
        f"the protocol's own view at block {block}: {shown}. The snapshot was not written; "
        "verify=False (--no-verify) stores it with the mismatches recorded"
    )


def flag_unpriced(state: MarketState) -> tuple[MarketState, list[str]]:
    """``state`` with its note naming the assets whose price is not positive (a feed answering 0, or a
    fallback oracle doing so), and those assets' addresses. They are kept, valued at their price, as
    the protocol's own health factors value them: collateral worth nothing, debt owing nothing."""
    prices = state.assets["price"].astype(float)
    unpriced = sorted(state.assets.loc[~(prices > 0), "asset"])
    if not unpriced:
        return state, []
    flag = f"oracle price not positive for {', '.join(unpriced)}: valued at 0, as the protocol does"
    note = "; ".join(filter(None, [state.meta.note, flag]))
    return replace(state, meta=replace(state.meta, note=note)), unpriced


@contextmanager
def _rewind_cursor_on_reorg(store: Store, dep: Deployment, pinned: PinnedBlock, discovering: bool) -> Iterator[None]:
    """On ``ReorgDetected``, put the discovery cursor back where this run found it: blocks it scanned
    may since have been replaced, and accounts first seen in their replacements must be found next time."""
    cursor = store.get_cursor(dep.name, pinned.chain_id) if discovering else None
    try:
        yield
    except ReorgDetected:
        if discovering:
            store.reset_cursor(dep.name, pinned.chain_id, cursor)
        raise


def take_snapshot(
    deployment: str | Deployment,
    rpc_url: str,
    *,
    block: int | Literal["latest"] | None = None,
    reorg_lag: int = DEFAULT_REORG_LAG,
    db_path: str | Path | None = None,
    accounts_file: str | Path | None = None,
    verify: bool = True,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Progress | None = None,
    accounts: Sequence[str] | None = None,
) -> SnapshotSummary:
    """Snapshot ``deployment`` (a name, a TOML path or a ``Deployment``) through ``rpc_url``.

    ``block``: the block to read, or ``"latest"`` for the head (default: the head minus ``reorg_lag``). ``db_path``: the database
    (default ``defirisk.store.default_db_path()``). ``accounts_file`` or ``accounts``: read these
    accounts instead of discovering them from events (the discovery cursor is then left alone).
    ``verify``: raise ``ReconciliationError`` on any mismatch instead of storing the snapshot.
    ``batch_size``: sub-calls per Multicall3 ``aggregate3``.
    """
    dep = deployment if isinstance(deployment, Deployment) else load_deployment(deployment)
    if batch_size < 1:
        raise InvalidParameter(f"batch_size must be at least 1, got {batch_size}")
    if accounts_file is not None and accounts is not None:
        raise InvalidParameter("give an accounts file or an account list, not both")
    listed = read_accounts_file(accounts_file) if accounts_file is not None else None
    if accounts is not None:
        listed = sorted({normalize_address(a) for a in accounts})
    adapter = get_adapter(dep.family)

    def report(stage: str, done: int, total: int) -> None:
        if on_progress is not None:
            on_progress(stage, done, total)

    with RpcClient(rpc_url) as client:
        requests = _Requests(client)
        pinned = pin_block(
            client, block, reorg_lag=reorg_lag, min_block=dep.start_block, expected_chain_id=dep.chain_id
        )
        market = adapter.load_market(client, dep, pinned, batch_size=batch_size)
        requests.stage("market")
        report("market", 1, 1)
        # Opened only now: a dead node, a wrong chain or a contract that is not the protocol leaves the
        # database untouched (not even created).
        with Store.open(db_path) as store, _rewind_cursor_on_reorg(store, dep, pinned, listed is None):
            if listed is None:
                account_list, discovery = _discover(client, store, adapter, dep, market, pinned, on_progress)
            else:
                account_list, discovery = listed, DiscoveryResult("file" if accounts_file is not None else "list")
            requests.stage("discovery")
            reading = adapter.read(client, dep, market, account_list, pinned, batch_size=batch_size, on_progress=on_progress)
            requests.stage("read")
            rec = adapter.reconcile(reading)
            report("reconcile", rec.accounts_checked, rec.accounts_checked)
            if verify and rec.mismatch_count:
                raise _mismatch_error(rec, pinned.number)
            verify_still_canonical(client, pinned)
            requests.stage("verify")
            stored = rec.as_dict(block_number=pinned.number, verify=verify)
            mismatches = rec.mismatches if rec.mismatch_count else None
            state, unpriced = flag_unpriced(reading.state)
            snapshot_id = store.write_snapshot(state, stored, mismatches)
            report("write", 1, 1)
            return SnapshotSummary(
                snapshot_id=snapshot_id,
                deployment=dep.name,
                family=dep.family,
                chain_id=pinned.chain_id,
                block_number=pinned.number,
                block_hash=pinned.hash,
                block_timestamp=pinned.timestamp,
                market=adapter.market_key(market),
                accounts=len(state.accounts),
                accounts_read=reading.accounts_read,
                reserves=len(state.assets),
                positions=len(state.positions),
                reconciliation={
                    "checked": rec.accounts_checked,
                    "mismatches": rec.mismatch_count,
                    "verified": rec.accounts_checked > 0 and rec.mismatch_count == 0,
                },
                discovery=discovery,
                requests={**requests.by_stage, **reading.requests, "total": client.http_requests},
                db_path=str(store.path),
                unpriced=unpriced,
            )
