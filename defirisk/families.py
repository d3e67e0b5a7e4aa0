"""Protocol families: the one place that knows which family object serves which snapshot.

A family object turns a canonical ``MarketState`` into engine input (``Exposures``: which supplies
count as collateral, at which weight and price) and into liquidation rules. Everything downstream
asks this registry instead of branching on protocol names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

from defirisk.errors import DataError

if TYPE_CHECKING:
    from defirisk.liquidation.rules import LiquidationRules
    from defirisk.model import Exposures, MarketState


class Family(Protocol):
    """What every protocol family provides to the engine and the estimator."""

    name: str

    def exposures(self, state: MarketState) -> Exposures:
        """Positions with the family's effective weights and price feeds applied."""
        ...

    def liquidation_rules(self, state: MarketState) -> LiquidationRules:
        """The family's liquidation rules for this snapshot (version taken from the meta)."""
        ...


_REGISTRY: dict[str, str] = {
    "aave-v3": "defirisk.adapters.aave_v3.family:AaveV3Family",
    "compound-v2": "defirisk.adapters.compound_v2.family:CompoundV2Family",
    "morpho-blue": "defirisk.adapters.morpho_blue.family:MorphoBlueFamily",
    "comet": "defirisk.adapters.comet.family:CometFamily",
}


def get_family(name: str) -> Family:
    """The family object for ``name`` (as stored in ``SnapshotMeta.family``)."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise DataError(f"unknown protocol family {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)()


def family_names() -> list[str]:
    """Names of every registered family."""
    return sorted(_REGISTRY)
