"""``fengkong models report``: train, evaluate and report the credit models on an event lake.

::

    fengkong models report --lake out/lake --out out/models/report.html [--truth out/truth] [--format json]

Writes the HTML report (charts inline, no network), ``models.json`` (every figure) and
``model_cards/<model>.card.json`` beside it; prints the headline figures beside their goals. The lake must
hold loan applications and repayments (``fengkong demo`` writes one). Exit codes: ``0`` done; ``2`` bad
input (the field and the reason on stderr, never a stack trace).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import OutputFormat, fail
from fengkong.cli.main import app
from fengkong.errors import InputError
from fengkong.services.model_dataset import DatasetOptions
from fengkong.services.model_report import ReportOptions, train_evaluate_report

models_app = typer.Typer(help="Credit models trained and evaluated on an event lake.", no_args_is_help=True)
app.add_typer(models_app, name="models")


def headline(figures: dict[str, Any]) -> list[tuple[str, Any, str]]:
    """(figure, value, goal) rows: the figures issue 6 holds the simulated-world models to."""
    goals = figures["goals"]
    champion = figures["champion"]["name"]
    oracle = figures.get("oracle", {})
    segments = figures.get("segments", {})
    approvals = figures.get("thin_file_approvals") or {}
    thin, thick = segments.get("thin_file_auc"), segments.get("thick_file_auc")
    return [
        (f"champion ({champion}) AUC (test period)", figures["models"][champion]["auc"], ""),
        ("oracle AUC (same rows)", oracle.get("auc"), ""),
        (
            "champion AUC gap to the oracle",
            figures.get("auc_gap_to_oracle"),
            f"<= {goals['auc_gap_to_oracle_max']}",
        ),
        ("AUC gap to the oracle, without fraud", figures.get("auc_gap_to_oracle_non_fraud"), ""),
        ("calibration ECE (champion)", figures["calibration"][champion]["ece"], f"<= {goals['ece_max']}"),
        ("thin-file AUC (segment model)", thin, f">= {goals['thin_file_auc_min']}"),
        (
            "thick-file AUC minus thin-file AUC",
            None if thin is None or thick is None else thick - thin,
            f"<= {goals['thin_thick_auc_gap_max']}",
        ),
        (
            "thin-file approvals vs baseline at equal bad rate",
            approvals.get("gain"),
            f">= +{goals['thin_file_approval_gain_min']}",
        ),
    ]


@models_app.command("report")
def report(
    lake: Annotated[
        Path, typer.Option("--lake", help="The event lake (for example out/lake of a demo run).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="The HTML report to write; cards and figures go beside.")
    ],
    truth: Annotated[
        Path | None,
        typer.Option("--truth", help="Simulator truth folder for the oracle AUC (default: <lake>/../truth)."),
    ] = None,
    bad_window_days: Annotated[
        int, typer.Option("--bad-window-days", help="Days after booking in which 30+ past due is bad.")
    ] = 180,
    train_share: Annotated[
        float, typer.Option("--train-share", help="Share of labelled bookings, oldest first, that train.")
    ] = 0.5,
    split_date: Annotated[
        str | None,
        typer.Option("--split-date", help="Booking date (YYYY-MM-DD) where the test period starts."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the models.")] = 0,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="json or table.")
    ] = OutputFormat.TABLE,
) -> None:
    """Train on the early bookings, test on the later ones; write the report and the model cards."""
    try:
        split = date.fromisoformat(split_date) if split_date is not None else None
    except ValueError:
        raise fail(f"split_date: not a date (YYYY-MM-DD): {split_date!r}") from None
    console = Console(stderr=True)
    try:
        options = ReportOptions(
            dataset=DatasetOptions(bad_window_days=bad_window_days),
            train_share=train_share,
            split_date=split,
            seed=seed,
        )
        with console.status("models") as status:
            result = train_evaluate_report(
                lake,
                out.parent if str(out.parent) else Path("."),
                truth_dir=truth,
                options=options,
                report_name=out.name,
                on_stage=lambda name: status.update(name),
            )
    except InputError as error:
        raise fail(str(error)) from None
    except ValueError as error:  # a library refusing data our checks let through: still no stack trace
        raise fail(f"cannot model this lake: {error}") from None
    rows = headline(result.figures)
    if output_format is OutputFormat.JSON:
        typer.echo(
            json.dumps(
                {
                    "report": str(result.report_path),
                    "figures": str(result.figures_path),
                    "cards": {name: str(path) for name, path in result.card_paths.items()},
                    "headline": [{"figure": f, "value": v, "goal": g} for f, v, g in rows],
                },
                indent=2,
            )
        )
        return
    table = Table(title="fengkong models — out of time")
    for column in ("figure", "value", "goal"):
        table.add_column(column)
    for figure, value, goal in rows:
        table.add_row(figure, "—" if value is None else f"{value:.4f}", goal)
    Console().print(table)
    Console().print(f"report written to {result.report_path}")
