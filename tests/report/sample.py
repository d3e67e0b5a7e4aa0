"""A realistic synthetic audit document (``defirisk.audit/1``) for renderer tests, and a hostile twin.

The numbers hang together the way an engine's would: bucket debts sum to the market's debt, the
accounts below HF 1 are the ones listed at risk, VaR / ES are quantiles and tail means of the very
sample the histogram counts, newly liquidatable accounts are those whose HF the proposed threshold
pushes below 1. Everything is deterministic.
"""

from __future__ import annotations

import copy
import functools
import math
from typing import Any

import numpy as np

#: Strings a malicious token contract (or a careless user) could put anywhere text is shown.
HOSTILE: tuple[str, ...] = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "[x](javascript:alert(1))",
    '=HYPERLINK("http://x")',
    "|",
    ("<img src=x onerror=alert(1)>" * 400)[:10_000],
    "\x1b[31mRED\x1b[0m",
    "'; DROP TABLE assets;--",
    "\udcff\udcfeSYM",
    "![i](http://x/y.png)",
    "<a href=x>a</a>\n# heading\n| a | b |",
    "+1",
    "-1+1",
    "@SUM(A1)",
    "`code` **bold** _it_ ~~s~~",
    "www.evil.example @admin #tag :smile: &lt;b&gt;",
    "\u202eevil\u202c",
)

# symbol, address, price, supplied USD, borrowed USD, ltv, LT, bonus, supply cap, borrow cap, isolated
_ASSETS: tuple[tuple[str, str, float, float, float, float, float, float, float, float, bool], ...] = (
    ("WETH", "c02aaa39b223fe8d0a0e5c4f27ead9083c756cc2", 1816.85, 2.14e9, 6.52e8, 0.805, 0.83, 0.05, 1.8e6, 1.4e6, False),
    ("wstETH", "7f39c581f595b53c5cb19bd0b3f8da6c935e2ca0", 2058.12, 1.23e9, 1.1e7, 0.785, 0.81, 0.07, 1.1e6, 1.2e4, False),
    ("WBTC", "2260fac5e5542a773aa44fbcfedf7c193bc2c599", 29187.4, 6.1e8, 2.3e7, 0.70, 0.75, 0.0625, 4.3e4, 2.8e4, False),
    ("USDC", "a0b86991c6218b36c1d19d4a2e9eb0ce3606eb48", 1.0001, 5.2e8, 4.1e8, 0.77, 0.80, 0.045, 1.5e9, 1.4e9, False),
    ("USDT", "dac17f958d2ee523a2206206994597c13d831ec7", 0.9998, 2.1e8, 2.2e8, 0.74, 0.76, 0.045, 1.0e9, 9.0e8, False),
    ("DAI", "6b175474e89094c44da98b954eedeac495271d0f", 0.9999, 1.9e8, 1.2e8, 0.63, 0.77, 0.05, 3.4e8, 2.7e8, False),
    ("LINK", "514910771af9ca656af840dff83e8264ecf986ca", 7.42, 4.5e7, 1.1e6, 0.53, 0.68, 0.07, 1.5e7, 1.3e6, False),
    ("cbETH", "be9895146f7af43049ca1c1ae358b0541ea49704", 1910.33, 7.4e7, 2.1e6, 0.67, 0.74, 0.075, 6.0e4, 1.2e3, False),
    ("rETH", "ae78736cd615f374d3085123a210448e74fc6393", 2030.5, 6.2e7, 1.4e6, 0.67, 0.74, 0.075, 6.0e4, 2.4e3, False),
    ("CRV", "d533a949740bb3306d119cc777fa900ba034cd52", 0.73, 3.1e7, 4.0e6, 0.35, 0.41, 0.083, 6.2e7, 7.7e6, True),
)
_POOL = "0x87870bca3f3fd6335c3f4ce8392d69350b4fa4e2"
_BUCKETS = (("<1", 0.0, 1.0), ("1–1.05", 1.0, 1.05), ("1.05–1.1", 1.05, 1.1), ("1.1–1.25", 1.1, 1.25),
            ("1.25–1.5", 1.25, 1.5), ("1.5–2", 1.5, 2.0), (">2", 2.0, None))
_CHANGES = [round(-0.9 + 0.05 * i, 2) for i in range(39)]


def _address(rng: np.random.Generator) -> str:
    return "0x" + bytes(rng.integers(0, 256, 20, dtype=np.uint8)).hex()


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _curve_debt(debt_usd: float, change: float, base: float, stable: bool) -> float:
    """Liquidatable debt when one asset's price moves by ``change``: positions' distance to
    liquidation is roughly normal (mean 35 %, sd 15 %) for volatile collateral; stablecoin debt
    makes positions liquidatable when its price rises instead."""
    if stable:
        return base + 0.6 * debt_usd * _normal_cdf((change - 0.18) / 0.07)
    return base + 0.55 * debt_usd * _normal_cdf((-change - 0.35) / 0.15)


def _at_risk(rng: np.random.Generator) -> list[dict[str, Any]]:
    hfs = np.concatenate([[0.968, 0.981, 0.994], np.sort(rng.uniform(1.001, 1.09, 22))])
    rows = []
    for index, hf in enumerate(hfs):
        symbol, _, price_usd, *_rest = _ASSETS[index % 3]
        lt = _ASSETS[index % 3][6]
        debt = float(np.exp(rng.uniform(math.log(2e4), math.log(8e6))))
        change = 1 / float(hf) - 1
        rows.append(
            {
                "account": _address(rng),
                "market": _POOL,
                "health_factor": round(float(hf), 6),
                "collateral_usd": debt * float(hf) / lt,
                "debt_usd": debt,
                "main_collateral": symbol,
                "liquidation_price_usd": price_usd * (1 + change),
                "liquidation_change": change,
            }
        )
    return rows


def _risk_metrics(rng: np.random.Generator) -> dict[str, Any]:
    paths = 1000
    hit = rng.random(paths) < 0.35
    bad = np.where(hit, rng.lognormal(math.log(2.5e5), 1.4, paths), 0.0)
    liq = rng.lognormal(math.log(4e7), 0.7, paths)
    metrics = []
    for name, sample in (("bad_debt", bad), ("liquidations_at_risk", liq)):
        for percentile in (0.95, 0.99):
            var = float(np.quantile(sample, percentile))
            es = float(sample[sample >= var].mean())
            boot = rng.choice(sample, size=(200, paths))
            boot_var = np.quantile(boot, percentile, axis=1)
            boot_es = np.array([row[row >= v].mean() for row, v in zip(boot, boot_var, strict=True)])
            for measure, value, spread in (("VaR", var, boot_var), ("ES", es, boot_es)):
                metrics.append(
                    {
                        "name": name,
                        "measure": measure,
                        "percentile": percentile,
                        "value_usd": value,
                        "ci_low_usd": float(np.quantile(spread, 0.05)),
                        "ci_high_usd": float(np.quantile(spread, 0.95)),
                        "ci_level": 0.9,
                    }
                )
    counts, edges = np.histogram(bad, bins=24)
    return {
        "horizon": "24h",
        "step": "1h",
        "paths": paths,
        "seed": 7,
        "method": "bootstrap",
        "metrics": metrics,
        "distribution": {
            "bad_debt_usd_quantiles": {q: float(np.quantile(bad, float(q))) for q in ("0.5", "0.9", "0.95", "0.99")},
            "histogram": {"edges_usd": edges.tolist(), "counts": counts.tolist()},
        },
    }


def _stress(debts: dict[str, float]) -> list[dict[str, Any]]:
    episodes = (
        ("2020-03 Black Thursday", "ETH and BTC crash of 12–13 March 2020", {"WETH": -0.43, "WBTC": -0.38}, ["cbETH", "rETH", "wstETH"]),
        ("2022-05 LUNA/UST", "Terra collapse, 7–12 May 2022", {"WETH": -0.29, "WBTC": -0.25, "USDT": -0.012}, []),
        ("2022-11 FTX", "FTX insolvency, 6–10 November 2022", {"WETH": -0.24, "WBTC": -0.22}, []),
        ("2023-03 USDC depeg", "SVB failure, USDC at 0.88 on 11 March 2023", {"USDC": -0.12, "DAI": -0.09}, []),
    )
    rows = []
    for name, description, worst, unmapped in episodes:
        rows.append(_stress_row(name, "episode", description, worst, unmapped, debts))
    for symbol in ("WETH", "wstETH", "WBTC", "USDC"):
        for shock in (-0.1, -0.2, -0.3, -0.5):
            rows.append(_stress_row(f"{symbol} {shock:+.0%}", "shock", f"{symbol} price {shock:+.0%}, all else unchanged",
                                    {symbol: shock}, [], debts))
    return rows


def _stress_row(name: str, kind: str, description: str, worst: dict[str, float], unmapped: list[str],
                debts: dict[str, float]) -> dict[str, Any]:
    liquidatable = 1.2e6
    for symbol, change in worst.items():
        stable = symbol in ("USDC", "USDT", "DAI")
        # A depeg of a stablecoin held as collateral behaves like a volatile asset's fall, scaled up.
        scale = 4.0 if stable else 1.0
        liquidatable += _curve_debt(debts[symbol] * (8 if stable else 1), change * scale, 0.0, False)
    depth = max(-min(worst.values()) - 0.25, 0.0)
    bad = liquidatable * (0.004 + 0.6 * depth**1.5)
    liquidated = liquidatable * 0.62
    return {
        "name": name,
        "kind": kind,
        "description": description,
        "worst_change": worst,
        "liquidatable_debt_usd": liquidatable,
        "liquidated_debt_usd": liquidated,
        "bad_debt_usd": bad,
        "unliquidatable_debt_usd": liquidatable * 0.0012,
        "liquidation_cost_usd": liquidated * 0.061,
        "accounts_liquidatable": int(liquidatable / 8.5e4),
        "unmapped_assets": unmapped,
    }


def _whatif(at_risk: list[dict[str, Any]], today_liquidatable: float) -> dict[str, Any]:
    factor = 0.78 / 0.83
    newly = [
        {"account": row["account"], "health_factor_before": row["health_factor"],
         "health_factor_after": round(row["health_factor"] * factor, 6), "debt_usd": row["debt_usd"]}
        for row in at_risk
        if row["main_collateral"] == "WETH" and row["health_factor"] >= 1 and row["health_factor"] * factor < 1
    ]
    added = sum(row["debt_usd"] for row in newly)
    return {
        "changes": [
            {"asset": "WETH", "parameter": "liquidation_threshold", "current": 0.83, "proposed": 0.78,
             "max_change": 0.05, "within_bounds": True},
            {"asset": "wstETH", "parameter": "ltv", "current": 0.785, "proposed": 0.76,
             "max_change": 0.05, "within_bounds": True},
            {"asset": "USDC", "parameter": "supply_cap", "current": 1.5e9, "proposed": 4.0e9,
             "max_change": 1.0, "within_bounds": False},
        ],
        "before": {"liquidatable_debt_usd": today_liquidatable, "bad_debt_usd": 0.0, "accounts_liquidatable": 3},
        "after": {"liquidatable_debt_usd": today_liquidatable + added, "bad_debt_usd": 0.0,
                  "accounts_liquidatable": 3 + len(newly)},
        "newly_liquidatable": newly,
    }


def sample_audit(whatif: bool = True, hostile: bool = False) -> dict[str, Any]:
    """A complete, valid audit document of a synthetic Aave v3 market (10 assets, 48,213 accounts).

    ``whatif`` adds a proposal (three parameter changes, one outside risk-steward bounds);
    ``hostile`` puts ``HOSTILE`` strings into every untrusted text field and symbol-keyed dict.
    Each call returns a fresh copy, free to mutate.
    """
    return copy.deepcopy(_build(whatif, hostile))


@functools.cache
def _build(whatif: bool, hostile: bool) -> dict[str, Any]:
    rng = np.random.default_rng(20230310)
    assets = [
        {"symbol": s, "asset": "0x" + a, "price_usd": p, "supplied_usd": sup, "borrowed_usd": bor, "ltv": ltv,
         "liquidation_threshold": lt, "liquidation_bonus": bonus, "supply_cap": sc, "borrow_cap": bc,
         "is_isolated": iso}
        for s, a, p, sup, bor, ltv, lt, bonus, sc, bc, iso in _ASSETS
    ]
    debt_usd = sum(a["borrowed_usd"] for a in assets)
    collateral_usd = 0.93 * sum(a["supplied_usd"] for a in assets)
    at_risk = _at_risk(rng)
    below_one = [row for row in at_risk if row["health_factor"] < 1]
    today_liquidatable = sum(row["debt_usd"] for row in below_one)
    borrowers = 21_507
    debt_shares = (0.011, 0.024, 0.12, 0.28, 0.31, 0.255)
    count_shares = (0.012, 0.02, 0.09, 0.19, 0.27, 0.418)
    rest_debt = debt_usd - today_liquidatable
    buckets = [{"bucket": "<1", "lower": 0.0, "upper": 1.0, "count": len(below_one), "debt_usd": today_liquidatable,
                "collateral_usd": sum(row["collateral_usd"] for row in below_one)}]
    for (label, lower, upper), d_share, c_share in zip(_BUCKETS[1:], debt_shares, count_shares, strict=True):
        hf_mid = (lower + (upper or 3.0)) / 2
        buckets.append({"bucket": label, "lower": lower, "upper": upper,
                        "count": round((borrowers - len(below_one)) * c_share),
                        "debt_usd": rest_debt * d_share / sum(debt_shares),
                        "collateral_usd": rest_debt * d_share / sum(debt_shares) * hf_mid / 0.8})
    debts = {a["symbol"]: a["supplied_usd"] * 0.3 for a in assets}
    curves = []
    for symbol in ("WETH", "wstETH", "WBTC", "USDC", "USDT"):
        stable = symbol in ("USDC", "USDT")
        exposure = assets[[a["symbol"] for a in assets].index(symbol)]["borrowed_usd" if stable else "supplied_usd"]
        points = [{"change": c, "liquidatable_debt_usd": _curve_debt(exposure * 0.4, c, today_liquidatable, stable)}
                  for c in _CHANGES]
        for point in points:
            point["liquidatable_collateral_usd"] = point["liquidatable_debt_usd"] * 1.08
        curves.append({"name": symbol, "kind": "asset", "members": [symbol], "points": points})
    eth_group = ["WETH", "wstETH", "cbETH", "rETH"]
    group_exposure = sum(a["supplied_usd"] for a in assets if a["symbol"] in eth_group)
    curves.append({"name": "ETH and LSTs", "kind": "group", "members": eth_group, "points": [
        {"change": c, "liquidatable_debt_usd": _curve_debt(group_exposure * 0.4, c, today_liquidatable, False),
         "liquidatable_collateral_usd": _curve_debt(group_exposure * 0.4, c, today_liquidatable, False) * 1.08}
        for c in _CHANGES]})
    steps = [(41, 2.31e7, -0.012, 1.1e4), (18, 9.8e6, -0.006, 3.4e4), (7, 3.1e6, -0.002, 2.2e4),
             (3, 8.4e5, -0.0007, 6.0e3), (1, 1.2e5, -0.0001, 0.0)]
    cascade = {"scenario": "WETH -30%", "steps": [
        {"step": i, "liquidations": n, "debt_repaid_usd": repaid, "volume_sold_usd": repaid * 1.06,
         "price_impact": {"WETH": impact, "wstETH": impact * 0.8}, "bad_debt_usd": bad}
        for i, (n, repaid, impact, bad) in enumerate(steps)]}
    document: dict[str, Any] = {
        "schema": "defirisk.audit/1",
        "generated_at": "2026-11-21T10:00:00Z",
        "tool": {"name": "defirisk", "version": "0.1.0"},
        "snapshot": {
            "snapshot_id": 3, "deployment": "aave-v3-ethereum", "label": "Aave v3 Ethereum", "family": "aave-v3",
            "chain_id": 1, "block_number": 18_000_000,
            "block_hash": "0x" + bytes(rng.integers(0, 256, 32, dtype=np.uint8)).hex(),
            "timestamp": 1_693_066_139, "offline": False, "adapter_version": "aave-v3/1", "rules_version": "3.0",
            "price_source": "AaveOracle 0x54586be62e3c3580375ae3723c145253060ca0c2", "base_currency": "USD",
            "note": "",
        },
        "market": {"accounts": 48_213, "borrowers": borrowers, "collateral_usd": collateral_usd, "debt_usd": debt_usd,
                   "assets": assets},
        "hf_distribution": {"buckets": buckets},
        "liquidation_curves": curves,
        "stress": _stress(debts),
        "bad_debt": {"today": {"bad_debt_usd": 0.0, "unliquidatable_debt_usd": 1.84e3,
                               "liquidatable_debt_usd": today_liquidatable}},
        "risk_metrics": _risk_metrics(rng),
        "cascade": cascade,
        "at_risk": at_risk,
        "concentration": {"top_1pct_debt_share": 0.61, "top_1pct_collateral_share": 0.55,
                          "top_10_debt_share": 0.23, "top_10_collateral_share": 0.19},
        "whatif": _whatif(at_risk, today_liquidatable) if whatif else None,
        "checks": [
            {"name": "health factors vs Pool.getUserAccountData", "result": "48,213 of 48,213 accounts within 1e-9",
             "ok": True},
            {"name": "oracle prices positive and finite", "result": "10 of 10 assets", "ok": True},
            {"name": "USDC supply below cap", "result": "supply at 97.3 % of cap", "ok": False},
        ],
        "method": {
            "command": "defirisk report aave-v3-ethereum --block 18000000 --set WETH.liquidation_threshold=78% "
                       "--set wstETH.ltv=76% --set USDC.supply_cap=4000000000 --seed 7 --format markdown",
            "sources": {
                "parameters": "AaveProtocolDataProvider 0x7b4eb56e7cd4b454ba8ff71e4518426369a138a3 at the block",
                "prices": "AaveOracle 0x54586be62e3c3580375ae3723c145253060ca0c2 (Chainlink feeds)",
                "liquidity": "bundled DEX depth curves, data/curves/2023-08.json",
                "gas": "30 gwei, 450,000 gas per liquidation",
            },
            "scenarios": [{"name": row["name"], "definition": row["description"]} for row in _stress(debts)[:4]],
            "seeds": {"monte_carlo": 7, "bootstrap": 11},
            "notes": ["Prices are the protocol's own oracle answers at the block.",
                      "Monte Carlo paths resample hourly returns of 2020-01..2023-06 in 24-hour blocks."],
        },
        "gates": [{"expr": "bad_debt_usd>1e6", "value": 0.0, "failed": False}],
    }
    return _make_hostile(document) if hostile else document


def _make_hostile(document: dict[str, Any]) -> dict[str, Any]:
    """Every untrusted text field and every symbol becomes one of ``HOSTILE`` (symbols stay distinct)."""
    names = {a["symbol"]: HOSTILE[i % len(HOSTILE)] for i, a in enumerate(document["market"]["assets"])}

    def sym(symbol: str) -> str:
        return names.get(symbol, symbol)

    def rekey(mapping: dict[str, float]) -> dict[str, float]:
        return {sym(k): v for k, v in mapping.items()}

    cycle = iter(HOSTILE * 20)
    snap = document["snapshot"]
    for key in ("deployment", "label", "price_source", "note"):
        snap[key] = next(cycle)
    for asset in document["market"]["assets"]:
        asset["symbol"] = sym(asset["symbol"])
    for bucket in document["hf_distribution"]["buckets"]:
        bucket["bucket"] = next(cycle)
    for curve in document["liquidation_curves"]:
        curve["name"] = next(cycle)
        curve["members"] = [sym(m) for m in curve["members"]]
    for row in document["stress"]:
        row["name"], row["description"] = next(cycle), next(cycle)
        row["worst_change"] = rekey(row["worst_change"])
        row["unmapped_assets"] = [sym(m) for m in row["unmapped_assets"]] + [next(cycle)]
    cascade = document["cascade"]
    cascade["scenario"] = next(cycle)
    for step in cascade["steps"]:
        step["price_impact"] = rekey(step["price_impact"])
    for row in document["at_risk"]:
        row["main_collateral"] = sym(row["main_collateral"])
    if document["whatif"] is not None:
        for change in document["whatif"]["changes"]:
            change["asset"] = sym(change["asset"])
    for check in document["checks"]:
        check["name"], check["result"] = next(cycle), next(cycle)
    method = document["method"]
    method["command"] = "defirisk report ```\n<script>alert(1)</script> '; DROP TABLE assets;-- " + HOSTILE[2]
    method["sources"] = {next(cycle): next(cycle) for _ in range(4)}
    method["scenarios"] = [{"name": next(cycle), "definition": next(cycle)} for _ in range(4)]
    method["notes"] = list(HOSTILE)
    for gate in document["gates"]:
        gate["expr"] = next(cycle)
    return document
