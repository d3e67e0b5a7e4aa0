"""The float engine against the integer reference of Aave's ``getUserAccountData``.

Every account of hypothesis-generated Aave v3 markets (e-mode with and without a price source,
thresholds of 0, disabled collateral, isolated collateral, accounts without debt, dust), at the
snapshot's prices and under integer price overrides; tolerance and its reasons in ``tolerance.py``.
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from defirisk.adapters.aave_v3.reference import AaveReference
from defirisk.engine import ExposureMatrix, exposures_of, health_factors, multipliers_from_prices, unit_values
from defirisk.model import Exposures, MarketState
from tests.engine.aave_states import aave_states, shocked_prices
from tests.engine.tolerance import disagreement

AAVE_QUANTUM = 1e-4
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def aave_exposures(state: MarketState) -> Exposures:
    """The family's exposures, carrying Aave's average-threshold quantum (see the report's model change)."""
    exposures = exposures_of(state)
    exposures.weight_quantum = AAVE_QUANTUM
    return exposures


def multipliers_for(state: MarketState, exposures: Exposures, prices: dict, sources: dict) -> np.ndarray:
    """The engine's multipliers for the reference's integer overrides, through the public helper."""
    base = 10**state.meta.base_currency_decimals
    new = {asset: raw / base for asset, raw in prices.items()}
    for row in state.emodes.itertuples():
        if row.price_source and int(row.category) in sources:
            new[row.price_source] = sources[int(row.category)] / base
    return multipliers_from_prices(exposures, new)


def check_state(state: MarketState, prices: dict, sources: dict) -> list[tuple[float, float]]:
    """Assert every account agrees; return (engine HF, reference HF) pairs of accounts with debt."""
    exposures = aave_exposures(state)
    m = multipliers_for(state, exposures, prices, sources)
    values = unit_values(exposures, m)
    exact = unit_values(ExposureMatrix.from_exposures(exposures, weight_quantum=0.0), m)
    reference = AaveReference(state, prices=prices, emode_prices=sources)
    counted = (exposures.liq_weight > 0) & (exposures.collateral > 0)
    n_collateral = np.bincount(exposures.pos_unit[counted], minlength=exposures.n_units)
    n_debt = np.bincount(exposures.pos_unit[exposures.debt > 0], minlength=exposures.n_units)
    pairs = []
    for n, (market, account) in enumerate(zip(exposures.unit_market, exposures.unit_account, strict=True)):
        ref = reference.account_data(market, account)
        problem = disagreement(
            ref,
            values.weighted_collateral[n, 0],
            values.collateral[n, 0],
            values.debt[n, 0],
            exact.weighted_collateral[n, 0],
            int(n_collateral[n]),
            int(n_debt[n]),
        )
        assert problem is None, f"{account}: {problem}"
        if ref.total_debt_base:
            pairs.append((values.health_factor[n, 0], ref.health_factor / 10**18))
    return pairs


@SETTINGS
@given(state=aave_states())
def test_snapshot_prices_agree_with_reference(state: MarketState) -> None:
    check_state(state, {}, {})


@SETTINGS
@given(data=st.data(), state=aave_states())
def test_overridden_prices_agree_with_reference(data: st.DataObject, state: MarketState) -> None:
    prices, sources = data.draw(shocked_prices(state))
    check_state(state, prices, sources)


@SETTINGS
@given(data=st.data(), state=aave_states(min_whole=1e4, min_price_raw=10**8))
def test_positions_above_dust_agree_within_1e9(data: st.DataObject, state: MarketState) -> None:
    prices, sources = data.draw(shocked_prices(state, (0.05, 0.3, 0.93, 1.0, 1.07, 3.0)))
    for hf, hf_ref in check_state(state, prices, sources):
        assert math.isclose(hf, hf_ref, rel_tol=1e-9), (hf, hf_ref)


@SETTINGS
@given(state=aave_states())
def test_no_debt_means_infinite_health_factor(state: MarketState) -> None:
    exposures = aave_exposures(state)
    hf = health_factors(exposures, np.ones(exposures.n_feeds))[:, 0]
    debt = np.bincount(exposures.pos_unit, weights=exposures.debt, minlength=exposures.n_units)
    assert np.all(np.isinf(hf[debt == 0]))
    assert np.all(np.isfinite(hf[debt > 0]))
