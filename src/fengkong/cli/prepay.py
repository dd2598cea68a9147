"""``fengkong prepay``: the rest of an installment loan re-amortised after a partial prepayment.

::

    fengkong prepay --principal 12000 --annual-rate-pct 12 --installments 12 --method equal-installment \\
        --day-count 30/360 --start 2026-01-15 --paid 6 --amount 3000 --on 2026-07-15 \\
        --mode reduce-installment --format json

The loan is described as for ``fengkong schedule``; ``--paid`` installments have been paid and ``--amount`` of
principal is prepaid on ``--on`` (a day of the next period). ``--mode reduce-installment`` keeps the due dates
and lowers the installment; ``shorten-term`` keeps the installment and ends sooner. Prints the new rows (as
``fengkong schedule`` does) with the balance before and after, and the interest before, after and saved;
every amount a decimal string. Exit codes: ``0`` done; ``2`` bad input (the option and the reason on stderr).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import EXIT_OK, OutputFormat, fail
from fengkong.cli.main import app
from fengkong.errors import InputError
from fengkong.services.prepayment import MODE_CHOICES, prepayment_for, prepayment_to_json
from fengkong.services.schedule import DAY_COUNT_CHOICES

RECALCULATED_METHOD_CHOICES = ("equal-installment", "equal-principal", "interest-only")


@app.command("prepay")
def prepay(
    principal: Annotated[str, typer.Option("--principal", help="Amount lent, e.g. 12000.00.")],
    annual_rate_pct: Annotated[
        str, typer.Option("--annual-rate-pct", help="Nominal annual rate in percent.")
    ],
    installments: Annotated[int, typer.Option("--installments", help="Number of installments.")],
    start: Annotated[str, typer.Option("--start", help="Disbursement date YYYY-MM-DD.")],
    method: Annotated[
        str, typer.Option("--method", help=f"One of {', '.join(RECALCULATED_METHOD_CHOICES)}.")
    ],
    day_count: Annotated[str, typer.Option("--day-count", help=f"One of {', '.join(DAY_COUNT_CHOICES)}.")],
    paid: Annotated[int, typer.Option("--paid", help="Installments already paid.")],
    amount: Annotated[str, typer.Option("--amount", help="Principal prepaid, e.g. 3000.00.")],
    on: Annotated[str, typer.Option("--on", help="Prepayment date YYYY-MM-DD, in the period after --paid.")],
    mode: Annotated[str, typer.Option("--mode", help=f"One of {', '.join(MODE_CHOICES)}.")],
    principal_grace: Annotated[
        int, typer.Option("--principal-grace", help="Periods without principal at the start.")
    ] = 0,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.TABLE,
) -> None:
    """Re-amortise an installment loan after a partial prepayment (lower installments or a shorter term)."""
    try:
        result = prepayment_for(
            principal=principal, annual_rate_pct=annual_rate_pct, installments=installments, method=method,
            day_count=day_count, start=start, paid=paid, amount=amount, on=on, mode=mode,
            principal_grace=principal_grace,
        )  # fmt: skip
    except InputError as error:
        option = f"--{error.field.replace('_', '-')}" if error.field else "input"
        raise fail(f"{option}: {error.reason}") from error
    wire = prepayment_to_json(result)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(wire, ensure_ascii=False))
    else:
        _print_table(wire)
    raise typer.Exit(code=EXIT_OK)


def _print_table(wire: dict[str, object]) -> None:
    table = Table(
        title=f"After prepaying {wire['prepaid']} on {wire['on']} ({wire['mode']}): "
        f"balance {wire['balance_before']} → {wire['balance_after']}"
    )
    for column in ("number", "due_date", "days", "principal", "interest", "installment", "balance"):
        table.add_column(column.replace("_", " "), justify="left" if column == "due_date" else "right")
    rows = wire["rows"]
    if isinstance(rows, list):
        for row in rows:
            table.add_row(*(str(value) for value in row.values()))
    table.add_section()
    table.add_row("total", "", "", "", str(wire["total_interest"]), str(wire["total_due"]), "")
    Console().print(table)
    Console().print(
        f"interest from here: {wire['interest_before']} before, {wire['interest_after']} after, "
        f"{wire['interest_saved']} saved"
    )
