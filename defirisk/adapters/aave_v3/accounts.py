"""Read accounts of an Aave v3 market at the pinned block, in two Multicall3 passes.

Pass 1, every account: ``getUserEMode``, ``getUserConfiguration``, ``getUserAccountData`` (the
protocol's own view, for the reconciliation). Accounts whose configuration bitmap is empty hold
nothing and are dropped here.

Pass 2, only for the reserves each bitmap marks: the aToken's ``scaledBalanceOf`` where the
collateral bit is on; the variable debt token's ``scaledBalanceOf`` and the stable debt token's
``balanceOf`` and ``principalBalanceOf`` where the borrowing bit is on. These are exactly what the
Pool's ``GenericLogic`` reads, and the balances are computed as it computes them, with the reserve's
normalized income and variable debt at the same block (RAY, ``rayMul`` half up)::

    collateral    = rayMul(aToken.scaledBalanceOf(user), getReserveNormalizedIncome(asset))
    variable_debt = rayMul(variableDebt.scaledBalanceOf(user), getReserveNormalizedVariableDebt(asset))
    stable_debt   = stableDebt.balanceOf(user)

For standard tokens these equal the tokens' own ``balanceOf`` (the tests check it against the data
provider); where a token's ``balanceOf`` differs (GHO's variable debt token subtracts its discount),
the Pool's figure is the one its health factor uses. Supplies not marked as collateral are not read:
they cannot change the account's health and the bitmap does not point at them.

From Pool revision 9 (v3.5, ``TokenMath``) on, the Pool rounds against the user: the collateral is
``rayMulFloor`` and the variable debt ``rayMulCeil`` (``revisions``); from revision 5 (v3.2) on there
is no stable debt to read.

Calls are grouped so that one ``multicall`` holds ``batch_size × client.max_batch`` sub-calls, which
the chain layer sends as one HTTP request; progress is reported after each group. Every sub-call is
required: a failure raises ``MulticallFailed`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from defirisk.adapters.aave_v3 import calls
from defirisk.adapters.aave_v3.config import borrowing_ids, collateral_ids, used_ids
from defirisk.adapters.aave_v3.frames import AccountRead, ReserveBalances
from defirisk.adapters.aave_v3.market import AaveMarket
from defirisk.adapters.aave_v3.revisions import ray_mul_ceil, ray_mul_floor, uses_token_math
from defirisk.chain import Call, PinnedBlock, RpcClient, multicall
from defirisk.errors import DataError
from defirisk.units import ray_mul

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AccountsRead:
    """Pass 1 and pass 2 results: the accounts holding something, and the chain's own view of them.

    ``chain_view`` has columns ``market, account`` and ``calls.ACCOUNT_DATA_FIELDS`` (Python ints).
    ``empty`` counts the accounts read whose configuration bitmap was empty. ``requests``: HTTP
    requests of pass 1 (``accounts``) and pass 2 (``positions``).
    """

    accounts: list[AccountRead]
    chain_view: pd.DataFrame
    empty: int
    requests: dict[str, int]


def run_grouped(
    client: RpcClient,
    items: Sequence[list[Call]],
    block: PinnedBlock,
    *,
    batch_size: int,
    stage: str,
    on_progress: Progress | None,
) -> list[list[Any]]:
    """Decoded values of each item's calls, multicalled in groups of about one HTTP request each."""
    capacity = max(1, batch_size * client.max_batch)
    out: list[list[Any]] = []
    start = 0
    while start < len(items):
        end, size = start, 0
        while end < len(items) and (end == start or size + len(items[end]) <= capacity):
            size += len(items[end])
            end += 1
        group = items[start:end]
        results = iter(multicall(client, [c for item in group for c in item], block, batch_size=batch_size))
        out.extend([next(results).value for _ in item] for item in group)
        start = end
        if on_progress is not None:
            on_progress(stage, start, len(items))
    return out


def _balance_calls(market: AaveMarket, account: str, config: int) -> list[Call]:
    reserves = market.reserve_by_id()
    out: list[Call] = []
    collateral, borrowing = set(collateral_ids(config)), set(borrowing_ids(config))
    for i in used_ids(config):
        if i not in reserves:
            raise DataError(f"{account}'s configuration marks reserve id {i}, which the Pool does not list")
        r = reserves[i]
        if i in collateral:
            out += calls.collateral_calls(r.a_token, account)
        if i in borrowing:
            out += calls.debt_calls(r.variable_debt_token, r.stable_debt_token, account)
    return out


def _balances(market: AaveMarket, config: int, values: list[int]) -> tuple[ReserveBalances, ...]:
    """Pair ``_balance_calls``' answers with their reserves (same walk over the bitmap)."""
    reserves = market.reserve_by_id()
    collateral, borrowing = set(collateral_ids(config)), set(borrowing_ids(config))
    supplied, owed = (ray_mul_floor, ray_mul_ceil) if uses_token_math(market.maths) else (ray_mul, ray_mul)
    it = iter(values)
    out = []
    for i in used_ids(config):
        r = reserves[i]
        fields: dict[str, int] = {}
        if i in collateral:
            scaled = next(it)
            fields["collateral"], fields["collateral_scaled"] = supplied(scaled, r.normalized_income), scaled
        if i in borrowing:
            scaled = next(it)
            stable, principal = (next(it), next(it)) if r.stable_debt_token is not None else (0, 0)
            fields["variable_debt"] = owed(scaled, r.normalized_debt)
            fields["variable_debt_scaled"] = scaled
            fields["stable_debt"], fields["stable_debt_principal"] = stable, principal
        out.append(ReserveBalances(r.asset, i in collateral, i in borrowing, **fields))
    return tuple(out)


def read_accounts(
    client: RpcClient,
    market: AaveMarket,
    accounts: Sequence[str],
    block: PinnedBlock,
    *,
    batch_size: int = 100,
    on_progress: Progress | None = None,
) -> AccountsRead:
    """Both passes for ``accounts`` (lower-case addresses, distinct) at ``block``."""
    start = client.http_requests
    first = run_grouped(
        client, [calls.account_calls(market.pool, a) for a in accounts], block,
        batch_size=batch_size, stage="accounts", on_progress=on_progress,
    )
    middle = client.http_requests
    holders = [(a, emode, config, data) for a, (emode, config, data) in zip(accounts, first, strict=True) if config]
    second = run_grouped(
        client, [_balance_calls(market, a, config) for a, _, config, _ in holders], block,
        batch_size=batch_size, stage="positions", on_progress=on_progress,
    )
    requests = {"accounts": middle - start, "positions": client.http_requests - middle}
    reads = [
        AccountRead(a, int(emode), int(config), _balances(market, config, values))
        for (a, emode, config, _), values in zip(holders, second, strict=True)
    ]
    chain_view = pd.DataFrame(
        [(market.key, a, *data) for a, _, _, data in holders],
        columns=["market", "account", *calls.ACCOUNT_DATA_FIELDS],
        dtype=object,
    )
    return AccountsRead(reads, chain_view, len(accounts) - len(holders), requests)
