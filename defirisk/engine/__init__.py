"""Health factors for N accounts × S price scenarios, and the scenarios and views built on them.

Layers, each usable on its own:

* ``kernel`` — ``ExposureMatrix``, ``unit_values``, ``health_factors``, ``threshold_totals``: the
  vectorised maths (what the bad-debt estimator and the CLI build on);
* ``crossing`` — exact HF = 1 crossings: liquidation prices;
* scenarios — ``shocks`` (``WETH=-30%``), ``vocabulary`` (groups, episode mapping), ``history`` and
  ``episodes`` (bundled stress episodes), ``scenario_file`` (TOML), ``montecarlo`` (price paths);
* views — ``views`` (HF distribution, at-risk units, concentration), ``curves``;
* ``api`` — ``stress``, ``curves``, ``path_outcomes``: frames for notebooks, ``to_dict`` for JSON.
"""

from defirisk.engine.api import curves, exposures_of, path_outcomes, stress
from defirisk.engine.crossing import crossing, liquidation_multipliers
from defirisk.engine.kernel import (
    ExposureMatrix,
    ThresholdTotals,
    UnitValues,
    health_factors,
    iter_unit_values,
    threshold_totals,
    unit_values,
)
from defirisk.engine.montecarlo import PricePaths, simulate_paths
from defirisk.engine.results import CurveResult, StressResult
from defirisk.engine.scenario_file import ScenarioFile, load_scenario_file, parse_scenario_toml
from defirisk.engine.scenarios import EpisodeScenario, ResolvedScenario, ShockScenario, Unmapped
from defirisk.engine.shocks import Shock, multipliers_from_prices, parse_shock

__all__ = [
    "CurveResult",
    "EpisodeScenario",
    "ExposureMatrix",
    "PricePaths",
    "ResolvedScenario",
    "ScenarioFile",
    "Shock",
    "ShockScenario",
    "StressResult",
    "ThresholdTotals",
    "UnitValues",
    "Unmapped",
    "crossing",
    "curves",
    "exposures_of",
    "health_factors",
    "iter_unit_values",
    "liquidation_multipliers",
    "load_scenario_file",
    "multipliers_from_prices",
    "parse_scenario_toml",
    "parse_shock",
    "path_outcomes",
    "simulate_paths",
    "stress",
    "threshold_totals",
    "unit_values",
]
