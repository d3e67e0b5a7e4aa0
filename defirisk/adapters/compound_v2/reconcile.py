"""Reconciliation: the integer reference against ``Comptroller.getAccountLiquidity`` (pure).

For every account of the snapshot, ``reference.CompoundV2Reference`` recomputes
``getHypotheticalAccountLiquidityInternal`` from the stored entered markets, cToken balances, borrow
balances, exchange rates, collateral factors and oracle prices with the Comptroller's Exp maths
(truncating), and ``account_liquidity`` adds what Venus's ``ComptrollerLens`` adds after the loop:
``sumBorrowPlusEffects += VAIController.getVAIRepayAmount(account)`` (0 elsewhere). The three values
``(error, liquidity, shortfall)`` must equal the chain's answer exactly. An account the chain answered
for but the snapshot lacks (or the reverse) is a mismatch of the field ``presence``.
"""

from __future__ import annotations

import pandas as pd

from defirisk.adapters.base import MISMATCH_COLUMNS, Reconciliation
from defirisk.adapters.compound_v2.calls import LIQUIDITY_FIELDS
from defirisk.adapters.compound_v2.reference import NO_ERROR, AccountLiquidity, CompoundV2Reference
from defirisk.model import MarketState

METHOD = "compound-v2 integer reference (Comptroller Exp maths, truncating) vs Comptroller.getAccountLiquidity"


def account_liquidity(reference: CompoundV2Reference, state: MarketState, market: str, account: str) -> AccountLiquidity:
    """``getAccountLiquidity`` of one account: the reference's sums plus the account's VAI debt
    (``accounts.extra["vai_repay_amount"]``, base currency · 1e18 at par)."""
    result = reference.account_liquidity(market, account)
    rows = state.accounts[(state.accounts["market"] == market) & (state.accounts["account"] == account)]
    vai = int((rows["extra"].iloc[0] or {}).get("vai_repay_amount", 0)) if len(rows) else 0
    if result.error != NO_ERROR or vai == 0:
        return result
    return _with_borrow(result, result.sum_borrow + vai)


def _with_borrow(result: AccountLiquidity, sum_borrow: int) -> AccountLiquidity:
    collateral = result.sum_collateral
    if collateral > sum_borrow:
        return AccountLiquidity(NO_ERROR, collateral - sum_borrow, 0, collateral, sum_borrow)
    return AccountLiquidity(NO_ERROR, 0, sum_borrow - collateral, collateral, sum_borrow)


def reference_liquidity(state: MarketState) -> pd.DataFrame:
    """Reference values for every account: ``market, account, error, liquidity, shortfall,
    sum_collateral, sum_borrow`` (ints; sums in base currency · 1e18), VAI included."""
    frame = CompoundV2Reference(state).all_accounts()
    vai = {(m, a): int((extra or {}).get("vai_repay_amount", 0))
           for m, a, extra in zip(state.accounts["market"], state.accounts["account"], state.accounts["extra"],
                                  strict=True)}
    rows = []
    for r in frame.itertuples(index=False):
        # The reference's frame lets pandas pick int64 where every value fits: back to exact ints.
        result = AccountLiquidity(*(int(v) for v in (r.error, r.liquidity, r.shortfall, r.sum_collateral,
                                                     r.sum_borrow)))
        owed = vai.get((r.market, r.account), 0)
        if result.error == NO_ERROR and owed:
            result = _with_borrow(result, result.sum_borrow + owed)
        rows.append((r.market, r.account, result.error, result.liquidity, result.shortfall,
                     result.sum_collateral, result.sum_borrow))
    return pd.DataFrame(rows, columns=list(frame.columns), dtype=object)


def reconcile(state: MarketState, chain_view: pd.DataFrame) -> Reconciliation:
    """Compare the reference with ``chain_view`` (columns market, account, error, liquidity, shortfall)."""
    ours = {(r[0], r[1]): r[2:5] for r in reference_liquidity(state).itertuples(index=False)}
    chain = {(r[0], r[1]): r[2:5] for r in chain_view.itertuples(index=False)}
    rows = []
    for key in sorted(ours.keys() | chain.keys()):
        market, account = key
        if key not in ours or key not in chain:
            rows.append((market, account, "presence", "stored" if key in ours else None,
                         "read" if key in chain else None))
            continue
        for name, mine, theirs in zip(LIQUIDITY_FIELDS, ours[key], chain[key], strict=True):
            if int(mine) != int(theirs):
                rows.append((market, account, name, int(mine), int(theirs)))
    return Reconciliation(
        method=METHOD,
        accounts_checked=len(ours.keys() & chain.keys()),
        fields=LIQUIDITY_FIELDS,
        mismatches=pd.DataFrame(rows, columns=list(MISMATCH_COLUMNS), dtype=object),
    )
