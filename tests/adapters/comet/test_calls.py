"""Decoders on ABI-encoded answers built from the real configurations, and the calls' encoding (pure).

No compiled Comet is available from a package registry, so these answers are encoded here with
eth_abi from ``data/compound_v3/comet_params.csv`` (``configs.asset_info`` applies the contract's own
storage rounding) instead of being recorded from a node.
"""

from __future__ import annotations

import eth_abi
import pytest

from defirisk.adapters.comet import calls
from defirisk.adapters.comet.maths import FACTOR_DESCALE, FACTOR_SCALE, INT104_MAX, INT104_MIN
from defirisk.adapters.comet.structs import AssetInfo, TotalsBasic, UserBasic
from defirisk.chain import MULTICALL3
from defirisk.chain.multicall import to_result
from tests.adapters.comet import configs
from tests.adapters.comet.factory import COMET

ROWS = [(row, i) for rows in configs.markets().values() for i, row in enumerate(rows)]


def encoded(info: AssetInfo) -> bytes:
    return eth_abi.encode([calls.ASSET_INFO_TYPE], [info.as_tuple()])


def test_the_data_covers_every_row_of_the_csv() -> None:
    assert len(ROWS) == len(configs.rows()) == 92
    assert len(configs.markets()) == 28


@pytest.mark.parametrize(("row", "offset"), ROWS, ids=[f"{r['chain']}-{r['market']}-{r['asset']}" for r, _ in ROWS])
def test_asset_info_of_every_real_configuration_decodes_exactly(row: dict[str, str], offset: int) -> None:
    info = configs.asset_info(row, offset)
    data = encoded(info)
    assert len(data) == 8 * 32
    got = calls.decode_asset_info(data)
    assert got == info
    # What the contract's storage keeps of the configuration: four decimals per factor, whole-token caps.
    assert got.scale == 10 ** int(row["asset_decimals"])
    for value, text in ((got.borrow_collateral_factor, row["borrow_cf"]),
                        (got.liquidate_collateral_factor, row["liquidate_cf"]),
                        (got.liquidation_factor, row["liquidation_factor"])):
        assert value % FACTOR_DESCALE == 0
        assert abs(value - float(text) * FACTOR_SCALE) < FACTOR_DESCALE
    assert got.borrow_collateral_factor < got.liquidate_collateral_factor <= FACTOR_SCALE
    assert got.supply_cap % got.scale == 0
    assert 0 <= configs.supply_cap(row) - got.supply_cap < got.scale


def test_a_supply_cap_below_one_token_is_stored_as_zero() -> None:
    (row,) = [r for r in configs.rows() if (r["chain"], r["market"], r["asset"]) == ("base", "usds", "cbBTC")]
    assert row["supply_cap_config"] == "0.1e8"
    assert calls.decode_asset_info(encoded(configs.asset_info(row, 0))).supply_cap == 0


def test_ethereum_cusdcv3_weth_as_configured() -> None:
    (row,) = [r for r in configs.markets()[("mainnet", "usdc")] if r["asset"] == "WETH"]
    got = calls.decode_asset_info(encoded(configs.asset_info(row, 4)))
    assert got == AssetInfo(
        offset=4, asset="0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2",
        price_feed="0x5f4ec3df9cbd43714fe2740f5e3616155c5b8419", scale=10**18,
        borrow_collateral_factor=825 * 10**15, liquidate_collateral_factor=895 * 10**15,
        liquidation_factor=95 * 10**16, supply_cap=0,
    )


def test_decoders_refuse_answers_of_another_shape() -> None:
    info = configs.asset_info(configs.rows()[0], 0)
    data = encoded(info)
    for bad in (data[:-1], data + b"\0" * 32, b""):
        with pytest.raises(ValueError):
            calls.decode_asset_info(bad)
    # An address word with bits above 160, or a scale wider than uint64: not an AssetInfo.
    with pytest.raises(ValueError):
        calls.decode_asset_info(data[:32] + b"\x01" + data[33:])
    with pytest.raises(ValueError):
        calls.decode_asset_info(data[:96] + (2**64).to_bytes(32, "big") + data[128:])


def test_totals_basic_decodes_every_field_and_checks_widths() -> None:
    totals = TotalsBasic(1_012_345_678_901_234, 1_034_567_890_123_456, 7, 9, 2**104 - 1, 5 * 10**12,
                         1_700_000_000, 0b10001)
    data = eth_abi.encode([calls.TOTALS_BASIC_TYPE], [totals.as_tuple()])
    assert calls.decode_totals_basic(data) == totals
    too_wide = eth_abi.encode(["uint256"] * 8, [*totals.as_tuple()[:7], 256])
    with pytest.raises(ValueError):
        calls.decode_totals_basic(too_wide)


@pytest.mark.parametrize("principal", [INT104_MIN, -1_790_000_001, -1, 0, 1, INT104_MAX])
def test_user_basic_decodes_the_signed_principal_and_joins_both_bitmaps(principal: int) -> None:
    data = eth_abi.encode(list(calls.USER_BASIC_TYPES), [principal, 11, 12, 0b1000000000000101, 0b10])
    assert calls.decode_user_basic(data) == UserBasic(principal, 11, 12, 0b10_1000000000000101)


def test_user_basic_refuses_a_principal_wider_than_int104() -> None:
    data = eth_abi.encode(["int256", "uint64", "uint64", "uint16", "uint8"], [INT104_MAX + 1, 0, 0, 0, 0])
    with pytest.raises(ValueError):
        calls.decode_user_basic(data)


def test_scalar_decoders() -> None:
    assert calls.decode_int(eth_abi.encode(["int256"], [-123_456])) == -123_456
    assert calls.decode_bool(eth_abi.encode(["bool"], [True])) is True
    assert calls.decode_bool(eth_abi.encode(["bool"], [False])) is False
    with pytest.raises(ValueError):
        calls.decode_bool(eth_abi.encode(["uint256"], [2]))
    assert calls.decode_totals_collateral(eth_abi.encode(["uint128", "uint128"], [10**24, 0])) == 10**24
    assert calls.decode_uint8(eth_abi.encode(["uint8"], [12])) == 12
    with pytest.raises(ValueError):
        calls.decode_uint8(eth_abi.encode(["uint256"], [256]))
    assert calls.decode_address(eth_abi.encode(["address"], [COMET])) == COMET


def test_a_foreign_answer_becomes_a_failed_result_not_a_number() -> None:
    call = calls.asset_info_call(COMET, 0)
    assert not to_result(call, True, b"\x00" * 64).success
    assert to_result(call, True, encoded(configs.asset_info(configs.rows()[0], 0))).success


def test_calls_use_the_deployed_comet_selectors() -> None:
    # 4-byte selectors of the Comet ABI as deployed (public signature databases list the same).
    expected = {
        "getAssetInfo": "c8c7fe6b", "isLiquidatable": "042e02cf", "borrowBalanceOf": "374c49b4",
        "userBasic": "dc4abafd", "getPrice": "41976e09", "collateralBalanceOf": "5c2549ee",
        "totalsBasic": "b9f0baf7", "baseToken": "c55dae63", "numAssets": "a46fe83b", "getReserves": "0902f1ac",
    }
    account = "0x" + "11" * 20
    made = [
        *calls.market_calls(COMET), calls.asset_info_call(COMET, 3), calls.price_call(COMET, MULTICALL3),
        *calls.account_calls(COMET, account), *calls.health_calls(COMET, account),
        calls.collateral_balance_call(COMET, account, MULTICALL3), *calls.reserves_calls(COMET, MULTICALL3),
    ]
    by_name = {c.label.split(".")[1].split("(")[0]: c.calldata[:4].hex() for c in made if c.label.startswith("Comet.")}
    for name, selector in expected.items():
        assert by_name[name] == selector, name
    info = [c for c in made if c.label == "Comet.getAssetInfo(3)"][0]
    assert info.calldata[4:] == (3).to_bytes(32, "big")
