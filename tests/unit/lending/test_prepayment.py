"""Partial prepayment with recalculation: a hand-worked loan, both modes, and refusals naming the field."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from fengkong.domain.products import DayCount, ProductKind, ProductTerms, RepaymentMethod, Schedule
from fengkong.errors import InputError
from fengkong.lending.prepayment import PrepaymentMode, recalculate
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money

START = date(2026, 1, 15)


def terms(method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT, **changes: object) -> ProductTerms:
    values: dict[str, object] = {
        "product": ProductKind.INSTALLMENT,
        "annual_rate": Decimal("0.12"),
        "method": method,
        "day_count": DayCount.THIRTY_360,
        "installments": 12,
    }
    values.update(changes)
    return ProductTerms(**values)  # type: ignore[arg-type]


def schedule_of(loan_terms: ProductTerms, principal: int = 1_200_000) -> Schedule:
    return build_schedule(loan_terms, Money(principal), START, rounding="ROUND_HALF_EVEN")


# The hand-worked loan: 12,000 yuan at 12 % a year, 12 equal monthly installments, 30/360 (1 % a month).
# Installment 1,200,000 x 0.01 x 1.01^12 / (1.01^12 - 1) = 106,618.546... -> 106,619 fen.
# Balances after each month (interest = balance x 1 %, rounded half-even; principal = 106,619 - interest):
#   1: 12,000 / 94,619 -> 1,105,381   ...   6: 7,173 / 99,446 -> 617,902 (principal outstanding)
# The old months 7-12 charge 6,179 + 5,175 + 4,160 + 3,136 + 2,101 + 1,056 = 21,807 fen of interest.
# 3,000 yuan (300,000 fen) is prepaid on the 6th due date, 2026-07-15: 317,902 fen are left.


def test_reduce_installment_by_hand() -> None:
    loan = terms()
    schedule = schedule_of(loan)
    assert schedule.installments[5].balance_after == Money(617_902)
    result = recalculate(
        loan, schedule, 6, Money(300_000), date(2026, 7, 15), PrepaymentMode.REDUCE_INSTALLMENT,
        rounding="ROUND_HALF_EVEN",
    )  # fmt: skip
    # new installment 317,902 x 0.01 x 1.01^6 / (1.01^6 - 1) = 54,853.47... -> 54,853 fen, the same 6 months
    lines = result.schedule.installments
    assert [line.due for line in lines] == [line.due for line in schedule.installments[6:]]
    assert [line.interest.amount_minor for line in lines] == [3_179, 2_662, 2_140, 1_613, 1_081, 543]
    assert [line.principal.amount_minor for line in lines] == [51_674, 52_191, 52_713, 53_240, 53_772, 54_312]
    assert all(line.principal + line.interest == Money(54_853) for line in lines[:-1])
    assert result.schedule.principal == Money(317_902) == result.balance_before - result.prepaid
    assert result.interest_before == Money(21_807)
    assert result.interest_after == Money(11_218)
    assert result.interest_saved == Money(10_589)
    assert result.first_number == 7


def test_shorten_term_by_hand() -> None:
    loan = terms()
    result = recalculate(
        loan, schedule_of(loan), 6, Money(300_000), date(2026, 7, 15), PrepaymentMode.SHORTEN_TERM,
        rounding="ROUND_HALF_EVEN",
    )  # fmt: skip
    # the installment stays 106,619 fen: month 7: 3,179 interest, 103,440 principal -> 214,462;
    # month 8: 2,145 / 104,474 -> 109,988; month 9: 1,100 / 105,519 -> 4,469; month 10: 45 / 4,469 -> 0
    lines = result.schedule.installments
    assert [(line.interest.amount_minor, line.principal.amount_minor) for line in lines] == [
        (3_179, 103_440), (2_145, 104_474), (1_100, 105_519), (45, 4_469),
    ]  # fmt: skip
    assert [line.due for line in lines] == [date(2026, 8, 15), date(2026, 9, 15), date(2026, 10, 15),
                                            date(2026, 11, 15)]  # fmt: skip
    assert result.interest_after == Money(6_469)
    assert sum(line.principal.amount_minor for line in lines) == 317_902


def test_a_prepayment_inside_a_period_charges_the_old_balance_until_that_day() -> None:
    loan = terms()
    result = recalculate(
        loan, schedule_of(loan), 6, Money(300_000), date(2026, 8, 1), PrepaymentMode.REDUCE_INSTALLMENT,
        rounding="ROUND_HALF_EVEN",
    )  # fmt: skip
    # 15 July to 1 August is 16 days by 30/360; the rest of the month 14:
    # (617,902 x 16 + 317,902 x 14) / 360 x 12 % = 14,337,060 x 0.12 / 360 = 4,779.02 -> 4,779 fen
    assert result.schedule.installments[0].interest == Money(4_779)
    assert result.schedule.disbursed_on == date(2026, 7, 15)
    assert result.schedule.principal == Money(317_902)


def test_equal_principal_both_ways() -> None:
    loan = terms(RepaymentMethod.EQUAL_PRINCIPAL)
    schedule = schedule_of(loan)  # 100,000 fen of principal a month
    reduced = recalculate(loan, schedule, 6, Money(300_000), date(2026, 7, 15),
                          PrepaymentMode.REDUCE_INSTALLMENT, rounding="ROUND_HALF_EVEN")  # fmt: skip
    # 300,000 left over 6 months: 50,000 a month
    assert [line.principal.amount_minor for line in reduced.schedule.installments] == [50_000] * 6
    assert [line.interest.amount_minor for line in reduced.schedule.installments] == [
        3_000, 2_500, 2_000, 1_500, 1_000, 500,
    ]  # fmt: skip
    shortened = recalculate(loan, schedule, 6, Money(300_000), date(2026, 7, 15),
                            PrepaymentMode.SHORTEN_TERM, rounding="ROUND_HALF_EVEN")  # fmt: skip
    assert [line.principal.amount_minor for line in shortened.schedule.installments] == [100_000] * 3
    assert [line.interest.amount_minor for line in shortened.schedule.installments] == [3_000, 2_000, 1_000]


def test_interest_only_lowers_its_interest_and_cannot_shorten() -> None:
    loan = terms(RepaymentMethod.INTEREST_ONLY, installments=6)
    schedule = schedule_of(loan)
    result = recalculate(loan, schedule, 2, Money(200_000), date(2026, 3, 15),
                         PrepaymentMode.REDUCE_INSTALLMENT, rounding="ROUND_HALF_EVEN")  # fmt: skip
    assert [line.interest.amount_minor for line in result.schedule.installments] == [10_000] * 4
    assert [line.principal.amount_minor for line in result.schedule.installments] == [0, 0, 0, 1_000_000]
    with pytest.raises(InputError) as caught:
        recalculate(loan, schedule, 2, Money(200_000), date(2026, 3, 15), PrepaymentMode.SHORTEN_TERM,
                    rounding="ROUND_HALF_EVEN")  # fmt: skip
    assert caught.value.field == "mode"


def test_fees_of_dropped_installments_move_to_the_new_last_one() -> None:
    loan = terms()
    base = schedule_of(loan)
    with_fees = Schedule(base.principal, base.disbursed_on,
                         tuple(replace(line, fee=Money(500)) for line in base.installments))  # fmt: skip
    result = recalculate(loan, with_fees, 6, Money(300_000), date(2026, 7, 15), PrepaymentMode.SHORTEN_TERM,
                         rounding="ROUND_HALF_EVEN")  # fmt: skip
    fees = [line.fee.amount_minor for line in result.schedule.installments]
    assert fees == [500, 500, 500, 500 + 2 * 500]  # months 11 and 12 are gone; their fees are not
    assert sum(fees) == 6 * 500


@pytest.mark.parametrize(
    ("method", "paid", "amount", "on", "field"),
    [
        (RepaymentMethod.FLAT, 6, 300_000, date(2026, 7, 15), "method"),
        (RepaymentMethod.EQUAL_INSTALLMENT, 12, 1, date(2027, 1, 15), "paid_installments"),
        (RepaymentMethod.EQUAL_INSTALLMENT, 6, 617_902, date(2026, 7, 15), "prepayment"),
        (RepaymentMethod.EQUAL_INSTALLMENT, 6, 0, date(2026, 7, 15), "prepayment"),
        (RepaymentMethod.EQUAL_INSTALLMENT, 6, 300_000, date(2026, 8, 15), "on"),
        (RepaymentMethod.EQUAL_INSTALLMENT, 6, 300_000, date(2026, 7, 14), "on"),
    ],
)
def test_refusals_name_the_field(
    method: RepaymentMethod, paid: int, amount: int, on: date, field: str
) -> None:
    loan = terms(method)
    with pytest.raises(InputError) as caught:
        recalculate(loan, schedule_of(loan), paid, Money(amount), on, PrepaymentMode.REDUCE_INSTALLMENT,
                    rounding="ROUND_HALF_EVEN")  # fmt: skip
    assert caught.value.field == field
