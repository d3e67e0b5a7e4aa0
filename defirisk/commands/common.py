"""What every command shares: option types, error mapping, JSON output and progress bars."""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer

from defirisk.errors import DefiriskError

F = TypeVar("F", bound=Callable[..., Any])

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]
DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Snapshot database (default: $DEFIRISK_DB or ~/.local/share/defirisk/defirisk.duckdb)."),
]
RpcOption = Annotated[
    str | None,
    typer.Option("--rpc-url", help="JSON-RPC endpoint (default: $ETH_RPC_URL). Never printed unredacted."),
]
SnapshotOption = Annotated[int | None, typer.Option("--snapshot", help="Use this stored snapshot id.")]


def handles_errors(func: F) -> F:
    """Turn the library's exceptions into a one-line ``Error: …`` and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DefiriskError as exc:
            from defirisk.text import terminal_safe

            text = str(exc).strip()
            message = text.splitlines()[0] if text else type(exc).__name__
            typer.echo(f"Error: {terminal_safe(message, limit=400)}", err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def _plain(value: Any) -> Any:
    """JSON has no NaN or infinity: they become ``null``."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def emit_json(document: Any) -> None:
    """Write ``document`` as JSON to stdout."""
    typer.echo(json.dumps(_plain(document), indent=2, default=str, allow_nan=False))


@contextmanager
def progress(quiet: bool) -> Iterator[Callable[[str, int, int], None]]:
    """An ``on_progress(stage, done, total)`` callback drawing one bar per stage on stderr.

    Off (a no-op callback) with ``--quiet`` or when stderr is not a terminal.
    """
    if quiet or not sys.stderr.isatty():
        yield lambda stage, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(stage, total=total or None)
        bars.update(tasks[stage], completed=done, total=total or None)

    with bars:
        yield update
