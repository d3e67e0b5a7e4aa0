"""Every command has help text and a row in the README's command reference."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer.main

from defirisk.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf commands by their path (``job run``); Typer's groups are the commands with sub-commands."""
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(command, "commands"):
            found |= _commands(command, f"{path} ")
        else:
            found[path] = command
    return found


COMMANDS = _commands(typer.main.get_command(app))


def _reference_rows() -> set[str]:
    section = README.split("## Command reference", 1)[1].split("\n## ", 1)[0]
    return {m.group(1) for m in re.finditer(r"^\| `defirisk ([a-z -]+?)(?: [\[A-Z<-].*?)?` \|", section, re.M)}


def test_the_cli_has_the_commands_users_expect() -> None:
    expected = {"protocols", "snapshot", "snapshots", "export", "stress", "curves", "bad-debt", "job run", "history"}
    assert expected <= set(COMMANDS)


def test_every_command_and_option_has_help() -> None:
    for path, command in COMMANDS.items():
        assert (command.help or "").strip(), f"`defirisk {path}` has no help text"
        for param in command.params:
            if param.param_type_name == "option" and not getattr(param, "hidden", False):
                assert (param.help or "").strip(), f"`defirisk {path} {param.opts[0]}` has no help text"


def test_every_command_is_in_the_readme_reference() -> None:
    rows = _reference_rows()
    missing = sorted(set(COMMANDS) - rows)
    assert not missing, f"commands missing from the README's command reference: {missing}"
    stale = sorted(rows - set(COMMANDS))
    assert not stale, f"README documents commands that do not exist: {stale}"
