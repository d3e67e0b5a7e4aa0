"""A Comptroller and its account reads as canonical tables (pure).

Mapping (the importer's choices, so the family object and the reference serve both):

* one asset row per cToken market, keyed by the cToken; symbol, name and decimals are the
  underlying's, verbatim (the cToken's own are in ``extra``); a native-currency market (cETH, vBNB)
  has the underlying ``discovery.NATIVE`` and the chain's currency symbol;
* base currency USD with 18 decimals (Compound's and Venus's oracles answer USD):
  ``price_raw = getUnderlyingPrice · 10^decimals / 1e18`` (USD per whole token · 1e18, truncated when
  the oracle carries more digits; the exact answer is ``extra["price_mantissa"]``);
* ``ltv`` = ``liquidation_threshold`` = collateral factor; ``liquidation_bonus`` = incentive − 1;
  ``protocol_fee`` is the protocol's share of the bonus: with a Venus Liquidator
  ``treasuryPercent / (incentive − 1)`` (it keeps ``seized · treasuryPercent / incentive``), with
  Compound's ``protocolSeizeShareMantissa`` ``share · incentive / (incentive − 1)``, else 0;
* flags: ``is_active`` = listed; ``borrowing_enabled`` = borrowing not paused; ``is_frozen`` = minting
  and borrowing both paused; ``is_paused`` = liquidations impossible (the market's liquidate or
  seize action paused, or the whole protocol, or Compound's global seize guardian); caps in whole
  tokens (Compound's ``borrowCaps`` and Venus's ``supplyCaps``/``borrowCaps``; for Venus a supply cap
  of 0 forbids minting, recorded in ``extra``);
* a position per entered market with a cToken balance or a borrow: ``collateral_raw =
  ⌊cTokens · exchangeRateStored / 1e18⌋`` (``balanceOfUnderlying`` on the stored rate), ``collateral``
  the unrounded ``cTokens · rate / 10^(18 + decimals)``, ``debt_raw = borrowBalanceStored``,
  ``collateral_enabled`` True (only entered markets are read). Venus's minted VAI is a debt position
  in a VAI asset row (price 1 USD, collateral factor 0), as ``getAccountLiquidity`` adds it at par.

Accounts keep ``entered_markets`` (``getAssetsIn`` order), ``ctoken_balances`` and ``vai_repay_amount``
in ``extra``, which ``reference.CompoundV2Reference`` reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import pandas as pd

from defirisk.adapters.compound_v2.accounts import AccountRead
from defirisk.adapters.compound_v2.discovery import CompoundAsset, CompoundMarket
from defirisk.adapters.compound_v2.exponential import EXP_SCALE
from defirisk.chain import TokenMetadata
from defirisk.errors import DataError
from defirisk.model import ACCOUNT_COLUMNS, ASSET_COLUMNS, POSITION_COLUMNS, empty_frame

BASE_CURRENCY_DECIMALS = 18
#: ``getAccountLiquidity`` adds the VAI repay amount (base units) to USD · 1e18 sums as is: the
#: ``getUnderlyingPrice``-scale price of one VAI base unit is therefore 1e18, whatever its decimals.
VAI_PRICE_MANTISSA = EXP_SCALE

_OBJECT_COLUMNS = frozenset({"market", "asset", "account", "symbol", "name", "price_raw", "collateral_raw",
                             "debt_raw", "extra"})


def _frame(rows: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    if not rows:
        return empty_frame(columns)
    return pd.DataFrame({
        name: pd.Series([row[name] for row in rows], dtype=object if name in _OBJECT_COLUMNS else None)
        for name in columns
    })


def vai_decimals(vai: TokenMetadata) -> int:
    """The VAI token's decimals; ``DataError`` when it answers none."""
    if vai.decimals is None:
        raise DataError(f"the VAI token {vai.address} answers no decimals()")
    return vai.decimals


def _vai(market: CompoundMarket) -> TokenMetadata:
    if market.vai is None:
        raise DataError("an account owes VAI but the Comptroller names no VAI controller")
    return market.vai


def price_raw(mantissa: int, decimals: int) -> int:
    """``getUnderlyingPrice`` (USD per base unit × 1e36) as USD per whole token × 1e18, truncated."""
    shift = 36 - decimals - BASE_CURRENCY_DECIMALS
    return mantissa // 10**shift if shift >= 0 else mantissa * 10**-shift


def protocol_fee(market: CompoundMarket, asset: CompoundAsset) -> float:
    """The protocol's share of the liquidation bonus when ``asset`` is seized (module docstring)."""
    incentive = market.liquidation_incentive
    if incentive <= EXP_SCALE:
        return 0.0
    if market.treasury_percent is not None:
        return float(Fraction(market.treasury_percent, incentive - EXP_SCALE))
    share = asset.values["protocolSeizeShareMantissa"]
    if share is None:
        return 0.0
    return float(Fraction(share * incentive, EXP_SCALE * (incentive - EXP_SCALE)))


def _paused(asset: CompoundAsset, compound_flag: str, venus_action: str) -> bool:
    return bool(asset.values[compound_flag] or asset.values[f"{venus_action}Paused"])


def _asset_row(market: CompoundMarket, a: CompoundAsset) -> dict:
    v = a.values
    unit = 10**a.decimals
    raw = price_raw(a.price, a.decimals)
    mint_paused = _paused(a, "mintGuardianPaused", "mint")
    borrow_paused = _paused(a, "borrowGuardianPaused", "borrow")
    no_liquidation = bool(v["liquidatePaused"] or v["seizePaused"] or market.protocol_paused
                          or market.seize_guardian_paused)
    cf = a.collateral_factor
    extra = {
        "ctoken": a.ctoken,
        "underlying": a.underlying,
        "native": a.native,
        "ctoken_symbol": a.ctoken_token.symbol,
        "ctoken_name": a.ctoken_token.name,
        "ctoken_decimals": v["decimals"],
        "underlying_decimals": a.decimals,
        "is_listed": a.is_listed,
        "collateral_factor_mantissa": cf,
        "exchange_rate_mantissa": a.exchange_rate,
        "price_mantissa": a.price,
        **{name: v[name] for name in ("totalBorrows", "totalReserves", "getCash", "totalSupply",
                                      "reserveFactorMantissa", "borrowIndex", "accrualBlockNumber",
                                      "borrowRatePerBlock", "supplyRatePerBlock", "protocolSeizeShareMantissa",
                                      "borrowCaps", "supplyCaps", "isDeprecated", "isForcedLiquidationEnabled")},
        "mint_paused": mint_paused,
        "borrow_paused": borrow_paused,
        "seize_paused": bool(v["seizePaused"]),
        "liquidate_paused": bool(v["liquidatePaused"]),
        "supply_cap_zero_forbids_mint": v["supplyCaps"] is not None,
        "token_metadata_missing": [n for n in ("symbol", "name") if getattr(a.token, n) is None],
    }
    return {
        "market": market.key,
        "asset": a.ctoken,
        "symbol": a.token.symbol or "",
        "name": a.token.name or "",
        "decimals": a.decimals,
        "price_raw": raw,
        "price": raw / 10**BASE_CURRENCY_DECIMALS,
        "price_usd": raw / 10**BASE_CURRENCY_DECIMALS,
        "ltv": cf / EXP_SCALE,
        "liquidation_threshold": cf / EXP_SCALE,
        "liquidation_bonus": max(market.liquidation_incentive - EXP_SCALE, 0) / EXP_SCALE,
        "protocol_fee": protocol_fee(market, a),
        "reserve_factor": v["reserveFactorMantissa"] / EXP_SCALE,
        "supply_cap": (v["supplyCaps"] or 0) / unit,
        "borrow_cap": (v["borrowCaps"] or 0) / unit,
        "debt_ceiling": 0.0,
        "is_isolated": False,
        "borrowable_in_isolation": False,
        "is_siloed": False,
        "usage_as_collateral_enabled": cf > 0,
        "borrowing_enabled": not borrow_paused,
        "is_active": a.is_listed,
        "is_frozen": mint_paused and borrow_paused,
        "is_paused": no_liquidation,
        "emode_category": 0,
        "extra": extra,
    }


def _vai_row(market: CompoundMarket, vai: TokenMetadata) -> dict:
    decimals = vai_decimals(vai)
    raw = price_raw(VAI_PRICE_MANTISSA, decimals)
    return {
        "market": market.key, "asset": vai.address, "symbol": vai.symbol or "", "name": vai.name or "",
        "decimals": decimals, "price_raw": raw, "price": raw / 10**BASE_CURRENCY_DECIMALS,
        "price_usd": raw / 10**BASE_CURRENCY_DECIMALS, "ltv": 0.0, "liquidation_threshold": 0.0,
        "liquidation_bonus": max(market.liquidation_incentive - EXP_SCALE, 0) / EXP_SCALE, "protocol_fee": 0.0,
        "reserve_factor": 0.0, "supply_cap": 0.0, "borrow_cap": 0.0, "debt_ceiling": 0.0, "is_isolated": False,
        "borrowable_in_isolation": False, "is_siloed": False, "usage_as_collateral_enabled": False,
        "borrowing_enabled": True, "is_active": True, "is_frozen": False, "is_paused": False, "emode_category": 0,
        "extra": {"vai": True, "vai_controller": market.vai_controller, "underlying": vai.address,
                  "collateral_factor_mantissa": 0, "exchange_rate_mantissa": None,
                  "price_mantissa": VAI_PRICE_MANTISSA},
    }


def assets_frame(market: CompoundMarket) -> pd.DataFrame:
    """One row per cToken market (plus VAI under a VAI controller) with ``ASSET_COLUMNS``."""
    rows = [_asset_row(market, a) for a in market.assets]
    if market.vai is not None:
        rows.append(_vai_row(market, market.vai))
    return _frame(rows, ASSET_COLUMNS)


def accounts_frame(market: CompoundMarket, reads: Sequence[AccountRead]) -> pd.DataFrame:
    """One row per account with ``ACCOUNT_COLUMNS``; ``extra`` as the module docstring says."""
    rows = [
        {
            "market": market.key,
            "account": r.account,
            "emode_category": 0,
            "extra": {
                "entered_markets": [h.ctoken for h in r.holdings],
                "ctoken_balances": {h.ctoken: h.ctoken_balance for h in r.holdings if h.ctoken_balance},
                "vai_repay_amount": r.vai_repay,
            },
        }
        for r in reads
    ]
    return _frame(rows, ACCOUNT_COLUMNS)


def positions_frame(market: CompoundMarket, reads: Sequence[AccountRead]) -> pd.DataFrame:
    """One row per (account, entered market) with a cToken balance or a borrow, and per VAI debt."""
    decimals = {a.ctoken: a.decimals for a in market.assets}
    rows = []
    for r in reads:
        for h in r.holdings:
            if h.ctoken_balance == 0 and h.borrow_balance == 0:
                continue
            unit = 10 ** decimals[h.ctoken]
            rows.append({
                "market": market.key, "account": r.account, "asset": h.ctoken,
                "collateral_raw": h.ctoken_balance * h.exchange_rate // EXP_SCALE,
                "collateral": h.ctoken_balance * h.exchange_rate / (EXP_SCALE * unit),
                "debt_raw": h.borrow_balance, "debt": h.borrow_balance / unit, "collateral_enabled": True,
            })
        if r.vai_repay:
            vai = _vai(market)
            rows.append({
                "market": market.key, "account": r.account, "asset": vai.address, "collateral_raw": 0,
                "collateral": 0.0, "debt_raw": r.vai_repay, "debt": r.vai_repay / 10 ** vai_decimals(vai),
                "collateral_enabled": False,
            })
    return _frame(rows, POSITION_COLUMNS)
