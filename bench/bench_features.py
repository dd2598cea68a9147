"""Feature engines: online update and read latency in-process; offline backfill against a hand-written query.

Figures, all measured in this process on a simulated lake (``fengkong simulate``; the small scale by default,
written to a temporary folder unless ``--lake`` names one):

* **online update**: the events received in the last ``--online-days`` days of the lake are applied one by
  one in receipt order to an :class:`OnlineFeatureEngine` holding the whole standard set; p50/p99/max of one
  ``apply_row`` call (µs). Batch size 1: every figure is per event. Python rows are built one hour of
  receipts at a time, so the process holds the state rather than the stream. The state's memory cost is
  measured apart: Python allocations still live after the last 3 days are applied to a fresh engine
  (``tracemalloc``), per event.
* **online read**: a decision's vector — one consumer, its last merchant, the device, IP and phone of one of
  its logins (5 entities, every standard feature of each) — read at the end of the stream; p50/p99 (µs) per
  whole decision over ``--reads`` decisions, with Python's default garbage collector on.
* **offline backfill**: ``--rows`` (consumer, as_of) keys drawn from order receipts, backfilled (a) for the
  whole consumer feature set and (b) for the eight features the hand-written reference also computes; the
  reference is a DuckDB query written by hand (one range join per event type, no deduplication by event
  ID, which the generated query also does). The ratio (b) / reference is printed; both run in the same
  process on the same keys, and the two results are compared value by value.

Run: ``.venv/bin/python bench/bench_features.py [--lake DIR] [--rows N] [--online-days D] [--reads R]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fengkong.features.offline import backfill
from fengkong.features.online import OnlineFeatureEngine
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.services.features import read_lake_events
from fengkong.services.simulate import prepare, run_simulation

REFERENCE_FEATURES = (
    "consumer_orders_7d",
    "consumer_orders_30d",
    "consumer_order_amount_30d_fen",
    "consumer_order_amount_mean_30d_fen",
    "consumer_logins_24h",
    "consumer_login_devices_distinct_7d",
    "consumer_transfer_out_amount_24h_fen",
    "consumer_bureau_score_last",
)
DAY_US = 86_400_000_000

REFERENCE_SQL = """
WITH k AS (SELECT row_id, entity_id, epoch_us(as_of) AS t FROM keys),
o AS (
    SELECT k.row_id,
        count(*) FILTER (WHERE epoch_us(e.received_at) > k.t - 7 * {day}) AS consumer_orders_7d,
        count(*) AS consumer_orders_30d,
        sum(e.amount_fen) AS consumer_order_amount_30d_fen,
        avg(e.amount_fen) AS consumer_order_amount_mean_30d_fen
    FROM k JOIN read_parquet('{lake}/order_placed/*/*.parquet') e
      ON e.consumer_id = k.entity_id AND epoch_us(e.received_at) <= k.t
     AND epoch_us(e.received_at) > k.t - 30 * {day}
    GROUP BY k.row_id),
l AS (
    SELECT k.row_id,
        count(*) FILTER (WHERE epoch_us(e.received_at) > k.t - {day}) AS consumer_logins_24h,
        count(DISTINCT e.device_id) AS consumer_login_devices_distinct_7d
    FROM k JOIN read_parquet('{lake}/login/*/*.parquet') e
      ON e.party_id = k.entity_id AND epoch_us(e.received_at) <= k.t
     AND epoch_us(e.received_at) > k.t - 7 * {day}
    GROUP BY k.row_id),
p AS (
    SELECT k.row_id, sum(e.amount_fen) AS consumer_transfer_out_amount_24h_fen
    FROM k JOIN read_parquet('{lake}/payment_made/*/*.parquet') e
      ON e.payer_id = k.entity_id AND e.purpose = 'transfer_out' AND epoch_us(e.received_at) <= k.t
     AND epoch_us(e.received_at) > k.t - {day}
    GROUP BY k.row_id),
b AS (
    SELECT k.row_id,
        arg_max(e.bureau_score, (epoch_us(e.received_at), e.event_id)) AS consumer_bureau_score_last
    FROM k JOIN read_parquet('{lake}/bureau_report/*/*.parquet') e
      ON e.party_id = k.entity_id AND epoch_us(e.received_at) <= k.t
     AND epoch_us(e.received_at) > k.t - 365 * {day}
    GROUP BY k.row_id)
SELECT k.row_id,
    coalesce(o.consumer_orders_7d, 0) AS consumer_orders_7d,
    coalesce(o.consumer_orders_30d, 0) AS consumer_orders_30d,
    coalesce(o.consumer_order_amount_30d_fen, 0)::BIGINT AS consumer_order_amount_30d_fen,
    o.consumer_order_amount_mean_30d_fen,
    coalesce(l.consumer_logins_24h, 0) AS consumer_logins_24h,
    coalesce(l.consumer_login_devices_distinct_7d, 0) AS consumer_login_devices_distinct_7d,
    coalesce(p.consumer_transfer_out_amount_24h_fen, 0)::BIGINT AS consumer_transfer_out_amount_24h_fen,
    b.consumer_bureau_score_last
FROM k LEFT JOIN o USING (row_id) LEFT JOIN l USING (row_id) LEFT JOIN p USING (row_id)
LEFT JOIN b USING (row_id)
ORDER BY k.row_id
"""


def memory_per_event(recent: dict[str, pa.Table], since: datetime) -> float:
    """Bytes of Python allocations the online state keeps per event, for events received after ``since``."""
    rows: list[tuple[str, dict[str, object]]] = []
    for event_type, table in recent.items():
        received = table.column("received_at")
        chosen = table.filter(pc.greater(received, pa.scalar(since, received.type)))
        rows.extend((event_type, row) for row in chosen.to_pylist())
    count = len(rows)
    tracemalloc.start()
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    for event_type, row in rows:
        engine.apply_row(event_type, row)
    del rows  # the state keeps what it needs (IDs, values); the rows themselves go
    gc.collect()
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return held / max(count, 1)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def simulate_lake(folder: Path, scale: str) -> Path:
    began = time.perf_counter()
    world = prepare(None, scale=scale)
    run_simulation(world, folder, lambda done, total: None)
    print(f"simulated the {scale} lake in {time.perf_counter() - began:.1f} s", flush=True)
    return folder / "events"


def bench_online(lake: Path, days: int, reads: int) -> None:
    event_types = sorted({t for spec in STANDARD_FEATURES for t in spec.event_types})
    tables = read_lake_events(lake, event_types, STANDARD_FEATURES)
    latest = max(pc.max(t.column("received_at")).as_py() for t in tables.values() if t.num_rows)
    since = latest - timedelta(days=days)
    recent: dict[str, pa.Table] = {}
    for event_type, table in tables.items():
        received = table.column("received_at")
        recent[event_type] = table.filter(pc.greater(received, pa.scalar(since, received.type))).sort_by(
            [("received_at", "ascending"), ("event_id", "ascending")]
        )
    del tables
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    timings: list[float] = []
    clock = time.perf_counter_ns
    began = time.perf_counter()
    applied = 0
    hour = timedelta(hours=1)
    low = since
    while low < latest:  # Python rows for one hour at a time: the process holds the state, not the stream
        rows: list[tuple[str, dict[str, object]]] = []
        for event_type, table in recent.items():
            received = table.column("received_at")
            window = pc.and_(
                pc.greater(received, pa.scalar(low, received.type)),
                pc.less_equal(received, pa.scalar(low + hour, received.type)),
            )
            rows.extend((event_type, row) for row in table.filter(window).to_pylist())
        rows.sort(key=lambda item: (item[1]["received_at"], item[1]["event_id"]))
        for event_type, row in rows:
            start = clock()
            engine.apply_row(event_type, row)
            timings.append((clock() - start) / 1_000)
        applied += len(rows)
        low += hour
    elapsed = time.perf_counter() - began
    print(
        f"online update: {applied:,} events ({days} days of the lake), batch size 1: "
        f"p50 {percentile(timings, 50):.1f} µs, p99 {percentile(timings, 99):.1f} µs, "
        f"max {max(timings):,.0f} µs; {applied / elapsed:,.0f} events/s with the timer and row building; "
        f"{engine.entries:,} entries held"
    )
    print(
        f"online state: {memory_per_event(recent, latest - timedelta(days=3)):,.0f} bytes per event held "
        "(traced allocations still live after applying the last 3 days to a fresh engine)"
    )
    login_table = recent["login"].filter(
        pc.and_(pc.is_valid(recent["login"].column("device_id")), pc.is_valid(recent["login"].column("ip")))
    )
    logins = login_table.select(["party_id", "device_id", "ip", "phone"]).to_pylist()
    order_table = recent["order_placed"]
    orders = dict(
        zip(
            order_table.column("consumer_id").to_pylist(),
            order_table.column("merchant_id").to_pylist(),
            strict=True,
        )
    )
    rng = np.random.default_rng(1)
    decisions = [logins[int(i)] for i in rng.integers(0, len(logins), size=reads)]
    for label in ("default garbage collector",):
        read_timings: list[float] = []
        features_read = 0
        for login in decisions:
            consumer = str(login["party_id"])
            targets = [
                ("consumer", consumer),
                ("merchant", str(orders.get(consumer, "none"))),
                ("device", str(login["device_id"])),
                ("ip", str(login["ip"])),
                ("phone", str(login.get("phone") or "none")),
            ]
            start = clock()
            vectors = [engine.read(entity, entity_id, latest) for entity, entity_id in targets]
            read_timings.append((clock() - start) / 1_000)
            features_read = sum(len(v.values) for v in vectors)
        print(
            f"online read, {label}: {reads:,} decisions of 5 entities ({features_read} features each): "
            f"p50 {percentile(read_timings, 50):.1f} µs, p99 {percentile(read_timings, 99):.1f} µs "
            f"(mean {statistics.fmean(read_timings):.1f} µs)"
        )


def bench_offline(lake: Path, rows: int, repeat: int) -> None:
    database = duckdb.connect()
    orders = database.sql(
        "SELECT consumer_id AS entity_id, received_at AS as_of "
        f"FROM read_parquet('{lake}/order_placed/*/*.parquet')"
    ).to_arrow_table()
    rng = np.random.default_rng(7)
    chosen = np.sort(rng.choice(orders.num_rows, size=min(rows, orders.num_rows), replace=False))
    keys = orders.take(pa.array(chosen))
    began = time.perf_counter()
    whole = backfill(STANDARD_FEATURES, "consumer", keys, lake_dir=lake, connection=database)
    whole_seconds = time.perf_counter() - began
    print(
        f"offline backfill: {keys.num_rows:,} consumer rows × {whole.num_columns - 2} features in "
        f"{whole_seconds:.2f} s"
    )
    database.register("keys", keys.append_column("row_id", pa.array(np.arange(keys.num_rows))))  # reference's
    generated_runs: list[float] = []
    unchecked_runs: list[float] = []
    reference_runs: list[float] = []
    for _ in range(repeat):  # interleaved, so that load from other processes falls on all three alike
        began = time.perf_counter()
        generated = backfill(
            STANDARD_FEATURES, "consumer", keys, lake_dir=lake, names=REFERENCE_FEATURES, connection=database
        )
        generated_runs.append(time.perf_counter() - began)
        began = time.perf_counter()
        unchecked = backfill(
            STANDARD_FEATURES,
            "consumer",
            keys,
            lake_dir=lake,
            names=REFERENCE_FEATURES,
            connection=database,
            deduplicate=False,
        )
        unchecked_runs.append(time.perf_counter() - began)
        began = time.perf_counter()
        reference = database.sql(REFERENCE_SQL.format(lake=lake, day=DAY_US)).to_arrow_table()
        reference_runs.append(time.perf_counter() - began)
    if not unchecked.equals(generated):
        print("warning: the lake holds duplicate event IDs; deduplicate=False changes the answer")
    generated_seconds, reference_seconds = min(generated_runs), min(reference_runs)
    unchecked_seconds = min(unchecked_runs)
    differing = 0
    for name in REFERENCE_FEATURES:
        ours = generated.column(name).to_pylist()
        theirs = reference.column(name).to_pylist()
        for a, b in zip(ours, theirs, strict=True):
            if a is None or b is None:
                differing += (a is None) != (b is None)
            elif abs(float(a) - float(b)) > 1e-9 * max(1.0, abs(float(a))):
                differing += 1
    print(
        f"offline backfill of the {len(REFERENCE_FEATURES)} reference features, best of {repeat}: "
        f"generated {generated_seconds:.2f} s, "
        f"hand-written DuckDB {reference_seconds:.2f} s, ratio {generated_seconds / reference_seconds:.2f}; "
        f"values differing: {differing}"
    )
    print(
        f"  without deduplication by event ID (as the reference; for lakes written by ingestion): "
        f"{unchecked_seconds:.2f} s, ratio {unchecked_seconds / reference_seconds:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, help="an event lake (default: simulate one)")
    parser.add_argument("--scale", default="small", help="scale of the simulated lake (tiny, small)")
    parser.add_argument("--rows", type=int, default=100_000, help="keys backfilled offline")
    parser.add_argument("--online-days", type=int, default=30, help="days of events applied online")
    parser.add_argument("--repeat", type=int, default=3, help="offline timings: best of this many runs")
    parser.add_argument("--reads", type=int, default=5_000, help="decisions read online")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        lake = args.lake if args.lake is not None else simulate_lake(Path(folder), args.scale)
        bench_offline(lake, args.rows, args.repeat)
        bench_online(lake, args.online_days, args.reads)


if __name__ == "__main__":
    main()
