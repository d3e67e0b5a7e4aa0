"""Aave v3's two configuration bitmaps, decoded from the raw ``uint256`` words (pure).

``ReserveConfigurationMap`` (``Pool.getConfiguration(asset)``, also word 0 of ``getReserveData``),
bit ranges inclusive, as in Aave v3.0's ``ReserveConfiguration.sol``::

      0–15  LTV (bps)                       64–79   reserve factor (bps)
     16–31  liquidation threshold (bps)     80–115  borrow cap (whole tokens, 0 = none)
     32–47  liquidation bonus (bps, 10000 + bonus)   116–151 supply cap (whole tokens, 0 = none)
     48–55  decimals                        152–167 liquidation protocol fee (bps of the bonus)
        56  active                          168–175 e-mode category
        57  frozen                          176–211 unbacked mint cap (whole tokens)
        58  borrowing enabled               212–251 debt ceiling (USD with 2 decimals, 0 = none)
        59  stable rate borrowing enabled
        60  paused
        61  borrowable in isolation
        62  siloed borrowing
        63  flash loans enabled

``UserConfigurationMap`` (``Pool.getUserConfiguration(user)``): for the reserve with id ``i`` bit
``2i`` means "borrowing" and bit ``2i + 1`` "using as collateral".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

#: ``ReserveConfiguration.DEBT_CEILING_DECIMALS``: the debt ceiling is in USD cents.
DEBT_CEILING_DECIMALS = 2


def _bits(word: int, low: int, high: int) -> int:
    """Bits ``low..high`` (inclusive) of ``word`` as an unsigned integer."""
    return (word >> low) & ((1 << (high - low + 1)) - 1)


@dataclass(frozen=True)
class ReserveConfig:
    """One decoded ``ReserveConfigurationMap``; integers exactly as the contracts keep them."""

    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    decimals: int
    active: bool
    frozen: bool
    borrowing_enabled: bool
    stable_borrowing_enabled: bool
    paused: bool
    borrowable_in_isolation: bool
    siloed_borrowing: bool
    flash_loan_enabled: bool
    reserve_factor: int
    borrow_cap: int
    supply_cap: int
    liquidation_protocol_fee: int
    emode_category: int
    unbacked_mint_cap: int
    debt_ceiling: int

    @classmethod
    def decode(cls, word: int) -> ReserveConfig:
        """Decode a ``uint256`` configuration word."""
        return cls(
            ltv=_bits(word, 0, 15),
            liquidation_threshold=_bits(word, 16, 31),
            liquidation_bonus=_bits(word, 32, 47),
            decimals=_bits(word, 48, 55),
            active=bool(_bits(word, 56, 56)),
            frozen=bool(_bits(word, 57, 57)),
            borrowing_enabled=bool(_bits(word, 58, 58)),
            stable_borrowing_enabled=bool(_bits(word, 59, 59)),
            paused=bool(_bits(word, 60, 60)),
            borrowable_in_isolation=bool(_bits(word, 61, 61)),
            siloed_borrowing=bool(_bits(word, 62, 62)),
            flash_loan_enabled=bool(_bits(word, 63, 63)),
            reserve_factor=_bits(word, 64, 79),
            borrow_cap=_bits(word, 80, 115),
            supply_cap=_bits(word, 116, 151),
            liquidation_protocol_fee=_bits(word, 152, 167),
            emode_category=_bits(word, 168, 175),
            unbacked_mint_cap=_bits(word, 176, 211),
            debt_ceiling=_bits(word, 212, 251),
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (ints and bools)."""
        return asdict(self)


def _ids(word: int, offset: int, mask: int) -> list[int]:
    ids = []
    word >>= offset
    i = 0
    while word:
        if word & mask:
            ids.append(i)
        word >>= 2
        i += 1
    return ids


def borrowing_ids(user_config: int) -> list[int]:
    """Ids of the reserves a ``UserConfigurationMap`` marks as borrowed (bit ``2i``), ascending."""
    return _ids(user_config, 0, 1)


def collateral_ids(user_config: int) -> list[int]:
    """Ids of the reserves a ``UserConfigurationMap`` marks as collateral (bit ``2i + 1``), ascending."""
    return _ids(user_config, 1, 1)


def used_ids(user_config: int) -> list[int]:
    """Ids of the reserves the account borrows or uses as collateral, ascending."""
    return _ids(user_config, 0, 3)
