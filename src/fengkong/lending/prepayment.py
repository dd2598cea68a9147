"""Partial prepayment with recalculation (提前还款): the remaining schedule re-amortised, exact to the fen.

A borrower who has paid ``paid_installments`` installments of a schedule pays ``prepayment`` of principal
early, on a date ``on`` inside the next period (``previous due date <= on < next due date``). Two ways to
recalculate what is left (:class:`PrepaymentMode`):

* ``reduce-installment`` (减少月供): the same due dates, a lower installment — for equal-installment loans the
  annuity on the new balance over the periods left; for equal-principal loans the new balance in equal
  parts; for interest-only loans the same bullet with less interest;
* ``shorten-term`` (缩短期限): the same installment (equal-installment) or the same principal part
  (equal-principal), so the loan ends sooner; the last installment absorbs what rounding left. An
  interest-only loan repays its principal at the end, so its term cannot be shortened this way: refused.

Flat-rate loans charge interest on the original principal for the whole term, so a prepayment changes
nothing their contract computes: refused (:class:`~fengkong.errors.InputError` naming ``method``).

Interest of the period the prepayment falls in: the old balance until ``on`` and the new balance after it,
``(B × f₁ + (B − X) × f₂) × rate`` rounded once, where ``f₁`` is the year fraction from the period's start
to ``on`` by the loan's day count and ``f₂`` is the rest of the period's year fraction (under 30/360 a whole
month stays 1/12 of a year). A prepayment on the period's first day is therefore a clean re-amortisation.
Later periods: ``balance × rate × period year fraction`` by the loan's day count, rounded with the named
rounding mode, as :mod:`fengkong.lending.schedule` does. Interest-free periods keep their numbers (no
interest in them); principal grace periods still repay no principal. A prepayment while rolled-forward
interest from an interest grace is outstanding is refused (pay the rolled interest first).

Fees scheduled on installments the shorter term no longer has move to its new last installment (never
dropped silently; waiving them is a decision for the caller). Reducing the installment keeps every due date
and the old schedule's effective end: an equal-installment schedule with interest-free periods repays its
principal before its last due date (more of each installment goes to principal) and keeps its last
installments at zero, :mod:`~fengkong.lending.schedule`'s rule; the new installment is the annuity over the
periods up to that end, and the zero installments stay. That installment is larger than the rest of the
term needs, so re-amortising it over that term can cost more interest than the old schedule would have
charged: for such a loan, shortening the term is the choice that saves interest.

The new schedule's principal is always the balance left, ``B − X``: :class:`~fengkong.domain.Schedule`
checks it, and so do the tests.

Not here: charging a prepayment fee (it would be its own :class:`~fengkong.domain.Fee`, counted in the
annualised rate), and the servicing state — :func:`fengkong.lending.servicing.apply_repayment` still prepays
from the last installment backwards; wiring this recalculation into stored loans is a later step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import Final

from fengkong.domain.products import DayCount, Installment, ProductTerms, RepaymentMethod, Schedule
from fengkong.errors import InputError, InvariantError
from fengkong.lending.day_count import MONTHS_PER_YEAR, days_30_360, period_year_fraction, year_fraction
from fengkong.lending.rounding import round_fraction
from fengkong.money import Money, Rounding

RECALCULATED_METHODS: Final = frozenset(
    {RepaymentMethod.EQUAL_INSTALLMENT, RepaymentMethod.EQUAL_PRINCIPAL, RepaymentMethod.INTEREST_ONLY}
)
MONTHS_PER_PERIOD: Final = 1  # installment loans are paid monthly (schedule.MONTHS_PER_PERIOD)


class PrepaymentMode(StrEnum):
    REDUCE_INSTALLMENT = "reduce-installment"  # same term, lower installments
    SHORTEN_TERM = "shorten-term"  # same installment, fewer of them


@dataclass(frozen=True, slots=True)
class PrepaymentResult:
    """The recalculated rest of a loan after a partial prepayment.

    ``schedule`` starts at the beginning of the period the prepayment fell in (its ``disbursed_on``) and its
    principal is ``balance_before - prepaid``; ``interest_before`` is what the old schedule still charged from
    that period on, ``interest_after`` what the new one charges.
    """

    mode: PrepaymentMode
    on: date
    prepaid: Money
    balance_before: Money
    schedule: Schedule
    interest_before: Money
    interest_after: Money
    first_number: int  # the number the new schedule's first installment had in the old schedule

    @property
    def interest_saved(self) -> Money:
        return self.interest_before - self.interest_after


def _annuity(principal_minor: int, periodic_rate: Fraction, periods: int) -> Fraction:
    if periodic_rate == 0:
        return Fraction(principal_minor, periods)
    growth = (1 + periodic_rate) ** periods
    return principal_minor * periodic_rate * growth / (growth - 1)


def _split_fractions(start: date, on: date, due: date, day_count: DayCount) -> tuple[Fraction, Fraction]:
    """The year fractions of a period before and after ``on``; together the period's own fraction."""
    whole = period_year_fraction(start, due, day_count, MONTHS_PER_PERIOD)
    if day_count is DayCount.THIRTY_360:
        before = min(Fraction(days_30_360(start, on), 360), whole)
    else:
        before = year_fraction(start, on, day_count)
    return before, whole - before


def _validate(
    terms: ProductTerms, schedule: Schedule, paid_installments: int, prepayment: Money, on: date
) -> tuple[int, date, date]:
    """The balance before the prepayment, and the start and due date of the period it falls in."""
    if terms.method not in RECALCULATED_METHODS:
        raise InputError(
            f"a {terms.method.value} loan is not re-amortised by a prepayment; recalculated methods: "
            f"{sorted(method.value for method in RECALCULATED_METHODS)}",
            field="method",
        )
    if len(schedule.installments) != terms.installments:
        raise InputError("the schedule does not belong to these terms", field="schedule")
    count = len(schedule.installments)
    if isinstance(paid_installments, bool) or not isinstance(paid_installments, int):
        raise InputError("must be a whole number", field="paid_installments")
    if not 0 <= paid_installments < count:
        raise InputError(f"must be between 0 and {count - 1}", field="paid_installments")
    if paid_installments < terms.interest_grace_periods:
        raise InputError(
            "rolled-forward interest from the interest grace is still outstanding; prepay after it falls due",
            field="paid_installments",
        )
    if prepayment.currency != schedule.principal.currency:
        raise InputError(
            f"in {prepayment.currency}, the loan in {schedule.principal.currency}", field="prepayment"
        )
    balance = (
        schedule.principal.amount_minor
        if paid_installments == 0
        else schedule.installments[paid_installments - 1].balance_after.amount_minor
    )
    if prepayment.amount_minor <= 0:
        raise InputError("must be more than zero", field="prepayment")
    if prepayment.amount_minor >= balance:
        raise InputError(
            f"{prepayment.amount_minor} is not less than the {balance} outstanding: that is a payoff "
            "(ask for a payoff quote), not a partial prepayment",
            field="prepayment",
        )
    start = (
        schedule.disbursed_on if paid_installments == 0 else schedule.installments[paid_installments - 1].due
    )
    due = schedule.installments[paid_installments].due
    if not start <= on < due:
        raise InputError(
            f"must fall in the period after the installments paid: from {start.isoformat()} "
            f"to before {due.isoformat()}",
            field="on",
        )
    return balance, start, due


def _kept_amount(terms: ProductTerms, schedule: Schedule, paid_installments: int, balance: int) -> int:
    """The installment (equal-installment) or principal part (equal-principal) a shorter term keeps: that
    of the first remaining regular installment (after any principal grace, not the last one), or — when
    none is left — the one the balance would have over the periods left."""
    count = len(schedule.installments)
    for line in schedule.installments[paid_installments : count - 1]:
        if line.number > terms.principal_grace_periods:
            if terms.method is RepaymentMethod.EQUAL_INSTALLMENT:
                return line.principal.amount_minor + line.interest.amount_minor
            return line.principal.amount_minor
    return balance


def recalculate(
    terms: ProductTerms,
    schedule: Schedule,
    paid_installments: int,
    prepayment: Money,
    on: date,
    mode: PrepaymentMode,
    *,
    rounding: Rounding,
) -> PrepaymentResult:
    """Re-amortise ``schedule`` (under ``terms``) after ``prepayment`` of principal on ``on``, the first
    ``paid_installments`` installments having been paid. See the module docstring."""
    balance, start, _ = _validate(terms, schedule, paid_installments, prepayment, on)
    if terms.method is RepaymentMethod.INTEREST_ONLY and mode is PrepaymentMode.SHORTEN_TERM:
        raise InputError(
            "an interest-only loan repays its principal at the end: a prepayment lowers its interest "
            "(reduce-installment), it cannot shorten the term",
            field="mode",
        )
    rate = Fraction(terms.annual_rate)
    remaining = schedule.installments[paid_installments:]
    first_number = remaining[0].number
    # the old schedule's effective end: its last installment still repaying principal (an equal installment
    # with interest-free periods repays early and leaves zero installments after it)
    last_number = max(line.number for line in remaining if line.principal.amount_minor > 0)
    new_balance = balance - prepayment.amount_minor
    repaying = last_number - max(paid_installments, terms.principal_grace_periods)
    kept = _kept_amount(terms, schedule, paid_installments, balance)
    if mode is PrepaymentMode.REDUCE_INSTALLMENT:
        if terms.method is RepaymentMethod.EQUAL_INSTALLMENT:
            kept = round_fraction(_annuity(new_balance, rate / MONTHS_PER_YEAR, repaying), rounding)
        elif terms.method is RepaymentMethod.EQUAL_PRINCIPAL:
            kept = round_fraction(Fraction(new_balance, repaying), rounding)
    lines: list[Installment] = []
    left = new_balance
    period_start = start
    fees_carried = 0
    currency = schedule.principal.currency
    for line in remaining:
        if left == 0 and mode is PrepaymentMode.SHORTEN_TERM:
            fees_carried += line.fee.amount_minor
            continue
        if left == 0:  # reduce-installment keeps the old schedule's zero installments after its end
            lines.append(Installment(len(lines) + 1, line.due, Money.zero(currency), Money.zero(currency),
                                     line.fee, Money.zero(currency)))  # fmt: skip
            period_start = line.due
            continue
        if line.number == first_number:
            before, after = _split_fractions(period_start, on, line.due, terms.day_count)
            exact = (balance * before + new_balance * after) * rate
        else:
            exact = (
                left * rate * period_year_fraction(period_start, line.due, terms.day_count, MONTHS_PER_PERIOD)
            )
        interest = 0 if line.number <= terms.interest_free_periods else round_fraction(exact, rounding)
        if line.number == last_number:
            principal = left
        elif line.number <= terms.principal_grace_periods:
            principal = 0
        elif terms.method is RepaymentMethod.EQUAL_INSTALLMENT:
            principal = min(max(kept - interest, 0), left)
        elif terms.method is RepaymentMethod.EQUAL_PRINCIPAL:
            principal = min(kept, left)
        else:  # interest-only: the principal with the last installment
            principal = 0
        left -= principal
        lines.append(
            Installment(
                number=len(lines) + 1,
                due=line.due,
                principal=Money(principal, currency),
                interest=Money(interest, currency),
                fee=line.fee,
                balance_after=Money(left, currency),
            )
        )
        period_start = line.due
    if left != 0:
        raise InvariantError(f"the recalculated schedule leaves {left} minor units unpaid")
    if fees_carried:
        last = lines[-1]
        lines[-1] = Installment(
            last.number, last.due, last.principal, last.interest, last.fee + Money(fees_carried, currency),
            last.balance_after,
        )  # fmt: skip
    new_schedule = Schedule(Money(new_balance, currency), start, tuple(lines))
    interest_before = sum(line.interest.amount_minor for line in remaining)
    interest_after = sum(line.interest.amount_minor for line in lines)
    return PrepaymentResult(
        mode=mode,
        on=on,
        prepaid=prepayment,
        balance_before=Money(balance, currency),
        schedule=new_schedule,
        interest_before=Money(interest_before, currency),
        interest_after=Money(interest_after, currency),
        first_number=first_number,
    )
