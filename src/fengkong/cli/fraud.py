"""``fengkong fraud``: the identity graph's rings at a date, from a lake's events.

::

    fengkong fraud rings --lake DIR [--as-of 2026-03-01T00:00:00+00:00] [--format json]

Only edges received at or before ``--as-of`` (default: the lake's last receipt) are used. Exit codes: ``0``
done; ``2`` bad input (the field and the reason are printed on stderr).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import EXIT_BAD_INPUT, OutputFormat
from fengkong.cli.main import app
from fengkong.errors import FengkongError, InputError
from fengkong.services.fraud import ring_report

fraud_app = typer.Typer(help="Anti-fraud: the identity graph and its rings.")
app.add_typer(fraud_app, name="fraud")


def _parse_as_of(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise InputError("is not an ISO 8601 date and time", field="as_of") from error
    if moment.tzinfo is None:
        raise InputError("needs a UTC offset (for example +00:00)", field="as_of")
    return moment


@fraud_app.command("rings")
def rings(
    lake: Annotated[Path, typer.Option(help="event lake folder (a simulated world's events/)")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO date and time with offset")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.TABLE,
) -> None:
    """Rings of parties sharing devices, phones and IPs, as known at a date."""
    try:
        report = ring_report(lake, _parse_as_of(as_of))
    except FengkongError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    table = Table(title=f"rings at {report.as_of.isoformat()} ({report.edges_known:,} edges known)")
    for column in ("ring", "size", "density", "devices"):
        table.add_column(column)
    for ring in report.snapshot.rings:
        table.add_row(ring.ring_id, str(ring.size), f"{ring.density:.2f}", str(ring.device_count))
    Console().print(table)
