"""``fengkong lines``: a party's credit lines with their change history, and the early-warning queue.

::

    fengkong lines show PARTY [--url URL] [--format json]
    fengkong lines alerts [--status open|reviewed] [--limit 100] [--url URL] [--format json]

Amounts are printed in yuan as strings. Exit codes: ``0`` done; ``2`` bad input or a party with no line (the
field and the reason are printed on stderr).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import OutputFormat, fail
from fengkong.cli.main import app
from fengkong.errors import FengkongError, NotFoundError
from fengkong.money import Money
from fengkong.services.credit_line_review import AlertRecord, LineView, alerts_in, line_view_in

lines_app = typer.Typer(help="Credit lines: their changes and the early-warning queue.", no_args_is_help=True)
app.add_typer(lines_app, name="lines")

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", help="database URL (default: $FENGKONG_DATABASE_URL, else sqlite:///fengkong.sqlite)"
    ),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", help="table or json")]


def _yuan(amount_fen: int) -> str:
    return str(Money(amount_fen).to_decimal())


def _line_json(view: LineView) -> dict[str, object]:
    line = view.line
    return {
        "party_id": line.party_id,
        "product": line.product,
        "limit_yuan": _yuan(line.limit_fen),
        "status": line.status,
        "opened_on": line.opened_on.isoformat(),
        "last_raised_on": None if line.last_raised_on is None else line.last_raised_on.isoformat(),
        "used_yuan": None if view.exposure is None else _yuan(view.exposure.used_fen),
        "history": [
            {
                "change_id": change.change_id,
                "action": change.action,
                "reason": change.reason,
                "old_limit_yuan": _yuan(change.old_limit_fen),
                "new_limit_yuan": _yuan(change.new_limit_fen),
                "triggers": dict(change.triggers),
                "business_date": change.business_date.isoformat(),
                "changed_at": change.changed_at.isoformat(),
                "changed_by": change.changed_by,
            }
            for change in view.history
        ],
    }


def _alert_json(alert: AlertRecord) -> dict[str, object]:
    return {
        "alert_id": alert.alert_id,
        "party_id": alert.party_id,
        "business_date": alert.business_date.isoformat(),
        "severity": alert.severity,
        "reason": alert.reason,
        "indicators": dict(alert.indicators),
        "rule_version": alert.rule_version,
        "status": alert.status,
        "outcome": alert.outcome,
        "opened_at": alert.opened_at.isoformat(),
    }


@lines_app.command("show")
def show(
    party_id: Annotated[str, typer.Argument(help="the party whose lines to show")],
    url: UrlOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """A party's lines, each with its full history of changes and their reasons."""
    try:
        views = line_view_in(url, party_id)
        if not views:
            raise NotFoundError(f"party {party_id!r} has no credit line")
    except FengkongError as error:
        raise fail(error) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([_line_json(view) for view in views], ensure_ascii=False))
        return
    table = Table(title=f"credit lines of {party_id}")
    for column in ("product", "date", "action", "reason", "old yuan", "new yuan", "by"):
        table.add_column(column)
    for view in views:
        for change in view.history:
            table.add_row(
                view.line.product,
                change.business_date.isoformat(),
                change.action,
                change.reason,
                _yuan(change.old_limit_fen),
                _yuan(change.new_limit_fen),
                change.changed_by,
            )
    Console().print(table)


@lines_app.command("alerts")
def list_alerts(
    status: Annotated[str, typer.Option("--status", help="open or reviewed")] = "open",
    limit: Annotated[int, typer.Option("--limit", help="alerts to list (most severe first)")] = 100,
    url: UrlOption = None,
    output: FormatOption = OutputFormat.TABLE,
) -> None:
    """The early-warning queue, most severe first, then oldest."""
    try:
        queue = alerts_in(url, status, limit)
    except FengkongError as error:
        raise fail(error) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([_alert_json(alert) for alert in queue], ensure_ascii=False))
        return
    table = Table(title=f"{len(queue)} {status} early warnings")
    for column in ("alert", "party", "severity", "reason", "date"):
        table.add_column(column)
    for alert in queue:
        table.add_row(
            alert.alert_id, alert.party_id, str(alert.severity), alert.reason, alert.business_date.isoformat()
        )
    Console().print(table)
