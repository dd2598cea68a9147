"""``fengkong decisions``: explain a recorded decision; check a policy file.

::

    fengkong decisions explain ID --lake DIR [--url URL] [--format table|json]
    fengkong decisions check-policy FILE [--format table|json]

``explain`` reads the decision's header from the database (``--url``, default as ``fengkong db``) and its
trace from the trace lake: the outcome, the reasons with their customer sentences, every check and rule with
the values it read, the scores, the offer or hold, and the versions that decided. ``check-policy`` loads and
compiles a policy file and lists its rules; a bad file is refused naming the file, the line and the problem.
Exit codes: ``0`` done; ``2`` bad input or an unknown decision (the reason on stderr).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import OutputFormat, fail
from fengkong.cli.main import app
from fengkong.errors import FengkongError
from fengkong.services.decisions import Explanation, check_policy_file, explain_decision

decisions_app = typer.Typer(
    help="The decision engine: explain decisions, check policies.", no_args_is_help=True
)
app.add_typer(decisions_app, name="decisions")


@decisions_app.command("explain")
def explain(
    decision_id: Annotated[str, typer.Argument(help="the decision's ID (onb-... or auth-...)")],
    lake: Annotated[Path, typer.Option(help="the decision trace lake folder")],
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="Database URL. Default: $FENGKONG_DATABASE_URL, else sqlite:///fengkong.sqlite."
        ),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.TABLE,
) -> None:
    """Why a decision came out as it did: reasons, rules and the values they read, scores, versions."""
    try:
        explanation = explain_decision(decision_id, lake, url)
    except FengkongError as error:
        raise fail(error) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(explanation.to_json(), ensure_ascii=False))
        return
    _print(explanation)


def _print(explanation: Explanation) -> None:
    console = Console()
    trace = explanation.trace
    console.print(
        f"[bold]{trace.decision_id}[/bold] {trace.flow} of {trace.party_id} "
        f"at {trace.decided_at.isoformat()}: [bold]{trace.outcome}[/bold]",
        highlight=False,
    )
    for reason in explanation.reason_texts():
        console.print(f"  reason {reason['code']}: {reason['en']}", highlight=False)
    if trace.offer is not None:
        offer = trace.offer
        console.print(
            f"  offer {offer.offer_id}: {offer.amount_fen / 100:,.2f} yuan, "
            f"{offer.installments} installments, "
            f"annualised {offer.annualised_rate_pct} % (cap {offer.cap_pct} %), band {trace.risk_band}, "
            f"valid until {offer.valid_until.isoformat()}",
            highlight=False,
        )
    if trace.hold is not None:
        hold = trace.hold
        state = "placed" if hold.placed else f"refused by {hold.refused_cap}"
        console.print(f"  hold {hold.hold_id}: {hold.amount_fen} fen {state}", highlight=False)
    for score in trace.scores:
        console.print(
            f"  model {score.model} ({score.model_version}): PD {score.probability_of_default:.4f} "
            f"{' '.join(score.reasons)}",
            highlight=False,
        )
    table = Table(title="checks and rules")
    for column in ("id", "status", "values read"):
        table.add_column(column)
    for result in (*trace.checks, *trace.rules):
        values = ", ".join(f"{name}={value}" for name, value in result.values)
        table.add_row(result.rule_id, result.status, values + (f" ({result.error})" if result.error else ""))
    console.print(table)
    console.print("  versions: " + ", ".join(f"{k}={v}" for k, v in trace.versions), highlight=False)


@decisions_app.command("check-policy")
def check_policy(
    path: Annotated[Path, typer.Argument(help="a policy YAML file")],
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.TABLE,
) -> None:
    """Load and compile a policy file; list its rules, or name the file, line and problem."""
    try:
        summary = check_policy_file(path)
    except FengkongError as error:
        raise fail(error) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    table = Table(title=f"{summary['version']}: {len(summary['rules'])} rules")
    for column in ("line", "id", "stage", "flows", "outcome", "reason", "when"):
        table.add_column(column)
    for rule in summary["rules"]:
        table.add_row(
            str(rule["line"]),
            rule["id"],
            rule["stage"],
            ",".join(rule["flows"]),
            rule["outcome"],
            rule["reason"],
            rule["when"],
        )
    Console().print(table)
