"""``fengkong apr``: the annualised rate of an installment loan or of a file of dated cash flows.

::

    fengkong apr --principal 10000 --upfront-fee 100 --payment 888.49 --installments 12 --format json
    fengkong apr --cashflows-json flows.json --format json
    # flows.json: [{"date": "2026-01-01", "amount": "-1000.00"}, {"date": "2026-02-08", "amount": "510.00"}]

Prints ``periodic_irr``, ``annual_rate_pct``, ``effective_annual_rate_pct`` (decimal strings) and
``method``. Exit codes: ``0`` done; ``2`` bad input (the field and the reason are printed on stderr).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import EXIT_OK, OutputFormat, fail
from fengkong.cli.main import app
from fengkong.domain.products import AnnualisedRate, Frequency
from fengkong.errors import InputError
from fengkong.services.apr import rate_for_cash_flows_file, rate_for_installments, rate_to_json


@app.command("apr")
def apr(
    principal: Annotated[
        str | None, typer.Option("--principal", help="Amount paid out to the borrower, e.g. 10000.00.")
    ] = None,
    payment: Annotated[
        str | None, typer.Option("--payment", help="Each equal installment, e.g. 888.49.")
    ] = None,
    installments: Annotated[
        int | None, typer.Option("--installments", help="Number of installments.")
    ] = None,
    upfront_fee: Annotated[
        str | None,
        typer.Option("--upfront-fee", help="Fee paid by the borrower at disbursement (its own cash flow)."),
    ] = None,
    frequency: Annotated[
        Frequency, typer.Option("--frequency", help="Installment frequency.")
    ] = Frequency.MONTHLY,
    cashflows_json: Annotated[
        Path | None,
        typer.Option(
            "--cashflows-json",
            help='A JSON list of {"date": "YYYY-MM-DD", "amount": "-1000.00"}; negative: paid out.',
        ),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.TABLE,
) -> None:
    """The annualised rate by the IRR method over every cash flow, fees included (PBOC [2021] No. 3)."""
    schedule_options = {"--principal": principal, "--payment": payment, "--installments": installments}
    given = [name for name, value in schedule_options.items() if value is not None]
    try:
        if cashflows_json is not None:
            if given or upfront_fee is not None:
                raise InputError(
                    "give either --cashflows-json or the installment options, not both",
                    field="cashflows_json",
                )
            rate = rate_for_cash_flows_file(cashflows_json)
        else:
            if principal is None or payment is None or installments is None:
                missing = [name for name, value in schedule_options.items() if value is None]
                raise InputError(
                    f"missing {', '.join(missing)} (or give --cashflows-json)", field=missing[0][2:]
                )
            rate = rate_for_installments(
                principal=principal,
                payment=payment,
                installments=installments,
                frequency=frequency,
                upfront_fee=upfront_fee,
            )
    except InputError as error:
        raise fail(str(error)) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(rate_to_json(rate), ensure_ascii=False))
    else:
        _print_table(rate)
    raise typer.Exit(code=EXIT_OK)


def _print_table(rate: AnnualisedRate) -> None:
    table = Table(title="Annualised rate (IRR method)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for label, value in rate_to_json(rate).items():
        table.add_row(label, value or "")
    Console().print(table)
