"""Schedules worked by hand: each method, grace, interest-free periods, month ends, bad terms."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from fengkong.domain.products import DayCount, Frequency, ProductKind, ProductTerms, RepaymentMethod
from fengkong.errors import InputError
from fengkong.lending.schedule import add_months, build_schedule, due_dates, period_days
from fengkong.money import Money


def terms(method: RepaymentMethod, installments: int, rate: str = "0.12", **changes: object) -> ProductTerms:
    base = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=Decimal(rate),
        method=method,
        day_count=DayCount.THIRTY_360,
        installments=installments,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def lines(
    schedule_terms: ProductTerms, principal: str = "1200", start: date = date(2024, 1, 15), multiple: int = 1
):
    schedule = build_schedule(
        schedule_terms,
        Money.parse(principal),
        start,
        rounding="ROUND_HALF_EVEN",
        installment_multiple_minor=multiple,
    )
    return [(line.principal.amount_minor, line.interest.amount_minor) for line in schedule.installments]


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 1, 31), 2) == date(2024, 3, 31)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2024, 12, 15), 1) == date(2025, 1, 15)


def test_due_dates_count_from_disbursement_each_time() -> None:
    assert due_dates(date(2024, 1, 31), 3) == (date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30))


def test_interest_only_pays_interest_then_the_principal() -> None:
    # 1,200 at 12 %, 30/360: 12.00 a month, principal with the third
    assert lines(terms(RepaymentMethod.INTEREST_ONLY, 3)) == [(0, 1200), (0, 1200), (120000, 1200)]


def test_equal_installment_by_hand() -> None:
    # 1,200 at 12 % over 3 months: payment 1200 × 0.01 / (1 − 1.01⁻³) = 408.0265... → 408.03
    assert lines(terms(RepaymentMethod.EQUAL_INSTALLMENT, 3)) == [
        (39603, 1200),  # 408.03 − 12.00; balance 803.97
        (39999, 804),  # 803.97 × 1 % = 8.0397 → 8.04; balance 403.98
        (40398, 404),  # last: the balance 403.98, interest 4.0398 → 4.04
    ]


def test_equal_principal_by_hand() -> None:
    assert lines(terms(RepaymentMethod.EQUAL_PRINCIPAL, 3)) == [(40000, 1200), (40000, 800), (40000, 400)]


def test_flat_by_hand() -> None:
    # 1,200 at 12 % flat for 3 months: 36.00 of interest, 12.00 a month, 400.00 of principal a month
    assert lines(terms(RepaymentMethod.FLAT, 3)) == [(40000, 1200), (40000, 1200), (40000, 1200)]


def test_zero_rate_loans_repay_principal_only() -> None:
    assert lines(terms(RepaymentMethod.EQUAL_INSTALLMENT, 3, rate="0"), principal="100") == [
        (3333, 0),
        (3333, 0),
        (3334, 0),
    ]


def test_interest_free_periods_waive_interest() -> None:
    # the first two months free: no interest there and none rolled forward
    assert lines(terms(RepaymentMethod.INTEREST_ONLY, 3, interest_free_periods=2)) == [
        (0, 0),
        (0, 0),
        (120000, 1200),
    ]


def test_interest_grace_rolls_interest_forward() -> None:
    assert lines(terms(RepaymentMethod.INTEREST_ONLY, 3, interest_grace_periods=2)) == [
        (0, 0),
        (0, 0),
        (120000, 3600),
    ]


def test_interest_free_all_periods_is_a_zero_interest_loan() -> None:
    for method in (RepaymentMethod.EQUAL_PRINCIPAL, RepaymentMethod.FLAT, RepaymentMethod.EQUAL_INSTALLMENT):
        got = lines(terms(method, 3, interest_free_periods=3))
        assert [interest for _, interest in got] == [0, 0, 0]
        assert sum(principal for principal, _ in got) == 120000


def test_flat_interest_grace_spreads_the_interest_over_the_paying_periods() -> None:
    # 36.00 of interest over the 2 periods after a 1-period interest grace
    assert lines(terms(RepaymentMethod.FLAT, 3, interest_grace_periods=1)) == [
        (40000, 0),
        (40000, 1800),
        (40000, 1800),
    ]


def test_flat_interest_free_reduces_the_term_interest() -> None:
    assert lines(terms(RepaymentMethod.FLAT, 3, interest_free_periods=1)) == [
        (40000, 0),
        (40000, 1200),
        (40000, 1200),
    ]


def test_whole_unit_installments_leave_the_remainder_to_the_last() -> None:
    schedule = build_schedule(
        terms(RepaymentMethod.EQUAL_INSTALLMENT, 3),
        Money.parse("1200"),
        date(2024, 1, 15),
        rounding="ROUND_HALF_EVEN",
        installment_multiple_minor=100,
    )
    totals = [line.total.amount_minor for line in schedule.installments]
    assert totals[:-1] == [40800, 40800]  # 408.03 → 408
    assert schedule.installments[-1].balance_after.amount_minor == 0


def test_actual_actual_schedule_across_a_year_end() -> None:
    schedule_terms = replace(terms(RepaymentMethod.INTEREST_ONLY, 2), day_count=DayCount.ACTUAL_ACTUAL)
    schedule = build_schedule(
        schedule_terms, Money.parse("10000"), date(2023, 12, 17), rounding="ROUND_HALF_EVEN"
    )
    # period 1: 10,000 × 12 % × (15/365 + 16/366) = 49.315... + 52.459... = 101.77
    # period 2 (17 Jan → 17 Feb 2024, 31 days of a leap year): 10,000 × 12 % × 31/366 = 101.64
    assert [line.interest.amount_minor for line in schedule.installments] == [10177, 10164]
    assert period_days(schedule) == (31, 31)


def test_actual_360_and_365_differ_by_the_year_length() -> None:
    base = terms(RepaymentMethod.INTEREST_ONLY, 1)
    start = date(2024, 1, 1)  # 31 days
    for day_count, interest in ((DayCount.ACTUAL_365, 10192), (DayCount.ACTUAL_360, 10333)):
        schedule = build_schedule(
            replace(base, day_count=day_count), Money.parse("10000"), start, rounding="ROUND_HALF_EVEN"
        )
        assert schedule.installments[0].interest.amount_minor == interest


def test_rounding_mode_is_honoured() -> None:
    # a flat three-month loan of 1,250.00 at 12 %: interest 12.50 a month, which rounds to a whole 12
    # (half-even) or 13 (half-up) when the installment is rounded to whole units
    half_even = build_schedule(
        terms(RepaymentMethod.FLAT, 3),
        Money.parse("1250"),
        date(2023, 1, 1),
        rounding="ROUND_HALF_EVEN",
        installment_multiple_minor=100,
    )
    half_up = build_schedule(
        terms(RepaymentMethod.FLAT, 3),
        Money.parse("1250"),
        date(2023, 1, 1),
        rounding="ROUND_HALF_UP",
        installment_multiple_minor=100,
    )
    assert half_even.installments[0].total.amount_minor == 42900
    assert half_up.installments[0].total.amount_minor == 43000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"method": RepaymentMethod.REVOLVING}, "method"),
        ({"method": RepaymentMethod.REVENUE_SHARE}, "method"),
        ({"frequency": Frequency.WEEKLY}, "frequency"),
        ({"installments": 601}, "installments"),
        ({"annual_rate": Decimal("101")}, "annual_rate"),
        ({"currency": "USD"}, "principal"),
    ],
)
def test_bad_terms_are_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        build_schedule(
            replace(terms(RepaymentMethod.EQUAL_INSTALLMENT, 12), **change),  # type: ignore[arg-type]
            Money.parse("1000"),
            date(2024, 1, 1),
            rounding="ROUND_HALF_EVEN",
        )
    assert caught.value.field == field


@pytest.mark.parametrize("principal", ["0", "-1"])
def test_principal_must_be_positive(principal: str) -> None:
    with pytest.raises(InputError) as caught:
        build_schedule(
            terms(RepaymentMethod.EQUAL_INSTALLMENT, 12),
            Money.parse(principal),
            date(2024, 1, 1),
            rounding="ROUND_HALF_EVEN",
        )
    assert caught.value.field == "principal"


@pytest.mark.parametrize("method", [RepaymentMethod.EQUAL_PRINCIPAL, RepaymentMethod.INTEREST_ONLY])
def test_whole_unit_rounding_needs_a_fixed_installment(method: RepaymentMethod) -> None:
    with pytest.raises(InputError) as caught:
        build_schedule(
            terms(method, 12),
            Money.parse("1000"),
            date(2024, 1, 1),
            rounding="ROUND_HALF_EVEN",
            installment_multiple_minor=100,
        )
    assert caught.value.field == "installment_multiple_minor"


@pytest.mark.parametrize("multiple", [0, -100, True])
def test_installment_multiple_must_be_a_positive_whole_number(multiple: int) -> None:
    with pytest.raises(InputError):
        build_schedule(
            terms(RepaymentMethod.FLAT, 12),
            Money.parse("1000"),
            date(2024, 1, 1),
            rounding="ROUND_HALF_EVEN",
            installment_multiple_minor=multiple,
        )


def test_unknown_rounding_mode_is_refused() -> None:
    with pytest.raises(InputError):
        build_schedule(
            terms(RepaymentMethod.FLAT, 12),
            Money.parse("1000"),
            date(2024, 1, 1),
            rounding="ROUND_WHATEVER",  # type: ignore[arg-type]
        )
