"""Day counts: how much of a year lies between two dates, exactly, as a :class:`~fractions.Fraction`.

Four conventions (:class:`~fengkong.domain.DayCount`):

* ``30/360`` — every month counts 30 days, the year 360. Between two dates we use the US (NASD) bond
  basis: a start on the 31st counts as the 30th, and an end on the 31st counts as the 30th when the start
  was the 30th or 31st. For a schedule's whole-month periods :func:`period_year_fraction` takes the month
  count itself (``months / 12``), which is Fineract's "days in month: 30, days in year: 360": each
  month's interest is balance × annual rate / 12 whatever the calendar says (31 January → 29 February is a
  month like any other).
* ``actual/365`` — actual days over 365, leap years included.
* ``actual/360`` — actual days over 360.
* ``actual/actual`` — a period crossing a year end is split at 31 December and each part is counted over
  its own year's length (365 or 366): 2023-12-17 → 2024-01-17 is 15/365 + 16/366 (ISDA actual/actual).

Fractions are exact: interest is ``balance × rate × fraction`` rounded once, to the fen, by the caller with
a named rounding mode (:func:`fengkong.lending.rounding.round_fraction`).
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import Final

from fengkong.domain.products import DayCount
from fengkong.errors import InputError

MONTHS_PER_YEAR: Final = 12
DAYS_PER_YEAR_360: Final = 360
DAYS_PER_YEAR_365: Final = 365
DAYS_PER_LEAP_YEAR: Final = 366


def is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_year(year: int) -> int:
    """366 in a leap year, else 365."""
    return DAYS_PER_LEAP_YEAR if is_leap_year(year) else DAYS_PER_YEAR_365


def actual_days(start: date, end: date) -> int:
    """Calendar days from ``start`` (inclusive) to ``end`` (exclusive)."""
    return (end - start).days


def days_30_360(start: date, end: date) -> int:
    """Days between two dates by the US (NASD) 30/360 bond basis."""
    start_day = min(start.day, 30)
    end_day = end.day
    if end_day == 31 and start_day == 30:
        end_day = 30
    return (
        (end.year - start.year) * DAYS_PER_YEAR_360 + (end.month - start.month) * 30 + (end_day - start_day)
    )


def _check_order(start: date, end: date) -> None:
    if end < start:
        raise InputError(f"period ends {end.isoformat()} before it starts {start.isoformat()}", field="end")


def _actual_actual(start: date, end: date) -> Fraction:
    fraction = Fraction(0)
    cursor = start
    while cursor < end:
        year_end = date(cursor.year + 1, 1, 1)
        part_end = min(year_end, end)
        fraction += Fraction(actual_days(cursor, part_end), days_in_year(cursor.year))
        cursor = part_end
    return fraction


def year_fraction(start: date, end: date, convention: DayCount) -> Fraction:
    """The exact share of a year from ``start`` to ``end`` under ``convention``."""
    _check_order(start, end)
    if convention is DayCount.THIRTY_360:
        return Fraction(days_30_360(start, end), DAYS_PER_YEAR_360)
    if convention is DayCount.ACTUAL_365:
        return Fraction(actual_days(start, end), DAYS_PER_YEAR_365)
    if convention is DayCount.ACTUAL_360:
        return Fraction(actual_days(start, end), DAYS_PER_YEAR_360)
    if convention is DayCount.ACTUAL_ACTUAL:
        return _actual_actual(start, end)
    raise InputError(f"unknown day count {convention!r}", field="day_count")


def period_year_fraction(start: date, end: date, convention: DayCount, months: int) -> Fraction:
    """The year fraction of one schedule period of ``months`` whole months from ``start`` to ``end``.

    Under 30/360 a whole-month period is ``months / 12`` of a year (see the module docstring); the actual
    conventions count the calendar days between the two due dates.
    """
    _check_order(start, end)
    if months < 0:
        raise InputError("must not be negative", field="months")
    if convention is DayCount.THIRTY_360:
        return Fraction(months, MONTHS_PER_YEAR)
    return year_fraction(start, end, convention)
