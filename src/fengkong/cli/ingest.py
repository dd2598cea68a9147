"""``fengkong ingest FILE``: validate, deduplicate, write the lake and publish a file of events.

Exit codes (also in ``docs/events.md``):

* ``0`` — every record was valid: all were ingested (or were duplicates of events already ingested);
* ``2`` — some records were rejected; the valid ones were ingested and the rejections are listed;
* ``1`` — a fatal error: the file cannot be read, Redis or the database cannot be reached.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from fengkong.cli.common import EXIT_OK, OutputFormat
from fengkong.cli.main import app
from fengkong.clock import SystemClock
from fengkong.errors import FengkongError
from fengkong.services.ingest_events import (
    DEFAULT_REDIS_PREFIX,
    IngestReport,
    drain_in_process,
    ingest_file,
    open_seen_events,
    open_transport,
)
from fengkong.services.ingest_events import Progress as IngestProgress

EXIT_FATAL: Final = 1
EXIT_REJECTED: Final = 2
REJECTIONS_SHOWN_MAX: Final = 50  # rows of the rejection table on screen; --format json lists all reported


class TransportKind(StrEnum):
    MEMORY = "memory"
    REDIS = "redis"


def report_to_json(report: IngestReport) -> dict[str, object]:
    """The report as a JSON-ready dict (the ``--format json`` output)."""
    return {
        "source": report.source,
        "read": report.read,
        "accepted": report.accepted,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "published": report.published,
        "accepted_by_type": report.accepted_by_type,
        "lake_files": [str(path) for path in report.lake_files],
        "rejections": [
            {
                "file": rejection.file,
                "line": rejection.line,
                "event_id": rejection.event_id,
                "field": rejection.field,
                "reason": rejection.reason,
            }
            for rejection in report.rejections
        ],
    }


def _print_tables(console: Console, report: IngestReport) -> None:
    summary = Table(title=f"Ingested {report.source}", show_header=True)
    summary.add_column("records")
    summary.add_column("count", justify="right")
    for label, value in (
        ("read", report.read),
        ("accepted", report.accepted),
        ("duplicates", report.duplicates),
        ("rejected", report.rejected),
        ("published", report.published),
    ):
        summary.add_row(label, f"{value:,}")
    for event_type, count in report.accepted_by_type.items():
        summary.add_row(f"  {event_type}", f"{count:,}")
    console.print(summary)
    if not report.rejections:
        return
    rejected = Table(title=f"Rejected records ({report.rejected:,})", show_header=True)
    for column in ("file", "line", "event_id", "field", "reason"):
        rejected.add_column(column, overflow="fold")
    for rejection in report.rejections[:REJECTIONS_SHOWN_MAX]:
        rejected.add_row(
            rejection.file, str(rejection.line), rejection.event_id or "", rejection.field, rejection.reason
        )
    console.print(rejected)
    hidden = report.rejected - min(len(report.rejections), REJECTIONS_SHOWN_MAX)
    if hidden > 0:
        console.print(f"… and {hidden:,} more rejected records (--format json lists the first reported ones)")


@app.command("ingest")
def ingest(
    file: Annotated[
        Path, typer.Argument(help="A .jsonl/.json (JSON Lines) or .parquet file, or a lake folder.")
    ],
    lake: Annotated[Path, typer.Option("--lake", help="Folder of the Parquet event lake.")] = Path("lake"),
    transport: Annotated[
        TransportKind, typer.Option("--transport", help="Where events are published.")
    ] = TransportKind.MEMORY,
    redis_url: Annotated[
        str, typer.Option("--redis-url", help="Redis for --transport redis.")
    ] = "redis://127.0.0.1:6379/0",
    redis_prefix: Annotated[str, typer.Option("--redis-prefix", help="Key prefix of the streams.")] = (
        DEFAULT_REDIS_PREFIX
    ),
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            help="Deduplicate against the ingested_events table of this (migrated) database; "
            "default: within this run only.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Report format.")] = OutputFormat.TABLE,
) -> None:
    """Ingest a file of events. Exit 0: all valid; 2: some rejected (listed); 1: fatal error."""
    console = Console(stderr=output is OutputFormat.JSON)
    clock = SystemClock()
    try:
        events_transport = open_transport(transport.value, redis_url=redis_url, redis_prefix=redis_prefix)
        with (
            open_seen_events(database, clock) as seen,
            Progress(
                TextColumn("[progress.description]{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
                disable=not console.is_terminal,
            ) as bar,
        ):
            task = bar.add_task(f"ingesting {file.name}", total=None)

            def on_progress(progress: IngestProgress) -> None:
                drain_in_process(events_transport)
                bar.update(task, completed=progress.done, total=progress.total)

            report = ingest_file(file, lake, events_transport, seen, clock, on_progress=on_progress)
    except FengkongError as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(code=EXIT_FATAL) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(report_to_json(report), ensure_ascii=False, indent=2))
    else:
        _print_tables(console, report)
    raise typer.Exit(code=EXIT_OK if report.complete else EXIT_REJECTED)
