"""``fengkong fraud``: the identity graph's rings at a date, from a lake's events.

::

    fengkong fraud rings --lake DIR [--as-of 2026-03-01T00:00:00+00:00] [--format json]
    fengkong fraud cases [--url URL] [--limit 100] [--format json]
    fengkong fraud review CASE_ID --outcome fraud|not_fraud --reviewer NAME [--url URL]

Rings: only edges received at or before ``--as-of`` (default: the lake's last receipt) are used. Cases: the
open review cases, oldest first; a review closes one, and its outcome is a fraud label from that moment.
Exit codes: ``0`` done; ``1`` the case was already reviewed otherwise; ``2`` bad input or an unknown case
(the field and the reason are printed on stderr).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, OutputFormat, fail
from fengkong.cli.main import app
from fengkong.errors import ConflictError, FengkongError, InputError
from fengkong.services.fraud import ring_report
from fengkong.services.fraud_cases import CaseOutcome, FraudCase, open_cases_in, review_in

fraud_app = typer.Typer(help="Anti-fraud: the identity graph and its rings, the review-case queue.")
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


UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", help="database URL (default: $FENGKONG_DATABASE_URL, else sqlite:///fengkong.sqlite)"
    ),
]


def _case_json(case: FraudCase) -> dict[str, object]:
    return {
        "case_id": case.case_id,
        "party_id": case.party_id,
        "interception_id": case.interception_id,
        "status": case.status.value,
        "outcome": None if case.outcome is None else case.outcome.value,
        "opened_at": case.opened_at.isoformat(),
        "reviewed_at": None if case.reviewed_at is None else case.reviewed_at.isoformat(),
        "reviewer": case.reviewer,
    }


@fraud_app.command("cases")
def cases(
    url: UrlOption = None,
    limit: Annotated[int, typer.Option("--limit", help="cases to list (oldest first)")] = 100,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.TABLE,
) -> None:
    """The open fraud review cases, oldest first."""
    try:
        queue = open_cases_in(url, limit)
    except FengkongError as error:
        raise fail(error) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([_case_json(case) for case in queue], ensure_ascii=False))
        return
    table = Table(title=f"{len(queue)} open fraud cases")
    for column in ("case", "party", "opened at"):
        table.add_column(column)
    for case in queue:
        table.add_row(case.case_id, case.party_id, case.opened_at.isoformat())
    Console().print(table)


@fraud_app.command("review")
def review(
    case_id: Annotated[str, typer.Argument(help="the case to close")],
    outcome: Annotated[CaseOutcome, typer.Option("--outcome", help="fraud or not_fraud")],
    reviewer: Annotated[str, typer.Option("--reviewer", help="who decided")],
    url: UrlOption = None,
) -> None:
    """Close an open case with its outcome (a fraud label from now on)."""
    try:
        closed = review_in(url, case_id, outcome, reviewer)
    except ConflictError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_FAILED) from error
    except FengkongError as error:
        raise fail(error) from error
    typer.echo(json.dumps(_case_json(closed), ensure_ascii=False))
