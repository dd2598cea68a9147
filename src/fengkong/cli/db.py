"""``fengkong db upgrade`` and ``fengkong db downgrade``: run the packaged migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from fengkong.cli.main import app
from fengkong.errors import FengkongError
from fengkong.services.database import MigrationResult, downgrade_database, upgrade_database

db_app = typer.Typer(help="The database: apply or roll back schema migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL (sqlite:///path or postgresql+psycopg://...). "
        "Default: $FENGKONG_DATABASE_URL, else sqlite:///fengkong.sqlite.",
        show_default=False,
    ),
]


def _report(result: MigrationResult) -> None:
    typer.echo(f"{result.database}: at revision {result.revision or 'base (no tables)'}")


@db_app.command("upgrade")
def upgrade(
    url: UrlOption = None,
    revision: Annotated[str, typer.Option("--revision", help="Target revision.")] = "head",
) -> None:
    """Migrate the database up (to the newest revision by default)."""
    try:
        _report(upgrade_database(url, revision))
    except FengkongError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc


@db_app.command("downgrade")
def downgrade(
    url: UrlOption = None,
    revision: Annotated[str, typer.Option("--revision", help="Target revision.")] = "base",
) -> None:
    """Migrate the database down (to base, removing every fengkong table, by default)."""
    try:
        _report(downgrade_database(url, revision))
    except FengkongError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
