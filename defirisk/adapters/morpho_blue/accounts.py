"""Read accounts of a Morpho Blue deployment at the pinned block, in two Multicall3 passes.

Pass 1 (``accounts``): ``position(id, user)`` for every (market, account) pair; pairs holding nothing
are dropped. Discovery names accounts, not the markets they used, so every account is read in every
tracked market: restrict the deployment's ``markets`` to keep large deployments cheap.

Pass 2 (``positions``): the protocol's own health check of each held position, the ``liquidate``
probe of ``calls.health_probe_call``. An idle market (no oracle) cannot price collateral and no
borrow can exist in it (``borrow`` asks the oracle); there the chain's view is the position read
itself (``borrow_shares == 0``, hence healthy).

Calls go out in groups of ``batch_size × client.max_batch`` sub-calls (one HTTP request each), with
progress reported after each group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from defirisk.adapters.morpho_blue import calls
from defirisk.adapters.morpho_blue.frames import Holding
from defirisk.adapters.morpho_blue.market import MorphoDeployment
from defirisk.chain import PinnedBlock, Result, RpcClient
from defirisk.chain.multicall import multicall_with_progress, revert_reason

Progress = Callable[[str, int, int], None]
CHAIN_VIEW_COLUMNS = ("market", "account", "healthy", "probe")


@dataclass(frozen=True)
class AccountsRead:
    """The held positions, the chain's view of each (``CHAIN_VIEW_COLUMNS``), the accounts holding nothing."""

    holdings: list[Holding]
    chain_view: pd.DataFrame
    empty: int
    requests: dict[str, int]


def describe_probe(result: Result) -> str:
    """What the probe answered, for the chain view: the revert reason, or that it succeeded."""
    if result.success:
        return "succeeded"
    return revert_reason(result.return_data)


def read_accounts(
    client: RpcClient,
    deployment: MorphoDeployment,
    accounts: Sequence[str],
    block: PinnedBlock,
    *,
    batch_size: int = 100,
    on_progress: Progress | None = None,
) -> AccountsRead:
    """Both passes for ``accounts`` (lower-case, distinct) in every market of ``deployment``."""
    start = client.http_requests
    pairs = [(m, a) for m in deployment.markets for a in accounts]
    first = multicall_with_progress(
        client, [calls.position_call(deployment.morpho, m.id, a) for m, a in pairs], block,
        batch_size=batch_size, stage="accounts", on_progress=on_progress,
    )
    middle = client.http_requests
    holdings = [h for h in (Holding(m, a, r.value) for (m, a), r in zip(pairs, first, strict=True))
                if h.holds_something]
    probed = [h for h in holdings if not h.market.params.is_idle]
    second = multicall_with_progress(
        client, [calls.health_probe_call(deployment.morpho, h.market.params, h.account) for h in probed], block,
        batch_size=batch_size, stage="positions", on_progress=on_progress,
    )
    answers: dict[tuple[str, str], tuple[bool, str]] = {
        (h.market.id, h.account): (calls.probe_says_healthy(r), describe_probe(r))
        for h, r in zip(probed, second, strict=True)
    }
    rows: list[tuple[Any, ...]] = []
    for h in holdings:
        healthy, probe = answers.get(
            (h.market.id, h.account), (h.position.borrow_shares == 0, "idle market: position read")
        )
        rows.append((h.market.id, h.account, healthy, probe))
    chain_view = pd.DataFrame(rows, columns=list(CHAIN_VIEW_COLUMNS), dtype=object)
    requests = {"accounts": middle - start, "positions": client.http_requests - middle}
    return AccountsRead(holdings, chain_view, len(accounts) - len({h.account for h in holdings}), requests)
