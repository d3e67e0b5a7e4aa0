"""The standard stress set of an audit: every bundled episode, and fixed falls of each major collateral.

* **Episodes** — each bundled historical episode (``data/prices``) replayed on the snapshot at the
  data's own step, from the eve of the episode to ten days after it (``EpisodeScenario`` with the
  ``"episode"`` anchor); feeds an episode has no series for keep their snapshot price and are listed.
  An episode that prices none of the snapshot's assets is left out, with the reason in the notes.
* **Shocks** — ``SHOCK_MOVES`` (−10, −20, −30, −50 %) on each major collateral feed alone (see
  ``defirisk.audit.feeds``), every other price unchanged, held for the horizon while liquidations
  cascade. A shock targets its feed by asset address, so a hostile symbol cannot redirect it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from defirisk.audit.feeds import Major
from defirisk.engine import EpisodeScenario, ResolvedScenario, ShockScenario
from defirisk.engine.scenarios import ScenarioContext
from defirisk.errors import InvalidScenario

SHOCK_MOVES = (-0.10, -0.20, -0.30, -0.50)


@dataclass(frozen=True)
class StressItem:
    """One scenario of the set, resolved on the snapshot: ``kind`` is ``"episode"`` or ``"shock"``."""

    name: str
    kind: str
    definition: str
    resolved: ResolvedScenario


def _percent(move: float) -> str:
    return f"{move * 100:+g}%"


def standard_stress_set(
    context: ScenarioContext,
    majors: Sequence[Major],
    horizon: str,
    episodes: Sequence[str] | None = None,
    moves: Sequence[float] = SHOCK_MOVES,
) -> tuple[list[StressItem], list[str]]:
    """The resolved scenarios (episodes first, in name order, then shocks by major) and notes on
    episodes left out; ``episodes`` defaults to all."""
    names = sorted(context.price_history().episodes) if episodes is None else list(episodes)
    items: list[StressItem] = []
    notes: list[str] = []
    for name in names:
        try:
            resolved = EpisodeScenario(name).resolve(context)
        except InvalidScenario as exc:
            notes.append(f"Episode {name} was not replayed: {exc}")
            continue
        items.append(
            StressItem(
                name=name,
                kind="episode",
                definition=(
                    f"historical episode replayed on today's positions from the eve of the episode to ten days "
                    f"after ({resolved.description})"
                ),
                resolved=resolved,
            )
        )
    for major in majors:
        address, label = major.address, major.label
        for move in moves:
            name = f"{label} {_percent(move)}"
            scenario = ShockScenario.parse(f"{address}={_percent(move)}", name=name)
            items.append(
                StressItem(
                    name=name,
                    kind="shock",
                    definition=(
                        f"{label} ({address}) price {_percent(move)}, every other price unchanged, held for "
                        f"{horizon} while liquidations cascade"
                    ),
                    resolved=scenario.resolve(context),
                )
            )
    return items, notes

