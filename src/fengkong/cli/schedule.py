"""``fengkong schedule``: the repayment schedule of an installment loan, exact to the fen.

::

    fengkong schedule --principal 5000 --annual-rate-pct 12 --installments 18 --frequency monthly \\
        --method equal-installment --day-count 30/360 --start 2022-11-01 --round-installment-to 1 \\
        --format json

Prints ``{"rows": [{"number", "due_date", "days", "principal", "interest", "installment", "balance"}, ...],
"total_interest", "total_due"}`` with every amount a decimal string (a table without ``--format json``).
Exit codes: ``0`` done; ``2`` bad input (the option and the reason are printed on stderr).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import EXIT_BAD_INPUT, EXIT_OK, OutputFormat
from fengkong.cli.main import app
from fengkong.errors import InputError
from fengkong.services.schedule import (
    DAY_COUNT_CHOICES,
    FREQUENCY_CHOICES,
    INSTALLMENT_ROUNDING,
    METHOD_CHOICES,
    schedule_for,
    schedule_to_json,
)


def _option_name(field: str | None) -> str:
    return f"--{field.replace('_', '-')}" if field else "input"


@app.command("schedule")
def schedule(
    principal: Annotated[str, typer.Option("--principal", help="Amount lent, e.g. 10000.00.")],
    annual_rate_pct: Annotated[
        str, typer.Option("--annual-rate-pct", help="Nominal annual interest rate in percent, e.g. 12.")
    ],
    installments: Annotated[int, typer.Option("--installments", help="Number of installments.")],
    start: Annotated[str, typer.Option("--start", help="Disbursement date YYYY-MM-DD.")],
    method: Annotated[str, typer.Option("--method", help=f"One of {', '.join(METHOD_CHOICES)}.")],
    day_count: Annotated[str, typer.Option("--day-count", help=f"One of {', '.join(DAY_COUNT_CHOICES)}.")],
    frequency: Annotated[
        str, typer.Option("--frequency", help=f"Installment frequency: {', '.join(FREQUENCY_CHOICES)}.")
    ] = "monthly",
    principal_grace: Annotated[
        int, typer.Option("--principal-grace", help="Periods without principal at the start.")
    ] = 0,
    interest_grace: Annotated[
        int, typer.Option("--interest-grace", help="Periods whose interest is rolled forward.")
    ] = 0,
    round_installment_to: Annotated[
        str,
        typer.Option(
            "--round-installment-to",
            help=f"Round the equal installment to {' or '.join(sorted(INSTALLMENT_ROUNDING))}; "
            "the last installment absorbs the remainder.",
        ),
    ] = "0.01",
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.TABLE,
) -> None:
    """The repayment schedule of an installment loan by Apache Fineract's conventions."""
    try:
        result = schedule_for(
            principal=principal,
            annual_rate_pct=annual_rate_pct,
            installments=installments,
            method=method,
            day_count=day_count,
            start=start,
            frequency=frequency,
            principal_grace=principal_grace,
            interest_grace=interest_grace,
            round_installment_to=round_installment_to,
        )
    except InputError as error:
        Console(stderr=True).print(
            f"[red]error:[/red] {_option_name(error.field)}: {error.reason}", markup=True, highlight=False
        )
        raise typer.Exit(code=EXIT_BAD_INPUT) from error
    wire = schedule_to_json(result)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(wire, ensure_ascii=False))
    else:
        _print_table(wire)
    raise typer.Exit(code=EXIT_OK)


def _print_table(wire: dict[str, object]) -> None:
    table = Table(title="Repayment schedule")
    for column in ("number", "due_date", "days", "principal", "interest", "installment", "balance"):
        table.add_column(column.replace("_", " "), justify="left" if column == "due_date" else "right")
    rows = wire["rows"]
    if isinstance(rows, list):
        for row in rows:
            table.add_row(*(str(value) for value in row.values()))
    table.add_section()
    table.add_row("total", "", "", "", str(wire["total_interest"]), str(wire["total_due"]), "")
    Console().print(table)
