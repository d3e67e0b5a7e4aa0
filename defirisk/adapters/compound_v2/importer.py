"""Offline importer: the bundled Compound v2 dataset as a canonical ``MarketState``.

``import_compound_v2_dataset("2023-05-09" | "2023-03-27", price_time=None)`` builds one snapshot of
the Compound v2 Comptroller with every account of the dataset (29,369 / 29,296: accounts that ever
borrowed). It is an **offline snapshot without a block**: ``block_number``, ``block_hash`` and
``timestamp`` are ``None`` and the dates are inferred (see ``data/compound_v2_2023/README.md``).

Base currency: ETH (18 decimals), as the dataset's totals are in ETH; ``base_currency_usd`` is the ETH/USD
price of the chosen time.

Assets (one row per cToken, keyed by the cToken address): CF is both ``ltv`` and
``liquidation_threshold``; ``liquidation_bonus`` = incentive − 1 (0.08); ``protocol_fee`` expresses
Compound's "2.8 % of the seized cTokens go to reserves" as a share of the bonus, the canonical meaning:
``seizeShare · incentive / (incentive − 1)`` = 0.028 · 1.08 / 0.08 = 0.378 (the protocol keeps 3.024 %
of the repaid value, the liquidator nets 4.976 %). ``reserve_factor`` and caps are not in the data
(NaN). Compound-specific integers are in ``extra``: ``collateral_factor_mantissa``,
``exchange_rate_mantissa`` (``None`` where unknown), ``price_mantissa`` (``getUnderlyingPrice``
scale, 36 − decimals), plus ``underlying``, ``price_source``, ``subgraph_price_eth``.

Prices: with ``price_time=None`` the snapshot's own valuation (``valuation``): every account's
borrowing power then equals the dataset's ``total_collateral_value_in_eth`` (``crosscheck``), except
for holders of legacy cWBTC (valued at the one WBTC price, not the subgraph's stale one) and the two
accounts with negative subgraph balances. With a
time (inside the hourly file, 2023-02-24 13:00 … 2023-03-27 12:00 UTC), Binance closes at that hour
for the assets the file has; USD stablecoins without a candle at 1 USDT; the rest (YFI, REP, SAI,
FEI) keep the snapshot valuation. USDT is taken as USD. Amounts never depend on ``price_time``.

Positions (one row per account and market with a non-zero amount; ``collateral_enabled`` for every
supply — the dataset has no entered-market flag and its totals reproduce from all balances):

* collateral: ``collateral_raw = ⌊cTokenRaw · exchangeRateMantissa / 1e18⌋`` (``balanceOfUnderlying``
  on the stored rate). Markets without an exchange rate (cREP, cSAI, cTUSD, cUSDP, cFEI; all CF 0)
  get no collateral row: their cToken balances stay in ``accounts.extra["ctoken_balances"]`` and are
  counted in ``meta.market_params["unvalued_ctoken_balances"]``. The subgraph's two negative cToken
  balances (an impossible state; their accounts' totals are negative) count as no supply and are listed
  in ``meta.market_params["negative_ctoken_balances"]`` (account → cToken → whole cTokens).
* debt: ``stored_borrow_balance`` is the principal at the account's last interaction, without the
  interest accrued since (single-market borrowers owe a median ≈ 5 % more). Each account's debts are
  scaled by one factor ``s = total_borrow_value_in_eth / Σ stored · price`` (snapshot valuation
  prices, whatever ``price_time``) so the account's debt value
  is the subgraph's interest-accrued total; exact for single-market borrowers, an average accrual for
  the others. ``s`` is kept in ``accounts.extra["borrow_scale"]``.

The floats are not rounded to base units: ``collateral`` is ``cTokenRaw · exchangeRateMantissa /
10^(18 + decimals)`` (the Comptroller values cTokens, it never truncates the underlying amount) and
``debt`` is the scaled principal; ``collateral_raw`` / ``debt_raw`` are them in base units (truncated
/ rounded), so the twins differ by less than one base unit.

Precision of the raw integers: the Parquet stores float64. cToken raw balances are the float's
shortest decimal form × 1e8, which equals the subgraph's decimal string for all but 37 of 106,714 rows
(17–18 significant digits; off by a few 1e-8 cTokens). Exchange rates and prices are float estimates,
so ``collateral_raw``, ``debt_raw``, ``price_raw`` and the mantissas carry float64 precision
(~16 significant digits), not on-chain exactness.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd

from defirisk import __version__
from defirisk.adapters.compound_v2.dataset import (
    COMPTROLLER,
    check_snapshot,
    load_hourly_prices,
    load_markets,
    load_positions,
)
from defirisk.adapters.compound_v2.exponential import EXP_SCALE, to_mantissa
from defirisk.adapters.compound_v2.hourly import USD_STABLECOINS, USDT, closes_at, eth_price, parse_utc
from defirisk.adapters.compound_v2.reference import (
    CTOKEN_DECIMALS,
    PROTOCOL_SEIZE_SHARE_MANTISSA,
    oracle_price_mantissa,
)
from defirisk.adapters.compound_v2.valuation import (
    DEPRECATED,
    FIXED_PRICE_ETH,
    Valuation,
    snapshot_valuation,
    underlying_address,
)
from defirisk.errors import DataError
from defirisk.model import ASSET_COLUMNS, EMODE_COLUMNS, MarketState, SnapshotMeta, empty_frame

FAMILY = "compound-v2"
RULES_VERSION = "compound-v2"
BASE_DECIMALS = 18
EXP_SCALE_DIGITS = 18


def _scaled_int(value: float, decimals: int) -> int:
    """``value · 10^decimals`` from the float's shortest decimal form, rounded half-even."""
    return int(Decimal(repr(float(value))).scaleb(decimals).to_integral_value())


def _single_value(markets: pd.DataFrame, column: str) -> str:
    values = markets[column].astype(str).unique()
    if len(values) != 1:
        raise DataError(
            f"markets.csv: {column} differs between markets ({', '.join(values)}); the Comptroller has one"
        )
    return str(values[0])


def _prices_at_time(
    markets: pd.DataFrame, valuation: Valuation, price_time: str
) -> tuple[pd.Series, pd.Series, float, str]:
    when = parse_utc(price_time)
    closes = closes_at(load_hourly_prices(), when)
    eth_usdt = float(closes.get("ETH", np.nan))
    if not np.isfinite(eth_usdt):
        raise DataError(f"no ETH close near {when:%Y-%m-%dT%H:%MZ}")
    underlying = underlying_address(markets)
    price = valuation.price_eth.copy()
    source = pd.Series("", index=price.index, dtype=object)
    for ctoken in price.index:
        value = eth_price(underlying[ctoken], closes)
        if underlying[ctoken] == USDT:
            price[ctoken], source[ctoken] = value, "1 USDT (the quote)"
        elif value is not None:
            price[ctoken], source[ctoken] = value, "Binance 1h close"
        elif underlying[ctoken] in USD_STABLECOINS:
            price[ctoken], source[ctoken] = 1.0 / eth_usdt, "1 USDT (no candle)"
        else:
            source[ctoken] = f"snapshot valuation ({valuation.price_source[ctoken]})"
    label = f"{when:%Y-%m-%dT%H:%MZ}"
    return price, source, eth_usdt, label


def _assets(
    markets: pd.DataFrame,
    valuation: Valuation,
    price: pd.Series,
    source: pd.Series,
    eth_usd: float,
    incentive: Fraction,
) -> pd.DataFrame:
    m = markets.set_index("ctoken_address")
    underlying = underlying_address(markets)
    bonus = incentive - 1
    fee_share = Fraction(PROTOCOL_SEIZE_SHARE_MANTISSA, EXP_SCALE) * incentive / bonus
    rows = []
    for ctoken, row in m.iterrows():
        decimals = int(row["underlying_decimals"])
        if ctoken in FIXED_PRICE_ETH and price[ctoken] == float(FIXED_PRICE_ETH[ctoken]):
            price_raw = to_mantissa(FIXED_PRICE_ETH[ctoken])
        else:
            price_raw = _scaled_int(price[ctoken], BASE_DECIMALS)
        rate = valuation.exchange_rate[ctoken]
        cf = float(row["collateral_factor"])
        subgraph_price = valuation.subgraph_price_eth[ctoken]
        extra = {
            "ctoken": ctoken,
            "underlying": underlying[ctoken],
            "underlying_decimals": decimals,
            "ctoken_decimals": int(row["ctoken_decimals"]),
            "market_label": str(row["market_label"]),
            "collateral_factor_mantissa": to_mantissa(repr(cf)),
            "cf_confidence": str(row["cf_confidence"]),
            "exchange_rate_mantissa": None
            if np.isnan(rate)
            else _scaled_int(rate, 18 - CTOKEN_DECIMALS + decimals),
            "exchange_rate_source": str(valuation.exchange_rate_source[ctoken]),
            "price_mantissa": oracle_price_mantissa(price_raw, decimals, BASE_DECIMALS),
            "price_source": str(source[ctoken]),
            "subgraph_price_eth": None if np.isnan(subgraph_price) else float(subgraph_price),
            "is_deprecated": ctoken in DEPRECATED,
        }
        rows.append(
            {
                "market": COMPTROLLER,
                "asset": ctoken,
                "symbol": str(row["underlying_symbol"]),
                "name": str(row["market_label"]),
                "decimals": decimals,
                "price_raw": price_raw,
                "price": price_raw / 10**BASE_DECIMALS,
                "price_usd": price_raw / 10**BASE_DECIMALS * eth_usd,
                "ltv": cf,
                "liquidation_threshold": cf,
                "liquidation_bonus": float(bonus),
                "protocol_fee": float(fee_share),
                "reserve_factor": np.nan,
                "supply_cap": np.nan,
                "borrow_cap": np.nan,
                "debt_ceiling": 0.0,
                "is_isolated": False,
                "borrowable_in_isolation": False,
                "is_siloed": False,
                "usage_as_collateral_enabled": cf > 0,
                "borrowing_enabled": ctoken not in DEPRECATED,
                "is_active": True,
                "is_frozen": False,
                "is_paused": False,
                "emode_category": 0,
                "extra": extra,
            }
        )
    frame = pd.DataFrame(rows, columns=list(ASSET_COLUMNS))
    frame["price_raw"] = pd.Series([row["price_raw"] for row in rows], dtype=object)
    return frame


def _positions_and_accounts(
    markets: pd.DataFrame, raw: pd.DataFrame, valuation: Valuation
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    m = markets.set_index("ctoken_address")
    ctoken = raw["ctoken_address"]
    if not ctoken.isin(m.index).all():
        raise DataError(
            f"positions name cToken(s) missing from markets.csv: {sorted(set(ctoken) - set(m.index))[:3]}"
        )
    decimals = ctoken.map(m["underlying_decimals"]).astype(int).to_numpy()
    rates = {
        c: (
            None
            if np.isnan(r)
            else _scaled_int(r, 18 - CTOKEN_DECIMALS + int(m.at[c, "underlying_decimals"]))
        )
        for c, r in valuation.exchange_rate.items()
    }

    # The subgraph carries a few negative cToken balances (impossible on chain): they count as none.
    balance = raw["ctoken_balance"].to_numpy(dtype=np.float64)
    ctoken_raw = [_scaled_int(b, CTOKEN_DECIMALS) if b > 0 else 0 for b in balance]
    negative: dict[str, dict[str, float]] = {}
    for a, c, b in zip(raw["account"][balance < 0], ctoken[balance < 0], balance[balance < 0], strict=True):
        negative.setdefault(str(a), {})[str(c)] = float(b)
    collateral_raw = [
        b * rates[c] // EXP_SCALE if b and rates[c] is not None else 0
        for b, c in zip(ctoken_raw, ctoken, strict=True)
    ]

    stored = raw["stored_borrow_balance"].to_numpy(dtype=np.float64)
    stored_value = stored * ctoken.map(valuation.price_eth).to_numpy(dtype=np.float64)
    per_account = (
        pd.DataFrame({"account": raw["account"], "value": stored_value})
        .groupby("account", sort=False)["value"]
        .sum()
    )
    totals = raw.groupby("account", sort=False)[
        ["total_borrow_value_in_eth", "total_collateral_value_in_eth"]
    ].first()
    scale = (totals["total_borrow_value_in_eth"] / per_account.where(per_account > 0)).fillna(1.0)
    debt_whole = stored * raw["account"].map(scale).to_numpy(dtype=np.float64)
    debt_raw = [_scaled_int(d, int(p)) if d else 0 for d, p in zip(debt_whole, decimals, strict=True)]

    collateral = [
        b * rates[c] / 10 ** (EXP_SCALE_DIGITS + int(d)) if b and rates[c] is not None else 0.0
        for b, c, d in zip(ctoken_raw, ctoken, decimals, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "market": COMPTROLLER,
            "account": raw["account"].to_numpy(dtype=object),
            "asset": ctoken.to_numpy(dtype=object),
            "collateral_raw": pd.Series(collateral_raw, dtype=object),
            "collateral": collateral,
            "debt_raw": pd.Series(debt_raw, dtype=object),
            "debt": debt_whole,
            "collateral_enabled": [c > 0 for c in collateral],
        }
    )
    keep = [(c > 0 or d > 0) for c, d in zip(collateral, debt_whole, strict=True)]
    positions = frame[keep].reset_index(drop=True)

    balances: dict[str, dict[str, int]] = {}
    unvalued: dict[str, dict[str, float | int]] = {}
    for account, market, amount in zip(raw["account"], ctoken, ctoken_raw, strict=True):
        if amount:
            balances.setdefault(account, {})[market] = amount
            if rates[market] is None:
                entry = unvalued.setdefault(market, {"rows": 0, "ctokens": 0.0})
                entry["rows"] += 1
                entry["ctokens"] += amount / 10**CTOKEN_DECIMALS
    accounts = pd.DataFrame(
        {
            "market": COMPTROLLER,
            "account": totals.index.to_numpy(dtype=object),
            "emode_category": 0,
            "extra": [
                {
                    "ctoken_balances": balances.get(a, {}),
                    "subgraph_total_collateral_eth": float(tc),
                    "subgraph_total_borrow_eth": float(tb),
                    "borrow_scale": float(s),
                }
                for a, tc, tb, s in zip(
                    totals.index,
                    totals["total_collateral_value_in_eth"],
                    totals["total_borrow_value_in_eth"],
                    scale.reindex(totals.index),
                    strict=True,
                )
            ],
        }
    )
    borrowers = scale[per_account.reindex(scale.index) > 0]
    stats = {
        "unvalued_ctoken_balances": unvalued,
        "negative_ctoken_balances": negative,
        "borrow_scale_quantiles": {
            q: float(borrowers.quantile(float(q))) for q in ("0.0", "0.01", "0.5", "0.99", "1.0")
        },
    }
    return positions, accounts, stats


def import_compound_v2_dataset(which: str, price_time: str | None = None) -> MarketState:
    """The bundled snapshot ``which`` ("2023-05-09" or "2023-03-27") as a canonical ``MarketState``.

    ``price_time`` (ISO-8601 UTC, within the hourly price file) reprices the assets at that hour;
    ``None`` keeps the snapshot's own valuation. Raises ``InvalidParameter`` for an unknown snapshot
    or a time outside the price file, ``DataError`` when the bundled files are missing or inconsistent.
    """
    _, k_column = check_snapshot(which)
    markets = load_markets()
    raw = load_positions(which)
    valuation = snapshot_valuation(markets, raw, k_column)
    if price_time is None:
        price, source, eth_usd = valuation.price_eth, valuation.price_source, valuation.eth_usd
        time_label = None
        price_summary = (
            "snapshot valuation implied by the dataset's collateral totals (k / (exchange rate · CF)); "
            "USD peg for USDT/TUSD/USDP, fixed oracle price for SAI, borrow-implied for REP/FEI; "
            "ETH/USD from USDC = 1 USD"
        )
    else:
        price, source, eth_usd, time_label = _prices_at_time(markets, valuation, price_time)
        price_summary = (
            f"Binance <SYM>USDT 1h closes at {time_label} (USDT taken as USD; prices_hourly.csv), "
            "USD stablecoins without a candle at 1 USDT, other assets at the snapshot valuation"
        )
    incentive_text = _single_value(markets, "liquidation_incentive")
    close_factor = _single_value(markets, "close_factor")
    incentive = Fraction(incentive_text)
    assets = _assets(markets, valuation, price, source, eth_usd, incentive)
    positions, accounts, stats = _positions_and_accounts(markets, raw, valuation)
    meta = SnapshotMeta(
        deployment=f"compound-v2-ethereum-dataset-{which}",
        family=FAMILY,
        chain_id=1,
        block_number=None,
        block_hash=None,
        timestamp=None,
        adapter_version=f"compound-v2-dataset-importer {__version__}",
        price_source=price_summary,
        base_currency="ETH",
        base_currency_decimals=BASE_DECIMALS,
        base_currency_usd=float(eth_usd),
        rules_version=RULES_VERSION,
        label=f"Compound v2 Ethereum, bundled dataset ≈{which} (offline)",
        offline=True,
        market_params={
            "comptroller": COMPTROLLER,
            "close_factor_mantissa": to_mantissa(close_factor),
            "liquidation_incentive_mantissa": to_mantissa(incentive_text),
            "protocol_seize_share_mantissa": PROTOCOL_SEIZE_SHARE_MANTISSA,
            "unconfirmed": {
                "close_factor": True,
                "liquidation_incentive": True,
                "collateral_factors": sorted(
                    str(c) for c in markets.loc[markets["cf_confidence"] != "high", "ctoken_address"]
                ),
            },
            "snapshot": which,
            "price_time": time_label,
            **stats,
        },
        note=(
            f"Offline snapshot of the bundled Compound v2 dataset (The Graph compound-v2 subgraph via "
            f"rtuchman/compound-risk-optimization), no block number; its date ≈{which} is inferred from "
            "the data, exchange rates are estimated, some collateral factors and the liquidation "
            "parameters are unconfirmed for 2023 (see data/compound_v2_2023/README.md)."
        ),
    )
    state = MarketState(meta, assets, empty_frame(EMODE_COLUMNS), accounts, positions)
    state.validate()
    return state
