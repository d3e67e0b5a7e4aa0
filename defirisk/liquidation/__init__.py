"""Bad-debt estimator: liquidation rules, liquidator economics, cascades and risk measures.

The public API; modules hold the maths (``rules``, ``economics``, ``liquidity``, ``cascade``,
``metrics``) and ``estimate`` ties them to a snapshot.
"""

from defirisk.liquidation.cascade import CascadeResult, CascadeSettings, simulate
from defirisk.liquidation.economics import DerivedDefaults, Economics, default_economics, derive_defaults
from defirisk.liquidation.estimate import BadDebtResult, estimate_bad_debt
from defirisk.liquidation.liquidity import Curve, Liquidity, LiquidityBook, default_liquidity, load_liquidity
from defirisk.liquidation.metrics import Measure, RiskMetrics, risk_metrics
from defirisk.liquidation.rules import BadDebtPolicy, LiquidationRules, Seizure

__all__ = [
    "BadDebtPolicy",
    "BadDebtResult",
    "CascadeResult",
    "CascadeSettings",
    "Curve",
    "DerivedDefaults",
    "Economics",
    "LiquidationRules",
    "Liquidity",
    "LiquidityBook",
    "Measure",
    "RiskMetrics",
    "Seizure",
    "default_economics",
    "default_liquidity",
    "derive_defaults",
    "estimate_bad_debt",
    "load_liquidity",
    "risk_metrics",
    "simulate",
]
