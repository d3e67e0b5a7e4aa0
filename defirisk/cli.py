"""The ``defirisk`` command line: thin. It parses, calls the library, prints, and maps the library's
exceptions to exit codes (1 failure, 2 usage error, 3 a ``--fail-on`` gate held).

Commands live in ``defirisk.commands.*``; importing them registers them on ``app``.
"""

from __future__ import annotations

from typing import Annotated

import typer

from defirisk import __version__

app = typer.Typer(
    name="defirisk",
    help="Liquidation and bad-debt risk of DeFi lending protocols.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"defirisk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Liquidation and bad-debt risk of DeFi lending protocols."""


from defirisk.commands import analysis as _analysis  # noqa: E402,F401
from defirisk.commands import data as _data  # noqa: E402,F401  (registers commands)
from defirisk.commands import jobs as _jobs  # noqa: E402,F401
from defirisk.commands import report as _report  # noqa: E402,F401


def main() -> None:
    """Console-script entry point."""
    app()
