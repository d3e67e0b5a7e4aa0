"""The Compound v2 snapshot adapter (Compound v2 and forks such as Venus): discovery, reads, canonical
tables and reconciliation, tied together for ``defirisk.snapshot``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from defirisk.adapters.base import Adapter, EventFilter, Progress, Reading, Reconciliation
from defirisk.adapters.compound_v2 import accounts as account_reads
from defirisk.adapters.compound_v2 import events, frames
from defirisk.adapters.compound_v2.discovery import CompoundMarket, load_market
from defirisk.adapters.compound_v2.importer import FAMILY, RULES_VERSION
from defirisk.adapters.compound_v2.reconcile import reconcile
from defirisk.chain import Log, PinnedBlock, RpcClient
from defirisk.deployments import Deployment
from defirisk.model import EMODE_COLUMNS, MarketState, SnapshotMeta, empty_frame


def market_params(market: CompoundMarket) -> dict:
    """The Comptroller-wide values stored in ``SnapshotMeta.market_params`` (mantissas as ints)."""
    return {
        "comptroller": market.comptroller,
        "oracle": market.oracle,
        "close_factor_mantissa": market.close_factor,
        "liquidation_incentive_mantissa": market.liquidation_incentive,
        "liquidator_contract": market.liquidator_contract,
        "treasury_percent_mantissa": market.treasury_percent,
        "vai_controller": market.vai_controller,
        "vai": market.vai.address if market.vai else None,
        "comptroller_lens": market.comptroller_lens,
        "protocol_paused": market.protocol_paused,
        "seize_guardian_paused": market.seize_guardian_paused,
        "exchange_rates": "exchangeRateStored and borrowBalanceStored at the block (no interest accrued)",
    }


class CompoundV2Adapter(Adapter):
    """Compound v2 and its forks, from the Comptroller (Unitroller) address."""

    family = FAMILY
    version = "compound-v2/1"

    def load_market(self, client: RpcClient, deployment: Deployment, block: PinnedBlock, *,
                    batch_size: int = 100) -> CompoundMarket:
        return load_market(client, deployment.root, block, batch_size=batch_size)

    def market_key(self, market: CompoundMarket) -> str:
        return market.key

    def event_filter(self, market: CompoundMarket) -> EventFilter:
        return EventFilter(addresses=(market.comptroller, *(a.ctoken for a in market.assets)),
                           topics=events.ALL_EVENTS)

    def accounts_in_logs(self, market: CompoundMarket, logs: Iterable[Log]) -> dict[str, int]:
        return events.accounts_in_logs(logs, market.comptroller, market.ctokens)

    def read(self, client: RpcClient, deployment: Deployment, market: CompoundMarket, accounts: Sequence[str],
             block: PinnedBlock, *, batch_size: int = 100, on_progress: Progress | None = None) -> Reading:
        got = account_reads.read_accounts(client, market, accounts, block, batch_size=batch_size,
                                          on_progress=on_progress)
        meta = SnapshotMeta(
            deployment=deployment.name,
            family=self.family,
            chain_id=block.chain_id,
            block_number=block.number,
            block_hash=block.hash,
            timestamp=block.timestamp,
            adapter_version=self.version,
            price_source=f"Comptroller oracle {market.oracle} (getUnderlyingPrice)",
            base_currency="USD",
            base_currency_decimals=frames.BASE_CURRENCY_DECIMALS,
            base_currency_usd=1.0,
            rules_version=RULES_VERSION,
            label=deployment.label,
            market_params=market_params(market),
        )
        state = MarketState(
            meta=meta,
            assets=frames.assets_frame(market),
            emodes=empty_frame(EMODE_COLUMNS),
            accounts=frames.accounts_frame(market, got.accounts),
            positions=frames.positions_frame(market, got.accounts),
        )
        return Reading(state, got.chain_view, len(accounts), got.empty, got.requests)

    def reconcile(self, reading: Reading) -> Reconciliation:
        return reconcile(reading.state, reading.chain_view)
