"""Protocol-neutral numbers of one snapshot, for alerts and ``defirisk history``.

Computed from the snapshot's ``Exposures`` (through its family, so e-modes and disabled collateral
follow the protocol) by the engine's kernel, at the snapshot's own prices. With the per-unit values
in the base currency (``defirisk.engine.kernel``)::

    C_n = Σ_{p∈n, liq_weight_p>0} collateral_p · price_p       (collateral that counts)
    D_n = Σ_{p∈n} debt_p · price_p
    HF_n = W_n / D_n  (W_n: weighted collateral, with the family's average-weight rounding)

the metrics are, in USD (base currency × ``base_usd``) or counts of netting units (market, account):

* ``accounts`` = N, ``borrowers`` = #{n : D_n > 0};
* ``collateral_usd`` = Σ C_n, ``debt_usd`` = Σ D_n;
* ``accounts_hf_below_1`` = #{n : HF_n < 1}, ``debt_hf_below_1_usd`` and ``collateral_hf_below_1_usd``
  their D and C (accounts without debt are never below a threshold);
* ``accounts_hf_below_1_05`` and ``debt_hf_below_1_05_usd``: the same with 1.05 (close to liquidation).
"""

from __future__ import annotations

import numpy as np

from defirisk.engine.kernel import ExposureMatrix, threshold_totals
from defirisk.families import get_family
from defirisk.model import Exposures, MarketState

#: Every metric, in display order, with its meaning.
METRICS: dict[str, str] = {
    "accounts": "accounts holding anything (netting units: market, account)",
    "borrowers": "accounts with debt",
    "collateral_usd": "collateral that counts (liquidation weight > 0), USD",
    "debt_usd": "debt, USD",
    "accounts_hf_below_1": "accounts with health factor < 1 (liquidatable)",
    "debt_hf_below_1_usd": "debt of the accounts with health factor < 1, USD",
    "collateral_hf_below_1_usd": "counted collateral of the accounts with health factor < 1, USD",
    "accounts_hf_below_1_05": "accounts with health factor < 1.05",
    "debt_hf_below_1_05_usd": "debt of the accounts with health factor < 1.05, USD",
}

#: Metrics that are counts (ints); the others are USD amounts (floats).
COUNT_METRICS = frozenset({"accounts", "borrowers", "accounts_hf_below_1", "accounts_hf_below_1_05"})

_THRESHOLDS = (1.0, 1.05)

Metrics = dict[str, int | float]


def exposure_metrics(exposures: Exposures) -> Metrics:
    """Every metric of ``METRICS`` for ``exposures``, at its snapshot prices (multipliers all 1)."""
    matrix = ExposureMatrix.from_exposures(exposures)
    usd = matrix.base_usd
    debt = matrix.debt.sum(axis=1)
    out: Metrics = {
        "accounts": exposures.n_units,
        "borrowers": int((debt > 0).sum()),
        "collateral_usd": float(matrix.collateral.sum() * usd),
        "debt_usd": float(debt.sum() * usd),
    }
    if matrix.n_units == 0 or matrix.n_feeds == 0:
        below_units, below_debt, below_collateral = np.zeros(2, dtype=np.int64), np.zeros(2), np.zeros(2)
    else:
        totals = threshold_totals(matrix, np.ones((matrix.n_feeds, 1)), _THRESHOLDS)
        below_units, below_debt, below_collateral = totals.units[:, 0], totals.debt[:, 0], totals.collateral[:, 0]
    out.update(
        accounts_hf_below_1=int(below_units[0]),
        debt_hf_below_1_usd=float(below_debt[0] * usd),
        collateral_hf_below_1_usd=float(below_collateral[0] * usd),
        accounts_hf_below_1_05=int(below_units[1]),
        debt_hf_below_1_05_usd=float(below_debt[1] * usd),
    )
    return {name: out[name] for name in METRICS}


def snapshot_metrics(state: MarketState) -> Metrics:
    """Every metric of ``METRICS`` for a snapshot, through its family's exposures."""
    return exposure_metrics(get_family(state.meta.family).exposures(state))
