"""Benchmark the simulated ecosystem at small and large scale.

Prints, per scale: events generated, wall seconds, events/s, peak RSS, bytes written, and the ratio of
events/s to a reference run in the same process — numpy drawing the same number of rows of random columns
(two timestamps, two integers, three ID strings made by Arrow casts) and writing them with the same Parquet
options: the floor the engine sits on. Each scale runs in its own child process so that peak RSS is its own.

    .venv/bin/python bench/bench_sim.py    # small (180 days) and large (1M consumers, 30 days)
    .venv/bin/python bench/bench_sim.py --scales large --consumers 200000 --days 10
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

REFERENCE_ROWS_MAX = 20_000_000  # the reference writes at most this many rows (then extrapolates)


def _reference(rows: int, directory: Path) -> float:
    """Events/s of the floor: random columns drawn by numpy and written to Parquet with the same options."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from fengkong.sim.run import _WRITE_OPTIONS

    rng = np.random.default_rng(0)
    rows = min(rows, REFERENCE_ROWS_MAX)
    chunk = 1_000_000
    start = time.perf_counter()
    written = 0
    part = 0
    while written < rows:
        size = min(chunk, rows - written)

        def ids(prefix: str, high: int, size: int = size) -> pa.Array:
            digits = pc.cast(pa.array(rng.integers(0, high, size=size)), pa.string())
            return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")

        occurred = rng.integers(1_700_000_000_000_000, 1_800_000_000_000_000, size=size)
        table = pa.table(
            {
                "event_id": ids("evt-", 1 << 40),
                "occurred_at": pa.array(occurred).cast(pa.timestamp("us", tz="UTC")),
                "received_at": pa.array(occurred + rng.integers(0, 10_000_000, size=size)).cast(
                    pa.timestamp("us", tz="UTC")
                ),
                "party_id": ids("C", 1_000_000),
                "other_id": ids("M", 50_000),
                "amount_fen": pa.array(rng.integers(100, 100_000, size=size)),
                "count": pa.array(rng.integers(0, 100, size=size)),
            }
        )
        pq.write_table(table, directory / f"part-{part:05d}.parquet", **_WRITE_OPTIONS)  # type: ignore[arg-type]
        written += size
        part += 1
    return rows / (time.perf_counter() - start)


def _child(scale: str, consumers: int | None, days: int | None) -> dict[str, object]:
    from fengkong.sim.run import estimate_output, simulate
    from fengkong.sim.scenario import load_scenario, scenario_from_mapping

    if consumers is not None:
        factor = consumers / 1_000_000
        sizes = {
            "consumers": consumers,
            "riders": max(1, round(100_000 * factor)),
            "merchants": max(1, round(50_000 * factor)),
            "core_enterprises": max(1, round(1_000 * factor)),
        }
        scenario = scenario_from_mapping({"scales": {scale: sizes}}, scale=scale, days=days)
    else:
        scenario = load_scenario(scale=scale, days=days)
    estimated_events, estimated_bytes = estimate_output(scenario)
    print(
        f"[{scale}] {scenario.size.consumers:,} consumers, {scenario.days} days: "
        f"estimate {estimated_events:,} events, {estimated_bytes / 2**30:.2f} GiB on disk",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as temporary:
        out = Path(temporary) / "run"
        start = time.perf_counter()
        summary = simulate(scenario, out)
        seconds = time.perf_counter() - start
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        reference_dir = Path(temporary) / "reference"
        reference_dir.mkdir()
        reference = _reference(summary.events_total, reference_dir)
    return {
        "scale": scale,
        "consumers": scenario.size.consumers,
        "days": scenario.days,
        "events": summary.events_total,
        "seconds": seconds,
        "events_per_second": summary.events_total / seconds,
        "peak_rss_bytes": peak_rss,
        "bytes_written": summary.bytes_written,
        "estimated_bytes": estimated_bytes,
        "reference_events_per_second": reference,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="small,large", help="comma-separated: tiny, small, large")
    parser.add_argument("--consumers", type=int, default=None, help="override consumers (large only)")
    parser.add_argument("--days", type=int, default=None, help="override days")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        consumers = args.consumers if args.child == "large" else None
        print("RESULT " + json.dumps(_child(args.child, consumers, args.days)), flush=True)
        return 0
    rows = []
    for scale in args.scales.split(","):
        command = [sys.executable, __file__, "--child", scale]
        if args.consumers is not None:
            command += ["--consumers", str(args.consumers)]
        if args.days is not None:
            command += ["--days", str(args.days)]
        result = subprocess.run(command, check=True, capture_output=True, text=True)
        for line in result.stdout.splitlines():
            if line.startswith("RESULT "):
                rows.append(json.loads(line[len("RESULT ") :]))
            else:
                print(line)
    header = (
        f"{'scale':<6} {'consumers':>10} {'days':>5} {'events':>12} {'seconds':>8} {'events/s':>10} "
        f"{'peak RSS':>9} {'written':>10} {'ref ev/s':>10} {'ratio':>6}"
    )
    print(header)
    for row in rows:
        print(
            f"{row['scale']:<6} {row['consumers']:>10,} {row['days']:>5} {row['events']:>12,} "
            f"{row['seconds']:>8.1f} {row['events_per_second']:>10,.0f} "
            f"{row['peak_rss_bytes'] / 2**20:>7,.0f}Mi {row['bytes_written'] / 2**20:>8,.0f}Mi "
            f"{row['reference_events_per_second']:>10,.0f} "
            f"{row['events_per_second'] / row['reference_events_per_second']:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
