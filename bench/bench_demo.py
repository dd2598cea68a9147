"""Benchmark the demo loop: ecosystem → ingestion → baseline policy → borrower response.

Prints wall seconds, seconds per stage, events per second through the whole loop, and — as the reference
measured in the same run — the ratio of the loop's events/s to the ingestion stage's own events/s (the floor
the loop sits on: every event is ingested once). Also prints the run's headline figures.

    .venv/bin/python bench/bench_demo.py            # the quick world
    .venv/bin/python bench/bench_demo.py --full     # the full demo (small scale, a year, about 2 minutes)

``ingest`` is the ingestion use case alone (validation, deduplication by event ID, the lake); ``observe`` is
the baseline policy folding the same tables into its book.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--full", action="store_true", help="the full demo instead of --quick")
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()

    from fengkong.services.demo import DemoConfig, run_demo

    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        result = run_demo(DemoConfig(out_dir=Path(directory), quick=not arguments.full, seed=arguments.seed))
        wall = time.perf_counter() - started
    summary = result.summary
    timings = summary["timings"]
    events = summary["simulation"]["events_total"]
    loop_rate = events / wall
    ingest_rate = events / timings["ingest"] if timings.get("ingest") else float("nan")
    print(f"mode                 {'full' if arguments.full else 'quick'} (seed {arguments.seed})")
    print(f"days                 {summary['simulation']['days']}")
    print(f"events               {events:,}")
    print(f"wall seconds         {wall:.1f}")
    for stage in ("simulate", "ingest", "observe", "decide", "respond", "scoreboard"):
        print(f"  {stage:<18} {timings.get(stage, 0.0):8.1f} s")
    print(f"loop events/s        {loop_rate:,.0f}")
    print(f"ingest events/s      {ingest_rate:,.0f}  (reference: the ingestion stage alone)")
    print(f"ratio loop/ingest    {loop_rate / ingest_rate:.2f}")
    decisions, book, evaluation = (
        summary["decisions"],
        summary["loan_book"],
        summary["ground_truth_evaluation"],
    )
    print(f"approval rate        {decisions.get('approval_rate')}")
    print(f"thin-file approval   {decisions.get('thin_file_approval_rate')}")
    print(
        f"30+ share of balance {book.get('share_30_plus_of_balance')} (non-fraud "
        f"{book.get('share_30_plus_of_balance_non_fraud')}; BNPL non-fraud "
        f"{book.get('by_product', {}).get('bnpl', {}).get('share_30_plus_of_balance_non_fraud')})"
    )
    print(
        f"first-payment default {book.get('first_payment_default_rate', {}).get('all')} (non-fraud "
        f"{book.get('first_payment_default_rate_non_fraud', {}).get('all')})"
    )
    print(
        f"realised bad rate    {book.get('realised_bad_rate')} "
        f"(non-fraud {book.get('realised_bad_rate_non_fraud')})"
    )
    for name in ("baseline_score_auc", "oracle_true_pd_auc"):
        print(f"{name:<20} {evaluation.get(name)} (non-fraud {evaluation.get(name + '_non_fraud')})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
