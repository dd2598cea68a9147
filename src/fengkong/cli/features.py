"""``fengkong features``: the feature catalogue, parity of the two engines on a lake, backfills.

::

    fengkong features list [--entity merchant] [--format json]
    fengkong features parity --lake DIR [--entity consumer ...] [--keys 2000] [--format json]
    fengkong features backfill --lake DIR --entity consumer --keys keys.parquet --out features.parquet \\
        [--engine duckdb|spark]

Exit codes: ``0`` done (parity: every feature agreed); ``1`` parity found disagreements; ``2`` bad input
(the field and the reason are printed on stderr).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.table import Table

from fengkong.cli.common import EXIT_OK, OutputFormat, fail
from fengkong.cli.main import app
from fengkong.errors import FengkongError
from fengkong.services.features import OfflineEngine, backfill_file, feature_catalogue, parity_on_lake

EXIT_DISAGREES: Final = 1

features_app = typer.Typer(help="Behavioural features: list them, check online/offline parity, backfill.")
app.add_typer(features_app, name="features")


@features_app.command("list")
def list_features(
    entity: Annotated[str | None, typer.Option("--entity", help="Only this entity's features.")] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.TABLE,
) -> None:
    """Every feature: name, entity, window, unit and description."""
    try:
        rows = feature_catalogue(entity)
    except FengkongError as error:
        raise fail(error) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([row.to_json() for row in rows], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(rows)} features", show_lines=False)
    table.add_column("name", overflow="fold", min_width=20)
    for column in ("entity", "window", "unit", "description"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row.name, row.entity, row.window, row.unit, row.description)
    Console().print(table)


@features_app.command("parity")
def parity(
    lake: Annotated[Path, typer.Option("--lake", help="Folder of the Parquet event lake.")],
    entity: Annotated[
        list[str] | None, typer.Option("--entity", help="Entities to check (repeat); default all.")
    ] = None,
    keys: Annotated[int, typer.Option("--keys", help="Window-edge keys compared per entity.")] = 2_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the arrival shuffle and key sample.")] = 1,
    slice_hours: Annotated[
        int, typer.Option("--slice-hours", help="Events are shuffled within slices of this many hours.")
    ] = 24,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = OutputFormat.TABLE,
) -> None:
    """Replay a lake through the online engine (shuffled, with its retries) and backfill it offline at
    window-edge keys; print per-feature agreement. Exit 1 when any feature disagrees."""
    try:
        report = parity_on_lake(
            lake, entities=entity, keys_per_entity=keys, shuffle_seed=seed, seed=seed, slice_hours=slice_hours
        )
    except FengkongError as error:
        raise fail(error) from error
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        table = Table(
            title=f"parity on {report.lake_dir}: {report.events:,} events, "
            f"relative tolerance {report.tolerance_relative:g} for means, ratios and growth"
        )
        for column in ("feature", "entity", "comparison", "keys", "mismatches", "max difference"):
            table.add_column(column, justify="right" if column in {"keys", "mismatches"} else "left")
        for result in report.results:
            colour = "green" if result.agrees else "red"
            table.add_row(
                result.name,
                result.entity.value,
                "exact" if result.exact else "relative",
                f"{result.compared:,}",
                f"[{colour}]{result.mismatches:,}[/{colour}]",
                f"{result.max_difference:.3g}",
            )
        Console().print(table)
    raise typer.Exit(code=EXIT_OK if report.agrees else EXIT_DISAGREES)


@features_app.command("backfill")
def backfill(
    lake: Annotated[Path, typer.Option("--lake", help="Folder of the Parquet event lake.")],
    entity: Annotated[str, typer.Option("--entity", help="Entity the keys name.")],
    keys: Annotated[Path, typer.Option("--keys", help="Parquet file of (entity_id, as_of) rows.")],
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write.")],
    engine: Annotated[
        OfflineEngine,
        typer.Option("--engine", help="duckdb (default) or spark (local mode; needs Java 17+)."),
    ] = OfflineEngine.DUCKDB,
) -> None:
    """Point-in-time features of ENTITY at every (entity_id, as_of) row of a Parquet file."""
    try:
        rows = backfill_file(lake, entity, keys, out, engine=engine)
    except FengkongError as error:
        raise fail(error) from error
    Console().print(f"wrote {rows:,} rows to {out} ({engine.value})")
