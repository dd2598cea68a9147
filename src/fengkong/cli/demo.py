"""``fengkong demo``: run the ecosystem, fengkong and the borrower response together and print the scoreboard.

Writes ``<out>/summary.json`` (the scoreboard), the event lake under ``<out>/lake`` and the ground truth
under ``<out>/truth``. ``--quick`` runs a small world over a short horizon (for CI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from fengkong.cli.main import app
from fengkong.errors import FengkongError
from fengkong.services.demo import DemoConfig, run_demo


def _figure(section: dict[str, Any], key: str) -> str:
    """``key`` may be a dotted path (``first_payment_default_rate.all``); an absent figure shows as —."""
    value: Any = section
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "—" if value is None else str(value)


def summary_table(summary: dict[str, Any]) -> Table:
    """The headline figures of a summary (absent figures show as —)."""
    table = Table(title="fengkong demo — scoreboard", show_header=True)
    table.add_column("section")
    table.add_column("figure")
    table.add_column("value", justify="right")
    rows = (
        ("simulation", "days"),
        ("simulation", "events_total"),
        ("ingestion", "accepted"),
        ("ingestion", "duplicates"),
        ("ingestion", "rejected"),
        ("decisions", "applications"),
        ("decisions", "approval_rate"),
        ("decisions", "thin_file_approval_rate"),
        ("decisions", "fraud_applications_approved"),
        ("decisions", "fraud_applications_declined"),
        ("credit_lines", "lines_granted"),
        ("credit_lines", "lines_raised"),
        ("credit_lines", "lines_cut"),
        ("loan_book", "outstanding_yuan"),
        ("loan_book", "share_30_plus_of_balance"),
        ("loan_book", "realised_bad_rate"),
        ("loan_book", "realised_bad_rate_non_fraud"),
        ("loan_book", "first_payment_default_rate.all"),
        ("ground_truth_evaluation", "baseline_score_auc"),
        ("ground_truth_evaluation", "oracle_true_pd_auc"),
        ("ground_truth_evaluation", "baseline_score_auc_non_fraud"),
        ("ground_truth_evaluation", "oracle_true_pd_auc_non_fraud"),
        ("timings", "total"),
    )
    for section, key in rows:
        table.add_row(section, key, _figure(summary.get(section, {}), key))
    return table


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder (summary.json, lake/, truth/).")] = Path(
        "out"
    ),
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Seed of the world and of the borrowers (default: the scenario's seed)."),
    ] = None,
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="Scenario file (default: the packaged one).")
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="A small world and a short horizon, for CI.")
    ] = False,
    days: Annotated[
        int | None, typer.Option("--days", help="Override the number of simulated days.", show_default=False)
    ] = None,
) -> None:
    """Simulate, decide, lend and score one run; write <out>/summary.json."""
    console = Console()
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:

        def on_progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done)

        try:
            result = run_demo(
                DemoConfig(out_dir=out, seed=seed, scenario_path=scenario, quick=quick, days=days),
                on_progress,
            )
        except FengkongError as error:
            console.print(f"[red]demo failed:[/red] {error}")
            raise typer.Exit(1) from error
    console.print(summary_table(result.summary))
    console.print(f"scoreboard written to {result.summary_path}")
