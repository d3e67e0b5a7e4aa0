"""Terminal output for people: rich tables on stdout, with untrusted text made inert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from defirisk.text import terminal_safe


def _cell(value: Any) -> Text:
    if isinstance(value, float):
        return Text(f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}")
    # Text() renders no markup, so a token symbol like "[red]" prints as it is.
    return Text(terminal_safe(str(value)))


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table; every cell goes through ``terminal_safe``."""
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*(_cell(v) for v in row))
    console = Console()
    if not console.is_terminal:
        # Piped output goes to files and logs: never cut an address to fit 80 columns.
        console = Console(width=200)
    console.print(table)
