"""Correlated groups and the episode symbol mapping: bundled defaults plus user overrides.

Both are TOML tables of name → list of strings (``data/scenarios/groups.toml`` ``[groups]`` and
``data/scenarios/episode_symbols.toml`` ``[symbols]``); an override replaces whole entries of the
same name and adds new ones.

* A **group** ``eth = ["WETH", "wstETH", …]`` lets a shock ``group:eth=-20%`` move every member present
  in the snapshot; members are symbols (exact match) or lower-case asset addresses.
* The **symbol mapping** ``wstETH = ["wstETH", "stETH", "ETH"]`` says which price series of a
  historical episode stands for a snapshot asset: the first candidate the episode has wins. A symbol
  without an entry is looked up under its own name.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from defirisk.errors import DataError, InvalidScenario
from defirisk.paths import data_dir

Vocabulary = dict[str, tuple[str, ...]]

GROUP_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
#: The most entries one table may hold, and members one entry may list.
MAX_ENTRIES = 1000
MAX_MEMBERS = 1000


def _scenarios_dir() -> Path:
    return data_dir() / "scenarios"


def check_table(table: object, what: str, names: re.Pattern[str] | None = None) -> Vocabulary:
    """Validate a name → list-of-strings table, raising ``InvalidScenario`` with a one-line reason."""
    if not isinstance(table, Mapping):
        raise InvalidScenario(f"{what} must be a table of name = [list of strings]")
    if len(table) > MAX_ENTRIES:
        raise InvalidScenario(f"{what} has {len(table)} entries; at most {MAX_ENTRIES}")
    out: Vocabulary = {}
    for name, members in table.items():
        if names is not None and not names.fullmatch(name):
            raise InvalidScenario(
                f"{what}: name {name!r} must be lower-case letters, digits, '_', '-' or '.'"
            )
        if (
            not isinstance(members, list | tuple)
            or not members
            or len(members) > MAX_MEMBERS
            or not all(isinstance(m, str) and m.strip() for m in members)
        ):
            raise InvalidScenario(
                f"{what}: {name!r} must be a non-empty list of at most {MAX_MEMBERS} strings"
            )
        out[name] = tuple(members)
    return out


def _load(path: Path, key: str, names: re.Pattern[str] | None) -> Vocabulary:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"cannot read bundled {path.name}: {exc}") from None
    try:
        return check_table(document.get(key, {}), f"{path.name} [{key}]", names)
    except InvalidScenario as exc:
        raise DataError(str(exc)) from None


@cache
def default_groups() -> Vocabulary:
    """The bundled correlated groups (``data/scenarios/groups.toml``)."""
    return _load(_scenarios_dir() / "groups.toml", "groups", GROUP_NAME)


@cache
def default_symbol_map() -> Vocabulary:
    """The bundled episode symbol mapping (``data/scenarios/episode_symbols.toml``)."""
    return _load(_scenarios_dir() / "episode_symbols.toml", "symbols", None)


def groups_with(override: Mapping[str, Sequence[str]] | None = None) -> Vocabulary:
    """The bundled groups with ``override``'s entries (validated) replacing or adding to them."""
    extra = check_table(override or {}, "groups", GROUP_NAME)
    return {**default_groups(), **extra}


def symbol_map_with(override: Mapping[str, Sequence[str]] | None = None) -> Vocabulary:
    """The bundled symbol mapping with ``override``'s entries (validated) replacing or adding."""
    extra = check_table(override or {}, "symbols")
    return {**default_symbol_map(), **extra}


def candidates(symbol_map: Mapping[str, Sequence[str]], symbol: str) -> tuple[str, ...]:
    """Episode symbols that may stand for snapshot symbol ``symbol``, in order of preference."""
    return tuple(symbol_map.get(symbol, (symbol,)))
