"""Integer reference of Aave v3's account maths (``GenericLogic.calculateUserAccountData``).

Slow and obviously correct: Python ints, the contracts' own operation order and rounding. The
snapshot's Pool revision (``meta.market_params["pool_revision"]``) picks the generation
(``revisions``). v3.0 (revisions 1–4): for each reserve the account uses, with
``unit = 10**decimals`` and the price in base-currency units (the e-mode price source's when the
account's e-mode matches the reserve's and the source is set)::

    collateral_i = balance_i · price_i // unit            (only if used as collateral and LT_i ≠ 0)
    debt_i       = (variable_i + stable_i) · price_i // unit
    avgLT        = Σ collateral_i · LT_i // Σ collateral_i   (bps; e-mode LT for e-mode assets)
    HF           = percentMul(Σ collateral_i, avgLT) · WAD / Σ debt_i   (wadDiv, half up; 2²⁵⁶−1 without debt)

v3.2 and later: "in e-mode" means the reserve is on the collateral bitmap of the account's
category (``extra["emode_collateral"]`` of the asset row); the oracle prices everything::

    v3.2–3.4  counts if LT_i ≠ 0;  LTV_i = (e-mode or own LTV) if own LTV ≠ 0 else 0
              debt_i = debt · price // unit;  HF = wadDiv(percentMul(C, avgLT), D);  avail = percentMul(C, avgLTV) − D
    v3.5      as v3.2 but debt_i = ⌈debt · price / unit⌉;  HF = wadDiv(Σ collateral_i · LT_i, D) // 10⁴;
              avail = percentMulFloor(C, avgLTV) − D
    v3.6      as v3.5 but every enabled collateral counts (LT_i may be 0) and LTV_i is the e-mode LTV
              for members (0 on the ltvzero bitmap) whatever the own LTV, else the own LTV

``balance_i`` is the aToken balance as the Pool computes it at the block (scaled balance times the
normalized income, rounded as the revision rounds), which is what the snapshot stores as
``collateral_raw``; ``debt_raw`` is variable + stable debt, likewise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from defirisk.adapters.aave_v3.revisions import V30, V32, V36, maths_of, mul_div_ceil, percent_mul_floor
from defirisk.model import MarketState
from defirisk.units import UINT256_MAX, percent_mul, wad_div


@dataclass(frozen=True)
class AccountData:
    """The six values of ``Pool.getUserAccountData``: base-currency units, bps and WAD."""

    total_collateral_base: int
    total_debt_base: int
    available_borrows_base: int
    current_liquidation_threshold: int
    ltv: int
    health_factor: int

    def as_tuple(self) -> tuple[int, int, int, int, int, int]:
        return (
            self.total_collateral_base,
            self.total_debt_base,
            self.available_borrows_base,
            self.current_liquidation_threshold,
            self.ltv,
            self.health_factor,
        )


def bps(fraction: float) -> int:
    """A fraction stored in the canonical model back to the contracts' basis points."""
    return round(fraction * 10_000)


@dataclass(frozen=True)
class _Reserve:
    decimals: int
    price: int
    ltv: int
    lt: int
    emode: int
    emode_collateral: frozenset[int] = frozenset()
    emode_ltv_zero: frozenset[int] = frozenset()


def _categories(extra: object, key: str) -> frozenset[int]:
    return frozenset(extra.get(key, ())) if isinstance(extra, dict) else frozenset()


class AaveReference:
    """Recomputes ``getUserAccountData`` for accounts of one Aave v3 ``MarketState``.

    ``prices`` overrides oracle answers (asset address → base-currency units), for scenarios;
    ``emode_prices`` overrides e-mode price-source answers (category → base-currency units).
    """

    def __init__(
        self,
        state: MarketState,
        prices: Mapping[str, int] | None = None,
        emode_prices: Mapping[int, int] | None = None,
    ) -> None:
        prices = prices or {}
        emode_prices = emode_prices or {}
        self.maths = maths_of(state.meta.market_params)
        self._reserves: dict[tuple[str, str], _Reserve] = {}
        for row in state.assets.itertuples(index=False):
            self._reserves[(row.market, row.asset)] = _Reserve(
                decimals=int(row.decimals),
                price=int(prices.get(row.asset, row.price_raw)),
                ltv=bps(row.ltv),
                lt=bps(row.liquidation_threshold),
                emode=int(row.emode_category),
                emode_collateral=_categories(row.extra, "emode_collateral"),
                emode_ltv_zero=_categories(row.extra, "emode_ltv_zero"),
            )
        self._emodes: dict[tuple[str, int], tuple[int, int, int]] = {}
        for row in state.emodes.itertuples(index=False):
            cat = int(row.category)
            source_price = emode_prices.get(cat, row.price_raw if row.price_source else None)
            self._emodes[(row.market, cat)] = (
                bps(row.ltv),
                bps(row.liquidation_threshold),
                int(source_price) if source_price else 0,
            )
        self._emode_of = {
            (row.market, row.account): int(row.emode_category) for row in state.accounts.itertuples(index=False)
        }
        self._positions: dict[tuple[str, str], list[tuple[str, int, int, bool]]] = {}
        for row in state.positions.itertuples(index=False):
            self._positions.setdefault((row.market, row.account), []).append(
                (row.asset, int(row.collateral_raw), int(row.debt_raw), bool(row.collateral_enabled))
            )

    def account_data(self, market: str, account: str) -> AccountData:
        """The reference ``getUserAccountData`` of one account."""
        if self.maths == V30:
            return self._account_data_v30(market, account)
        return self._account_data_bitmaps(market, account)

    def _account_data_v30(self, market: str, account: str) -> AccountData:
        user_emode = self._emode_of.get((market, account), 0)
        emode_ltv, emode_lt, emode_price = self._emodes.get((market, user_emode), (0, 0, 0))
        total_collateral = total_debt = avg_ltv = avg_lt = 0
        for asset, balance, debt, enabled in self._positions.get((market, account), []):
            reserve = self._reserves[(market, asset)]
            in_emode = user_emode != 0 and reserve.emode == user_emode
            price = emode_price if (in_emode and emode_price != 0) else reserve.price
            # GenericLogic tests the reserve's own threshold and LTV, then weights with e-mode's.
            ltv, lt = (emode_ltv, emode_lt) if in_emode else (reserve.ltv, reserve.lt)
            unit = 10**reserve.decimals
            if reserve.lt != 0 and enabled and balance != 0:
                value = balance * price // unit
                total_collateral += value
                if reserve.ltv != 0:
                    avg_ltv += value * ltv
                avg_lt += value * lt
            if debt != 0:
                total_debt += debt * price // unit
        avg_ltv = avg_ltv // total_collateral if total_collateral else 0
        avg_lt = avg_lt // total_collateral if total_collateral else 0
        if total_debt == 0:
            hf = UINT256_MAX
        else:
            hf = wad_div(percent_mul(total_collateral, avg_lt), total_debt)
        borrowable = percent_mul(total_collateral, avg_ltv)
        available = borrowable - total_debt if borrowable > total_debt else 0
        return AccountData(total_collateral, total_debt, available, avg_lt, avg_ltv, hf)

    def _account_data_bitmaps(self, market: str, account: str) -> AccountData:
        """v3.2, v3.5 and v3.6 (see the module docstring)."""
        category = self._emode_of.get((market, account), 0)
        emode_ltv, emode_lt, _ = self._emodes.get((market, category), (0, 0, 0))
        v32, v36 = self.maths == V32, self.maths == V36
        total_collateral = total_debt = sum_ltv = sum_lt = 0
        for asset, balance, debt, enabled in self._positions.get((market, account), []):
            reserve = self._reserves[(market, asset)]
            in_emode = category != 0 and category in reserve.emode_collateral
            unit = 10**reserve.decimals
            if enabled and (v36 or reserve.lt != 0):
                value = balance * reserve.price // unit
                total_collateral += value
                if v36:
                    ltv = (0 if category in reserve.emode_ltv_zero else emode_ltv) if in_emode else reserve.ltv
                else:
                    ltv = (emode_ltv if in_emode else reserve.ltv) if reserve.ltv != 0 else 0
                sum_ltv += value * ltv
                sum_lt += value * (emode_lt if in_emode else reserve.lt)
            if debt != 0:
                total_debt += debt * reserve.price // unit if v32 else mul_div_ceil(debt, reserve.price, unit)
        avg_ltv = sum_ltv // total_collateral if total_collateral else 0
        avg_lt = sum_lt // total_collateral if total_collateral else 0
        if total_debt == 0:
            hf = UINT256_MAX
        elif v32:
            hf = wad_div(percent_mul(total_collateral, avg_lt), total_debt)
        else:
            hf = wad_div(sum_lt, total_debt) // 10_000
        borrowable = percent_mul(total_collateral, avg_ltv) if v32 else percent_mul_floor(total_collateral, avg_ltv)
        available = borrowable - total_debt if borrowable > total_debt else 0
        return AccountData(total_collateral, total_debt, available, avg_lt, avg_ltv, hf)

    def all_accounts(self) -> pd.DataFrame:
        """Reference values for every account (columns: market, account and the six fields)."""
        rows = []
        for market, account in self._emode_of:
            data = self.account_data(market, account)
            rows.append((market, account, *data.as_tuple()))
        return pd.DataFrame(
            rows,
            columns=[
                "market",
                "account",
                "total_collateral_base",
                "total_debt_base",
                "available_borrows_base",
                "current_liquidation_threshold",
                "ltv",
                "health_factor",
            ],
        )
