"""The two Aave v3 bitmaps, decoded bit range by bit range (layout of ``ReserveConfiguration.sol``)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from defirisk.adapters.aave_v3.config import ReserveConfig, borrowing_ids, collateral_ids, used_ids

# (field, first bit, width) as documented in Aave v3.0's ReserveConfiguration.sol masks.
LAYOUT = (
    ("ltv", 0, 16),
    ("liquidation_threshold", 16, 16),
    ("liquidation_bonus", 32, 16),
    ("decimals", 48, 8),
    ("active", 56, 1),
    ("frozen", 57, 1),
    ("borrowing_enabled", 58, 1),
    ("stable_borrowing_enabled", 59, 1),
    ("paused", 60, 1),
    ("borrowable_in_isolation", 61, 1),
    ("siloed_borrowing", 62, 1),
    ("flash_loan_enabled", 63, 1),
    ("reserve_factor", 64, 16),
    ("borrow_cap", 80, 36),
    ("supply_cap", 116, 36),
    ("liquidation_protocol_fee", 152, 16),
    ("emode_category", 168, 8),
    ("unbacked_mint_cap", 176, 36),
    ("debt_ceiling", 212, 40),
)

fields = st.fixed_dictionaries({name: st.integers(0, 2**width - 1) for name, _, width in LAYOUT})


def encode(values: dict[str, int], unused: int = 0) -> int:
    word = unused << 252
    for name, low, _ in LAYOUT:
        word |= int(values[name]) << low
    return word


@settings(max_examples=200, deadline=None)
@given(fields, st.integers(0, 15))
def test_every_field_decodes_from_its_own_bits(values: dict[str, int], unused: int) -> None:
    decoded = ReserveConfig.decode(encode(values, unused)).as_dict()
    assert {k: int(v) for k, v in decoded.items()} == values


def test_a_real_configuration_word() -> None:
    # WETH on Aave v3 Ethereum: LTV 80.5 %, LT 83 %, bonus 5 %, 18 decimals, active, borrowable,
    # flash loans, reserve factor 15 %, caps 1.4M / 1.8M, fee 10 %, e-mode 1.
    word = (
        8050 | 8300 << 16 | 10500 << 32 | 18 << 48 | 1 << 56 | 1 << 58 | 1 << 63 | 1500 << 64
        | 1_400_000 << 80 | 1_800_000 << 116 | 1000 << 152 | 1 << 168
    )
    c = ReserveConfig.decode(word)
    assert (c.ltv, c.liquidation_threshold, c.liquidation_bonus, c.decimals) == (8050, 8300, 10500, 18)
    assert (c.active, c.frozen, c.borrowing_enabled, c.paused, c.flash_loan_enabled) == (True, False, True, False, True)
    assert (c.reserve_factor, c.borrow_cap, c.supply_cap, c.liquidation_protocol_fee) == (1500, 1_400_000, 1_800_000, 1000)
    assert (c.emode_category, c.debt_ceiling, c.siloed_borrowing) == (1, 0, False)


reserve_ids = st.sets(st.integers(0, 127))


@settings(max_examples=200, deadline=None)
@given(reserve_ids, reserve_ids)
def test_user_configuration_bits(borrowed: set[int], collateral: set[int]) -> None:
    word = sum(1 << (2 * i) for i in borrowed) + sum(1 << (2 * i + 1) for i in collateral)
    assert borrowing_ids(word) == sorted(borrowed)
    assert collateral_ids(word) == sorted(collateral)
    assert used_ids(word) == sorted(borrowed | collateral)
