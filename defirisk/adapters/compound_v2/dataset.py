"""The bundled Compound v2 dataset (``data/compound_v2_2023/``): file locations and checked loading.

Nothing here interprets the data; ``importer`` turns it into a canonical snapshot. See the folder's
README for provenance, licence, the inferred snapshot dates and the caveats.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from defirisk.errors import DataError, InvalidParameter
from defirisk.paths import data_dir

#: The Compound v2 Comptroller (Unitroller) on Ethereum: the dataset's one market.
COMPTROLLER = "0x3d9819210a31b4961b30ef54be2aed79b9c9cd3b"
#: Conventional address for native ETH (the underlying of cETH has no token contract).
NATIVE_ETH = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

#: Snapshot name → (positions file, column of ``markets.csv`` holding its k coefficients).
SNAPSHOTS: dict[str, tuple[str, str]] = {
    "2023-05-09": ("positions.parquet", "k_collateral_eth_per_ctoken_2023_05_09"),
    "2023-03-27": ("positions_2023-03-27.parquet", "k_collateral_eth_per_ctoken_2023_03_27"),
}

_MARKET_COLUMNS = (
    "ctoken_address",
    "market_label",
    "underlying_symbol",
    "underlying_address",
    "underlying_decimals",
    "ctoken_decimals",
    "collateral_factor",
    "cf_confidence",
    "liquidation_incentive",
    "close_factor",
    "exchange_rate_est",
    "exchange_rate_status",
    *(column for _, column in SNAPSHOTS.values()),
)
_POSITION_COLUMNS = (
    "account",
    "ctoken_address",
    "ctoken_balance",
    "stored_borrow_balance",
    "total_borrow_value_in_eth",
    "total_collateral_value_in_eth",
)


def dataset_dir() -> Path:
    """The folder of the bundled Compound v2 dataset."""
    return data_dir() / "compound_v2_2023"


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DataError(f"bundled Compound v2 data missing: {path}")
    return path


def _check_columns(frame: pd.DataFrame, needed: tuple[str, ...], path: Path) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(f"{path.name} lacks column(s) {', '.join(missing)}")


def snapshot_names() -> list[str]:
    """The dataset's snapshots, by inferred date."""
    return sorted(SNAPSHOTS)


def check_snapshot(which: str) -> tuple[str, str]:
    """(positions file name, k column) of snapshot ``which``; ``InvalidParameter`` if unknown."""
    try:
        return SNAPSHOTS[which]
    except KeyError:
        raise InvalidParameter(
            f"unknown Compound v2 snapshot {which!r}; choose {' or '.join(snapshot_names())}"
        ) from None


def load_markets() -> pd.DataFrame:
    """``markets.csv``: one row per cToken market (19), addresses lower-case."""
    path = _require(dataset_dir() / "markets.csv")
    frame = pd.read_csv(path, dtype={"underlying_address": str, "ctoken_address": str})
    _check_columns(frame, _MARKET_COLUMNS, path)
    frame["ctoken_address"] = frame["ctoken_address"].str.lower()
    if frame["ctoken_address"].duplicated().any():
        raise DataError(f"{path.name} lists a cToken twice")
    return frame


def load_positions(which: str) -> pd.DataFrame:
    """The positions of snapshot ``which``: one row per (account, cToken), float64 amounts."""
    name, _ = check_snapshot(which)
    path = _require(dataset_dir() / name)
    frame = pd.read_parquet(path, columns=list(_POSITION_COLUMNS))
    _check_columns(frame, _POSITION_COLUMNS, path)
    frame["account"] = frame["account"].astype(str).str.lower()
    frame["ctoken_address"] = frame["ctoken_address"].astype(str).str.lower()
    if frame.duplicated(["account", "ctoken_address"]).any():
        raise DataError(f"{path.name} has two rows for one (account, cToken)")
    return frame


def load_hourly_prices() -> pd.DataFrame:
    """``prices_hourly.csv`` as a wide table: index = candle close time (UTC), one column per symbol,
    values = Binance ``<SYM>USDT`` 1 h close in USDT (NaN where the symbol has no candle)."""
    path = _require(dataset_dir() / "prices_hourly.csv")
    frame = pd.read_csv(path, usecols=["timestamp_utc", "symbol", "price_usd", "quote"])
    if set(frame["quote"]) != {"USDT"}:
        raise DataError(f"{path.name}: expected USDT quotes only")
    frame["timestamp_utc"] = pd.to_datetime(frame["timestamp_utc"], utc=True)
    if frame.duplicated(["timestamp_utc", "symbol"]).any():
        raise DataError(f"{path.name} has two prices for one (time, symbol)")
    return frame.pivot(index="timestamp_utc", columns="symbol", values="price_usd").sort_index()
