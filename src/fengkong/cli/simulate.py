"""``fengkong simulate``: run a simulated ecosystem and write its event lake and ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fengkong.cli.main import app
from fengkong.errors import InputError
from fengkong.services import simulate as simulate_service


def _size(num_bytes: int) -> str:
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.1f} {unit}"
        value /= 1024
    return f"{value:,.1f} GiB"


@app.command("simulate")
def simulate(
    out: Annotated[Path, typer.Option("--out", help="output directory (events/ and truth/ go under it)")],
    scenario: Annotated[
        Path | None, typer.Option("--scenario", help="scenario file (default: packaged)")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="override the scenario's seed")] = None,
    scale: Annotated[str | None, typer.Option("--scale", help="tiny, small or large")] = None,
    days: Annotated[int | None, typer.Option("--days", help="override the number of simulated days")] = None,
) -> None:
    """Simulate an ecosystem: consumers, riders, merchants, supply chain, fraud — events and truth apart."""
    console = Console()
    try:
        world = simulate_service.prepare(scenario, seed=seed, scale=scale, days=days)
    except InputError as exc:
        console.print(f"[red]scenario error[/red] {exc}")
        raise typer.Exit(code=2) from exc
    events, size = simulate_service.estimate(world)
    console.print(
        f"scenario [bold]{world.name}[/bold], scale {world.scale}, {world.days} days, seed {world.seed}: "
        f"about {events:,} events, about {_size(size)} on disk"
    )
    columns = (
        TextColumn("simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("days", total=world.days)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            summary = simulate_service.run_simulation(world, out, advance)
        except InputError as exc:
            console.print(f"[red]error[/red] {exc}")
            raise typer.Exit(code=2) from exc
    table = Table(title=f"simulated into {summary.out_dir}")
    table.add_column("events / truth")
    table.add_column("rows", justify="right")
    for name, count in sorted(summary.events_by_type.items()):
        table.add_row(name, f"{count:,}")
    table.add_row("[bold]events total[/bold]", f"[bold]{summary.events_total:,}[/bold]")
    for name, count in sorted(summary.truth_rows_by_table.items()):
        table.add_row(f"truth/{name}", f"{count:,}")
    for name, count in sorted(summary.parties_by_kind.items()):
        table.add_row(f"parties: {name}", f"{count:,}")
    table.add_row("files written", f"{summary.files_written:,}")
    table.add_row("bytes written", _size(summary.bytes_written))
    console.print(table)
