"""Read one Comet market at a pinned block: configuration, prices, totals, interest accrued to the block.

The deployment names the Comet proxy (root field ``comet``) and, optionally, ``price_unit``: what the
market's price feeds quote (``"USD"`` for the USD-priced markets; ``"ETH"`` for the WETH markets, whose
base feed is a constant 1e8 and whose collateral feeds quote ETH). Nothing on chain says which, so
without it the unit is reported as unknown and USD values are NaN.

In three Multicall3 rounds at the pinned block:

1. ``MARKET_READS`` (base token and feed, ``numAssets``, scales, ``storeFrontPriceFactor``,
   ``targetReserves``, ``baseBorrowMin``, ``totalsBasic``, the rate model, and the constants
   ``factorScale`` = 1e18, ``baseIndexScale`` = 1e15, ``priceScale`` = 1e8): a contract that fails
   any of them or answers other constants is not a Comet (``NotTheProtocol``);
2. ``getAssetInfo(i)`` for every offset, ``getPrice`` of the base feed, ``getReserves`` and the
   base token's balance held by the Comet;
3. per collateral ``getPrice``, ``totalsCollateral`` and ``getCollateralReserves``, and the tokens'
   metadata (symbols and names, untrusted).

The base indexes are then accrued to the block's timestamp exactly as ``accruedInterestIndices``
does (``maths.accrued_indexes``), so balances are those ``borrowBalanceOf``/``balanceOf`` answer.
A price feed that reverts or answers ≤ 0 fails the snapshot (``MulticallFailed``): without every price
the protocol itself cannot value its accounts.
"""

from __future__ import annotations

from dataclasses import dataclass

from defirisk.adapters.comet import calls
from defirisk.adapters.comet.maths import (
    BASE_INDEX_SCALE,
    FACTOR_SCALE,
    PRICE_SCALE,
    Indexes,
    accrued_indexes,
    reserves,
)
from defirisk.adapters.comet.reference import CometView
from defirisk.adapters.comet.structs import MAX_ASSET_OFFSET, AssetInfo, RateModel, TotalsBasic
from defirisk.chain import PinnedBlock, RpcClient, TokenMetadata, multicall, read_token_metadata
from defirisk.deployments import Deployment
from defirisk.errors import InvalidDeployment, NotTheProtocol

_CONSTANTS = {"factorScale()": FACTOR_SCALE, "baseIndexScale()": BASE_INDEX_SCALE, "priceScale()": PRICE_SCALE}


def decimals_of_scale(scale: int) -> int | None:
    """``d`` when ``scale == 10**d`` (0 ≤ d ≤ 36), else None."""
    for d in range(37):
        if 10**d == scale:
            return d
    return None


@dataclass(frozen=True)
class CometMarket:
    """One Comet at the block; integers as the contract keeps them.

    ``totals``: ``totalsBasic()`` as stored; ``indexes``: the base indexes accrued to the block (what
    ``absorb`` and the balance getters use); ``totals``' own indexes are what the view functions
    ``isLiquidatable``/``isBorrowCollateralized`` use. Per collateral (by offset): ``assets``,
    ``prices`` (8 decimals), ``tokens``, ``collateral_totals`` (``totalSupplyAsset``) and
    ``collateral_reserves`` (held by the protocol after absorbs). ``reserves_read``: ``getReserves()``;
    ``base_balance``: the base token balance of the Comet.
    """

    comet: str
    base: TokenMetadata
    base_decimals: int
    base_price_feed: str
    base_price: int
    base_scale: int
    store_front_price_factor: int
    target_reserves: int
    base_borrow_min: int
    totals: TotalsBasic
    rate_model: RateModel
    indexes: Indexes
    assets: tuple[AssetInfo, ...]
    prices: tuple[int, ...]
    tokens: tuple[TokenMetadata, ...]
    collateral_decimals: tuple[int, ...]
    collateral_totals: tuple[int, ...]
    collateral_reserves: tuple[int, ...]
    reserves_read: int
    base_balance: int
    price_unit: str | None

    @property
    def key(self) -> str:
        return self.comet

    @property
    def stored_indexes(self) -> Indexes:
        return Indexes(self.totals.base_supply_index, self.totals.base_borrow_index)

    @property
    def view(self) -> CometView:
        return CometView(self.base_price, self.base_scale, self.assets, self.prices, self.store_front_price_factor)

    @property
    def reserves(self) -> int:
        """Our ``getReserves()``: from the base balance, the totals and the accrued indexes."""
        return reserves(self.base_balance, self.totals, self.indexes)


def _not_comet(comet: str, why: str) -> NotTheProtocol:
    return NotTheProtocol(f"{comet} is not a Compound III (Comet) market: {why}")


def price_unit(deployment: Deployment) -> str | None:
    """The deployment's ``price_unit`` (``"USD"``, ``"ETH"``, …), None when it has none."""
    unit = deployment.extra.get("price_unit")
    if unit is not None and (not isinstance(unit, str) or not unit.strip()):
        raise InvalidDeployment(f"{deployment.path}: field 'price_unit' must be a non-empty string such as \"USD\"")
    return unit


def _market_reads(client: RpcClient, comet: str, block: PinnedBlock) -> dict[str, object]:
    code = client.call("eth_getCode", [comet, block.tag])
    if code in (None, "0x", ""):
        raise _not_comet(comet, f"no contract code there at block {block.number}")
    batch = calls.market_calls(comet)
    results = multicall(client, batch, block)
    failed = [f"{c.label} {r.error}" for c, r in zip(batch, results, strict=True) if not r.success]
    if failed:
        raise _not_comet(comet, "; ".join(failed[:4]) + (f" and {len(failed) - 4} more" if len(failed) > 4 else ""))
    values = {sig: r.value for (sig, _), r in zip(calls.MARKET_READS, results, strict=True)}
    for sig, expected in _CONSTANTS.items():
        if values[sig] != expected:
            raise _not_comet(comet, f"{sig} is {values[sig]}, not {expected}")
    if decimals_of_scale(values["baseScale()"]) is None or values["baseScale()"] > 10**18:
        raise _not_comet(comet, f"baseScale() {values['baseScale()']} is not a power of ten up to 1e18")
    if values["numAssets()"] > MAX_ASSET_OFFSET:
        raise _not_comet(comet, f"numAssets() {values['numAssets()']} exceeds {MAX_ASSET_OFFSET}")
    return values


def load_market(client: RpcClient, deployment: Deployment, block: PinnedBlock, *, batch_size: int = 100) -> CometMarket:
    """Everything about the deployment's Comet at ``block`` (see the module docstring)."""
    comet = deployment.root
    unit = price_unit(deployment)
    v = _market_reads(client, comet, block)
    base_token, base_feed, n = v["baseToken()"], v["baseTokenPriceFeed()"], v["numAssets()"]
    round2 = [calls.asset_info_call(comet, i) for i in range(n)]
    round2 += [calls.price_call(comet, base_feed), *calls.reserves_calls(comet, base_token)]
    answers = multicall(client, round2, block, batch_size=batch_size)
    assets = tuple(r.value for r in answers[:n])
    base_price, reserves_read, base_balance = (r.value for r in answers[n:])
    for i, info in enumerate(assets):
        if info.offset != i:
            raise _not_comet(comet, f"getAssetInfo({i}) answers offset {info.offset}")
        if decimals_of_scale(info.scale) is None:
            raise _not_comet(comet, f"getAssetInfo({i}) has scale {info.scale}, not a power of ten")

    round3 = [calls.price_call(comet, a.price_feed) for a in assets]
    round3 += [c for a in assets for c in calls.collateral_totals_calls(comet, a.asset)]
    answers = multicall(client, round3, block, batch_size=batch_size)
    prices = tuple(r.value for r in answers[:n])
    totals_and_reserves = [r.value for r in answers[n:]]
    tokens = read_token_metadata(client, [base_token, *(a.asset for a in assets)], block)
    totals: TotalsBasic = v["totalsBasic()"]
    model = calls.rate_model([v[g] for g in calls.RATE_GETTERS])
    return CometMarket(
        comet=comet,
        base=tokens[base_token],
        base_decimals=decimals_of_scale(v["baseScale()"]),
        base_price_feed=base_feed,
        base_price=base_price,
        base_scale=v["baseScale()"],
        store_front_price_factor=v["storeFrontPriceFactor()"],
        target_reserves=v["targetReserves()"],
        base_borrow_min=v["baseBorrowMin()"],
        totals=totals,
        rate_model=model,
        indexes=accrued_indexes(totals, model, block.timestamp),
        assets=assets,
        prices=prices,
        tokens=tuple(tokens[a.asset] for a in assets),
        collateral_decimals=tuple(decimals_of_scale(a.scale) for a in assets),
        collateral_totals=tuple(totals_and_reserves[0::2]),
        collateral_reserves=tuple(totals_and_reserves[1::2]),
        reserves_read=reserves_read,
        base_balance=base_balance,
        price_unit=unit,
    )
