"""Ingestion throughput: validation + deduplication + lake write, from Parquet and from JSON Lines, and
publication to Redis Streams.

Synthetic events (order_placed and login, valid, with 1% replayed IDs) are generated here with numpy — the
simulator is not used. Each figure is printed with a reference measured in the same process:

* lake: ``pyarrow.parquet.write_table`` of the same rows (zstd) — the cost of writing alone;
* JSON Lines: ``json.loads`` of every line — the cost of parsing alone;
* Redis: pipelined ``XADD`` of pre-encoded messages with redis-py — the cost of the round trips alone.

Run: ``.venv/bin/python bench/bench_ingest.py [--events N] [--redis-url URL]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

os.environ.setdefault("OMP_NUM_THREADS", "1")

from fengkong.clock import FixedClock
from fengkong.ingest.dedup import InMemorySeenEvents
from fengkong.ingest.schema import arrow_schema
from fengkong.ingest.transport import RedisStreamsTransport
from fengkong.ingest.wire import encode_event, events_from_table
from fengkong.services.ingest_events import ingest_file

START_US = int(datetime(2026, 3, 1, tzinfo=UTC).timestamp()) * 1_000_000
SPAN_US = 3 * 86_400 * 1_000_000  # three days: three business-date partitions
REPLAYED_SHARE = 0.01


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    return pa.array([f"{prefix}{n}" for n in numbers.tolist()], pa.string())


def synthetic_table(event_type: str, count: int, seed: int) -> pa.Table:
    """``count`` valid events of ``event_type`` (order_placed or login) in the lake schema."""
    rng = np.random.default_rng(seed)
    received_us = np.sort(START_US + rng.integers(0, SPAN_US, count))
    occurred_us = received_us - rng.integers(0, 5_000_000, count)
    numbers = np.arange(count)
    replayed = rng.random(count) < REPLAYED_SHARE
    numbers[replayed] = rng.integers(0, max(count // 2, 1), int(replayed.sum()))  # an earlier event again
    parties = rng.integers(0, max(count // 20, 1), count)
    columns: dict[str, pa.Array] = {
        "event_id": _ids(f"{event_type[:3]}-", numbers),
        "event_type": pa.array([event_type] * count, pa.string()),
        "occurred_at": pa.array(occurred_us, pa.timestamp("us", tz="UTC")),
        "received_at": pa.array(received_us, pa.timestamp("us", tz="UTC")),
        "source": pa.array(["bench"] * count, pa.string()),
    }
    devices = _ids("dev-", rng.integers(0, count, count))
    ips = pa.array([f"203.0.113.{n}" for n in rng.integers(1, 255, count).tolist()], pa.string())
    if event_type == "order_placed":
        columns |= {
            "consumer_id": _ids("P", parties),
            "merchant_id": _ids("B", rng.integers(0, 2_000, count)),
            "order_id": _ids("O", numbers),
            "amount_fen": pa.array(rng.integers(100, 50_000, count), pa.int64()),
            "category": pa.array(rng.choice(["food", "hotel", "shop"], count), pa.string()),
            "pay_method": pa.array(rng.choice(["wallet", "bnpl", "card"], count), pa.string()),
            "device_id": devices,
            "ip": ips,
        }
    else:
        columns |= {
            "party_id": _ids("P", parties),
            "device_id": devices,
            "ip": ips,
            "phone": pa.nulls(count, pa.string()),
            "method": pa.array(rng.choice(["password", "sms", "face", "token"], count), pa.string()),
        }
    schema = arrow_schema(event_type)
    return pa.table([columns[name] for name in schema.names], schema=schema)


def write_inputs(folder: Path, count: int) -> tuple[Path, Path, list[pa.Table]]:
    """A folder of Parquet files (one per type) and a JSON Lines file of the same events."""
    orders = synthetic_table("order_placed", count - count // 3, seed=1)
    logins = synthetic_table("login", count // 3, seed=2)
    parquet_dir = folder / "parquet"
    parquet_dir.mkdir()
    for table in (orders, logins):
        pq.write_table(table, parquet_dir / f"{table.column('event_type')[0].as_py()}.parquet")
    jsonl = folder / "events.jsonl"
    with open(jsonl, "wb") as sink:
        for event_type, table in (("order_placed", orders), ("login", logins)):
            for start in range(0, table.num_rows, 50_000):
                for event in events_from_table(event_type, table.slice(start, 50_000)):
                    sink.write(encode_event(event) + b"\n")
    return parquet_dir, jsonl, [orders, logins]


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def report_line(label: str, count: int, seconds: float, reference_seconds: float, reference: str) -> None:
    rate = count / seconds
    print(
        f"{label:<42} {rate:>12,.0f} events/s  ({seconds:6.2f} s)   {reference}: "
        f"{count / reference_seconds:>12,.0f} events/s   ratio {seconds / reference_seconds:5.1f}x",
        flush=True,
    )


def bench_lake(folder: Path, count: int) -> None:
    parquet_dir, jsonl, tables = write_inputs(folder, count)
    clock = FixedClock(datetime(2026, 3, 5, tzinfo=UTC))

    def raw_write() -> None:
        for index, table in enumerate(tables):
            pq.read_table(parquet_dir / f"{table.column('event_type')[0].as_py()}.parquet")
            pq.write_table(table, folder / f"raw-{index}.parquet", compression="zstd")

    reference = timed(raw_write)
    report: list[object] = []
    seconds = timed(
        lambda: report.append(ingest_file(parquet_dir, folder / "lake-p", None, InMemorySeenEvents(), clock))
    )
    print(f"parquet input: accepted {report[0].accepted:,}, duplicates {report[0].duplicates:,}")  # type: ignore[attr-defined]
    report_line("validate+dedup+lake, Parquet in", count, seconds, reference, "raw read+write_table")

    def parse_only() -> None:
        with open(jsonl, "rb") as source:
            for line in source:
                json.loads(line)

    parse_seconds = timed(parse_only)
    report.clear()
    seconds = timed(
        lambda: report.append(ingest_file(jsonl, folder / "lake-j", None, InMemorySeenEvents(), clock))
    )
    print(f"json input: accepted {report[0].accepted:,}, duplicates {report[0].duplicates:,}")  # type: ignore[attr-defined]
    report_line("validate+dedup+lake, JSON Lines in", count, seconds, parse_seconds, "json.loads only")
    report_line("  (same, against raw write_table)", count, seconds, reference, "raw read+write_table")


def bench_redis(url: str, count: int) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        print(f"Redis at {url} unreachable ({error}): Redis figures skipped")
        return
    prefix = f"fkbench:{uuid.uuid4().hex[:8]}:"
    table = synthetic_table("order_placed", count, seed=3)
    events = events_from_table("order_placed", table)
    messages = [encode_event(event) for event in events]
    try:

        def raw_xadd() -> None:
            pipeline = client.pipeline(transaction=False)
            for index, message in enumerate(messages):
                pipeline.xadd(
                    f"{prefix}raw:{index % 8}", {b"event": message}, maxlen=10_000_000, approximate=True
                )
                if index % 5_000 == 4_999:
                    pipeline.execute()
            pipeline.execute()

        reference = timed(raw_xadd)
        transport = RedisStreamsTransport(client, prefix=prefix)

        def publish() -> None:
            for start in range(0, len(events), 5_000):
                transport.publish(events[start : start + 5_000])

        seconds = timed(publish)
        report_line(
            "publish to Redis Streams (8 partitions)", count, seconds, reference, "raw pipelined XADD"
        )
    finally:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--redis-events", type=int, default=100_000)
    parser.add_argument(
        "--redis-url", default=os.environ.get("FENGKONG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    args = parser.parse_args(argv)
    print(
        f"ingest benchmark: {args.events:,} events ({REPLAYED_SHARE:.0%} replayed IDs), "
        f"Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="fengkong-bench-") as folder:
        bench_lake(Path(folder), args.events)
    bench_redis(args.redis_url, args.redis_events)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
