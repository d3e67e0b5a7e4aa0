"""The snapshot adapter interface, and the registry that maps a family name to its adapter.

An adapter knows one protocol family's contracts; ``defirisk.snapshot`` drives it and knows none.
The orchestrator calls, in order, all at one pinned block:

1. ``load_market(client, deployment, block)`` → an opaque market object (verifies the contracts are
   the family's: ``NotTheProtocol`` otherwise);
2. ``event_filter(market)`` → which logs discover accounts, and ``accounts_in_logs(market, logs)``
   → ``{account: first block seen}`` (skipped when the caller gives an account list);
3. ``read(client, deployment, market, accounts, block, ...)`` → the canonical ``MarketState`` plus
   the protocol's own per-account view (``Reading``);
4. ``reconcile(reading)`` → our reference maths against that view (``Reconciliation``).

A new family adds a sub-package with a class implementing ``Adapter`` and one line to ``_REGISTRY``.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pandas as pd

from defirisk.chain import Log, PinnedBlock, RpcClient
from defirisk.deployments import Deployment
from defirisk.errors import InvalidDeployment
from defirisk.model import MarketState

#: ``on_progress(stage, done, total)``: called as a stage advances, for progress bars.
Progress = Callable[[str, int, int], None]

MISMATCH_COLUMNS = ("market", "account", "field", "ours", "chain")


@dataclass(frozen=True)
class EventFilter:
    """Logs to scan for accounts: emitted by any of ``addresses``, with topic 0 any of ``topics``."""

    addresses: tuple[str, ...]
    topics: tuple[str, ...]


@dataclass
class Reading:
    """What an adapter read at the block.

    ``state``: the canonical snapshot. ``chain_view``: the protocol's own answer per account (family
    specific columns after ``market, account``), which ``reconcile`` compares with our maths.
    ``accounts_read``: accounts asked about; ``accounts_empty``: those of them holding nothing (not
    stored). ``requests``: HTTP requests per pass of the read (for the summary and benchmarks), named
    apart from the orchestrator's stages (``market``, ``discovery``, ``read``, ``verify``, ``total``).
    """

    state: MarketState
    chain_view: pd.DataFrame
    accounts_read: int
    accounts_empty: int
    requests: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Reconciliation:
    """Our reference maths against the protocol's view, per account and field.

    ``mismatches`` has the columns ``MISMATCH_COLUMNS``: ``ours`` and ``chain`` are the compared
    values (exact ints), or None where one side lacks the account.
    """

    method: str
    accounts_checked: int
    fields: tuple[str, ...]
    mismatches: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(MISMATCH_COLUMNS), dtype=object)
    )

    @property
    def mismatch_count(self) -> int:
        return len(self.mismatches)

    def as_dict(self, **extra: Any) -> dict[str, Any]:
        """The JSON object stored with the snapshot (``accounts_checked``, ``mismatches``, ...)."""
        return {
            "method": self.method,
            "accounts_checked": self.accounts_checked,
            "mismatches": self.mismatch_count,
            "fields": list(self.fields),
            **extra,
        }


class Adapter(ABC):
    """One protocol family's snapshot logic. Stateless: one instance may serve many snapshots."""

    #: Family name, as in ``Deployment.family`` and ``SnapshotMeta.family``.
    family: ClassVar[str]
    #: Stored with every snapshot; bump it when what the adapter stores changes.
    version: ClassVar[str]

    @abstractmethod
    def load_market(self, client: RpcClient, deployment: Deployment, block: PinnedBlock, *, batch_size: int) -> Any:
        """Discover the market from the deployment's root contract at ``block``."""

    @abstractmethod
    def event_filter(self, market: Any) -> EventFilter:
        """The logs that can name an account with a position."""

    @abstractmethod
    def accounts_in_logs(self, market: Any, logs: Iterable[Log]) -> dict[str, int]:
        """Accounts named in ``logs`` → the first block each appears in."""

    @abstractmethod
    def read(
        self,
        client: RpcClient,
        deployment: Deployment,
        market: Any,
        accounts: Sequence[str],
        block: PinnedBlock,
        *,
        batch_size: int,
        on_progress: Progress | None,
    ) -> Reading:
        """Read ``accounts`` (lower-case, distinct) at ``block`` into a ``MarketState``."""

    @abstractmethod
    def market_key(self, market: Any) -> str:
        """The canonical market key (``MarketState`` ``market`` column) of a loaded market."""

    @abstractmethod
    def reconcile(self, reading: Reading) -> Reconciliation:
        """Recompute every account with the family's reference maths; compare with ``chain_view``."""


_REGISTRY: dict[str, str] = {
    "aave-v3": "defirisk.adapters.aave_v3.adapter:AaveV3Adapter",
    "comet": "defirisk.adapters.comet.adapter:CometAdapter",
    "compound-v2": "defirisk.adapters.compound_v2.adapter:CompoundV2Adapter",
    "morpho-blue": "defirisk.adapters.morpho_blue.adapter:MorphoBlueAdapter",
}


def get_adapter(family: str) -> Adapter:
    """The snapshot adapter for ``family``; ``InvalidDeployment`` when there is none (yet)."""
    try:
        target = _REGISTRY[family]
    except KeyError:
        raise InvalidDeployment(
            f"no snapshot adapter for the {family!r} family yet; available: {', '.join(sorted(_REGISTRY))}"
        ) from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)()


def adapter_families() -> list[str]:
    """Families that have a snapshot adapter."""
    return sorted(_REGISTRY)
