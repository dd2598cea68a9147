"""Annualised-rate throughput: rates per second for a 12-installment schedule, with a reference in the run.

Figures, each measured in this process on the same flows (10,000 yuan, 1 % a month, 888.49 × 12, a 100-yuan
upfront fee as its own flow):

* ``periodic_rate`` (Decimal, 40 digits, bracketed Newton) — the method used for regular schedules;
* ``dated_rate`` (actual/365) on the same flows dated monthly from 2026-01-15;
* reference: ``numpy_financial.irr`` (float64, polynomial roots) on the same amounts, and the ratio;
* a price grid of 1,000 points built once, then lookups per second (what a decision pays).

numpy-financial is a dev dependency; without it the reference line says so. The agreement of the two IRRs
is printed too (they must agree to 1e-9 a period).

Run: ``.venv/bin/python bench/bench_apr.py [--seconds S]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import date

os.environ.setdefault("OMP_NUM_THREADS", "1")

from fengkong.compliance.apr import PeriodFlow, add_months, dated_rate, periodic_rate
from fengkong.compliance.grid import PriceGrid, PricePoint
from fengkong.domain.products import CashFlow, Fee
from fengkong.money import Money

START = date(2026, 1, 15)


def per_second(work: Callable[[], object], seconds: float) -> tuple[float, int]:
    """Calls per second of ``work`` over at least ``seconds`` (after one warm-up call)."""
    work()
    calls = 0
    began = time.perf_counter()
    elapsed = 0.0
    while elapsed < seconds:
        for _ in range(20):
            work()
        calls += 20
        elapsed = time.perf_counter() - began
    return calls / elapsed, calls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per figure")
    seconds = parser.parse_args().seconds

    period_flows = [PeriodFlow(0, Money(-1_000_000)), PeriodFlow(0, Money(10_000))] + [
        PeriodFlow(month, Money(88_849)) for month in range(1, 13)
    ]
    dated_flows = [CashFlow(START, Money(-1_000_000)), CashFlow(START, Money(10_000))] + [
        CashFlow(add_months(START, month), Money(88_849)) for month in range(1, 13)
    ]
    amounts = [-9_900.0] + [888.49] * 12

    periodic_per_second, periodic_calls = per_second(lambda: periodic_rate(period_flows), seconds)
    dated_per_second, dated_calls = per_second(lambda: dated_rate(dated_flows), seconds)
    rate = periodic_rate(period_flows)
    print(f"periodic_rate, 12 installments: {periodic_per_second:,.0f} rates/s ({periodic_calls:,} calls)")
    print(f"dated_rate (actual/365), same flows: {dated_per_second:,.0f} rates/s ({dated_calls:,} calls)")
    print(f"annual rate {rate.annual_rate_pct:.6f} %, effective {rate.effective_annual_rate_pct:.6f} %")

    try:
        import numpy_financial as npf
    except ImportError:
        print("reference numpy_financial.irr: not installed (pip install -e '.[dev]')")
    else:
        reference_per_second, reference_calls = per_second(lambda: npf.irr(amounts), seconds)
        difference = abs(float(rate.periodic_irr or 0) - float(npf.irr(amounts)))
        print(
            f"reference numpy_financial.irr (float64): {reference_per_second:,.0f} rates/s "
            f"({reference_calls:,} calls)"
        )
        print(f"ratio periodic_rate / numpy_financial.irr: {periodic_per_second / reference_per_second:.3f}")
        print(f"agreement: |Decimal IRR - numpy IRR| = {difference:.2e} a period")

    points = [
        PricePoint(
            f"band-{index:04d}",
            tuple(
                [CashFlow(START, Money(-1_000_000))]
                + [CashFlow(add_months(START, month), Money(85_000 + index * 10)) for month in range(1, 13)]
            ),
            (Fee("service", Money(100 + index), START),),
        )
        for index in range(1_000)
    ]
    began = time.perf_counter()
    grid = PriceGrid.build(points)
    build_seconds = time.perf_counter() - began
    lookups_per_second, _ = per_second(lambda: grid.rate("band-0500"), seconds / 4)
    print(f"price grid: 1,000 points built in {build_seconds:.2f} s; lookups {lookups_per_second:,.0f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
