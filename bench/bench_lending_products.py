"""Joint-lending splits, partial prepayments and revenue-share pricing: how fast the pure rules run, each next
to a reference measured in the same run.

* joint split — :func:`fengkong.lending.joint.split_schedule` of ``--loans`` 12-month schedules among the
  lender and two partner banks (every installment's principal, interest and fee split to the fen by
  largest remainder). Reference: :func:`fengkong.lending.schedule.build_schedule` of the same schedules.
* prepayment — :func:`fengkong.lending.prepayment.recalculate` of the same loans after 6 installments
  (reduce-installment and shorten-term). Reference: building the schedule, as above.
* revenue share — :func:`fengkong.lending.merchant.price_revenue_share` (the day-by-day run and the dated
  IRR against the cap) of ``--merchants`` loans on 180 days of expected sales. Reference:
  :func:`fengkong.lending.products.convert_bill` (a 12-month bill conversion, its IRR and cap check).

Every result is checked (splits add up, the new principal is the balance left, the revenue-share loan is
repaid) before the figures are printed. Times are CPU seconds of the process (the machine is shared).

Run: ``.venv/bin/python bench/bench_lending_products.py [--loans N] [--merchants N]``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import TypeVar

os.environ.setdefault("OMP_NUM_THREADS", "1")

from fengkong.compliance.caps import default_cap_policy
from fengkong.domain.products import DayCount, ProductKind, ProductTerms, RepaymentMethod, Schedule
from fengkong.lending.joint import JointFunding, PartnerShare, split_schedule
from fengkong.lending.merchant import RevenueSharePriced, RevenueShareTerms, price_revenue_share
from fengkong.lending.prepayment import PrepaymentMode, recalculate
from fengkong.lending.products import BillConversion, convert_bill
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money

T = TypeVar("T")
START = date(2026, 1, 15)
RATE = Decimal("0.18")
TERMS = ProductTerms(ProductKind.INSTALLMENT, RATE, RepaymentMethod.EQUAL_INSTALLMENT, DayCount.ACTUAL_365,
                     installments=12)  # fmt: skip
FUNDING = JointFunding(
    "LENDER", 3_000,
    (PartnerShare("BANK-A", 5_000, Decimal("0.06")), PartnerShare("BANK-B", 2_000, Decimal("0.08"))),
)  # fmt: skip


def timed(work: Callable[[], T]) -> tuple[T, float]:
    """The result and the CPU seconds of this process it took (wall time on a shared machine varies with the
    load; both figures are printed by :func:`line` from the CPU time)."""
    began = time.process_time()
    result = work()
    return result, time.process_time() - began


def line(name: str, count: int, seconds: float, reference: float, unit: str) -> None:
    print(
        f"{name:<34} {count:>8,} {unit} in {seconds:7.3f} s CPU = {count / seconds:>10,.0f}/s"
        f"   reference {reference:7.3f} s CPU   ratio {seconds / reference:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--merchants", type=int, default=200)
    arguments = parser.parse_args()
    principals = [100_000 + 7_919 * number for number in range(arguments.loans)]

    def build() -> list[Schedule]:
        return [build_schedule(TERMS, Money(p), START, rounding="ROUND_HALF_EVEN") for p in principals]

    schedules, build_seconds = timed(build)
    splits, split_seconds = timed(lambda: [split_schedule(FUNDING, schedule, RATE) for schedule in schedules])
    for schedule, split in zip(schedules, splits, strict=True):
        if sum(split.disbursed) != schedule.principal.amount_minor or any(
            sum(part.principal + part.interest for part in joint.parts)
            != (item.principal + item.interest).amount_minor
            for joint, item in zip(split.installments, schedule.installments, strict=True)
        ):
            raise SystemExit("a joint split does not add up")
    line("joint split (3 funders, 12 months)", arguments.loans, split_seconds, build_seconds, "loans")

    def prepay(mode: PrepaymentMode) -> list[int]:
        left = []
        for schedule in schedules:
            balance = schedule.installments[5].balance_after.amount_minor
            result = recalculate(TERMS, schedule, 6, Money(balance // 3), schedule.installments[5].due, mode,
                                 rounding="ROUND_HALF_EVEN")  # fmt: skip
            if result.schedule.principal.amount_minor != balance - balance // 3:
                raise SystemExit("a prepayment lost principal")
            left.append(len(result.schedule.installments))
        return left

    for mode in PrepaymentMode:
        _, seconds = timed(lambda mode=mode: prepay(mode))
        line(f"prepayment ({mode.value})", arguments.loans, seconds, build_seconds, "loans")

    policy = default_cap_policy()
    merchants = [
        RevenueShareTerms(Money(1_000_000 + 1_000 * n), Money(1_030_000 + 1_000 * n), 1_000, Money(100_000))
        for n in range(arguments.merchants)
    ]
    sales = [80_000 + (day % 7) * 5_000 for day in range(180)]
    priced, price_seconds = timed(
        lambda: [price_revenue_share(terms, START, sales, policy) for terms in merchants]
    )
    if not all(isinstance(item, RevenueSharePriced) and item.run.remaining == 0 for item in priced):
        raise SystemExit("a revenue-share loan was not priced or not repaid")

    def convert() -> list[object]:
        due = START + timedelta(days=7)
        return [convert_bill(terms.principal, due, 12, Decimal("0.006"), policy) for terms in merchants]

    conversions, convert_seconds = timed(convert)
    if not all(isinstance(item, BillConversion) for item in conversions):
        raise SystemExit("a bill conversion was refused")
    line("revenue share priced (180 days)", arguments.merchants, price_seconds, convert_seconds, "loans")
    print(
        f"(references: {arguments.loans:,} schedules built; "
        f"{arguments.merchants:,} 12-month bill conversions)"
    )


if __name__ == "__main__":
    main()
