"""The Compound III snapshot adapter: ties discovery, reads, canonical tables and reconciliation together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from defirisk.adapters.base import Adapter, EventFilter, Progress, Reading, Reconciliation
from defirisk.adapters.comet import accounts as account_reads
from defirisk.adapters.comet import events, frames
from defirisk.adapters.comet.liquidation import RULES_VERSION
from defirisk.adapters.comet.market import CometMarket, load_market
from defirisk.adapters.comet.maths import PRICE_FEED_DECIMALS
from defirisk.adapters.comet.reconcile import reconcile
from defirisk.chain import Log, PinnedBlock, RpcClient
from defirisk.deployments import Deployment
from defirisk.model import SnapshotMeta


def currency(market: CometMarket) -> tuple[str, float, str]:
    """``(base_currency, base_currency_usd, note)`` from the deployment's price unit."""
    unit = market.price_unit
    if unit == "USD":
        return "USD", 1.0, ""
    if unit is None:
        return ("price-feed unit (not stated by the deployment)", float("nan"),
                "the deployment does not say what the Comet's price feeds quote; USD values are unknown")
    return unit, float("nan"), f"prices are in {unit} (the Comet's price feeds); no USD rate is read, so USD values are unknown"


class CometAdapter(Adapter):
    """Compound III, from one Comet proxy."""

    family = "comet"
    version = "comet/1"

    def load_market(
        self, client: RpcClient, deployment: Deployment, block: PinnedBlock, *, batch_size: int = 100
    ) -> CometMarket:
        return load_market(client, deployment, block, batch_size=batch_size)

    def market_key(self, market: CometMarket) -> str:
        return market.key

    def event_filter(self, market: CometMarket) -> EventFilter:
        return EventFilter(addresses=(market.comet,), topics=events.ACCOUNT_EVENTS)

    def accounts_in_logs(self, market: CometMarket, logs: Iterable[Log]) -> dict[str, int]:
        return events.accounts_in_logs(logs, market.comet)

    def read(
        self,
        client: RpcClient,
        deployment: Deployment,
        market: CometMarket,
        accounts: Sequence[str],
        block: PinnedBlock,
        *,
        batch_size: int = 100,
        on_progress: Progress | None = None,
    ) -> Reading:
        got = account_reads.read_accounts(client, market, accounts, block, batch_size=batch_size,
                                          on_progress=on_progress)
        base_currency, usd, note = currency(market)
        meta = SnapshotMeta(
            deployment=deployment.name,
            family=self.family,
            chain_id=block.chain_id,
            block_number=block.number,
            block_hash=block.hash,
            timestamp=block.timestamp,
            adapter_version=self.version,
            price_source="Comet.getPrice of each asset's price feed (8 decimals)",
            base_currency=base_currency,
            base_currency_decimals=PRICE_FEED_DECIMALS,
            base_currency_usd=usd,
            rules_version=RULES_VERSION,
            label=deployment.label,
            market_params={
                "comet": market.comet,
                "base_token": market.base.address,
                "num_assets": len(market.assets),
                "price_unit": market.price_unit,
                "store_front_price_factor": market.store_front_price_factor,
                "target_reserves": market.target_reserves,
                "reserves": market.reserves,
                "paused": frames.paused(market.totals.pause_flags),
            },
            note=note,
        )
        state = frames.market_state(meta, market, got.holdings)
        return Reading(state, got.chain_view, len(accounts), got.empty, got.requests)

    def reconcile(self, reading: Reading) -> Reconciliation:
        return reconcile(reading.state, reading.chain_view)
