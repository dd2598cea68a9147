"""``fengkong bureau``: credit-bureau files from the loan book.

::

    fengkong bureau export --database-url URL --month 2026-06 --format pboc|metro2 --out FILE
        [--furnisher-id ID] [--notice-lead-days 7] [--file-date YYYY-MM-DD] [--output json|table]
    fengkong bureau notify --database-url URL --notice-id N-1 --loan-id L-1 --kind delinquency
        --on 2026-06-01 --channel sms

``export`` writes the month's file (PBOC-shaped: 60-month status history; Metro 2-shaped: 426-character
records with the 24-month profile) and prints a summary: records by kind and the accounts held back, each
with the field and the reason (a missing name or ID number, a notice missing or too recent). Names and ID
numbers are opened from the sealed store, so the keys must be in the environment (``FENGKONG_DATA_KEYS``,
``FENGKONG_DATA_KEY_ACTIVE``, ``FENGKONG_PSEUDONYM_KEY``). ``--format`` is the file's format (as the
command's contract names it); ``--output`` the summary's. ``notify`` records a notice given to a borrower
before adverse data is reported.

Exit codes: ``0`` written (``1`` written, but some accounts were held back: see the summary); ``2`` bad input.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import EXIT_FAILED, EXIT_OK, OutputFormat, fail
from fengkong.cli.main import app
from fengkong.errors import FengkongError
from fengkong.services.bureau import FileFormat, export_to_file, record_notice_at

bureau_app = typer.Typer(
    help="Credit-bureau files: monthly exports and notices to borrowers.", no_args_is_help=True
)
app.add_typer(bureau_app, name="bureau")

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Database URL. Default: $FENGKONG_DATABASE_URL, else sqlite:///fengkong.sqlite.",
        show_default=False,
    ),
]


def _date(text: str | None, field: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise fail(f"{field}: must be a date YYYY-MM-DD, got {text!r}") from error


@bureau_app.command("export")
def export(
    month: Annotated[str, typer.Option("--month", help="The month reported, YYYY-MM.", show_default=False)],
    file_format: Annotated[
        FileFormat, typer.Option("--format", help="The file's format.", show_default=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="Where to write the file.", show_default=False)],
    database_url: DatabaseOption = None,
    furnisher_id: Annotated[
        str, typer.Option("--furnisher-id", help="The reporting lender's ID.")
    ] = "FENGKONG",
    notice_lead_days: Annotated[
        int, typer.Option("--notice-lead-days", help="Days a notice must precede adverse data in the file.")
    ] = 7,
    file_date: Annotated[
        str | None, typer.Option("--file-date", help="The file's date (default: the month's last day).")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--output", help="Summary format.")] = OutputFormat.TABLE,
) -> None:
    """Write a month's credit-bureau file from the loan book."""
    try:
        summary = export_to_file(
            database_url,
            month,
            file_format.value,
            out,
            furnisher_id,
            notice_lead_days,
            _date(file_date, "file_date"),
        )
    except FengkongError as error:
        raise fail(error) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(summary, ensure_ascii=False, sort_keys=True))
    else:
        _print(summary)
    raise typer.Exit(code=EXIT_FAILED if summary["held_back"] else EXIT_OK)


def _print(summary: dict[str, Any]) -> None:
    console = Console()
    table = Table(title=f"{summary['format']} file for {summary['month']} → {summary['out']}")
    table.add_column("records")
    table.add_column("count", justify="right")
    for key in ("accounts_opened", "monthly_records", "special_events", "corrections"):
        table.add_row(key.replace("_", " "), str(summary[key]))
    console.print(table)
    if summary["held_back"]:
        held = Table(title="held back")
        for column in ("account", "field", "reason"):
            held.add_column(column)
        for item in summary["held_back"]:
            held.add_row(item["account"], item["field"], item["reason"])
        console.print(held)


@bureau_app.command("notify")
def notify(
    notice_id: Annotated[str, typer.Option("--notice-id", help="The notice's ID (retries are safe).")],
    loan_id: Annotated[str, typer.Option("--loan-id", help="The account the notice is about.")],
    on: Annotated[str, typer.Option("--on", help="The date the borrower was told, YYYY-MM-DD.")],
    channel: Annotated[str, typer.Option("--channel", help="How: sms, app, letter, call.")],
    kind: Annotated[str, typer.Option("--kind", help="delinquency or write_off.")] = "delinquency",
    database_url: DatabaseOption = None,
) -> None:
    """Record that a borrower was told before adverse data is reported."""
    notified_on = _date(on, "on")
    if notified_on is None:
        raise fail("on: required")
    try:
        recorded = record_notice_at(database_url, notice_id, loan_id, kind, notified_on, channel)
    except FengkongError as error:
        raise fail(error) from error
    typer.echo(json.dumps({"notice_id": recorded.notice_id, "created": recorded.created}))
