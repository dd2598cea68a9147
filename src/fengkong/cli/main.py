"""The ``fengkong`` command. Each sub-command lives in its own module and is registered here."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="fengkong",
    help="fengkong (风控): risk control and lending for an ecosystem lender.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command("version")
def version() -> None:
    """Print the fengkong version."""
    from fengkong import __version__

    typer.echo(__version__)


def _register() -> None:
    # Imported here so that each command module registers itself on ``app`` without import cycles.
    from fengkong.cli import commands  # noqa: F401


def main() -> None:
    _register()
    app()
