"""Reconciliation: our integer reference against ``Pool.getUserAccountData`` at the same block (pure).

For every account of the snapshot, ``AaveReference`` recomputes the six values of
``getUserAccountData`` from the stored positions and parameters; each must equal the chain's answer
to the wei. An account the chain answered for but the snapshot lacks (or the reverse) is a mismatch
of the field ``presence``.
"""

from __future__ import annotations

import pandas as pd

from defirisk.adapters.aave_v3.calls import ACCOUNT_DATA_FIELDS
from defirisk.adapters.aave_v3.reference import AaveReference
from defirisk.adapters.base import Reconciliation
from defirisk.model import MarketState

METHOD = "aave-v3 integer reference vs Pool.getUserAccountData at the snapshot block"


def reconcile(state: MarketState, chain_view: pd.DataFrame) -> Reconciliation:
    """Compare the reference with ``chain_view`` (columns market, account and the six fields, ints)."""
    ours = {(r[0], r[1]): r[2:] for r in AaveReference(state).all_accounts().itertuples(index=False)}
    chain = {(r[0], r[1]): r[2:] for r in chain_view.itertuples(index=False)}
    rows = []
    for key in sorted(ours.keys() | chain.keys()):
        market, account = key
        if key not in ours or key not in chain:
            rows.append((market, account, "presence", "stored" if key in ours else None,
                         "read" if key in chain else None))
            continue
        for field, mine, theirs in zip(ACCOUNT_DATA_FIELDS, ours[key], chain[key], strict=True):
            if int(mine) != int(theirs):
                rows.append((market, account, field, int(mine), int(theirs)))
    mismatches = pd.DataFrame(rows, columns=["market", "account", "field", "ours", "chain"], dtype=object)
    return Reconciliation(
        method=METHOD,
        accounts_checked=len(ours.keys() & chain.keys()),
        fields=ACCOUNT_DATA_FIELDS,
        mismatches=mismatches,
    )
