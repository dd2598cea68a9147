"""``fengkong audit``: the audit trail in the verifiable log.

::

    fengkong audit drain  [--database-url URL] --signer-key audit.key
    fengkong audit verify [--database-url URL] [--public-key KEY ...] [--format json|table]

``drain`` covers every outbox row not yet in the audit log (decisions, ledger-posting batches, ...) under a
checkpoint signed with ``--signer-key`` (made by ``fengkong chain keygen``) and prints how many rows it
appended and the audit lag. ``verify`` recomputes every log in the database from its stored leaves and
reports any tampering: an altered or deleted leaf, a changed subtree hash, head or checkpoint, an altered
trade record, receivable event or audited outbox row. Checkpoint signatures are checked against the
``--public-key`` verifier keys given (text or file; the key's name is the log's origin).

Exit codes: ``0`` intact (or drained); ``1`` tampering found; ``2`` bad input (named on stderr).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import EXIT_FAILED, OutputFormat, fail
from fengkong.cli.main import app
from fengkong.clock import SystemClock
from fengkong.errors import FengkongError
from fengkong.services.audit import drain_audit, verify_database
from fengkong.services.chain import load_signer_key, load_verifier_key
from fengkong.services.database import resolve_database_url
from fengkong.services.trade import TradeStores, open_engine

audit_app = typer.Typer(help="The audit trail: drain the outbox into the log; verify stored history.")
app.add_typer(audit_app, name="audit")

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Database URL. Default: $FENGKONG_DATABASE_URL, else sqlite:///fengkong.sqlite.",
        show_default=False,
    ),
]


@audit_app.command("drain")
def drain(
    signer_key: Annotated[
        Path, typer.Option("--signer-key", help="The audit log's signer key file.", show_default=False)
    ],
    database_url: DatabaseOption = None,
) -> None:
    """Append every uncovered outbox row to the audit log under a signed checkpoint."""
    clock = SystemClock()
    engine: sa.Engine | None = None
    try:
        signer = load_signer_key(signer_key)
        engine = open_engine(resolve_database_url(database_url))
        report = drain_audit(engine, TradeStores.of(clock), signer, clock, origin=signer.name)
    except FengkongError as exc:
        raise fail(exc) from exc
    finally:
        if engine is not None:
            engine.dispose()
    typer.echo(json.dumps(report.to_json(), sort_keys=True))


@audit_app.command("verify")
def verify(
    database_url: DatabaseOption = None,
    public_key: Annotated[
        list[str] | None,
        typer.Option(
            "--public-key", help="A log's verifier key (text or file); repeatable.", show_default=False
        ),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.TABLE,
) -> None:
    """Recompute every stored log and report any tampering (exit 1 when found)."""
    engine: sa.Engine | None = None
    try:
        keys = [load_verifier_key(key) for key in public_key or []]
        engine = open_engine(resolve_database_url(database_url), upgrade=False)
        report = verify_database(engine, TradeStores.of(SystemClock()), keys)
    except FengkongError as exc:
        raise fail(exc) from exc
    finally:
        if engine is not None:
            engine.dispose()
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(report.to_json(), sort_keys=True))
    else:
        console = Console()
        table = Table(title="logs recomputed from their stored leaves")
        for column in ("log", "leaves", "checkpoints", "records checked"):
            table.add_column(column)
        for log in report.logs:
            table.add_row(log.name, f"{log.tree_size:,}", str(log.checkpoints), f"{log.records_checked:,}")
        console.print(table)
        for finding in report.findings:
            console.print(
                f"[red]tampered[/red] {finding.log}: {finding.kind}: {finding.message}", highlight=False
            )
        if report.intact:
            console.print("[green]intact[/green]: every leaf, head, checkpoint and record agrees")
    if not report.intact:
        raise typer.Exit(code=EXIT_FAILED)
