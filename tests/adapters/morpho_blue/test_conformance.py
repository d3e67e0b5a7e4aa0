"""The shared adapter conformance suite, on Morpho Blue compiled from the npm sources and run on anvil.

The suite keys assets by token address and positions by (account, token), and counts one stored
account row per account; a Morpho snapshot has rows per (market id, account) and the same token may
serve several markets. The ``ISOLATED`` scenario (distinct tokens per market, each account in one
market) fits those keys; ``test_snapshot_chain.py`` covers shared tokens and multi-market accounts.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from defirisk.adapters.morpho_blue.reconcile import reference_health
from defirisk.deployments import load_deployment
from defirisk.snapshot import take_snapshot
from defirisk.store import Store
from defirisk.units import WAD
from tests.adapters.conformance import AdapterConformance, ChainPositions, ConformanceCase
from tests.localchain.morpho import ISOLATED, LocalMorpho, oracle_price

pytestmark = pytest.mark.chain


def expected_assets(chain: LocalMorpho) -> dict[str, dict]:
    """What the fixture configured, per token: decimals, oracle price, LLTV, bonus from the LIF formula."""
    out: dict[str, dict] = {}
    for spec in ISOLATED.markets:
        m = chain.markets[spec.label]
        out[m.loan] = {"decimals": m.loan_decimals, "price_raw": 10**36, "price": 1.0,
                       "liquidation_threshold": 0.0, "ltv": 0.0, "usage_as_collateral_enabled": False,
                       "reserve_factor": spec.fee / WAD}
        if spec.collateral is None:
            continue
        assert spec.price is not None and m.collateral_decimals is not None
        lltv = spec.lltv / WAD
        out[m.collateral] = {
            "decimals": m.collateral_decimals,
            "price_raw": oracle_price(spec.price, m.loan_decimals, m.collateral_decimals),
            "price": float(spec.price),
            "liquidation_threshold": lltv,
            "ltv": lltv,
            # Decimal arithmetic of the documented formula; the contract's WAD rounding is within 1e-17.
            "liquidation_bonus": pytest.approx(min(1.15, 1 / (0.3 * lltv + 0.7)) - 1, abs=1e-15),
            "usage_as_collateral_enabled": True,
        }
    return out


def chain_positions(chain: LocalMorpho, accounts: list[str], block: int) -> ChainPositions:
    """Positions through ``MorphoBalancesLib`` (the package's own periphery library, in a lens contract)."""
    out: ChainPositions = {}
    for m in chain.markets.values():
        for account in accounts:
            supplied, borrowed, collateral = chain.lens_balances(m.label, account, block)
            if borrowed:
                out[(account, m.loan)] = (0, borrowed, False)
            if collateral:
                out[(account, m.collateral)] = (collateral, 0, True)
    return out


@pytest.fixture(scope="module")
def case(morpho_isolated: LocalMorpho, tmp_path_factory: pytest.TempPathFactory) -> ConformanceCase:
    chain = morpho_isolated
    path = chain.write_deployment_toml(tmp_path_factory.mktemp("morpho") / "local-morpho-blue.toml")
    return ConformanceCase(
        deployment=load_deployment(str(path)),
        rpc_url=chain.rpc_url,
        accounts={a for m in chain.markets.values() for a in m.accounts},
        assets=expected_assets(chain),
        chain_positions=lambda accounts, block: chain_positions(chain, accounts, block),
        foreign_address=chain.markets["usdc-weth"].oracle,
    )


class TestMorphoBlueConformance(AdapterConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def conformance_case(cls, case: ConformanceCase) -> ConformanceCase:
        return case


def test_the_conformance_chain_has_accounts_on_both_sides_of_the_lltv(morpho_isolated: LocalMorpho,
                                                                      tmp_path: Path) -> None:
    """The reconciliation above is meaningful only if the contract finds some positions unhealthy."""
    path = morpho_isolated.write_deployment_toml(tmp_path / "d.toml")
    summary = take_snapshot(str(path), morpho_isolated.rpc_url, db_path=tmp_path / "db.duckdb", reorg_lag=0)
    with Store.open(tmp_path / "db.duckdb", read_only=True) as store:
        state = store.load_state(summary.snapshot_id)
    health = reference_health(state)
    assert 0 < (~health["healthy"].astype(bool)).sum() < len(health)
