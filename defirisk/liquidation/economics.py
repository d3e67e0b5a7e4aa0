"""Liquidator economics: whether a liquidation pays, and the defaults derived from real transactions.

Profit of one liquidation call, in USD::

    bonus     = value received − value repaid          (the bonus net of the protocol fee)
    slippage  = cost of selling the received collateral for the debt asset (liquidity curve)
    gas       = gas_units · gas_price · ETH price      (gas_price: the base fee, burned)
    surplus   = bonus − slippage − gas
    builder   = builder_share · max(surplus, 0)        (builder_share_of = "surplus", the default)
              = builder_share · bonus                  (builder_share_of = "bonus")
    profit    = surplus − builder

A call happens only when ``profit > 0``. With the default "surplus" base the builder's share (MEV
bribe, priority fee) lowers the liquidator's profit but never stops a liquidation: a searcher bids up to
its surplus in a competitive auction. The "bonus" base models a fixed cut of the bonus, which does.

Defaults come from ``data/liquidations/`` (see its README) through ``derive_defaults``:

* ``gas_units`` — median ``gas_used`` of the real liquidation transactions in
  ``liquidation_receipts.csv`` (successful, with usable gas fields; one per transaction). Real
  liquidations also borrow and swap, so this exceeds a bare ``liquidationCall``, whose Aave v3 gas
  (median of the ``aave_v3_liquidation_gas.csv`` scenarios at the newest ref) is reported beside it.
* ``gas_price_gwei`` — median base fee of the same transactions (2021 blocks: a congested-market
  figure, fitting for stress; override it for today's or an L2's gas).
* ``builder_share`` — median over Aave liquidations whose bonus can be valued in ETH (the collateral
  is WETH/ETH, or the debt is WETH) and whose surplus is positive, of
  ``(coinbase transfer + priority fee · gas_used) / (bonus − base fee · gas_used)``. The bonus rates
  are in ``aave_v2_bonus.csv``; the share of the bonus alone is reported as ``builder_share_of_bonus``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from defirisk.errors import DataError, InvalidParameter
from defirisk.model import FloatArray
from defirisk.paths import data_dir

GWEI = 1e-9
WEI = 1e-18
BUILDER_BASES = ("surplus", "bonus")

#: The placeholder address protocols use for native ether (Compound v2's cETH underlying).
NATIVE_ETHER = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"

#: Wrapped ether on the chains Aave v3 runs on (lower-case); the feed pricing gas.
WETH_ADDRESSES = frozenset(
    {
        "0xc02aaa39b223fe8d0a0e5c4f27ead9083c756cc2",  # Ethereum
        "0x82af49447d8a07e3bd95bd0d56f35241523fbab1",  # Arbitrum One
        "0x4200000000000000000000000000000000000006",  # Optimism, Base
        "0x7ceb23fd6bc0add59e62ac25578270cff1b9f619",  # Polygon PoS
    }
)


@dataclass(frozen=True)
class Economics:
    """Liquidator cost parameters (see the module docstring); every field overridable.

    ``eth_price_usd`` None means: take ETH's price from the snapshot's WETH feed, moving with it
    along each path. ``sources`` says where each value came from.
    """

    gas_units: float
    gas_price_gwei: float
    builder_share: float
    builder_share_of: str = "surplus"
    eth_price_usd: float | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.gas_units) and self.gas_units >= 0):
            raise InvalidParameter(f"gas units must be ≥ 0, got {self.gas_units}")
        if not (math.isfinite(self.gas_price_gwei) and self.gas_price_gwei >= 0):
            raise InvalidParameter(f"gas price must be ≥ 0 gwei, got {self.gas_price_gwei}")
        if not 0 <= self.builder_share < 1:
            raise InvalidParameter(f"builder share must be in [0, 1), got {self.builder_share}")
        if self.builder_share_of not in BUILDER_BASES:
            raise InvalidParameter(f"builder share base must be one of {BUILDER_BASES}, got {self.builder_share_of!r}")
        if self.eth_price_usd is not None and not self.eth_price_usd > 0:
            raise InvalidParameter(f"ETH price must be > 0, got {self.eth_price_usd}")

    def with_overrides(self, **changes: Any) -> Economics:
        """A copy with ``changes`` applied (None values ignored), their source marked "override"."""
        changes = {k: v for k, v in changes.items() if v is not None}
        unknown = set(changes) - {f for f in self.__dataclass_fields__ if f != "sources"}
        if unknown:
            raise InvalidParameter(f"unknown economics parameters: {sorted(unknown)}")
        sources = {**self.sources, **{k: "override" for k in changes}}
        return replace(self, **changes, sources=sources)

    @property
    def bonus_kept(self) -> float:
        """Share of each bonus dollar the liquidator keeps at the margin (1 − share on the "bonus" base)."""
        return 1.0 - self.builder_share if self.builder_share_of == "bonus" else 1.0

    def gas_usd(self, eth_usd: FloatArray | float) -> FloatArray:
        """Gas cost of one call in USD, for an ETH price in USD (any shape)."""
        return np.asarray(eth_usd, dtype=np.float64) * (self.gas_units * self.gas_price_gwei * GWEI)

    def profit(self, bonus: FloatArray, slippage: FloatArray, gas: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``(profit, builder payment)`` in USD for arrays of one shape."""
        surplus = np.asarray(bonus) - slippage - gas
        if self.builder_share_of == "surplus":
            builder = self.builder_share * np.maximum(surplus, 0.0)
        else:
            builder = self.builder_share * np.maximum(np.asarray(bonus, dtype=np.float64), 0.0)
        return surplus - builder, builder

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DerivedDefaults:
    """The figures ``derive_defaults`` computes, with the transactions behind them."""

    gas_units: float
    gas_price_gwei: float
    builder_share: float
    builder_share_of_bonus: float
    liquidation_call_gas: float
    liquidation_call_ref: str
    transactions: list[dict[str, Any]]
    builder_transactions: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read_csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise DataError(f"missing bundled data file {path}") from None


def _builder_rows(receipts: pd.DataFrame, bonus: dict[str, float]) -> list[dict[str, Any]]:
    """Per Aave transaction: bonus in ETH, surplus after the base fee, payment to the builder."""
    weth = WETH_ADDRESSES | {"ETH_TOKEN_ADDRESS"}
    rows = []
    for tx, group in receipts[receipts["protocol"] == "aave"].groupby("transaction_hash", sort=False):
        bonus_eth = 0.0
        for r in group.itertuples(index=False):
            received = r.received_token_address.lower() if r.received_token_address.startswith("0x") else r.received_token_address
            rate = bonus.get(received)
            if rate is None:
                break
            if received in weth:
                bonus_eth += int(r.received_amount_raw) * WEI * rate / (1 + rate)
            elif r.debt_token_address.lower() in weth:
                bonus_eth += int(r.debt_purchase_amount_raw) * WEI * rate
            else:
                break
        else:
            first = group.iloc[0]
            gas_used = int(first["gas_used"])
            base_cost = gas_used * int(first["base_fee_per_gas_wei"]) * WEI
            paid = (int(first["coinbase_transfer_wei"]) + gas_used * int(first["priority_fee_per_gas_wei"])) * WEI
            surplus = bonus_eth - base_cost
            rows.append(
                {
                    "transaction_hash": tx,
                    "block_number": int(first["block_number"]),
                    "bonus_eth": bonus_eth,
                    "base_fee_cost_eth": base_cost,
                    "builder_payment_eth": paid,
                    "surplus_eth": surplus,
                    "share_of_surplus": paid / surplus if surplus > 0 else None,
                    "share_of_bonus": paid / bonus_eth,
                }
            )
    return rows


def derive_defaults(folder: Path | None = None) -> DerivedDefaults:
    """Compute the default economics from the liquidation data (see the module docstring)."""
    folder = folder or data_dir() / "liquidations"
    receipts = _read_csv(folder / "liquidation_receipts.csv")
    usable = receipts[(receipts["gas_fields_usable"] == "True") & (receipts["liquidation_succeeded"] == "True")]
    if usable.empty:
        raise DataError(f"{folder}: no successful liquidation with usable gas fields")
    per_tx = usable.drop_duplicates("transaction_hash")
    transactions = [
        {
            "transaction_hash": r.transaction_hash,
            "protocol": r.protocol,
            "gas_used": int(r.gas_used),
            "base_fee_gwei": int(r.base_fee_per_gas_wei) * GWEI,
        }
        for r in per_tx.itertuples(index=False)
    ]
    bonus_table = _read_csv(folder / "aave_v2_bonus.csv")
    bonus = {r.token_address: float(r.liquidation_bonus) for r in bonus_table.itertuples(index=False)}
    builder = _builder_rows(usable, bonus)
    shares = [r["share_of_surplus"] for r in builder if r["share_of_surplus"] is not None]
    if not shares:
        raise DataError(f"{folder}: no Aave liquidation with a valued bonus and a positive surplus")
    gas = _read_csv(folder / "aave_v3_liquidation_gas.csv")
    calls = gas[gas["operation"] == "liquidationCall"].drop_duplicates(["ref", "scenario"])
    newest = calls[calls["commit_date"] == calls["commit_date"].max()]
    return DerivedDefaults(
        gas_units=float(np.median([t["gas_used"] for t in transactions])),
        gas_price_gwei=float(np.median([t["base_fee_gwei"] for t in transactions])),
        builder_share=float(np.median(shares)),
        builder_share_of_bonus=float(np.median([r["share_of_bonus"] for r in builder if r["share_of_surplus"] is not None])),
        liquidation_call_gas=float(np.median(newest["gas"].astype(int))),
        liquidation_call_ref=str(newest["ref"].iloc[0]),
        transactions=transactions,
        builder_transactions=builder,
    )


def default_economics() -> Economics:
    """Economics with every default derived from ``data/liquidations/``."""
    d = derive_defaults()
    where = "data/liquidations"
    return Economics(
        gas_units=d.gas_units,
        gas_price_gwei=d.gas_price_gwei,
        builder_share=d.builder_share,
        sources={
            "gas_units": f"{where}/liquidation_receipts.csv: median gas_used of {len(d.transactions)} liquidation txs",
            "gas_price_gwei": f"{where}/liquidation_receipts.csv: median base fee of the same txs (2021)",
            "builder_share": (
                f"{where}/liquidation_receipts.csv + aave_v2_bonus.csv: median builder payment / surplus "
                f"of {sum(r['share_of_surplus'] is not None for r in d.builder_transactions)} Aave liquidations"
            ),
            "eth_price_usd": "the snapshot's WETH feed",
        },
    )
