"""The Redis online feature backend: idempotent update throughput, decision-vector reads in one round trip,
freshness from the event streams — each with a raw Redis reference measured in the same run.

Figures, all in this process against the Redis at ``--redis`` (keys under a fresh prefix, deleted at the end),
on a simulated lake (``fengkong simulate``; the tiny scale by default, unless ``--lake`` names one):

* **update**: the events received in the last ``--days`` days of the lake, in receipt order, applied with
  :meth:`RedisFeatureEngine.apply_rows` in batches of ``--batch`` events (one Lua script call per batch:
  dedup check by event ID, ``ZADD LT``, trim and expiry for every (source, entity) set the event lands in).
  events/s over the whole replay, row building excluded. Then the same events again (every one a retry,
  refused by its dedup key): events/s. **Reference**: raw pipelined ``HINCRBY`` of the same (source,
  entity) keys, one per set an event lands in, in pipelines of the same batch size — the cheapest possible
  write of the same keys, with no idempotence, windows or ordering.
* **read**: a decision's vector — one consumer, its last merchant, the device, IP and phone of one of its
  logins (5 entities, every standard feature) — read at the end of the stream with
  :meth:`RedisFeatureEngine.read_many` (one pipelined round trip); p50/p99 per decision over ``--reads``
  decisions. **Reference**: one raw ``GET`` round trip, the floor of any read.
* **freshness**: a publisher thread writes login events stamped ``received_at = now`` to the Redis Streams
  (``--fresh-rate`` events/s for ``--fresh-seconds``), the main thread consumes them in its consumer group
  and applies them (:func:`feed_redis_features`, blocking reads of up to 500 events); freshness is wall time
  from ``received_at`` to the return of the update script (from then on every replica's read sees the
  event); p50/p99. Each event's visibility is then checked by reading its consumer's login count.

Run: ``.venv/bin/python bench/bench_features_redis.py [--redis URL] [--lake DIR] [--days D] [--batch B]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import redis

from fengkong.clock import SystemClock
from fengkong.domain.events import Event, Subject
from fengkong.features.online_redis import RedisFeatureEngine
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.ingest.transport import RedisStreamsTransport
from fengkong.services.features import feed_redis_features, read_lake_events
from fengkong.services.simulate import prepare, run_simulation


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def simulate_lake(folder: Path, scale: str) -> Path:
    began = time.perf_counter()
    world = prepare(None, scale=scale)
    run_simulation(world, folder, lambda done, total: None)
    print(f"simulated the {scale} lake in {time.perf_counter() - began:.1f} s", flush=True)
    return folder / "events"


def recent_rows(lake: Path, days: int) -> tuple[list[tuple[str, dict[str, object]]], datetime, dict]:
    event_types = sorted({t for spec in STANDARD_FEATURES for t in spec.event_types})
    tables = read_lake_events(lake, event_types, STANDARD_FEATURES)
    latest = max(pc.max(t.column("received_at")).as_py() for t in tables.values() if t.num_rows)
    since = latest - timedelta(days=days)
    rows: list[tuple[str, dict[str, object]]] = []
    recent: dict[str, pa.Table] = {}
    for event_type, table in tables.items():
        received = table.column("received_at")
        recent[event_type] = table.filter(pc.greater(received, pa.scalar(since, received.type)))
        rows.extend((event_type, row) for row in recent[event_type].to_pylist())
    rows.sort(key=lambda item: (item[1]["received_at"], item[1]["event_id"]))  # type: ignore[arg-type]
    return rows, latest, recent


def bench_updates(
    client: redis.Redis, engine: RedisFeatureEngine, rows: list[tuple[str, dict[str, object]]], batch: int
) -> None:
    began = time.perf_counter()
    applied = 0
    for start in range(0, len(rows), batch):
        applied += sum(engine.apply_rows(rows[start : start + batch]))
    elapsed = time.perf_counter() - began
    print(
        f"update: {len(rows):,} events in batches of {batch} ({applied:,} changed state): "
        f"{len(rows) / elapsed:,.0f} events/s ({elapsed:.1f} s)",
        flush=True,
    )
    began = time.perf_counter()
    again = 0
    for start in range(0, len(rows), batch):
        again += sum(engine.apply_rows(rows[start : start + batch]))
    elapsed = time.perf_counter() - began
    print(
        f"update, every event retried: {len(rows):,} events, {again} counted twice: "
        f"{len(rows) / elapsed:,.0f} events/s",
        flush=True,
    )
    # reference: the same (source, entity) keys, one HINCRBY per set an event lands in, same batch size
    targets: list[list[str]] = []
    for event_type, row in rows:
        keys = []
        for compiled in engine._by_type.get(event_type, ()):
            entity_id = row.get(compiled.source.entity_column)
            if entity_id is not None and all(test(row.get(c)) for c, test in compiled.predicates):
                keys.append(f"{engine.prefix}ref:{compiled.hash}:{entity_id}")
        targets.append(keys)
    began = time.perf_counter()
    for start in range(0, len(targets), batch):
        pipe = client.pipeline(transaction=False)
        for keys in targets[start : start + batch]:
            for key in keys:
                pipe.hincrby(key, "n", 1)
        pipe.execute()
    elapsed = time.perf_counter() - began
    writes = sum(len(keys) for keys in targets)
    print(
        f"reference, raw pipelined HINCRBY of the same keys ({writes:,} writes, "
        f"pipelines of {batch} events): "
        f"{len(rows) / elapsed:,.0f} events/s",
        flush=True,
    )


def bench_reads(
    client: redis.Redis, engine: RedisFeatureEngine, recent: dict[str, pa.Table], latest: datetime, reads: int
) -> None:
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
    timings: list[float] = []
    features = 0
    for login in decisions:
        consumer = str(login["party_id"])
        requests: list[tuple[str, str, None]] = [
            ("consumer", consumer, None),
            ("merchant", str(orders.get(consumer, "none")), None),
            ("device", str(login["device_id"]), None),
            ("ip", str(login["ip"]), None),
            ("phone", str(login.get("phone") or "none"), None),
        ]
        start = time.perf_counter_ns()
        vectors = engine.read_many(requests, latest)
        timings.append((time.perf_counter_ns() - start) / 1_000)
        features = sum(len(v.values) for v in vectors)
    print(
        f"read: {reads:,} decisions of 5 entities ({features} features each), one round trip each: "
        f"p50 {percentile(timings, 50):.0f} µs, p99 {percentile(timings, 99):.0f} µs",
        flush=True,
    )
    key = f"{engine.prefix}ref:get"
    client.set(key, "x")
    raw: list[float] = []
    for _ in range(reads):
        start = time.perf_counter_ns()
        client.get(key)
        raw.append((time.perf_counter_ns() - start) / 1_000)
    print(
        f"reference, raw GET round trip: p50 {percentile(raw, 50):.0f} µs, p99 {percentile(raw, 99):.0f} µs",
        flush=True,
    )


def bench_freshness(url: str, engine: RedisFeatureEngine, rate: int, seconds: float) -> None:
    clock = SystemClock()
    publisher_client = redis.Redis.from_url(url)
    transport = RedisStreamsTransport(engine.client, prefix=engine.prefix)
    publisher = RedisStreamsTransport(publisher_client, prefix=engine.prefix)
    transport.ensure_group()
    total = int(rate * seconds)
    burst = max(1, rate // 50)  # a burst every 20 ms

    def publish() -> None:
        sent = 0
        while sent < total:
            now = clock.now()
            events = [
                Event(
                    f"fresh-{sent + n}",
                    "login",
                    now,
                    now,
                    (Subject("party", f"FRESH-{(sent + n) % 200}"),),
                    {"device_id": f"FD-{(sent + n) % 50}", "ip": "192.0.2.9", "method": "sms"},
                    "bench",
                )
                for n in range(min(burst, total - sent))
            ]
            publisher.publish(events)
            sent += len(events)
            time.sleep(0.02)

    thread = threading.Thread(target=publish)
    thread.start()
    freshness: list[int] = []
    applied = 0
    deadline = time.monotonic() + seconds + 10
    while applied < total and time.monotonic() < deadline:
        report = feed_redis_features(engine, transport, "bench", clock, count=500, block_ms=100)
        freshness.extend(report.freshness_us)
        applied += report.applied
    thread.join()
    publisher_client.close()
    visible = sum(
        int(engine.read("consumer", f"FRESH-{p}", clock.now()).values["consumer_logins_24h"] or 0)
        for p in range(200)
    )
    print(
        f"freshness: {applied:,} of {total:,} login events at {rate:,}/s through the streams, "
        f"{visible:,} visible in reads afterwards: p50 {percentile(freshness, 50) / 1_000:.1f} ms, "
        f"p99 {percentile(freshness, 99) / 1_000:.1f} ms, max {max(freshness) / 1_000:.1f} ms",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default=os.environ.get("FENGKONG_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--lake", type=Path, default=None)
    parser.add_argument("--scale", default="tiny")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--reads", type=int, default=2_000)
    parser.add_argument("--fresh-rate", type=int, default=2_000)
    parser.add_argument("--fresh-seconds", type=float, default=10.0)
    args = parser.parse_args()
    client = redis.Redis.from_url(args.redis)
    prefix = f"fkbench:{uuid.uuid4().hex[:8]}:"
    try:
        with tempfile.TemporaryDirectory() as folder:
            lake = args.lake if args.lake is not None else simulate_lake(Path(folder), args.scale)
            rows, latest, recent = recent_rows(lake, args.days)
        engine = RedisFeatureEngine(client, STANDARD_FEATURES, prefix=prefix)
        print(f"lake: {len(rows):,} events received in the last {args.days} days (to {latest})", flush=True)
        bench_updates(client, engine, rows, args.batch)
        used = int(client.info("memory")["used_memory"])
        print(
            f"state: {engine.keys_in_keyspace():,} keys; Redis used_memory {used / 2**20:,.0f} MiB in all "
            f"(includes the reference keys and anything else in this Redis)",
            flush=True,
        )
        bench_reads(client, engine, recent, latest, args.reads)
        bench_freshness(args.redis, engine, args.fresh_rate, args.fresh_seconds)
    finally:
        deleted = 0
        for key in client.scan_iter(match=f"{prefix}*", count=1_000):
            deleted += int(client.delete(key))
        client.close()
        print(f"deleted {deleted:,} keys under {prefix}", flush=True)


if __name__ == "__main__":
    main()
