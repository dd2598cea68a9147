"""Run a scenario to the end and write what happened (events) and what was true (truth) apart.

Layout under ``out_dir``::

    events/<event_type>/date=YYYY-MM-DD/part-000000.parquet    one file per type and business date
    truth/<table>.parquet                                      ground truth (see ecosystem.TRUTH_TABLES)
    truth/scenario.json                                        the resolved scenario the run used

Same scenario and seed ⇒ byte-identical files: every random draw comes from a generator seeded by
(seed, day, stream, chunk); Parquet is written single-threaded with fixed options; nothing depends on the
wall clock, dict order or hashing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from fengkong import bounds
from fengkong.errors import InputError
from fengkong.sim.ecosystem import ECOSYSTEM_EVENT_TYPES, TRUTH_TABLES, Ecosystem
from fengkong.sim.population import lognormal_sigma
from fengkong.sim.scenario import Scenario

#: Measured Parquet bytes per event of a small run (zstd); used only for the disk estimate printed first.
BYTES_PER_EVENT_ESTIMATE = 30

Progress = Callable[[int, int], None]

#: Low-cardinality columns get dictionary encoding; IDs do not (it costs time and saves nothing on them).
_DICTIONARY_COLUMNS = [
    "event_type",
    "source",
    "category",
    "pay_method",
    "status",
    "reason",
    "purpose",
    "method",
    "record_kind",
    "party_kind",
    "roles",
    "segment",
    "merchant_id",
    "rider_id",
    "kind",
    "kind_name",
    "attack",
    "snapshot",
]

_WRITE_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "compression_level": 1,
    "use_dictionary": _DICTIONARY_COLUMNS,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
}


@dataclass(frozen=True)
class SimulationSummary:
    """What a run wrote: counts by event type and truth table, files and bytes."""

    scenario: str
    seed: int
    scale: str
    days: int
    parties: int
    events_by_type: dict[str, int]
    truth_rows_by_table: dict[str, int]
    files_written: int
    bytes_written: int
    out_dir: Path
    estimated_events: int = 0
    estimated_bytes: int = 0
    parties_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def events_total(self) -> int:
        return sum(self.events_by_type.values())


def estimate_output(scenario: Scenario) -> tuple[int, int]:
    """A rough (events, bytes) forecast of a run, printed before anything is written."""
    size = scenario.size
    consumers = scenario.consumers
    riders = scenario.riders
    orders = consumers.orders_per_day_median * math.exp(consumers.orders_per_day_sigma**2 / 2) * 1.06
    food = consumers.category_weights.food / (
        consumers.category_weights.food + consumers.category_weights.hotel + consumers.category_weights.shop
    )
    per_order = 1 + consumers.review_share + consumers.refund_share + (1 - consumers.bnpl_share)
    monthly = (
        consumers.topups_per_month
        + consumers.bills_per_month
        + consumers.transfers_known_per_month
        + consumers.transfers_unknown_per_month
    )
    per_consumer = consumers.logins_per_day * math.exp(0.125) + orders * per_order + monthly / 30
    active = sum(
        w * p for w, p in zip(riders.activity_class_weights, riders.active_day_probability, strict=True)
    )
    active /= sum(riders.activity_class_weights)
    per_rider = (
        active * riders.orders_per_active_day * math.exp(lognormal_sigma(riders.volume_sigma) ** 2 / 2)
    )
    deliveries = max(size.riders * per_rider, size.consumers * orders * food)
    suppliers = size.core_enterprises * size.suppliers_per_enterprise
    per_day = (
        size.consumers * per_consumer
        + deliveries
        + size.merchants
        + suppliers * scenario.supply_chain.trades_per_supplier_monthly * 3 / 30
        + size.consumers * (1 - scenario.population.thin_file_share) / 30
    )
    registrations = size.consumers + size.riders + 2 * size.merchants + suppliers + size.core_enterprises
    events = round(per_day * scenario.days + registrations)
    return events, events * BYTES_PER_EVENT_ESTIMATE


def _event_path(out_dir: Path, event_type: str, day_text: str) -> Path:
    return out_dir / "events" / event_type / f"date={day_text}" / "part-000000.parquet"


def _check_out_dir(out_dir: Path) -> None:
    for sub in ("events", "truth"):
        path = out_dir / sub
        if path.exists() and any(path.iterdir()):
            raise InputError(f"{path} already holds a run; choose an empty directory", field="out_dir")


def simulate(
    scenario: Scenario,
    out_dir: Path,
    progress: Progress | None = None,
    *,
    chunk_parties: int = bounds.sim_chunk_parties_max,
) -> SimulationSummary:
    """Run ``scenario`` for its days, writing events and truth under ``out_dir``; returns the counts."""
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    estimated_events, estimated_bytes = estimate_output(scenario)
    ecosystem = Ecosystem(scenario, chunk_parties=chunk_parties)
    events_by_type = dict.fromkeys(ECOSYSTEM_EVENT_TYPES, 0)
    truth: dict[str, list[pa.Table]] = {name: [] for name in TRUTH_TABLES}
    files = 0
    written = 0
    for day in range(scenario.days):
        day_text = ecosystem.current_date().isoformat()
        writers: dict[str, pq.ParquetWriter] = {}
        try:
            for event_type, table in ecosystem.iter_step():
                if table.num_rows == 0:
                    continue
                writer = writers.get(event_type)
                if writer is None:
                    path = _event_path(out_dir, event_type, day_text)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    writer = pq.ParquetWriter(path, table.schema, **_WRITE_OPTIONS)
                    writers[event_type] = writer
                writer.write_table(table, row_group_size=bounds.lake_row_group_rows_max)
                events_by_type[event_type] += table.num_rows
        finally:
            for writer in writers.values():
                writer.close()
        for event_type in sorted(writers):
            files += 1
            written += _event_path(out_dir, event_type, day_text).stat().st_size
        for name, table in ecosystem.ground_truth_day().items():
            truth[name].append(table)
        if progress is not None:
            progress(day + 1, scenario.days)
    truth_dir = out_dir / "truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    truth_rows: dict[str, int] = {}
    for name in TRUTH_TABLES:
        tables = truth[name]
        if not tables:
            truth_rows[name] = 0
            continue
        combined = pa.concat_tables(tables)
        path = truth_dir / f"{name}.parquet"
        pq.write_table(combined, path, row_group_size=bounds.lake_row_group_rows_max, **_WRITE_OPTIONS)
        truth_rows[name] = combined.num_rows
        files += 1
        written += path.stat().st_size
    scenario_path = truth_dir / "scenario.json"
    scenario_path.write_text(scenario_json(scenario), encoding="utf-8")
    files += 1
    written += scenario_path.stat().st_size
    state = ecosystem.state
    kinds = {
        name: int((state.kind == code).sum())
        for code, name in enumerate(("consumer", "rider", "merchant", "supplier"))
    }
    return SimulationSummary(
        scenario=scenario.name,
        seed=scenario.seed,
        scale=scenario.scale,
        days=scenario.days,
        parties=len(state),
        events_by_type=events_by_type,
        truth_rows_by_table=truth_rows,
        files_written=files,
        bytes_written=written,
        out_dir=out_dir,
        estimated_events=estimated_events,
        estimated_bytes=estimated_bytes,
        parties_by_kind=kinds,
    )


def scenario_json(scenario: Scenario) -> str:
    """The resolved scenario as canonical JSON (sorted keys), recorded beside the truth."""

    def plain(value: object) -> object:
        if hasattr(value, "model_dump"):
            return value.model_dump(mode="json")
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        return value if isinstance(value, int | float | str | bool | type(None)) else str(value)

    data = {item.name: plain(getattr(scenario, item.name)) for item in fields(scenario)}
    return json.dumps(data, sort_keys=True, indent=2) + "\n"
