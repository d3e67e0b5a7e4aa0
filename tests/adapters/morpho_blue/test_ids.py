"""Market ids: ``keccak256(abi.encode(MarketParams))`` against known Ethereum mainnet markets (pure).

Params and ids as listed in karpatkey/defi-kit ``sdk/src/protocols/morpho/markets/_ethInfo.ts`` (a
file generated from the Morpho API); the Morpho Blue singleton there is
0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb and the IRM the AdaptiveCurveIrm.
"""

from __future__ import annotations

import pytest

from defirisk.adapters.morpho_blue.ids import market_id, normalize_market_id, params
from defirisk.errors import InvalidAddress, InvalidParameter

USDC = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48"
WETH = "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2"
WSTETH = "0x7f39C581F595B53c5cb19bD0b3f8dA6c935E2Ca0"
WBTC = "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599"
ADAPTIVE_CURVE_IRM = "0x870aC11D48B15DB9a138Cf899d20F13F79Ba00BC"

MAINNET_MARKETS = [
    # USDC / wstETH, LLTV 86 %: the example of the issue.
    (USDC, WSTETH, "0x48F7E36EB6B826B2dF4B2E630B62Cd25e89E40e2", 860000000000000000,
     "0xb323495f7e4148be5643a4ea4a8221eef163e4bccfdedc2a6f4696baacbc86cc"),
    # USDC / WBTC, 86 %.
    (USDC, WBTC, "0xDddd770BADd886dF3864029e4B377B5F6a2B6b83", 860000000000000000,
     "0x3a85e619751152991742810df6ec69ce473daef99e28a64ab2340d7b7ccfee49"),
    # WETH / wstETH, 96.5 %.
    (WETH, WSTETH, "0xbD60A6770b27E084E8617335ddE769241B0e71D8", 965000000000000000,
     "0xb8fc70e82bc5bb53e773626fcc6a23f7eefa036918d7ef216ecfb1950a94a85e"),
    # WETH / wstETH, 94.5 %: same tokens and oracle, another LLTV, another market.
    (WETH, WSTETH, "0xbD60A6770b27E084E8617335ddE769241B0e71D8", 945000000000000000,
     "0xd0e50cdac92fe2172043f5e0c36532c6369d24947e40968f34a5e8819ca9ec5d"),
]


@pytest.mark.parametrize(("loan", "collateral", "oracle", "lltv", "expected"), MAINNET_MARKETS)
def test_market_id_of_known_mainnet_markets(loan: str, collateral: str, oracle: str, lltv: int, expected: str) -> None:
    p = params(loan, collateral, oracle, ADAPTIVE_CURVE_IRM, lltv)
    assert market_id(p) == expected
    assert p.id == expected


def test_every_parameter_enters_the_id() -> None:
    loan, collateral, oracle, lltv, expected = MAINNET_MARKETS[0]
    base = params(loan, collateral, oracle, ADAPTIVE_CURVE_IRM, lltv)
    variants = [
        params(collateral, loan, oracle, ADAPTIVE_CURVE_IRM, lltv),
        params(loan, collateral, ADAPTIVE_CURVE_IRM, oracle, lltv),
        params(loan, collateral, oracle, ADAPTIVE_CURVE_IRM, lltv + 1),
    ]
    assert base.id == expected
    assert len({v.id for v in variants} | {expected}) == 4


def test_params_check_addresses_and_ids_are_normalised() -> None:
    with pytest.raises(InvalidAddress):
        params(USDC.lower().replace("a", "A", 1), WSTETH, USDC, USDC, 0)
    assert normalize_market_id(" 0xB323495F7e4148be5643a4ea4a8221eef163e4bccfdedc2a6f4696baacbc86cc ") == (
        MAINNET_MARKETS[0][4])
    with pytest.raises(InvalidParameter):
        normalize_market_id("0xb323495f")
