"""The engine's predicted health factors equal the chain's own after the oracle moves.

Snapshot the local Aave v3 market, predict every account's health factor under a scenario with the
float engine, then move the real oracle to exactly that scenario and read ``getUserAccountData``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from defirisk.engine import exposures_of, health_factors, multipliers_from_prices
from defirisk.snapshot import take_snapshot
from defirisk.store import Store
from defirisk.units import UINT256_MAX, WAD
from tests.localchain.helpers import LocalAave

pytestmark = pytest.mark.chain

#: USD prices of the scenario: ETH-correlated assets −28 %, WBTC −12 %, a USDC depeg to 0.93.
SCENARIO = {"WETH": 0.72, "wstETH": 0.72, "WBTC": 0.88, "USDC": 0.93}


@pytest.mark.parametrize("scenario", [SCENARIO, {"WETH": 1.35, "DAI": 1.02}], ids=["crash", "debt-up"])
def test_engine_predicts_the_chain_after_an_oracle_move(
    reverting_aave: LocalAave, tmp_path: Path, scenario: dict[str, float]
) -> None:
    toml = tmp_path / "local.toml"
    reverting_aave.write_deployment_toml(toml)
    summary = take_snapshot(str(toml), reverting_aave.rpc_url, block="latest", db_path=tmp_path / "db.duckdb")
    with Store.open(tmp_path / "db.duckdb", read_only=True) as store:
        state = store.load_state(summary.snapshot_id)
    exposures = exposures_of(state)

    new_raw = {}
    for symbol, factor in scenario.items():
        old = reverting_aave.price(symbol)
        new_raw[symbol] = int(old * factor)
        reverting_aave.set_price(symbol, new_raw[symbol] / 1e8)
        assert reverting_aave.price(symbol) == new_raw[symbol]
    by_address = {reverting_aave.reserves[s].underlying.lower(): raw / 1e8 for s, raw in new_raw.items()}
    predicted = health_factors(exposures, multipliers_from_prices(exposures, by_address))[:, 0]

    accounts = [str(a) for a in exposures.unit_account]
    chain = reverting_aave.get_users_account_data(accounts)
    chain_hf = np.array([np.inf if row[5] == UINT256_MAX else row[5] / WAD for row in chain])
    debt = np.array([row[1] for row in chain])

    assert len(accounts) >= 400
    assert np.array_equal(np.isinf(predicted), np.isinf(chain_hf)), "accounts without debt"
    finite = np.isfinite(chain_hf)
    # The contracts floor each position's value to base units (1e-8 USD); on debts of a few dollars
    # that alone is ~1e-9 relative, so the 1e-9 bound is asserted on debts above $100 (all but dust).
    big = finite & (debt > 100 * 10**8)
    rel = np.abs(predicted[big] - chain_hf[big]) / chain_hf[big]
    assert big.sum() >= 250
    assert rel.max() <= 1e-9, f"worst relative difference {rel.max():.3g}"
    dust = finite & ~big
    if dust.any():
        assert np.allclose(predicted[dust], chain_hf[dust], rtol=1e-6)
    below = chain_hf < 1
    assert np.array_equal(predicted < 1, below), "the engine and the chain agree on who is liquidatable"
    if scenario is SCENARIO:
        assert below.sum() > 0
