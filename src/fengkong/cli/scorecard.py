"""``fengkong scorecard evaluate|fit`` and ``fengkong score``: credit models on any labelled CSV.

::

    fengkong scorecard evaluate --data german.csv --target creditability --bad-value bad --format json
    fengkong scorecard fit --data german.csv --target creditability --bad-value bad --out model/
    fengkong score --model model/ --data applicants.csv --reasons [--out scores.csv]

``evaluate`` prints ``{"models": {"scorecard": {...}, "gbm": {...}}, "champion": {"name", "auc_mean",
"auc_std", "ks_mean", "gini_mean", ...}}``; the champion is chosen by inner cross-validation on each outer
training part, never by the outer test folds. ``score`` writes CSV (score, pd, reason codes) to ``--out`` or
stdout. Exit codes: ``0`` done; ``2`` bad input (the field and the reason are printed on stderr).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fengkong.cli.common import OutputFormat, fail
from fengkong.cli.main import app
from fengkong.errors import InputError
from fengkong.services.scoring import evaluate_csv, fit_and_save, score_csv

scorecard_app = typer.Typer(
    help="Credit scorecards and their gradient-boosted challenger on a labelled CSV.", no_args_is_help=True
)
app.add_typer(scorecard_app, name="scorecard")


DataOption = Annotated[Path, typer.Option("--data", help="Labelled CSV, one row per applicant.")]
TargetOption = Annotated[str, typer.Option("--target", help="The target column.")]
BadOption = Annotated[str, typer.Option("--bad-value", help="The target value that means bad (default).")]


@scorecard_app.command("evaluate")
def evaluate(
    data: DataOption,
    target: TargetOption,
    bad_value: BadOption,
    folds: Annotated[int, typer.Option("--folds", help="Outer stratified folds.")] = 5,
    repeats: Annotated[int, typer.Option("--repeats", help="Repeats of the outer folds.")] = 3,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the folds and the models.")] = 0,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="json or table.")
    ] = OutputFormat.TABLE,
) -> None:
    """Repeated stratified k-fold of the scorecard and the GBM; the champion by inner cross-validation."""
    try:
        result = evaluate_csv(data, target, bad_value, folds=folds, repeats=repeats, seed=seed)
    except InputError as error:
        raise fail(str(error)) from None
    except ValueError as error:  # a library refusing data our checks let through: still no stack trace
        raise fail(f"cannot model this data: {error}") from None
    if output_format is OutputFormat.JSON:
        typer.echo(json.dumps(result, indent=2))
        return
    console = Console()
    for name, figures in result["models"].items():
        console.print(
            f"{name:10s} AUC {figures['auc_mean']:.4f} ± {figures['auc_std']:.4f}  "
            f"KS {figures['ks_mean']:.4f}  Gini {figures['gini_mean']:.4f}  "
            f"Brier {figures['brier_mean']:.4f}  ECE {figures['ece_mean']:.4f}",
            highlight=False,
        )
    champion = result["champion"]
    console.print(
        f"champion: {champion['name']} (AUC {champion['auc_mean']:.4f} ± {champion['auc_std']:.4f})"
    )


@scorecard_app.command("fit")
def fit(
    data: DataOption,
    target: TargetOption,
    bad_value: BadOption,
    out: Annotated[Path, typer.Option("--out", help="Directory for the model files.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the models.")] = 0,
) -> None:
    """Fit both models on all rows and write the scorecard (JSON, CSV, HTML) and the GBM with its card."""
    try:
        manifest = fit_and_save(data, target, bad_value, out, seed=seed)
    except InputError as error:
        raise fail(str(error)) from None
    except ValueError as error:  # a library refusing data our checks let through: still no stack trace
        raise fail(f"cannot model this data: {error}") from None
    typer.echo(
        json.dumps({"out": str(out), "champion": manifest["champion"], "inner_auc": manifest["inner_auc"]})
    )


@app.command("score")
def score(
    model: Annotated[Path, typer.Option("--model", help="A directory written by `fengkong scorecard fit`.")],
    data: Annotated[Path, typer.Option("--data", help="CSV of applicants (the target column is ignored).")],
    reasons: Annotated[bool, typer.Option("--reasons", help="Add ranked reason codes.")] = False,
    out: Annotated[Path | None, typer.Option("--out", help="Write the CSV here instead of stdout.")] = None,
) -> None:
    """Score applicants with the champion: score, PD and (with --reasons) reason codes, as CSV."""
    try:
        frame = score_csv(model, data, reasons=reasons)
    except InputError as error:
        raise fail(str(error)) from None
    except ValueError as error:  # a library refusing data our checks let through: still no stack trace
        raise fail(f"cannot model this data: {error}") from None
    unseen = frame.attrs.get("unseen_categories") or {}
    for column, values in unseen.items():
        Console(stderr=True).print(
            f"note: {column}: categories unseen in training scored as average risk: {values[:5]}",
            highlight=False,
        )
    if out is None:
        frame.to_csv(sys.stdout, index=False)
    else:
        frame.to_csv(out, index=False)
