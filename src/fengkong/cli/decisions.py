"""``fengkong decisions``: explain a recorded decision; check a policy file.

::

    fengkong decisions explain ID --lake DIR [--url URL] [--format table|json]
    fengkong decisions check-policy FILE [--format table|json]
    fengkong decisions policy propose FILE --by MAKER [--effective-from ISO] [--url URL]
    fengkong decisions policy approve|reject VERSION --by CHECKER
    fengkong decisions policy rollback NAME --by WHO
    fengkong decisions policy kill-switch NAME --on --fallback VERSION --by WHO --reason TEXT  (or --off)
    fengkong decisions policy in-force NAME [--at ISO]

``explain`` reads the decision's header from the database (``--url``, default as ``fengkong db``) and its
trace from the trace lake: the outcome, the reasons with their customer sentences, every check and rule with
the values it read, the scores, the offer or hold, and the versions that decided. ``check-policy`` loads and
compiles a policy file and lists its rules; a bad file is refused naming the file, the line and the problem.
Exit codes: ``0`` done; ``2`` bad input or an unknown decision (the reason on stderr).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import OutputFormat, fail
from fengkong.cli.main import app
from fengkong.errors import FengkongError, InputError
from fengkong.services.decisions import Explanation, check_policy_file, explain_decision
from fengkong.services.policy_governance import PolicyCommands, PolicyVersion

policy_commands = PolicyCommands()

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


# -- governance ---------------------------------------------------------------------------------------------

policy_app = typer.Typer(help="Policy versions: propose, approve (maker-checker), roll back, kill switch.")
decisions_app.add_typer(policy_app, name="policy")

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", help="Database URL. Default: $FENGKONG_DATABASE_URL, else sqlite:///fengkong.sqlite."
    ),
]
ActorOption = Annotated[
    str, typer.Option("--by", help="who does this (recorded; a checker is never the maker)")
]


def _instant(text: str | None, field: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise InputError("is not an ISO 8601 date and time", field=field) from error
    if moment.tzinfo is None:
        raise InputError("needs a UTC offset (for example +00:00)", field=field)
    return moment


def _show(version: PolicyVersion, output: OutputFormat) -> None:
    document = {
        "version": version.version,
        "name": version.name,
        "status": version.status,
        "effective_from": version.effective_from.isoformat(),
        "maker": version.maker,
        "checker": version.checker,
    }
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(document, ensure_ascii=False))
    else:
        typer.echo(" ".join(f"{key}={value}" for key, value in document.items()))


OutputOption = Annotated[OutputFormat, typer.Option("--format", help="table or json")]


@policy_app.command("propose")
def propose(
    path: Annotated[Path, typer.Argument(help="the policy YAML file")],
    by: ActorOption,
    effective_from: Annotated[
        str | None, typer.Option("--effective-from", help="ISO instant; default now")
    ] = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """Propose a policy file (it is compiled first: a file that does not load is never proposed)."""
    try:
        _show(policy_commands.propose(path, by, _instant(effective_from, "effective_from"), url), output)
    except FengkongError as error:
        raise fail(error) from error


@policy_app.command("approve")
def approve(
    version: str, by: ActorOption, url: UrlOption = None, output: OutputOption = OutputFormat.TABLE
) -> None:
    """Approve a proposed version (the checker must not be its maker)."""
    try:
        _show(policy_commands.decide(version, by, True, url), output)
    except FengkongError as error:
        raise fail(error) from error


@policy_app.command("reject")
def reject(
    version: str, by: ActorOption, url: UrlOption = None, output: OutputOption = OutputFormat.TABLE
) -> None:
    """Reject a proposed version."""
    try:
        _show(policy_commands.decide(version, by, False, url), output)
    except FengkongError as error:
        raise fail(error) from error


@policy_app.command("rollback")
def rollback(
    name: str, by: ActorOption, url: UrlOption = None, output: OutputOption = OutputFormat.TABLE
) -> None:
    """Retire the version of NAME in force now; the one before it is in force again (shown)."""
    try:
        _show(policy_commands.rollback(name, by, url), output)
    except FengkongError as error:
        raise fail(error) from error


@policy_app.command("kill-switch")
def kill_switch(
    name: str,
    by: ActorOption,
    reason: Annotated[str, typer.Option("--reason", help="why (recorded)")],
    on: Annotated[bool, typer.Option("--on/--off", help="switch on (fall back) or off")] = True,
    fallback: Annotated[
        str | None, typer.Option("--fallback", help="the approved conservative version")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Make every decision under NAME run under the conservative fallback (--on), or stop (--off)."""
    try:
        switch = policy_commands.kill_switch(name, on, fallback, by, reason, url)
    except FengkongError as error:
        raise fail(error) from error
    typer.echo(
        f"{switch.name}: kill switch {'on' if switch.on else 'off'} (fallback {switch.fallback_version})"
    )


@policy_app.command("in-force")
def in_force(
    name: str,
    at: Annotated[str | None, typer.Option("--at", help="ISO instant; default now")] = None,
    url: UrlOption = None,
    output: OutputOption = OutputFormat.TABLE,
) -> None:
    """The version decisions under NAME run under at an instant (the fallback while the switch is on)."""
    try:
        _show(policy_commands.in_force(name, _instant(at, "at"), url), output)
    except FengkongError as error:
        raise fail(error) from error
