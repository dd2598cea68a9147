"""Repayment schedules of installment loans, exact to the fen, by Apache Fineract's conventions.

:func:`build_schedule` turns :class:`~fengkong.domain.ProductTerms`, a principal and a disbursement date into
a :class:`~fengkong.domain.Schedule`. Everything is computed in exact fractions and rounded once per figure
with the rounding mode the caller names (Fineract's default is half-even).

Due dates. Installment *k* falls due *k* months after disbursement, counted from the disbursement date each
time and clamped to the month's end (disbursed 31 December: 31 January, 28 February, 31 March, ...).

Interest of a period (declining-balance methods) is ``balance × annual rate × year fraction`` rounded to the
fen, the year fraction coming from the day count (:func:`~fengkong.lending.day_count.period_year_fraction`:
under 30/360 a month is 1/12 of a year; under the actual conventions the period's calendar days count).

Methods (:class:`~fengkong.domain.RepaymentMethod`):

* ``equal-installment`` (等额本息): the installment is the annuity on the nominal periodic rate (annual / 12
  for monthly payments) over the periods that repay principal, rounded to the installment multiple; each
  period's principal is the installment less that period's interest. Under an actual day count the
  installment is still computed from annual / 12 and the interest follows the calendar, so the last
  installment differs a little (Fineract's cumulative schedules do the same).
* ``equal-principal`` (等额本金): principal ÷ periods that repay principal, rounded to the fen, each period;
  interest on the declining balance.
* ``interest-only`` (先息后本, bullet): interest each period, all principal with the last installment.
* ``flat``: interest on the original principal for the whole term, ``principal × rate × term fraction``,
  spread evenly over the periods that pay interest; principal in equal parts.

No negative amortisation: a period whose interest exceeds the equal installment (possible under an actual
day count when the installment is almost all interest — long terms at high rates, or rolled-forward interest
after an interest grace) pays its interest in full and no principal, so such a loan repays sooner than the
annuity would and its last installments can be zero.

The last installment absorbs whatever rounding left: its principal is the balance still outstanding (and, for
flat loans, its interest is what remains of the term's interest).

Grace (periods counted from the first installment):

* principal grace *g*: no principal in periods 1..g; the equal installment is computed over the remaining
  ``n - g`` periods on the full principal;
* interest grace *g*: interest accrues but is not due in periods 1..g; for declining-balance methods it is
  rolled forward and falls due with the first period after the grace; for flat loans the term's interest is
  spread over the periods after the grace (Fineract: "averaging out grace periods");
* interest-free periods *g*: no interest accrues in periods 1..g — it is waived, never rolled forward.

Installment multiple (``installment_multiple_minor``): 1 rounds installments to the fen, 100 to whole yuan.
It applies to the one fixed installment of ``equal-installment`` and ``flat`` loans (for flat loans principal
and interest are each rounded to the multiple and the principal takes the difference, as Fineract does, so
that the installment is a whole multiple); the other methods have no single installment to round, so a
multiple other than 1 is refused for them.

Where fengkong differs from Fineract: Fineract's *progressive* schedules recompute the equal installment from
each period's own day-count rate and re-amortise after every repayment (interest recalculation);
fengkong's schedule is fixed at origination like Fineract's *cumulative* schedules (the two agree under
30/360). Fineract's "principal threshold for the last installment" (merging a tiny last installment into the
one before) is not applied: the last installment simply absorbs the remainder.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Final

from fengkong import bounds
from fengkong.domain.products import (
    DayCount,
    Frequency,
    Installment,
    ProductTerms,
    RepaymentMethod,
    Schedule,
)
from fengkong.errors import InputError, InvariantError
from fengkong.lending.day_count import MONTHS_PER_YEAR, period_year_fraction, year_fraction
from fengkong.lending.rounding import round_fraction, round_to_multiple
from fengkong.money import Money, Rounding

SCHEDULED_METHODS: Final = frozenset(
    {
        RepaymentMethod.EQUAL_INSTALLMENT,
        RepaymentMethod.EQUAL_PRINCIPAL,
        RepaymentMethod.INTEREST_ONLY,
        RepaymentMethod.FLAT,
    }
)
FIXED_INSTALLMENT_METHODS: Final = frozenset({RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.FLAT})
MONTHS_PER_PERIOD: Final = {Frequency.MONTHLY: 1}


def add_months(start: date, months: int) -> date:
    """``start`` moved by ``months`` calendar months, clamped to the last day of the target month."""
    month_index = start.month - 1 + months
    year = start.year + month_index // MONTHS_PER_YEAR
    month = month_index % MONTHS_PER_YEAR + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def due_dates(
    disbursed_on: date, installments: int, frequency: Frequency = Frequency.MONTHLY
) -> tuple[date, ...]:
    """The due date of every installment: ``k`` periods after ``disbursed_on``, counted from it each time."""
    months = _months_per_period(frequency)
    return tuple(add_months(disbursed_on, months * number) for number in range(1, installments + 1))


def period_days(schedule: Schedule) -> tuple[int, ...]:
    """Calendar days of each period of ``schedule`` (from the previous due date, or disbursement)."""
    previous = schedule.disbursed_on
    days: list[int] = []
    for line in schedule.installments:
        days.append((line.due - previous).days)
        previous = line.due
    return tuple(days)


def _months_per_period(frequency: Frequency) -> int:
    try:
        return MONTHS_PER_PERIOD[frequency]
    except KeyError:
        raise InputError(
            f"{frequency.value!r} schedules are not supported; installment loans are paid monthly",
            field="frequency",
        ) from None


@dataclass(frozen=True, slots=True)
class _Period:
    number: int
    start: date
    due: date
    year_fraction: Fraction


def _validate(terms: ProductTerms, principal: Money, installment_multiple_minor: int) -> None:
    if terms.method not in SCHEDULED_METHODS:
        raise InputError(
            f"{terms.method.value!r} has no fixed schedule; use one of "
            f"{sorted(method.value for method in SCHEDULED_METHODS)}",
            field="method",
        )
    if principal.currency != terms.currency:
        raise InputError(
            f"principal is in {principal.currency}, the product in {terms.currency}", field="principal"
        )
    if principal.amount_minor <= 0:
        raise InputError("must be more than zero", field="principal")
    if principal.amount_minor > bounds.cash_flow_amount_fen_max:
        raise InputError(
            f"more than cash_flow_amount_fen_max={bounds.cash_flow_amount_fen_max} minor units",
            field="principal",
        )
    if terms.installments > bounds.schedule_installments_max:
        raise InputError(
            f"{terms.installments} installments; "
            f"at most schedule_installments_max={bounds.schedule_installments_max}",
            field="installments",
        )
    if terms.annual_rate * 100 > bounds.annualised_rate_pct_max:
        raise InputError(
            f"{terms.annual_rate * 100} % a year is above "
            f"annualised_rate_pct_max={bounds.annualised_rate_pct_max}",
            field="annual_rate",
        )
    if terms.interest_free_periods > terms.installments:
        raise InputError("cannot exceed the number of installments", field="interest_free_periods")
    if isinstance(installment_multiple_minor, bool) or not isinstance(installment_multiple_minor, int):
        raise InputError("must be a whole number of minor units", field="installment_multiple_minor")
    if installment_multiple_minor < 1:
        raise InputError("must be at least 1 minor unit", field="installment_multiple_minor")
    if installment_multiple_minor > 1 and terms.method not in FIXED_INSTALLMENT_METHODS:
        raise InputError(
            f"rounding installments to a multiple applies to equal-installment and flat loans (one fixed "
            f"installment); {terms.method.value} installments vary from period to period",
            field="installment_multiple_minor",
        )


def build_schedule(
    terms: ProductTerms,
    principal: Money,
    disbursed_on: date,
    *,
    rounding: Rounding,
    installment_multiple_minor: int = 1,
) -> Schedule:
    """The repayment schedule of ``principal`` disbursed on ``disbursed_on`` under ``terms``.

    ``rounding`` names the mode for every rounding (interest to the fen, the installment to its multiple);
    ``installment_multiple_minor`` is the multiple (1: the fen; 100: whole yuan). Bad terms raise
    :class:`~fengkong.errors.InputError` naming the field.
    """
    _validate(terms, principal, installment_multiple_minor)
    months = _months_per_period(terms.frequency)
    dues = due_dates(disbursed_on, terms.installments, terms.frequency)
    starts = (disbursed_on, *dues[:-1])
    periods = [
        _Period(number, start, due, period_year_fraction(start, due, terms.day_count, months))
        for number, (start, due) in enumerate(zip(starts, dues, strict=True), start=1)
    ]
    if terms.method is RepaymentMethod.FLAT:
        parts = _flat(terms, principal.amount_minor, periods, rounding, installment_multiple_minor)
    else:
        parts = _declining(terms, principal.amount_minor, periods, rounding, installment_multiple_minor)
    return _assemble(principal, disbursed_on, periods, parts)


def _annuity(principal_minor: int, periodic_rate: Fraction, periods: int) -> Fraction:
    """The exact equal payment that repays ``principal_minor`` over ``periods`` at ``periodic_rate``."""
    if periodic_rate == 0:
        return Fraction(principal_minor, periods)
    growth = (1 + periodic_rate) ** periods
    return principal_minor * periodic_rate * growth / (growth - 1)


def _declining(
    terms: ProductTerms,
    principal_minor: int,
    periods: list[_Period],
    rounding: Rounding,
    multiple: int,
) -> list[tuple[int, int]]:
    """(principal, interest) per period for the declining-balance methods."""
    count = len(periods)
    rate = Fraction(terms.annual_rate)
    repaying = count - terms.principal_grace_periods
    months = _months_per_period(terms.frequency)
    installment = 0
    equal_principal = 0
    if terms.method is RepaymentMethod.EQUAL_INSTALLMENT:
        periodic_rate = rate * months / MONTHS_PER_YEAR
        installment = round_to_multiple(
            _annuity(principal_minor, periodic_rate, repaying), multiple, rounding
        )
    elif terms.method is RepaymentMethod.EQUAL_PRINCIPAL:
        equal_principal = round_fraction(Fraction(principal_minor, repaying), rounding)
    balance = principal_minor
    carried_interest = 0
    parts: list[tuple[int, int]] = []
    for period in periods:
        accrued = round_fraction(balance * rate * period.year_fraction, rounding)
        charged = 0 if period.number <= terms.interest_free_periods else accrued
        if period.number <= terms.interest_grace_periods:
            carried_interest += charged
            interest = 0
        else:
            interest = carried_interest + charged
            carried_interest = 0
        if period.number == count:
            principal_part = balance
        elif period.number <= terms.principal_grace_periods:
            principal_part = 0
        elif terms.method is RepaymentMethod.EQUAL_INSTALLMENT:
            principal_part = min(max(installment - interest, 0), balance)
        elif terms.method is RepaymentMethod.EQUAL_PRINCIPAL:
            principal_part = min(equal_principal, balance)
        else:  # interest-only: all principal with the last installment
            principal_part = 0
        balance -= principal_part
        parts.append((principal_part, interest))
    if carried_interest != 0:
        raise InvariantError("interest grace outlasted the schedule: rolled-forward interest never fell due")
    return parts


def _flat(
    terms: ProductTerms,
    principal_minor: int,
    periods: list[_Period],
    rounding: Rounding,
    multiple: int,
) -> list[tuple[int, int]]:
    """(principal, interest) per period for flat-rate loans."""
    count = len(periods)
    rate = Fraction(terms.annual_rate)
    months = _months_per_period(terms.frequency)
    if terms.day_count is DayCount.THIRTY_360:
        term_fraction = Fraction(months * count, MONTHS_PER_YEAR)
    else:
        term_fraction = year_fraction(periods[0].start, periods[-1].due, terms.day_count)
    term_interest = round_fraction(principal_minor * rate * term_fraction, rounding)
    interest_per_period = round_fraction(Fraction(term_interest, count), rounding)
    free = terms.interest_free_periods
    interest_due = term_interest - interest_per_period * free if free < count else 0
    interest_due = max(interest_due, 0)
    first_paying = max(terms.interest_grace_periods, free) + 1
    paying = count - first_paying + 1
    interest_each = round_fraction(Fraction(interest_due, paying), rounding) if paying > 0 else 0
    repaying = count - terms.principal_grace_periods
    principal_each = round_fraction(Fraction(principal_minor, repaying), rounding)
    balance = principal_minor
    interest_left = interest_due
    parts: list[tuple[int, int]] = []
    for period in periods:
        if period.number < first_paying:
            interest = 0
        elif period.number == count:
            interest = interest_left
        else:
            interest = min(interest_each, interest_left)
        interest_left -= interest
        if period.number == count:
            principal_part = balance
        elif period.number <= terms.principal_grace_periods:
            principal_part = 0
        else:
            principal_part = principal_each
            if multiple > 1:
                principal_part = (
                    round_to_multiple(principal_each, multiple, rounding)
                    + round_to_multiple(interest, multiple, rounding)
                    - interest
                )
            principal_part = min(max(principal_part, 0), balance)
        balance -= principal_part
        parts.append((principal_part, interest))
    return parts


def _assemble(
    principal: Money, disbursed_on: date, periods: list[_Period], parts: list[tuple[int, int]]
) -> Schedule:
    currency = principal.currency
    balance = principal.amount_minor
    lines: list[Installment] = []
    for period, (principal_part, interest) in zip(periods, parts, strict=True):
        if principal_part < 0 or interest < 0:
            raise InvariantError(
                f"negative amount in installment {period.number}: {principal_part}, {interest}"
            )
        balance -= principal_part
        lines.append(
            Installment(
                number=period.number,
                due=period.due,
                principal=Money(principal_part, currency),
                interest=Money(interest, currency),
                fee=Money.zero(currency),
                balance_after=Money(balance, currency),
            )
        )
    if balance != 0:
        raise InvariantError(f"schedule leaves {balance} minor units of principal unpaid")
    return Schedule(principal=principal, disbursed_on=disbursed_on, installments=tuple(lines))
