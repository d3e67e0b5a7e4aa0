"""The ``defirisk`` command line: thin. It parses, calls the library, prints, and maps the library's
exceptions to exit codes (1 failure, 2 usage error, 3 a ``--fail-on`` gate held)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from defirisk import __version__
from defirisk.errors import DefiriskError

app = typer.Typer(
    name="defirisk",
    help="Liquidation and bad-debt risk of DeFi lending protocols.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

F = TypeVar("F", bound=Callable[..., Any])

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of tables.")]


def handles_errors(func: F) -> F:
    """Turn the library's exceptions into a one-line ``Error: …`` and the error's exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DefiriskError as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            typer.echo(f"Error: {message}", err=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper  # type: ignore[return-value]


def emit_json(document: Any) -> None:
    """Write ``document`` as JSON to stdout (non-finite floats become null)."""
    typer.echo(json.dumps(document, indent=2, default=str, allow_nan=False))


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


@app.command("protocols")
@handles_errors
def protocols_command(as_json: JsonOption = False) -> None:
    """List the bundled protocol deployments (name, family, chain id, root contract)."""
    from defirisk.addresses import display_address
    from defirisk.deployments import bundled_deployments
    from defirisk.output import print_table

    deployments = bundled_deployments()
    rows = [
        {
            "name": d.name,
            "family": d.family,
            "chain_id": d.chain_id,
            "label": d.label,
            d.root_field: d.root,
            "start_block": d.start_block,
            "source": d.source,
        }
        for d in deployments
    ]
    if as_json:
        emit_json(rows)
        return
    print_table(
        "Bundled deployments",
        ["name", "family", "chain", "root contract", "start block"],
        [[d.name, d.family, d.chain_id, display_address(d.root), d.start_block] for d in deployments],
    )


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    sys.exit(main())
