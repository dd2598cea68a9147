"""``fengkong chain trades``: a simulated lake's supply chain through signed records and receivables.

::

    fengkong chain trades --lake out/world/events [--database-url URL] [--seed 7] [--attack-rate 0.02]
                          [--days N] [--registry-out registrations.csv] [--format table|json]

Replays the lake's trade documents day by day: signed and counter-signed records, receivables issued,
confirmed, split, transferred down the tiers, financed against an inclusion proof and settled at maturity,
with the lake's forged and double-presented invoices and injected attacks (altered, replayed, out-of-order,
forged signatures, reworded re-presentations, transfers by non-holders, double financings). Prints what each
step did and how many attacks were caught. Without ``--database-url`` the run uses a scratch SQLite file that
is deleted afterwards. ``--registry-out`` writes the transfers and pledges as registration rows (``.csv`` or
``.json``). Exit codes: ``0`` done; ``2`` bad input.
"""

from __future__ import annotations

import json
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fengkong.cli.chain import chain_app
from fengkong.cli.common import OutputFormat, fail
from fengkong.clock import SystemClock
from fengkong.errors import FengkongError, InputError
from fengkong.services.receivables import write_registration_export
from fengkong.services.supply_chain import SupplyChainParameters, SupplyChainRun, run_supply_chain
from fengkong.services.trade import TradeStores, open_engine


def _parameters(seed: int, attack_rate: str, days: int | None) -> SupplyChainParameters:
    try:
        rate = Decimal(attack_rate)
    except InvalidOperation as exc:
        raise InputError(f"{attack_rate!r} is not a decimal number", field="attack_rate") from exc
    if not Decimal(0) <= rate <= Decimal("0.2"):
        raise InputError("must be between 0 and 0.2", field="attack_rate")
    if days is not None and days < 1:
        raise InputError("must be at least 1", field="days")
    return SupplyChainParameters(seed=seed, attack_rate=rate, days=days)


def _run(
    lake: Path, url: str, parameters: SupplyChainParameters, registry_out: Path | None
) -> SupplyChainRun:
    engine: sa.Engine | None = None
    try:
        engine = open_engine(url)
        with Progress(
            TextColumn("supply chain"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("days"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress:
            task = progress.add_task("days", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            result = run_supply_chain(lake, engine, parameters, advance)
        if registry_out is not None:
            write_registration_export(engine, TradeStores.of(SystemClock()), registry_out)
        return result
    finally:
        if engine is not None:
            engine.dispose()


@chain_app.command("trades")
def trades(
    lake: Annotated[Path, typer.Option("--lake", help="event lake folder (a simulated world's events/)")],
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Database URL (default: a scratch SQLite file).")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the simulated parties' behaviour")] = 7,
    attack_rate: Annotated[str, typer.Option("--attack-rate", help="rate of each injected attack")] = "0.02",
    days: Annotated[
        int | None, typer.Option("--days", help="only the first N days of documents (settlement runs on)")
    ] = None,
    registry_out: Annotated[
        Path | None, typer.Option("--registry-out", help="write registration rows (.csv or .json)")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json")] = OutputFormat.TABLE,
) -> None:
    """Run the lake's supply chain through signed records and receivables; count what was caught."""
    try:
        parameters = _parameters(seed, attack_rate, days)
        if database_url is not None:
            result = _run(lake, database_url, parameters, registry_out)
        else:
            with tempfile.TemporaryDirectory(prefix="fengkong-trades-") as scratch:
                result = _run(lake, f"sqlite:///{Path(scratch) / 'trades.sqlite'}", parameters, registry_out)
    except FengkongError as exc:
        raise fail(exc) from exc
    if output is OutputFormat.JSON:
        typer.echo(json.dumps(result.to_json(), sort_keys=True))
        return
    console = Console()
    steps = Table(title=f"supply chain over {result.days} days")
    steps.add_column("step")
    steps.add_column("count", justify="right")
    for name, value in (
        ("documents read", result.documents_read),
        ("documents recorded (signed twice)", result.documents_recorded),
        ("receivables issued", result.receivables_issued),
        ("confirmed by the core enterprise", result.receivables_confirmed),
        ("split", result.parts_split),
        ("parts transferred down the tiers", result.parts_transferred),
        ("parts financed (inclusion proof verified)", result.parts_financed),
        ("receivables settled at maturity", result.receivables_settled),
        ("trade log leaves", result.trade_log_size),
        ("checkpoints signed", result.checkpoints_signed),
        ("registration rows", result.registrations),
    ):
        steps.add_row(name, f"{value:,}")
    console.print(steps)
    caught = Table(title="attacks: injected and caught")
    for column in ("attack", "injected", "caught"):
        caught.add_column(column, justify="right" if column != "attack" else "left")
    for name in sorted(set(result.injected) | set(result.caught)):
        injected = result.injected.get(name)
        caught.add_row(
            name, "from the lake" if injected is None else str(injected), str(result.caught.get(name, 0))
        )
    console.print(caught)
