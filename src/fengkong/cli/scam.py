"""``fengkong scam check``: is a text a scam script or a fake customer-service hotline?

::

    fengkong scam check [--file F | TEXT] [--on 2026-03-01] [--format json|table]

Prints ``{"verdict": "scam"|"suspicious"|"clean", "score", "reasons": [...], "numbers": [{"raw",
"normalised", "official", ...}]}``. Exit codes: ``0`` checked (whatever the verdict); ``2`` bad input (empty
text, unreadable file, a malformed date), named on standard error.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import OutputFormat, fail
from fengkong.cli.main import app
from fengkong.errors import FengkongError
from fengkong.services.scam import check_text

scam_app = typer.Typer(help="Scam text and fake customer-service hotlines.")
app.add_typer(scam_app, name="scam")


@scam_app.command("check")
def check(
    text: Annotated[str | None, typer.Argument(help="the text to check (or --file)")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="read the text from a UTF-8 file")] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="business date the official channels are checked on")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.TABLE,
) -> None:
    """Score a text: rules, a trained classifier, and every number checked against official channels."""
    try:
        day = None
        if on is not None:
            try:
                day = date.fromisoformat(on)
            except ValueError:
                raise fail(f"on: {on!r} is not a date (YYYY-MM-DD)") from None
        result = check_text(text, file, day)
    except FengkongError as error:
        raise fail(error) from error
    document = result.to_json()
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(document, ensure_ascii=False))
        return
    console = Console()
    console.print(f"verdict: [bold]{result.verdict.label}[/bold]  score {result.score:.2f}", highlight=False)
    reasons = Table(title="reasons")
    reasons.add_column("code")
    reasons.add_column("detail")
    for reason in result.reasons:
        reasons.add_row(reason.code, reason.detail)
    console.print(reasons)
    numbers = Table(title="numbers")
    for column in ("raw", "normalised", "kind", "official"):
        numbers.add_column(column)
    for number in result.numbers:
        official = number.official_brand if number.official_brand else "no"
        numbers.add_row(number.raw, number.normalised, number.kind.value, official)
    console.print(numbers)
