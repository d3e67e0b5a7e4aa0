"""Test helpers on the local Venus pool: the conformance case, an independent read of positions, and
the asset values the fixture configured."""

from __future__ import annotations

from pathlib import Path

import eth_abi

from defirisk.deployments import load_deployment
from tests.adapters.conformance import ChainPositions, ConformanceCase
from tests.localchain import multicall3
from tests.localchain.venus import (
    DEPRECATED,
    LIQUIDATION_INCENTIVE,
    MARKETS,
    TREASURY_PERCENT,
    LocalVenus,
    calldata,
)

EXP = 10**18
#: Roles holding nothing that counts: a supplier that never entered a market, and an account that
#: entered one without supplying or borrowing.
NOT_STORED = frozenset({"not-entered", "entered-only"})


def expected_assets(venus: LocalVenus) -> dict[str, dict]:
    """The canonical asset columns the fixture configured (``tests/localchain/venus.py``)."""
    out = {}
    for m in MARKETS:
        cf = 0 if m.symbol == DEPRECATED else m.collateral_factor
        price_raw = m.price_mantissa * 10**m.decimals // EXP
        out[venus.market(m.symbol)] = {
            "symbol": m.symbol,
            "name": f"Test {m.symbol[1:]}",
            "decimals": m.decimals,
            "price_raw": price_raw,
            "price": price_raw / EXP,
            "price_usd": price_raw / EXP,
            "ltv": cf / EXP,
            "liquidation_threshold": cf / EXP,
            "liquidation_bonus": (LIQUIDATION_INCENTIVE - EXP) / EXP,
            "protocol_fee": TREASURY_PERCENT / (LIQUIDATION_INCENTIVE - EXP),
            "reserve_factor": m.reserve_factor / EXP,
            "supply_cap": float(m.supply_cap),
            "borrow_cap": float(m.borrow_cap),
            "usage_as_collateral_enabled": cf > 0,
            "borrowing_enabled": m.symbol != DEPRECATED,
            "is_frozen": m.symbol == DEPRECATED,
            "is_active": True,
            "is_paused": False,
            "emode_category": 0,
        }
    return out


def membership_positions(venus: LocalVenus, accounts: list[str], block: int) -> ChainPositions:
    """Positions that count at ``block``, read without ``getAssetsIn`` or ``getAccountSnapshot``:
    ``checkMembership``, ``balanceOf``, ``borrowBalanceStored`` and ``exchangeRateStored`` of every
    (account, market) pair."""
    markets = [venus.market(m.symbol) for m in MARKETS]
    rates = multicall3.aggregate3(venus.rpc, [(m, calldata("exchangeRateStored()")) for m in markets], hex(block))
    rate = {m: int.from_bytes(r, "big") for m, r in zip(markets, rates, strict=True)}
    pairs = [(a, m) for a in accounts for m in markets]
    requests = []
    for a, m in pairs:
        requests += [(venus.comptroller, calldata("checkMembership(address,address)", a, m)),
                     (m, calldata("balanceOf(address)", a)), (m, calldata("borrowBalanceStored(address)", a))]
    answers = multicall3.aggregate3(venus.rpc, requests, hex(block))
    out: ChainPositions = {}
    for i, (a, m) in enumerate(pairs):
        (member,) = eth_abi.decode(["bool"], answers[3 * i])
        balance, debt = (int.from_bytes(x, "big") for x in answers[3 * i + 1 : 3 * i + 3])
        collateral = balance * rate[m] // EXP if member else 0
        if collateral or debt:
            out[(a, m)] = (collateral, debt, bool(member))
    return out


def conformance_case(venus: LocalVenus, folder: Path) -> ConformanceCase:
    toml = venus.write_deployment_toml(folder / "local-venus.toml")
    seeded = {address for label, address in venus.seeded_accounts().items() if label not in NOT_STORED}
    return ConformanceCase(
        deployment=load_deployment(str(toml)),
        rpc_url=venus.rpc_url,
        accounts=seeded,
        assets=expected_assets(venus),
        chain_positions=lambda accounts, block: membership_positions(venus, accounts, block),
        foreign_address=venus.deployment.underlyings["tWETH"],
    )
