"""The demo for the terminal: its tables and sentences, ``Table`` (see ``view``) or ``str``.

Nothing here prints; ``defirisk demo`` hands tables to ``print_table`` and sentences to ``echo``,
both made inert (``terminal_safe``). Every number comes from the ``DemoResult``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from defirisk.audit.replay import Liquidations, ReplayResult
from defirisk.audit.view import Table, audit_tables
from defirisk.report import format as fmt


def _liquidation_rows(columns: Sequence[Liquidations], deltas: frozenset[int]) -> list[list[Any]]:
    """One row per figure, one column per ``columns``; columns in ``deltas`` are differences (signed)."""
    rows = [["liquidation calls", *(fmt.count_delta(c.calls) if i in deltas else fmt.count(c.calls)
                                    for i, c in enumerate(columns))]]
    for label, name in (
        ("debt repaid", "debt_repaid_usd"),
        ("collateral seized", "collateral_seized_usd"),
        ("cost to borrowers (seized − repaid)", "cost_to_borrowers_usd"),
        ("  of which protocol fee", "protocol_fee_usd"),
        ("liquidators' profit", "liquidator_profit_usd"),
        ("gas", "gas_usd"),
        ("slippage", "slippage_usd"),
        ("paid to block builders", "builder_usd"),
        ("bad debt at the end", "bad_debt_end_usd"),
        ("bad debt at its peak", "bad_debt_peak_usd"),
        ("unliquidatable debt at the end", "unliquidatable_end_usd"),
    ):
        rows.append([label, *(fmt.usd_delta(getattr(c, name)) if i in deltas else fmt.usd(getattr(c, name))
                              for i, c in enumerate(columns))])
    return rows


def replay_output(replay: ReplayResult) -> list[Table | str]:
    """The depeg replay for the terminal: tables and sentences."""
    point = replay.worst_point
    dai = replay.dai_follows_usdc
    peg = ", ".join(f"{symbol} (first candle {first})" for symbol, first in replay.assumed_peg.items())
    return [
        (
            f"USDC depeg (SVB) replayed hourly on {replay.deployment}, {replay.start} → {replay.end} UTC "
            f"({replay.hours} hours)",
            ["", ""],
            [
                ["accounts (with debt)", f"{fmt.count(replay.accounts)} ({fmt.count(replay.borrowers)})"],
                ["ETH/USD at the start → end", f"{fmt.price(replay.eth_usd_start)} → {fmt.price(replay.eth_usd_end)}"],
                ["liquidatable at the start", f"{fmt.count(replay.liquidatable_at_start)} accounts, "
                                              f"{fmt.usd(replay.liquidatable_at_start_debt_usd)} of debt"],
                ["became liquidatable during the replay", f"{fmt.count(replay.newly_liquidatable)} accounts, "
                 f"{fmt.usd(replay.newly_liquidatable_debt_usd)} of debt (when they did)"],
                ["worst hour", f"{replay.worst_hour}: {fmt.count(replay.worst_hour_liquidatable)} accounts, "
                               f"{fmt.usd(replay.worst_hour_liquidatable_debt_usd)} liquidatable"],
            ],
        ),
        (
            "Largest accounts the depeg made liquidatable",
            ["account", "first liquidatable", "debt then", "lowest HF", "main collateral"],
            [[a["account"], a["first_liquidatable"], fmt.usd(a["debt_usd"]), fmt.health_factor(a["lowest_health_factor"]),
              a["main_collateral"] or "-"] for a in replay.largest_newly],
        ),
        (
            "Liquidations simulated over the replay (liquidator economics, liquidity, cascades; USD at each hour)",
            ["", "replay", "prices held at the start", "attributable to the depeg"],
            _liquidation_rows([replay.replay, replay.flat, replay.attributable], frozenset({2})),
        ),
        (
            f"Deepest point, held {point['held_hours']} h: USDC at {fmt.price(point['usdc_usd'])}, other prices at "
            f"{point['anchor_time']}",
            ["", f"held {point['held_hours']} h", "attributable to the depeg"],
            [
                ["accounts made liquidatable", f"{fmt.count(point['newly_liquidatable'])} "
                 f"({fmt.usd(point['newly_liquidatable_debt_usd'])} of debt)", ""],
                *_liquidation_rows(
                    [Liquidations(**point["liquidations"]), Liquidations(**point["attributable"])], frozenset({1})
                ),
            ],
        ),
        f"USDC's lowest hourly close in the bundled file: {fmt.price(replay.usdc_low_hourly_usd)} "
        f"(its deepest hours are missing; the deepest point uses Yahoo's daily low). {point['description']}.",
        f"Assumed at 1 USDT before their first hourly candle: {peg or 'none'}. No price in the file (held at the "
        f"snapshot price, or 1 USDT for a USD stablecoin): {', '.join(replay.unmapped) or 'none'}.",
        f"If DAI had moved like USDC: {fmt.count(dai['newly_liquidatable'])} accounts become liquidatable, "
        f"{fmt.usd(dai['attributable']['debt_repaid_usd'])} more debt liquidated than with prices held, "
        f"bad debt {fmt.usd_delta(dai['attributable']['bad_debt_end_usd'])} at the end.",
    ]


def demo_output(result: Any, seconds: float) -> list[Table | str]:
    """The demo for the terminal (``result``: ``defirisk.audit.demo.DemoResult``)."""
    document = result.document
    may = result.snapshots[0]
    cc = result.crosscheck
    out: list[Table | str] = [
        "defirisk demo: real Compound v2 positions (The Graph compound-v2 subgraph, bundled in data/compound_v2_2023).",
        (
            f"Snapshots imported into {result.database}",
            ["id", "deployment", "accounts", "positions", "block", "prices"],
            [[s["snapshot_id"], s["deployment"], fmt.count(s["accounts"]), fmt.count(s["positions"]),
              "none (offline)" if s["block_number"] is None else fmt.block(s["block_number"]),
              s["price_time"] or "the snapshot's own valuation"] for s in result.snapshots],
        ),
        "Both are offline snapshots without a block number: their dates are inferred from the data "
        "(see data/compound_v2_2023/README.md), not read from a chain.",
        (
            f"Cross-check on snapshot {may['snapshot_id']}: the engine's borrowing power per account vs the dataset's "
            "own collateral totals",
            ["", ""],
            [
                ["accounts", fmt.count(cc["accounts"])],
                [f"within {cc['tolerance']:g} (relative)", fmt.count(cc["collateral"]["within_tolerance"])],
                ["outside the two known groups: agree", f"{fmt.count(cc['collateral_other']['within_tolerance'])} of "
                                                        f"{fmt.count(cc['collateral_other']['accounts'])}"],
                ["holders of a market the subgraph prices stale", fmt.count(cc["accounts_repriced"])],
                ["accounts with negative subgraph balances", fmt.count(cc["accounts_negative_balance"])],
                ["sum, engine vs dataset (ETH)",
                 f"{cc['collateral']['sum_engine']:,.3f} vs {cc['collateral']['sum_dataset']:,.3f}"],
            ],
        ),
        result.crosscheck_check["result"],
        f"Audit of snapshot {document['snapshot']['snapshot_id']} ({document['snapshot']['label']}): "
        f"{fmt.count(document['market']['accounts'])} accounts, {fmt.count(document['market']['borrowers'])} with debt.",
        *audit_tables(document, ("Market today", "Stress set", "Monte Carlo", "Largest accounts")),
        *replay_output(result.replay),
        "Files: " + ", ".join(result.files),
        f"Done in {seconds:.0f} s. Monte Carlo: {fmt.count(result.paths)} paths, seed {result.seed} "
        "(defirisk audit --paths N for more). Every figure above is computed from the bundled data.",
    ]
    return out
