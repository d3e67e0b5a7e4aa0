"""The Morpho Blue snapshot adapter: ties discovery, reads, canonical tables and reconciliation together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from defirisk.adapters.base import Adapter, EventFilter, Progress, Reading, Reconciliation
from defirisk.adapters.morpho_blue import accounts as account_reads
from defirisk.adapters.morpho_blue import events, frames
from defirisk.adapters.morpho_blue.liquidation import RULES_VERSION
from defirisk.adapters.morpho_blue.market import MorphoDeployment, load_markets
from defirisk.adapters.morpho_blue.reconcile import reconcile
from defirisk.chain import Log, PinnedBlock, RpcClient
from defirisk.deployments import Deployment
from defirisk.model import EMODE_COLUMNS, MarketState, SnapshotMeta, empty_frame

#: ``price_raw`` is in the oracles' unit: loan base units per token base unit × 10^36.
PRICE_SCALE_DECIMALS = 36


def base_currency(deployment: MorphoDeployment) -> str:
    """The loan token's address when every market lends the same token, else a description."""
    loans = {m.params.loan_token for m in deployment.markets}
    return loans.pop() if len(loans) == 1 else "loan token of each market"


def snapshot_note(deployment: MorphoDeployment) -> str:
    """What a reader of the snapshot must know: the per-market base currency and the markets left out."""
    parts = [
        "prices are in each market's loan token (its oracle, scale 1e36); no USD rate is on chain, "
        "so USD values are unknown and sums across markets with different loan tokens mix units"
    ]
    if deployment.skipped:
        shown = "; ".join(f"{k}: {v}" for k, v in sorted(deployment.skipped.items())[:5])
        more = f" and {len(deployment.skipped) - 5} more" if len(deployment.skipped) > 5 else ""
        parts.append(f"{len(deployment.skipped)} markets left out ({shown}{more})")
    return "; ".join(parts)


class MorphoBlueAdapter(Adapter):
    """Morpho Blue, from the singleton contract."""

    family = "morpho-blue"
    version = "morpho-blue/1"

    def load_market(
        self, client: RpcClient, deployment: Deployment, block: PinnedBlock, *, batch_size: int = 100
    ) -> MorphoDeployment:
        return load_markets(client, deployment, block, batch_size=batch_size)

    def market_key(self, market: MorphoDeployment) -> str:
        return market.key

    def event_filter(self, market: MorphoDeployment) -> EventFilter:
        return EventFilter(addresses=(market.morpho,), topics=events.ACCOUNT_EVENTS)

    def accounts_in_logs(self, market: MorphoDeployment, logs: Iterable[Log]) -> dict[str, int]:
        return events.accounts_in_logs(logs, market.morpho, (m.id for m in market.markets))

    def read(
        self,
        client: RpcClient,
        deployment: Deployment,
        market: MorphoDeployment,
        accounts: Sequence[str],
        block: PinnedBlock,
        *,
        batch_size: int = 100,
        on_progress: Progress | None = None,
    ) -> Reading:
        got = account_reads.read_accounts(
            client, market, accounts, block, batch_size=batch_size, on_progress=on_progress
        )
        meta = SnapshotMeta(
            deployment=deployment.name,
            family=self.family,
            chain_id=block.chain_id,
            block_number=block.number,
            block_hash=block.hash,
            timestamp=block.timestamp,
            adapter_version=self.version,
            price_source="Morpho Blue market oracles (IOracle.price, scale 1e36)",
            base_currency=base_currency(market),
            base_currency_decimals=PRICE_SCALE_DECIMALS,
            base_currency_usd=float("nan"),
            rules_version=RULES_VERSION,
            label=deployment.label,
            market_params={
                "morpho": market.morpho,
                "owner": market.owner,
                "fee_recipient": market.fee_recipient,
                "markets": [m.id for m in market.markets],
                "skipped": dict(market.skipped),
                "price_raw_unit": "loan-token base units per token base unit x 1e36",
            },
            note=snapshot_note(market),
        )
        state = MarketState(
            meta=meta,
            assets=frames.assets_frame(market),
            emodes=empty_frame(EMODE_COLUMNS),
            accounts=frames.accounts_frame(got.holdings),
            positions=frames.positions_frame(got.holdings),
        )
        return Reading(state, got.chain_view, len(accounts), got.empty, got.requests)

    def reconcile(self, reading: Reading) -> Reconciliation:
        return reconcile(reading.state, reading.chain_view)
