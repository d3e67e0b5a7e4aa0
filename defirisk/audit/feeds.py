"""The snapshot's price feeds as an audit names and ranks them: labels, major collaterals, gas pricing.

**Major collaterals** (the targets of the standard shocks and of the per-asset liquidation curves)
are the feeds ranked by the collateral they price that counts toward health factors (liquidation
weight > 0, USD at snapshot prices), largest first: the first ``MAJOR_COUNT`` (4) of them, each
holding at least ``MAJOR_MIN_SHARE`` (1 %) of all counted collateral.

**Gas** is paid in ETH. The estimator moves the ETH price with the snapshot's wrapped or native
ether feed (known WETH addresses, or ``0xeeee…``); a snapshot without one needs the ETH price given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from defirisk.audit.scope import unique_labels
from defirisk.engine import ExposureMatrix
from defirisk.errors import InvalidParameter
from defirisk.liquidation import Economics
from defirisk.liquidation.economics import NATIVE_ETHER, WETH_ADDRESSES
from defirisk.model import Exposures, IntArray

MAJOR_COUNT = 4
MAJOR_MIN_SHARE = 0.01


def feed_labels(x: Exposures) -> list[str]:
    """One distinct display label per feed: its symbol, qualified by address, then by market, when shared."""
    market_of_feed = [""] * x.n_feeds
    for position in range(len(x.pos_feed) - 1, -1, -1):
        market_of_feed[int(x.pos_feed[position])] = str(x.unit_market[x.pos_unit[position]])
    return unique_labels(x.feed_symbol, x.feed_asset, market_of_feed)


@dataclass(frozen=True)
class Major:
    """A major collateral: one asset address, its label and every feed pricing it (one per market)."""

    address: str
    label: str
    feeds: IntArray


def major_collaterals(
    x: Exposures, matrix: ExposureMatrix, count: int = MAJOR_COUNT, min_share: float = MAJOR_MIN_SHARE
) -> list[Major]:
    """The major collaterals, largest counted collateral first (module docstring).

    Feeds of one asset address (the same token in several markets) count together, so a shock moves
    the token everywhere, as a real price move would.
    """
    value = matrix.collateral.sum(axis=0)
    addresses = [str(a).lower() for a in x.feed_asset]
    labels = unique_labels(x.feed_symbol, addresses)
    per_address: dict[str, float] = {}
    for f, address in enumerate(addresses):
        per_address[address] = per_address.get(address, 0.0) + float(value[f])
    total = sum(per_address.values())
    if total <= 0:
        return []
    ranked = sorted(per_address, key=lambda a: -per_address[a])
    majors = []
    for address in ranked[:count]:
        if per_address[address] < min_share * total:
            continue
        feeds = np.array([f for f, a in enumerate(addresses) if a == address], dtype=np.int64)
        majors.append(Major(address, labels[int(feeds[0])], feeds))
    return majors


def gas_economics(economics: Economics, x: Exposures) -> Economics:
    """``economics`` if it or the snapshot prices ETH for gas (module docstring); else ``InvalidParameter``."""
    if economics.eth_price_usd is not None:
        return economics
    if any(str(a).lower() in WETH_ADDRESSES | {NATIVE_ETHER} for a in x.feed_asset):
        return economics
    raise InvalidParameter(
        "the snapshot has no WETH price feed to value liquidators' gas: give the ETH price (--eth-price USD)"
    )
