"""The ``whatif`` section: the proposal applied to a copy of the snapshot, today's figures before and
after, and the accounts the change itself makes liquidatable.

*Before* and *after* are the estimator's figures at the snapshot's prices (``estimates.today_section``):
liquidatable debt and accounts under the family's rules, bad debt ``Σ max(D − C, 0)``. An account is
*newly liquidatable* when the rules let it be liquidated under the proposed parameters but not under
the current ones, everything else equal; it is listed with both health factors and its debt, largest
debt first. Caps and debt ceilings limit future supply and borrowing: they change none of today's
figures, and the section shows that as before = after.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from defirisk.audit.estimates import EstimatorSetting
from defirisk.audit.proposal import Proposal, apply_proposal, changes_table
from defirisk.engine.kernel import unit_values
from defirisk.families import get_family
from defirisk.liquidation import BadDebtResult
from defirisk.model import Exposures, MarketState


def _metrics(result: BadDebtResult) -> dict[str, Any]:
    return {
        "liquidatable_debt_usd": float(result.initial["liquidatable_debt"]),
        "bad_debt_usd": float(result.initial["bad_debt"]),
        "accounts_liquidatable": int(result.initial["liquidatable_units"]),
    }


def _liquidatable(state: MarketState) -> tuple[Exposures, np.ndarray, np.ndarray, np.ndarray]:
    """(exposures, HF (N,), liquidatable (N,), debt in USD (N,)) at the snapshot's prices."""
    family = get_family(state.meta.family)
    x = family.exposures(state)
    rules = family.liquidation_rules(state)
    v = unit_values(x, np.ones(x.n_feeds))
    hf = v.health_factor[:, 0]
    debt = v.debt[:, 0]
    return x, hf, rules.liquidatable(hf) & (debt > 0), debt * x.base_usd


def whatif_section(
    state: MarketState,
    proposal: Proposal,
    before: BadDebtResult,
    setting: EstimatorSetting,
    asset_labels: Sequence[str],
) -> dict[str, Any]:
    """The document's ``whatif`` for ``proposal`` on ``state`` (``before``: today's run on ``state``).

    The proposal changes parameters only, so both states have the same units in the same order.
    """
    proposed = apply_proposal(state, proposal)
    x, hf_before, was, debt = _liquidatable(state)
    _, hf_after, now, _ = _liquidatable(proposed)
    after = replace(setting, horizon_steps=1).run(proposed, np.ones(x.n_feeds))
    newly = np.flatnonzero(now & ~was)
    newly = newly[np.lexsort((newly, -debt[newly]))]
    return {
        "changes": changes_table(state, proposal, asset_labels),
        "before": _metrics(before),
        "after": _metrics(after),
        "newly_liquidatable": [
            {
                "account": str(x.unit_account[n]).lower(),
                "health_factor_before": float(hf_before[n]) if np.isfinite(hf_before[n]) else None,
                "health_factor_after": float(hf_after[n]) if np.isfinite(hf_after[n]) else None,
                "debt_usd": float(debt[n]),
            }
            for n in newly
        ],
    }
