"""Read accounts of a Comet at the pinned block, in two Multicall3 passes.

Pass 1 (``accounts``): ``userBasic``, ``borrowBalanceOf`` and ``balanceOf`` of every account; an account
with a zero principal and an empty collateral bitmap holds nothing and is dropped.

Pass 2 (``positions``): for each held account, ``collateralBalanceOf`` of every collateral its bitmap
marks (the bitmap is exactly the set of non-zero balances, and the only collaterals the protocol
counts), and the protocol's own checks ``isLiquidatable`` and ``isBorrowCollateralized``.

``borrowBalanceOf``, ``balanceOf`` and the two checks form the chain's view (``reconcile.VIEW_COLUMNS``)
that ``reconcile`` compares with our maths. Calls go out in groups of ``batch_size × client.max_batch``
sub-calls (one HTTP request each), with progress reported after each group.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from defirisk.adapters.comet import calls
from defirisk.adapters.comet.market import CometMarket
from defirisk.adapters.comet.reconcile import VIEW_COLUMNS
from defirisk.adapters.comet.structs import UserBasic
from defirisk.chain import Call, PinnedBlock, RpcClient
from defirisk.chain.multicall import multicall_with_progress

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Holding:
    """One account's raw state: ``userBasic`` and the balance of each held collateral (by asset address)."""

    account: str
    user: UserBasic
    collateral: dict[str, int]


@dataclass(frozen=True)
class AccountsRead:
    """The held accounts, the chain's view of each (``VIEW_COLUMNS``), the count holding nothing."""

    holdings: list[Holding]
    chain_view: pd.DataFrame
    empty: int
    requests: dict[str, int]


def read_accounts(
    client: RpcClient,
    market: CometMarket,
    accounts: Sequence[str],
    block: PinnedBlock,
    *,
    batch_size: int = 100,
    on_progress: Progress | None = None,
) -> AccountsRead:
    """Both passes for ``accounts`` (lower-case, distinct) of ``market``."""
    comet = market.comet
    start = client.http_requests
    first = multicall_with_progress(client, [c for a in accounts for c in calls.account_calls(comet, a)], block,
                        batch_size=batch_size, stage="accounts", on_progress=on_progress)
    middle = client.http_requests
    held: list[tuple[str, UserBasic, int, int]] = []
    for k, account in enumerate(accounts):
        user, borrowed, supplied = (r.value for r in first[3 * k : 3 * k + 3])
        if user.principal != 0 or user.assets_in != 0:
            held.append((account, user, borrowed, supplied))

    offsets = [market.view.held(user) for _, user, _, _ in held]
    batch: list[Call] = []
    for (account, _, _, _), mine in zip(held, offsets, strict=True):
        batch += calls.health_calls(comet, account)
        batch += [calls.collateral_balance_call(comet, account, market.assets[i].asset) for i in mine]
    second = multicall_with_progress(client, batch, block, batch_size=batch_size, stage="positions", on_progress=on_progress)

    holdings, rows, at = [], [], 0
    for (account, user, borrowed, supplied), mine in zip(held, offsets, strict=True):
        liquidatable, collateralized = second[at].value, second[at + 1].value
        balances = [r.value for r in second[at + 2 : at + 2 + len(mine)]]
        at += 2 + len(mine)
        holdings.append(Holding(account, user, {market.assets[i].asset: b for i, b in zip(mine, balances, strict=True)}))
        rows.append((comet, account, borrowed, supplied, liquidatable, collateralized))
    chain_view = pd.DataFrame(rows, columns=list(VIEW_COLUMNS), dtype=object)
    requests = {"accounts": middle - start, "positions": client.http_requests - middle}
    return AccountsRead(holdings, chain_view, len(accounts) - len(held), requests)
