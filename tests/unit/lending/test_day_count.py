"""Day counts worked by hand: 30/360 bond basis, actual/365, actual/360, actual/actual split at year end."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from fengkong.domain.products import DayCount
from fengkong.errors import InputError
from fengkong.lending.day_count import (
    actual_days,
    days_30_360,
    days_in_year,
    is_leap_year,
    period_year_fraction,
    year_fraction,
)


@pytest.mark.parametrize(
    ("year", "leap"), [(2023, False), (2024, True), (1900, False), (2000, True), (2100, False)]
)
def test_leap_years(year: int, leap: bool) -> None:
    assert is_leap_year(year) is leap
    assert days_in_year(year) == (366 if leap else 365)


@pytest.mark.parametrize(
    ("start", "end", "days"),
    [
        (date(2024, 1, 1), date(2024, 2, 1), 30),
        (date(2024, 1, 15), date(2024, 3, 15), 60),
        (date(2024, 1, 31), date(2024, 3, 1), 31),  # start on the 31st counts as the 30th
        (date(2024, 1, 30), date(2024, 3, 31), 60),  # end on the 31st after a start on the 30th
        (date(2024, 1, 15), date(2024, 3, 31), 76),  # end on the 31st after a start before the 30th stays
        (date(2023, 12, 1), date(2024, 12, 1), 360),
        (date(2024, 1, 31), date(2024, 2, 29), 29),
    ],
)
def test_thirty_360_bond_basis(start: date, end: date, days: int) -> None:
    assert days_30_360(start, end) == days
    assert year_fraction(start, end, DayCount.THIRTY_360) == Fraction(days, 360)


def test_actual_conventions_count_calendar_days() -> None:
    start, end = date(2024, 2, 1), date(2024, 3, 1)
    assert actual_days(start, end) == 29
    assert year_fraction(start, end, DayCount.ACTUAL_365) == Fraction(29, 365)
    assert year_fraction(start, end, DayCount.ACTUAL_360) == Fraction(29, 360)
    assert year_fraction(start, end, DayCount.ACTUAL_ACTUAL) == Fraction(29, 366)


def test_actual_actual_splits_a_period_at_the_year_end() -> None:
    # 17 Dec 2023 → 17 Jan 2024: 15 days of 2023 over 365, 16 days of 2024 over 366
    assert year_fraction(date(2023, 12, 17), date(2024, 1, 17), DayCount.ACTUAL_ACTUAL) == Fraction(
        15, 365
    ) + Fraction(16, 366)
    # a whole leap year and a whole common year are each exactly one year
    assert year_fraction(date(2024, 1, 1), date(2025, 1, 1), DayCount.ACTUAL_ACTUAL) == 1
    assert year_fraction(date(2023, 1, 1), date(2024, 1, 1), DayCount.ACTUAL_ACTUAL) == 1
    # three calendar years: part of 2023, all of 2024, part of 2025
    assert year_fraction(date(2023, 7, 1), date(2025, 7, 1), DayCount.ACTUAL_ACTUAL) == Fraction(
        184, 365
    ) + 1 + Fraction(181, 365)


def test_actual_365_does_not_split() -> None:
    assert year_fraction(date(2023, 12, 17), date(2024, 1, 17), DayCount.ACTUAL_365) == Fraction(31, 365)


def test_empty_period_is_zero() -> None:
    for convention in DayCount:
        assert year_fraction(date(2024, 5, 5), date(2024, 5, 5), convention) == 0


def test_reversed_period_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        year_fraction(date(2024, 5, 5), date(2024, 5, 4), DayCount.ACTUAL_365)
    assert caught.value.field == "end"


def test_whole_month_periods_under_30_360_are_a_twelfth_each() -> None:
    # Fineract's 30-day months: 31 January → 29 February is one month, 1/12 of a year
    assert period_year_fraction(date(2024, 1, 31), date(2024, 2, 29), DayCount.THIRTY_360, 1) == Fraction(
        1, 12
    )
    assert period_year_fraction(date(2024, 1, 31), date(2024, 4, 30), DayCount.THIRTY_360, 3) == Fraction(
        1, 4
    )
    # the actual conventions still count the calendar
    assert period_year_fraction(date(2024, 1, 31), date(2024, 2, 29), DayCount.ACTUAL_365, 1) == Fraction(
        29, 365
    )


def test_negative_months_are_refused() -> None:
    with pytest.raises(InputError):
        period_year_fraction(date(2024, 1, 1), date(2024, 2, 1), DayCount.THIRTY_360, -1)
