"""Discover an Aave v3 market from its PoolAddressesProvider at a pinned block.

The deployment names only the provider; the Pool, the AaveOracle (with its base currency), the
reserves with their configuration words, indexes and prices, the e-mode categories and the tokens'
own metadata are all read here, in five Multicall3 rounds at the pinned block:

1. provider: ``getPool``, ``getPriceOracle``, ``getPoolDataProvider``;
2. Pool and oracle: both must name the provider in ``ADDRESSES_PROVIDER()``; the reserves list,
   ``BASE_CURRENCY`` and ``BASE_CURRENCY_UNIT``, the Pool's ``POOL_REVISION``;
3. per reserve ``getReserveData``, normalized income and debt, oracle price and source; every
   e-mode category 1…255 (``getEModeCategoryData``, which v3.2+ still answers, price source 0);
4. the e-mode price sources' prices (``AaveOracle.getAssetPrice(source)``, as the Pool asks) and,
   from Pool revision 5 (v3.2) on, each configured category's collateral and borrowable bitmaps,
   plus its ltvzero bitmap from revision 10 (v3.6);
5. token symbol, name and decimals (``defirisk.chain.read_token_metadata``, kept verbatim).

From revision 5 on the reserves have no stable debt (``getReserveData`` names a placeholder token,
which the Pool never reads), so none is read.

Anything that does not answer like an Aave v3 market raises ``NotTheProtocol``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from defirisk.adapters.aave_v3 import calls
from defirisk.adapters.aave_v3.config import ReserveConfig
from defirisk.adapters.aave_v3.revisions import V36, account_maths, uses_bitmaps
from defirisk.chain import Call, PinnedBlock, RpcClient, TokenMetadata, multicall, read_token_metadata
from defirisk.chain.multicall import Result
from defirisk.errors import NotTheProtocol

ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class Reserve:
    """One reserve at the block. Integers as the contracts keep them (RAY indexes, oracle units)."""

    asset: str
    config: ReserveConfig
    data: dict[str, Any]  # getReserveData, field names of calls.RESERVE_DATA_FIELDS
    normalized_income: int  # RAY, getReserveNormalizedIncome at the block
    normalized_debt: int  # RAY, getReserveNormalizedVariableDebt at the block
    price_raw: int  # AaveOracle.getAssetPrice, base-currency units
    price_source: str  # AaveOracle.getSourceOfAsset
    token: TokenMetadata
    has_stable_debt: bool = True  # False from Pool revision 5 (v3.2) on

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def a_token(self) -> str:
        return self.data["a_token"]

    @property
    def variable_debt_token(self) -> str:
        return self.data["variable_debt_token"]

    @property
    def stable_debt_token(self) -> str | None:
        """None where the reserve has no stable debt token (the Pool then reads no stable debt)."""
        token = self.data["stable_debt_token"]
        return None if token == ZERO_ADDRESS or not self.has_stable_debt else token


@dataclass(frozen=True)
class EModeCategory:
    """A configured e-mode category (liquidation threshold ≠ 0); ratios in bps, bonus as 10000 + bonus.

    The bitmaps (bit ``i``: reserve id ``i``) are None where the Pool has none: all three before
    v3.2, the ltvzero bitmap before v3.6.
    """

    category: int
    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    price_source: str | None
    price_raw: int | None
    label: str
    collateral_bitmap: int | None = None
    borrowable_bitmap: int | None = None
    ltv_zero_bitmap: int | None = None


@dataclass(frozen=True)
class AaveMarket:
    """An Aave v3 market as discovered at one block. ``key`` (the Pool) is the canonical market key."""

    provider: str
    pool: str
    oracle: str
    data_provider: str
    pool_revision: int | None
    base_currency: str  # address; ZERO_ADDRESS means USD
    base_currency_unit: int
    reserves: tuple[Reserve, ...]
    emodes: tuple[EModeCategory, ...]

    @property
    def key(self) -> str:
        return self.pool

    @property
    def base_currency_decimals(self) -> int:
        return len(str(self.base_currency_unit)) - 1

    @property
    def maths(self) -> str:
        """The account maths generation of the Pool's revision (``revisions.account_maths``)."""
        return account_maths(self.pool_revision)

    def reserve_by_id(self) -> dict[int, Reserve]:
        return {r.id: r for r in self.reserves}


def _not_aave(provider: str, why: str) -> NotTheProtocol:
    return NotTheProtocol(f"{provider} is not an Aave v3 PoolAddressesProvider: {why}")


def _values(provider: str, batch: list[Call], results: list[Result]) -> list[Any]:
    failed = [f"{c.label} {r.error}" for c, r in zip(batch, results, strict=True) if not r.success]
    if failed:
        raise _not_aave(provider, "; ".join(failed))
    return [r.value for r in results]


def _contracts(client: RpcClient, provider: str, block: PinnedBlock) -> tuple[str, str, str]:
    code = client.call("eth_getCode", [provider, block.tag])
    if code in (None, "0x", ""):
        raise _not_aave(provider, f"no contract code there at block {block.number}")
    batch = calls.provider_calls(provider)
    pool, oracle, data_provider = _values(provider, batch, multicall(client, batch, block))
    if ZERO_ADDRESS in (pool, oracle):
        raise _not_aave(provider, "it names no Pool or no price oracle")
    return pool, oracle, data_provider


def _emode(answer: dict[str, Any], source_price: int | None, bitmaps: list[int]) -> EModeCategory:
    """An ``EModeCategory`` from ``getEModeCategoryData``'s answer (with ``category``), its price
    source's price and the bitmaps read for it (collateral, borrowable[, ltvzero]; none before v3.2)."""
    collateral, borrowable, ltv_zero = (bitmaps + [None, None, None])[:3]
    return EModeCategory(
        category=answer["category"],
        ltv=answer["ltv"],
        liquidation_threshold=answer["liquidation_threshold"],
        liquidation_bonus=answer["liquidation_bonus"],
        price_source=None if answer["price_source"] == ZERO_ADDRESS else answer["price_source"],
        price_raw=source_price,
        label=answer["label"],
        collateral_bitmap=collateral,
        borrowable_bitmap=borrowable,
        ltv_zero_bitmap=ltv_zero,
    )


def load_market(client: RpcClient, provider: str, block: PinnedBlock, *, batch_size: int = 100) -> AaveMarket:
    """Everything about the market behind ``provider`` at ``block`` (see the module docstring)."""
    pool, oracle, data_provider = _contracts(client, provider, block)
    batch = [*calls.pool_calls(pool, oracle), calls.revision_call(pool)]
    results = multicall(client, batch, block)
    revision = results[-1].value if results[-1].success else None
    pool_provider, assets, oracle_provider, base_currency, base_unit = _values(provider, batch[:-1], results[:-1])
    if pool_provider != provider:
        raise _not_aave(provider, f"its Pool {pool} answers ADDRESSES_PROVIDER {pool_provider}")
    if oracle_provider != provider:
        raise _not_aave(provider, f"its oracle {oracle} answers ADDRESSES_PROVIDER {oracle_provider}")
    if base_unit < 1 or 10 ** (len(str(base_unit)) - 1) != base_unit:
        raise _not_aave(provider, f"BASE_CURRENCY_UNIT {base_unit} is not a power of ten")

    per_reserve = [call for asset in assets for call in calls.reserve_calls(pool, oracle, asset)]
    emode_batch = calls.emode_calls(pool)
    results = multicall(client, [*per_reserve, *emode_batch], block, batch_size=batch_size)
    n = len(per_reserve) // len(assets) if assets else 0
    reserve_values = [r.value for r in results[: len(per_reserve)]]
    configured = [r.value | {"category": i} for i, r in enumerate(results[len(per_reserve) :], start=1)
                  if r.value["liquidation_threshold"] != 0]

    maths = account_maths(revision)
    sources = sorted({e["price_source"] for e in configured} - {ZERO_ADDRESS})
    with_bitmaps = configured if uses_bitmaps(maths) else []
    bitmap_calls = [calls.emode_bitmap_calls(pool, e["category"], ltv_zero=maths == V36) for e in with_bitmaps]
    results = iter(r.value for r in multicall(
        client, [*(calls.price_call(oracle, s) for s in sources), *(c for cs in bitmap_calls for c in cs)], block))
    source_prices = {s: next(results) for s in sources}
    bitmaps = {e["category"]: [next(results) for _ in cs] for e, cs in zip(with_bitmaps, bitmap_calls, strict=True)}
    tokens = read_token_metadata(client, assets, block)

    reserves = []
    for k, asset in enumerate(assets):
        data, income, debt, price, source = reserve_values[k * n : (k + 1) * n]
        reserves.append(Reserve(
            asset=asset,
            config=ReserveConfig.decode(data["configuration"]),
            data=data,
            normalized_income=income,
            normalized_debt=debt,
            price_raw=price,
            price_source=source,
            token=tokens[asset],
            has_stable_debt=not uses_bitmaps(maths),
        ))
    emodes = tuple(_emode(e, source_prices.get(e["price_source"]), bitmaps.get(e["category"], [])) for e in configured)
    return AaveMarket(
        provider=provider,
        pool=pool,
        oracle=oracle,
        data_provider=data_provider,
        pool_revision=revision,
        base_currency=base_currency,
        base_currency_unit=base_unit,
        reserves=tuple(reserves),
        emodes=emodes,
    )
