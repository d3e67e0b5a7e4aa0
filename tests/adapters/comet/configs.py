"""The real Comet configurations of ``data/compound_v3/comet_params.csv`` as exact integers.

``asset_info(row, offset)`` is what ``getAssetInfo(offset)`` returns for a collateral deployed with the
row's configuration: the constructor keeps each factor with four decimals (``factor // 1e14``, read
back × 1e14) and the supply cap in whole tokens (``cap // 10**decimals``, read back × ``10**decimals``).
Rows whose price feed the deployment script deploys itself have no feed address in the configuration;
their ``price_feed`` is the zero address here.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from functools import cache

from defirisk.adapters.comet.maths import FACTOR_DESCALE, FACTOR_SCALE, SECONDS_PER_YEAR
from defirisk.adapters.comet.structs import AssetInfo, RateModel
from defirisk.paths import data_dir

ZERO_ADDRESS = "0x" + "00" * 20


@cache
def rows() -> tuple[dict[str, str], ...]:
    """Every row of the CSV, in file order."""
    with open(data_dir() / "compound_v3" / "comet_params.csv", newline="", encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


def markets() -> dict[tuple[str, str], list[dict[str, str]]]:
    """Rows grouped by (chain, market), in file order (a market's offsets here follow that order)."""
    grouped: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for row in rows():
        grouped[(row["chain"], row["market"])].append(row)
    return dict(grouped)


def exact(text: str) -> Decimal:
    """A configuration number (``"7_500e18"``, ``"0.825"``) as an exact Decimal."""
    return Decimal(text.replace("_", ""))


def factor(text: str) -> int:
    """A configured fraction as the 1e18 integer the deployment passes to the constructor."""
    value = exact(text) * FACTOR_SCALE
    assert value == value.to_integral_value(), text
    return int(value)


def supply_cap(row: dict[str, str]) -> int:
    """The configured supply cap in token base units (exact, from the configuration's text)."""
    value = exact(row["supply_cap_config"])
    assert value == value.to_integral_value(), row["supply_cap_config"]
    return int(value)


def asset_info(row: dict[str, str], offset: int) -> AssetInfo:
    """``getAssetInfo(offset)`` for a collateral configured as ``row`` (see the module docstring)."""
    scale = 10 ** int(row["asset_decimals"])
    return AssetInfo(
        offset=offset,
        asset=row["asset_address"].lower(),
        price_feed=(row["price_feed"] or ZERO_ADDRESS).lower(),
        scale=scale,
        borrow_collateral_factor=factor(row["borrow_cf"]) // FACTOR_DESCALE * FACTOR_DESCALE,
        liquidate_collateral_factor=factor(row["liquidate_cf"]) // FACTOR_DESCALE * FACTOR_DESCALE,
        liquidation_factor=factor(row["liquidation_factor"]) // FACTOR_DESCALE * FACTOR_DESCALE,
        supply_cap=supply_cap(row) // scale * scale,
    )


def per_second(text: str) -> int:
    """A configured per-year rate as the constructor stores it: ``perYear · 1e18 // SECONDS_PER_YEAR``."""
    return int(exact(text) * FACTOR_SCALE) // SECONDS_PER_YEAR


def rate_model(row: dict[str, str]) -> RateModel:
    """The per-second rate model the constructor derives from the row's configured curve."""
    return RateModel(
        supply_kink=factor(row["supply_kink"]),
        supply_slope_low=per_second(row["supply_slope_low"]),
        supply_slope_high=per_second(row["supply_slope_high"]),
        supply_base=per_second(row["supply_base"]),
        borrow_kink=factor(row["borrow_kink"]),
        borrow_slope_low=per_second(row["borrow_slope_low"]),
        borrow_slope_high=per_second(row["borrow_slope_high"]),
        borrow_base=per_second(row["borrow_base"]),
    )
