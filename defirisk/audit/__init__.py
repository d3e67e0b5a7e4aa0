"""Audits: one snapshot in, one audit document (``defirisk.audit/1``) out, with what-if proposals,
``--fail-on`` gates and the bundled real-data demo.

    document   build_audit, StressSpec                  the document, section by section from:
    sections   market, HF distribution, curves, at-risk accounts, concentration (engine kernel)
    estimates  today, stress rows, Monte Carlo risk, cascade (bad-debt estimator)
    stress_set the standard stress set    feeds      labels, major collaterals, gas pricing
    calibration Monte Carlo episodes      scope      borrowers only, money basis, labels
    proposal   --set / --max-change       whatif     the proposal's section
    gates      --fail-on                  method     snapshot section, sources, checks, rerun command
    demo       the Compound v2 demo       replay     the March 2023 USDC depeg on the dataset
    view       terminal tables of a document            demo_view  the demo's tables
"""

from defirisk.audit.document import StressSpec, build_audit, failed_gates
from defirisk.audit.gates import METRICS, Gate, evaluate_gates, parse_gate, parse_gates
from defirisk.audit.proposal import DEFAULT_MAX_CHANGE, PARAMETERS, Proposal, apply_proposal, parse_proposal

__all__ = [
    "DEFAULT_MAX_CHANGE",
    "METRICS",
    "PARAMETERS",
    "Gate",
    "Proposal",
    "StressSpec",
    "apply_proposal",
    "build_audit",
    "evaluate_gates",
    "failed_gates",
    "parse_gate",
    "parse_gates",
    "parse_proposal",
]
