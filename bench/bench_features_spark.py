"""Offline backfill on Apache Spark (local mode) against DuckDB: rows per second, in the same process.

On a simulated lake (``fengkong simulate``; the tiny scale by default, written to a temporary folder unless
``--lake`` names one), ``--rows`` (consumer, as_of) keys are drawn from order receipts and backfilled with
the whole consumer feature set by both engines from the lake files: DuckDB (``features/offline.py``) and
Spark (``features/offline_spark.py``, ``local[--cores]``, ``--shuffle-partitions`` partitions). Spark runs
once to warm up (JVM start, code generation), then each engine runs ``--repeat`` times interleaved; the best
run of each is reported as rows/s, with the ratio Spark ÷ DuckDB of the times, and the two results are
compared value by value under parity's rule (counts and sums exact, means within the relative tolerance).

Run: ``.venv/bin/python bench/bench_features_spark.py [--lake DIR] [--scale tiny] [--rows N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import duckdb
import numpy as np
import pyarrow as pa

from fengkong.features.offline import backfill
from fengkong.features.offline_spark import backfill_spark as spark_backfill
from fengkong.features.offline_spark import compare_backfills, spark_session, spark_unavailable_reason
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.services.simulate import prepare, run_simulation


def simulate_lake(folder: Path, scale: str, days: int | None) -> Path:
    began = time.perf_counter()
    world = prepare(None, scale=scale, days=days)
    run_simulation(world, folder, lambda done, total: None)
    print(f"simulated the {scale} lake in {time.perf_counter() - began:.1f} s", flush=True)
    return folder / "events"


def draw_keys(lake: Path, rows: int) -> pa.Table:
    orders = (
        duckdb.connect()
        .sql(
            "SELECT consumer_id AS entity_id, received_at AS as_of "
            f"FROM read_parquet('{lake}/order_placed/*/*.parquet')"
        )
        .to_arrow_table()
    )
    rng = np.random.default_rng(7)
    chosen = np.sort(rng.choice(orders.num_rows, size=min(rows, orders.num_rows), replace=False))
    return orders.take(pa.array(chosen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", type=Path, help="an event lake (default: simulate one)")
    parser.add_argument("--scale", default="tiny", help="scale of the simulated lake (tiny, small)")
    parser.add_argument("--days", type=int, default=None, help="days simulated (default: the scenario's)")
    parser.add_argument("--rows", type=int, default=20_000, help="keys backfilled")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each engine (best is reported)")
    parser.add_argument("--cores", type=int, default=2, help="local[N] worker threads of Spark")
    parser.add_argument("--shuffle-partitions", type=int, default=4, help="spark.sql.shuffle.partitions")
    args = parser.parse_args()
    reason = spark_unavailable_reason()
    if reason is not None:
        print(f"skipped: {reason}")
        return
    with tempfile.TemporaryDirectory() as folder:
        lake = args.lake if args.lake is not None else simulate_lake(Path(folder), args.scale, args.days)
        keys = draw_keys(lake, args.rows)
        features = len(STANDARD_FEATURES.for_entity("consumer"))
        began = time.perf_counter()
        with spark_session(cores=args.cores, shuffle_partitions=args.shuffle_partitions) as spark:
            print(f"Spark session started in {time.perf_counter() - began:.1f} s", flush=True)
            began = time.perf_counter()
            spark_backfill(STANDARD_FEATURES, "consumer", keys, spark=spark, lake_dir=lake)
            print(f"Spark warm-up run: {time.perf_counter() - began:.1f} s", flush=True)
            duck_runs: list[float] = []
            spark_runs: list[float] = []
            for _ in range(args.repeat):  # interleaved, so that load from other processes falls on both
                began = time.perf_counter()
                expected = backfill(STANDARD_FEATURES, "consumer", keys, lake_dir=lake)
                duck_runs.append(time.perf_counter() - began)
                began = time.perf_counter()
                actual = spark_backfill(STANDARD_FEATURES, "consumer", keys, spark=spark, lake_dir=lake)
                spark_runs.append(time.perf_counter() - began)
    results = compare_backfills(STANDARD_FEATURES, "consumer", expected, actual)
    differing = sum(r.mismatches for r in results)
    duck, spark_best = min(duck_runs), min(spark_runs)
    rows = keys.num_rows
    print(
        f"offline backfill, {rows:,} consumer rows × {features} features, best of {args.repeat}: "
        f"DuckDB {duck:.2f} s ({rows / duck:,.0f} rows/s), "
        f"Spark local[{args.cores}] {spark_best:.2f} s ({rows / spark_best:,.0f} rows/s); "
        f"ratio Spark / DuckDB {spark_best / duck:.1f}; "
        f"values differing: {differing} of {rows * features:,}"
    )


if __name__ == "__main__":
    main()
