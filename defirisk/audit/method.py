"""The document's record of where everything came from: the snapshot section, the sources of
parameters, prices, liquidity and gas, the basic checks, and the command that reruns the audit."""

from __future__ import annotations

import math
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from defirisk.liquidation import Economics, LiquidationRules, Liquidity
from defirisk.model import MarketState
from defirisk.paths import data_dir

_HASH_DIGITS = 64
#: Name of the check that says whether amounts are in USD (the terminal view reads it).
USD_RATE_CHECK = "USD rate of the base currency"


def snapshot_section(state: MarketState, rules: LiquidationRules) -> dict[str, Any]:
    """The ``snapshot`` section from the snapshot's meta (block hash lower-case; null offline)."""
    meta = state.meta
    block_hash = meta.block_hash.lower() if meta.block_hash else None
    if block_hash is not None and len(block_hash) != 2 + _HASH_DIGITS:
        block_hash = None
    return {
        "snapshot_id": meta.snapshot_id,
        "deployment": meta.deployment,
        "label": meta.label,
        "family": meta.family,
        "chain_id": meta.chain_id,
        "block_number": meta.block_number,
        "block_hash": block_hash,
        "timestamp": meta.timestamp,
        "offline": bool(meta.offline or meta.block_number is None),
        "adapter_version": meta.adapter_version,
        "rules_version": meta.rules_version or rules.version,
        "price_source": meta.price_source,
        "base_currency": meta.base_currency,
        "note": meta.note,
    }


def sources(state: MarketState, economics: Economics, liquidity: Liquidity) -> dict[str, str]:
    """What each input came from, in words."""
    meta = state.meta
    where = (
        "an offline import without a block"
        if meta.offline or meta.block_number is None
        else f"block {meta.block_number} of chain {meta.chain_id}"
    )
    assumed = sum(c.assumption for c in liquidity.curves) + int(liquidity.default.assumption)
    path = _shown_path(liquidity.path) if liquidity.path else "liquidity curves"
    gas_source = economics.sources.get("gas_units", "given")
    eth = (
        f"ETH at {economics.eth_price_usd:,.2f} USD ({economics.sources.get('eth_price_usd', 'given')})"
        if economics.eth_price_usd is not None
        else "ETH priced by the snapshot's wrapped or native ether feed, moving with it"
    )
    return {
        "parameters": f"{meta.family} adapter {meta.adapter_version}, snapshot of {meta.deployment} at {where}",
        "prices": meta.price_source,
        "liquidity": (
            f"{path} ({liquidity.source or 'no source stated'}, {liquidity.date or 'undated'}): "
            f"{len(liquidity.curves)} asset curves and a default, {assumed} of them assumptions"
        ),
        "gas": (
            f"{economics.gas_units:,.0f} gas per liquidation ({gas_source}) at {economics.gas_price_gwei:g} gwei "
            f"({economics.sources.get('gas_price_gwei', 'given')}); {eth}"
        ),
        "builder share": (
            f"{economics.builder_share:.1%} of the liquidator's {economics.builder_share_of} to the block builder "
            f"({economics.sources.get('builder_share', 'given')})"
        ),
    }


def _shown_path(path: str) -> str:
    """A bundled file as ``data/…`` (the same on every machine), any other path as given."""
    bundled = data_dir().resolve()
    try:
        return str(Path("data") / Path(path).resolve().relative_to(bundled))
    except ValueError:
        return path


def basic_checks(state: MarketState) -> list[dict[str, Any]]:
    """Checks any snapshot can take: prices usable, USD rate known."""
    price = state.assets["price"].to_numpy(dtype=np.float64)
    usable = int((np.isfinite(price) & (price > 0)).sum())
    rate = state.meta.base_currency_usd
    known = rate is not None and math.isfinite(rate) and rate > 0
    return [
        {
            "name": "oracle prices positive and finite",
            "result": f"{usable:,} of {len(price):,} assets",
            "ok": usable == len(price),
        },
        {
            "name": USD_RATE_CHECK,
            "result": f"1 {state.meta.base_currency} = {rate:,.6g} USD"
            if known
            else f"unknown: amounts named *_usd are in {state.meta.base_currency}",
            "ok": known,
        },
    ]


def rerun_command(words: Sequence[str]) -> str:
    """A shell command line from its words, each quoted only when needed."""
    return " ".join(shlex.quote(str(w)) for w in words)
