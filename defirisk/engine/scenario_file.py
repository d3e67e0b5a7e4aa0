"""Scenario files: TOML a governance analyst can version next to their proposals.

Format (every table optional except at least one ``[[scenario]]``)::

    # groups and symbol mappings added to (or replacing) the bundled ones
    [groups]
    majors = ["WETH", "WBTC"]

    [symbols]
    sDAI = ["DAI"]

    [[scenario]]
    name = "majors -40%, stables -5%"        # required, unique in the file
    description = "free text"                 # optional
    shocks = ["group:majors=-40%", "group:stables=-5%", "WETH=-10%"]

    [[scenario]]
    name = "replay stETH/3AC"
    episode = "2022-06_steth_3ac"             # a bundled episode (or a unique prefix of its name)
    anchor = "episode"                        # optional: "episode" (default) or "window"
    step = "1h"                               # optional: grid step, default the data's own

A scenario has either ``shocks`` (syntax of ``defirisk.engine.shocks``) or ``episode``, not both.
Unknown keys are errors (a typo must not silently drop a shock). Limits: 1 MiB per file, 1,000
scenarios, 1,000 shocks per scenario. Every problem raises ``InvalidScenario`` with one line naming
the file and the scenario.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from defirisk.engine.history import load_history
from defirisk.engine.scenarios import EpisodeScenario, Scenario, ShockScenario
from defirisk.engine.vocabulary import GROUP_NAME, Vocabulary, check_table
from defirisk.errors import InvalidScenario

MAX_BYTES = 1 << 20
MAX_SCENARIOS = 1000
MAX_SHOCKS = 1000
_TOP_KEYS = {"groups", "symbols", "scenario"}
_SHOCK_KEYS = {"name", "description", "shocks"}
_EPISODE_KEYS = {"name", "description", "episode", "anchor", "step"}


@dataclass(frozen=True)
class ScenarioFile:
    """A parsed scenario file: its scenarios and its group and symbol-mapping overrides."""

    scenarios: tuple[Scenario, ...]
    groups: Vocabulary
    symbols: Vocabulary


def load_scenario_file(path: str | Path) -> ScenarioFile:
    """Read and validate a scenario file (see the module docstring for the format)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise InvalidScenario(f"{path}: {size} bytes; a scenario file may hold at most {MAX_BYTES}")
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidScenario(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidScenario(f"{path}: not UTF-8 text") from None
    return parse_scenario_toml(text, source=str(path))


def _keys(keys: set[str]) -> str:
    """Key names for a message; one that would break the line (or hide in it) is shown quoted."""
    return ", ".join(k if k.isprintable() else repr(k) for k in sorted(keys))


def parse_scenario_toml(text: str, source: str = "<scenario file>") -> ScenarioFile:
    """Parse scenario-file text; ``source`` names it in error messages."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise InvalidScenario(f"{source}: larger than {MAX_BYTES} bytes")
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidScenario(f"{source}: not valid TOML: {exc}") from None
    unknown = set(document) - _TOP_KEYS
    if unknown:
        raise InvalidScenario(f"{source}: unknown top-level key(s) {_keys(unknown)}")
    try:
        groups = check_table(document.get("groups", {}), "[groups]", GROUP_NAME)
        symbols = check_table(document.get("symbols", {}), "[symbols]")
    except InvalidScenario as exc:
        raise InvalidScenario(f"{source}: {exc}") from None
    entries = document.get("scenario", [])
    if not isinstance(entries, list) or not entries:
        raise InvalidScenario(f"{source}: no [[scenario]] entries")
    if len(entries) > MAX_SCENARIOS:
        raise InvalidScenario(f"{source}: {len(entries)} scenarios; at most {MAX_SCENARIOS}")
    scenarios: list[Scenario] = []
    for number, entry in enumerate(entries, start=1):
        try:
            scenarios.append(_scenario(entry, number))
        except InvalidScenario as exc:
            raise InvalidScenario(f"{source}: {exc}") from None
    names = [s.name for s in scenarios]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidScenario(f"{source}: duplicate scenario name(s) {', '.join(map(repr, duplicates))}")
    return ScenarioFile(tuple(scenarios), groups, symbols)


def _scenario(entry: object, number: int) -> Scenario:
    where = f"scenario #{number}"
    if not isinstance(entry, dict):
        raise InvalidScenario(f"{where} must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidScenario(f"{where} needs a non-empty name")
    where = f"scenario {name!r}"
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise InvalidScenario(f"{where}: description must be a string")
    if ("shocks" in entry) == ("episode" in entry):
        raise InvalidScenario(f"{where} needs exactly one of 'shocks' or 'episode'")
    allowed = _SHOCK_KEYS if "shocks" in entry else _EPISODE_KEYS
    unknown = set(entry) - allowed
    if unknown:
        raise InvalidScenario(f"{where}: unknown key(s) {_keys(unknown)}")
    try:
        if "shocks" in entry:
            shocks = entry["shocks"]
            if not isinstance(shocks, list) or not shocks or not all(isinstance(s, str) for s in shocks):
                raise InvalidScenario('shocks must be a non-empty list of strings like "WETH=-30%"')
            if len(shocks) > MAX_SHOCKS:
                raise InvalidScenario(f"{len(shocks)} shocks; at most {MAX_SHOCKS}")
            return ShockScenario.parse(shocks, name=name, description=description)
        episode, anchor, step = entry["episode"], entry.get("anchor", "episode"), entry.get("step")
        if not isinstance(episode, str) or not isinstance(anchor, str) or not isinstance(step, str | None):
            raise InvalidScenario("episode, anchor and step must be strings")
        load_history().episode(episode)
        return EpisodeScenario(episode=episode, name=name, anchor=anchor, step=step, description=description)
    except InvalidScenario as exc:
        raise InvalidScenario(f"{where}: {exc}") from None
