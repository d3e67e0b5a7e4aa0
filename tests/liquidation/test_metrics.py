"""VaR, expected shortfall, liquidations at risk and their bootstrap intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from defirisk.errors import InvalidParameter
from defirisk.liquidation.metrics import bootstrap, expected_shortfall, risk_metrics, value_at_risk


def test_empirical_quantiles():
    losses = np.arange(1.0, 1001.0)[::-1]
    assert value_at_risk(losses, 0.95) == 950.0
    assert value_at_risk(losses, 0.99) == 990.0
    assert expected_shortfall(losses, 0.95) == pytest.approx(np.arange(951, 1001).mean())
    assert expected_shortfall(losses, 0.99) == pytest.approx(995.5)
    assert value_at_risk(np.array([3.0, 1.0, 2.0]), 0.99) == 3.0


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(1)
    losses = rng.lognormal(10, 1, size=2000)
    a = bootstrap(losses, {"v": ("var", 0.95)}, 300, seed=4)["v"]
    b = bootstrap(losses, {"v": ("var", 0.95)}, 300, seed=4)["v"]
    np.testing.assert_array_equal(a, b)
    m = risk_metrics(losses, losses * 2, losses / 2, horizon_steps=24, step_hours=1.0, seed=7, n_bootstrap=300)
    var = m.measures["bad_debt_var_95"]
    assert var.ci_low < var.value < var.ci_high
    es = m.measures["bad_debt_es_99"]
    assert es.value >= m.measures["bad_debt_var_99"].value
    assert m.measures["lar_95"].value == pytest.approx(2 * var.value)
    assert m.horizon == "24h" and m.n_paths == 2000 and m.seed == 7
    # More paths, narrower interval.
    small = risk_metrics(losses[:200], losses[:200], losses[:200], 24, 1.0, None, n_bootstrap=300)
    wide = small.measures["bad_debt_var_95"]
    assert wide.ci_high - wide.ci_low > var.ci_high - var.ci_low


def test_deterministic_path_gives_single_values():
    m = risk_metrics(np.array([5.0]), np.array([7.0]), np.array([1.0]), horizon_steps=3, step_hours=4.0, seed=None)
    assert m.measures["bad_debt_var_99"].value == 5.0 and m.measures["bad_debt_es_95"].value == 5.0
    assert m.measures["lar_99"].value == 7.0 and m.measures["unliquidatable_var_95"].value == 1.0
    assert all(x.ci_low is None for x in m.measures.values())
    assert m.ci is None and m.n_bootstrap == 0
    data = json.loads(json.dumps(m.to_dict()))
    assert data["horizon"] == "12h" and data["measures"]["bad_debt_var_95"]["level"] == 0.95


def test_invalid_parameters():
    with pytest.raises(InvalidParameter):
        risk_metrics(np.ones(3), np.ones(3), np.ones(3), 1, 1.0, None, ci=1.0)
    with pytest.raises(InvalidParameter):
        risk_metrics(np.ones(3), np.ones(3), np.ones(3), 1, 1.0, None, n_bootstrap=0)
