"""The Aave v3 snapshot adapter: ties discovery, reads, canonical tables and reconciliation together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from defirisk.adapters.aave_v3 import accounts as account_reads
from defirisk.adapters.aave_v3 import events, frames
from defirisk.adapters.aave_v3.liquidation import rules_version_for_pool_revision
from defirisk.adapters.aave_v3.market import ZERO_ADDRESS, AaveMarket, load_market
from defirisk.adapters.aave_v3.reconcile import reconcile
from defirisk.adapters.aave_v3.revisions import uses_bitmaps
from defirisk.adapters.base import Adapter, EventFilter, Progress, Reading, Reconciliation
from defirisk.chain import Log, PinnedBlock, RpcClient
from defirisk.deployments import Deployment
from defirisk.errors import DataError
from defirisk.model import MarketState, SnapshotMeta


def rules_version(market: AaveMarket) -> tuple[str, str]:
    """``(rules_version, note)`` from the Pool's ``POOL_REVISION``; empty with a note when unknown.

    From v3.2 on the note names the account maths the snapshot applies (``revisions``), since e-mode
    membership and rounding then differ from v3.0's.
    """
    if market.pool_revision is None:
        return "", "the Pool has no POOL_REVISION(); liquidation rules version unknown"
    try:
        version = rules_version_for_pool_revision(market.pool_revision)
    except DataError as exc:
        return "", f"{exc}; account maths of v{market.maths} assumed"
    if uses_bitmaps(market.maths):
        return version, (
            f"Pool revision {market.pool_revision} (Aave v{version}): e-mode membership from per-category "
            f"bitmaps, account maths of v{market.maths}"
        )
    return version, ""


def market_params(market: AaveMarket) -> dict[str, Any]:
    """The Pool's contracts and revision; from v3.2 on also each category's raw e-mode bitmaps."""
    params: dict[str, Any] = {
        "pool_addresses_provider": market.provider,
        "pool": market.pool,
        "oracle": market.oracle,
        "pool_data_provider": market.data_provider,
        "pool_revision": market.pool_revision,
        "base_currency": market.base_currency,
        "base_currency_unit": market.base_currency_unit,
    }
    if uses_bitmaps(market.maths):
        params["emode_bitmaps"] = {
            str(e.category): {"collateral": e.collateral_bitmap, "borrowable": e.borrowable_bitmap,
                              "ltv_zero": e.ltv_zero_bitmap}
            for e in market.emodes
        }
    return params


def base_currency(market: AaveMarket) -> tuple[str, float]:
    """``(name, USD per unit)``: Aave's ``BASE_CURRENCY`` 0x0 is USD; another is named by address.

    No Aave v3 market we know prices in anything but USD; for one that does, the USD rate is not on
    the oracle, so it is NaN (and says so) rather than a guess.
    """
    if market.base_currency == ZERO_ADDRESS:
        return "USD", 1.0
    return market.base_currency, float("nan")


class AaveV3Adapter(Adapter):
    """Aave v3 (and forks such as Spark), from a ``PoolAddressesProvider``."""

    family = "aave-v3"
    version = "aave-v3/1"

    def load_market(
        self, client: RpcClient, deployment: Deployment, block: PinnedBlock, *, batch_size: int = 100
    ) -> AaveMarket:
        return load_market(client, deployment.root, block, batch_size=batch_size)

    def market_key(self, market: AaveMarket) -> str:
        return market.key

    def event_filter(self, market: AaveMarket) -> EventFilter:
        return EventFilter(
            addresses=(market.pool, *(r.a_token for r in market.reserves)),
            topics=events.ALL_EVENTS,
        )

    def accounts_in_logs(self, market: AaveMarket, logs: Iterable[Log]) -> dict[str, int]:
        return events.accounts_in_logs(logs, market.pool, (r.a_token for r in market.reserves))

    def read(
        self,
        client: RpcClient,
        deployment: Deployment,
        market: AaveMarket,
        accounts: Sequence[str],
        block: PinnedBlock,
        *,
        batch_size: int = 100,
        on_progress: Progress | None = None,
    ) -> Reading:
        got = account_reads.read_accounts(
            client, market, accounts, block, batch_size=batch_size, on_progress=on_progress
        )
        currency, base_usd = base_currency(market)
        version, note = rules_version(market)
        if base_usd != base_usd:
            note = "; ".join(filter(None, [note, f"base currency {currency} has no USD rate on the oracle"]))
        meta = SnapshotMeta(
            deployment=deployment.name,
            family=self.family,
            chain_id=block.chain_id,
            block_number=block.number,
            block_hash=block.hash,
            timestamp=block.timestamp,
            adapter_version=self.version,
            price_source=f"AaveOracle {market.oracle}",
            base_currency=currency,
            base_currency_decimals=market.base_currency_decimals,
            base_currency_usd=base_usd,
            rules_version=version,
            label=deployment.label,
            market_params=market_params(market),
            note=note,
        )
        state = MarketState(
            meta=meta,
            assets=frames.assets_frame(market, base_usd),
            emodes=frames.emodes_frame(market),
            accounts=frames.accounts_frame(market, got.accounts),
            positions=frames.positions_frame(market, got.accounts),
        )
        return Reading(state, got.chain_view, len(accounts), got.empty, got.requests)

    def reconcile(self, reading: Reading) -> Reconciliation:
        return reconcile(reading.state, reading.chain_view)
