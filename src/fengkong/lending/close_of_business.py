"""The daily close of business, vectorised: one numpy pass over a book of loans, one loan or a million.

:class:`Book` holds one array per loan attribute (integer fen, date ordinals, small codes). :func:`close_day`
closes business date *D* for every active loan whose last closed day is *D − 1* and returns the new book and
what happened (:class:`DayMovements`); :func:`day_postings` turns the movements into ledger postings. Nothing
here touches a database: :mod:`fengkong.services.loans` loads a chunk of loans into a :class:`Book`, calls
:func:`close_day`, and writes the book and the postings back in one transaction.

Order of the day, per loan:

1. **Penalty (overdue) interest** on the principal that fell due before *D* and is unpaid, at the loan's
   penalty rate (the service has already held it to the cap in force, see
   :func:`fengkong.lending.servicing.penalty_rate_in_force`), simple interest by actual/365. The rate is an
   exact fraction ``num / den``; the part below the fen is carried as an integer numerator over
   ``den × 365``, so no fen is ever lost or invented.
2. **Accrual** of the schedule's interest. Day *d* of a period of *L* days carries the cumulative interest
   ``⌊I × d / L⌋`` (*I* the period's interest in the schedule), so the day's accrual is that less what was
   accrued before: exact integer arithmetic, the carry below the fen being ``I × d mod L`` over *L*, and on
   the due day the accruals of the period add up to *I* exactly. A loan that is non-accrual (substandard
   or worse on the previous day) still counts the day's interest, as *suspended* interest (a memo, not
   income); penalty interest is not charged while non-accrual.
3. **Falling due** on the period's due date: the installment's unpaid principal, interest and fee become
   due; the loan moves to its next period.
4. **Days past due**, bucket and five-tier class (:mod:`fengkong.lending.delinquency`).
5. **Write-off** when days past due reach the policy's line: principal, accrued interest, fees and penalty
   are charged to write-off expense; suspended interest is dropped (it was never income).

Ledger (per loan and day, only when non-zero): ``Dr interest_receivable:L / Cr interest_income`` for the
accrual, ``Dr fees_receivable:L / Cr penalty_income`` for penalty interest; write-off:
``Dr write_off_expense / Cr loans_receivable:L, interest_receivable:L, fees_receivable:L``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Final

import numpy as np
import numpy.typing as npt

from fengkong.domain.ledger import Posting, PostingLine
from fengkong.errors import InvariantError
from fengkong.ledger.accounts import (
    FEES_RECEIVABLE,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    LOANS_RECEIVABLE,
    PENALTY_INCOME,
    WRITE_OFF_EXPENSE,
    join_account,
)
from fengkong.lending.delinquency import (
    AssetClass,
    DelinquencyPolicy,
    buckets,
    classify,
    days_past_due,
)
from fengkong.money import Money

Int64Array = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]
ObjectArray = npt.NDArray[np.object_]

DAYS_PER_YEAR_PENALTY: Final = 365  # penalty interest: simple, actual/365


class LoanStatus:
    ACTIVE: Final = 0
    CLOSED: Final = 1
    WRITTEN_OFF: Final = 2


STATUS_NAMES: Final = {
    LoanStatus.ACTIVE: "active",
    LoanStatus.CLOSED: "closed",
    LoanStatus.WRITTEN_OFF: "written_off",
}
STATUS_CODES: Final = {name: code for code, name in STATUS_NAMES.items()}


@dataclass(frozen=True, slots=True, eq=False)
class Book:
    """Loans as parallel arrays. Amounts in fen (int64), dates as ``date.toordinal()`` (0: none)."""

    loan_id: ObjectArray
    status: Int8Array
    last_closed: Int64Array
    period_number: Int64Array  # installment being accrued; installments + 1 once the last has fallen due
    period_start: Int64Array
    period_due: Int64Array  # 0 once the last installment has fallen due
    period_interest: Int64Array  # the schedule's interest of the current period
    accrued_in_period: Int64Array  # counted so far in this period (recognised plus suspended)
    principal_outstanding: Int64Array  # all principal not yet repaid (due or not)
    due_principal: Int64Array  # fallen due and unpaid
    due_interest: Int64Array
    due_fee: Int64Array
    fees_outstanding: Int64Array  # unpaid fees, due or not (in fees_receivable)
    penalty_outstanding: Int64Array  # unpaid penalty interest (in fees_receivable)
    penalty_carry: Int64Array  # numerator over penalty_rate_den × 365
    penalty_rate_num: Int64Array
    penalty_rate_den: Int64Array
    interest_receivable: Int64Array  # accrued as income and unpaid
    interest_suspended: Int64Array  # counted while non-accrual, not income, unpaid
    overdue_since: Int64Array  # due date of the oldest unpaid amount, 0 when none
    days_past_due: Int64Array
    bucket: Int8Array
    asset_class: Int8Array

    def __len__(self) -> int:
        return len(self.loan_id)

    def check(self) -> None:
        """Raise :class:`InvariantError` unless each array has an entry per loan and no amount is negative."""
        count = len(self.loan_id)
        for spec in fields(self):
            array = getattr(self, spec.name)
            if len(array) != count:
                raise InvariantError(f"book column {spec.name} has {len(array)} entries for {count} loans")
        for name in (
            "principal_outstanding",
            "due_principal",
            "due_interest",
            "due_fee",
            "fees_outstanding",
            "penalty_outstanding",
            "interest_receivable",
            "interest_suspended",
            "accrued_in_period",
            "penalty_carry",
        ):
            if count and int(getattr(self, name).min()) < 0:
                raise InvariantError(f"book column {name} went negative")

    def copy(self) -> Book:
        return Book(**{spec.name: getattr(self, spec.name).copy() for spec in fields(self)})

    def take(self, index: npt.NDArray[np.intp] | npt.NDArray[np.bool_]) -> Book:
        return Book(**{spec.name: getattr(self, spec.name)[index] for spec in fields(self)})


BOOK_COLUMNS: Final = tuple(spec.name for spec in fields(Book))


def empty_book(count: int) -> Book:
    """A book of ``count`` loans with every number zero (callers fill the columns)."""
    values: dict[str, npt.NDArray[np.generic]] = {}
    for name in BOOK_COLUMNS:
        if name == "loan_id":
            values[name] = np.empty(count, dtype=object)
        elif name in ("status", "bucket", "asset_class"):
            values[name] = np.zeros(count, dtype=np.int8)
        else:
            values[name] = np.zeros(count, dtype=np.int64)
    values["penalty_rate_den"][:] = 1
    return Book(**values)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True, eq=False)
class FallingDue:
    """What falls due for each loan whose period ends today, and its next period (aligned with the book;
    entries of loans not falling due are ignored). ``next_due`` is 0 when the installment was the last."""

    principal: Int64Array
    interest: Int64Array
    fee: Int64Array
    next_due: Int64Array
    next_interest: Int64Array


def no_falling_due(count: int) -> FallingDue:
    zeros = np.zeros(count, dtype=np.int64)
    return FallingDue(zeros, zeros.copy(), zeros.copy(), zeros.copy(), zeros.copy())


@dataclass(frozen=True, slots=True, eq=False)
class DayMovements:
    """What the close of one day did, per loan (fen)."""

    closed: npt.NDArray[np.bool_]  # the loan was closed for this day now
    falling_due: npt.NDArray[np.bool_]
    interest_accrued: Int64Array  # recognised as income
    interest_suspended: Int64Array  # counted while non-accrual
    penalty: Int64Array
    written_off: npt.NDArray[np.bool_]
    write_off_principal: Int64Array
    write_off_interest: Int64Array
    write_off_fees: Int64Array  # fees and penalty


def falling_due_mask(book: Book, business_ordinal: int) -> npt.NDArray[np.bool_]:
    """Loans whose current period falls due on ``business_ordinal`` (the caller loads their installments)."""
    mask: npt.NDArray[np.bool_] = (
        (book.status == LoanStatus.ACTIVE)
        & (book.last_closed < business_ordinal)
        & (book.period_due == business_ordinal)
    )
    return mask


def close_day(
    book: Book, business_date: date, falling: FallingDue, policy: DelinquencyPolicy
) -> tuple[Book, DayMovements]:
    """Close ``business_date`` for every active loan not yet closed for it (see the module docstring).

    Loans already closed for the day are left exactly as they are, so closing a day twice changes nothing.
    An active loan whose last closed day is before the day before raises :class:`InvariantError`: days are
    closed in order.
    """
    book.check()
    d = business_date.toordinal()
    new = book.copy()
    count = len(book)
    todo = (book.status == LoanStatus.ACTIVE) & (book.last_closed < d)
    if bool(np.any(book.last_closed[todo] < d - 1)):
        raise InvariantError(f"loans have days before {business_date} still open: close days in order")
    was_non_accrual = book.asset_class >= AssetClass.SUBSTANDARD

    # 1. penalty interest on principal overdue since before today
    penalised = todo & (book.overdue_since > 0) & (book.overdue_since < d) & ~was_non_accrual
    penalised &= book.due_principal > 0
    denominator = book.penalty_rate_den * DAYS_PER_YEAR_PENALTY
    numerator = book.penalty_carry + book.due_principal * book.penalty_rate_num
    penalty = np.where(penalised, numerator // denominator, 0)
    new.penalty_carry[:] = np.where(penalised, numerator % denominator, book.penalty_carry)
    new.penalty_outstanding[:] = book.penalty_outstanding + penalty

    # 2. accrual of the schedule's interest, exact: cumulative floor(I × day / length)
    accruing = todo & (book.period_due > 0)
    length = np.where(accruing, book.period_due - book.period_start, 1)
    if bool(np.any(length[accruing] <= 0)):
        raise InvariantError("a period ends on or before its start")
    day = np.clip(d - book.period_start, 0, length)
    target = book.period_interest * day // length
    counted = np.where(accruing, target - book.accrued_in_period, 0)
    if bool(np.any(counted < 0)):
        raise InvariantError("accrual went backwards")
    recognised = np.where(was_non_accrual, 0, counted)
    suspended = counted - recognised
    new.accrued_in_period[:] = book.accrued_in_period + counted
    new.interest_receivable[:] = book.interest_receivable + recognised
    new.interest_suspended[:] = book.interest_suspended + suspended

    # 3. amounts falling due
    falls = accruing & (book.period_due == d)
    if bool(np.any(new.accrued_in_period[falls] != book.period_interest[falls])):
        raise InvariantError("a period fell due with its interest not fully counted")
    added = np.where(falls, falling.principal + falling.interest + falling.fee, 0)
    new.due_principal[:] = book.due_principal + np.where(falls, falling.principal, 0)
    new.due_interest[:] = book.due_interest + np.where(falls, falling.interest, 0)
    new.due_fee[:] = book.due_fee + np.where(falls, falling.fee, 0)
    new.overdue_since[:] = np.where(falls & (book.overdue_since == 0) & (added > 0), d, book.overdue_since)
    new.period_number[:] = book.period_number + falls
    new.period_start[:] = np.where(falls, book.period_due, book.period_start)
    new.period_due[:] = np.where(falls, falling.next_due, book.period_due)
    new.period_interest[:] = np.where(
        falls, np.where(falling.next_due > 0, falling.next_interest, 0), book.period_interest
    )
    new.accrued_in_period[:] = np.where(falls, 0, new.accrued_in_period)

    # 4. delinquency
    days = days_past_due(d, new.overdue_since)
    new.days_past_due[:] = np.where(todo, days, book.days_past_due)
    new.bucket[:] = np.where(todo, buckets(days, policy), book.bucket)
    new.asset_class[:] = np.where(todo, classify(days, policy), book.asset_class)

    # 5. write-off
    if policy.write_off_days is None:
        written = np.zeros(count, dtype=bool)
    else:
        written = todo & (new.days_past_due >= policy.write_off_days)
    write_principal = np.where(written, new.principal_outstanding, 0)
    write_interest = np.where(written, new.interest_receivable, 0)
    write_fees = np.where(written, new.fees_outstanding + new.penalty_outstanding, 0)
    for name in (
        "principal_outstanding",
        "interest_receivable",
        "fees_outstanding",
        "penalty_outstanding",
        "interest_suspended",
        "due_principal",
        "due_interest",
        "due_fee",
        "penalty_carry",
    ):
        column = getattr(new, name)
        column[written] = 0
    new.status[written] = LoanStatus.WRITTEN_OFF

    new.last_closed[:] = np.where(todo, d, book.last_closed)
    new.check()
    movements = DayMovements(
        closed=todo,
        falling_due=falls,
        interest_accrued=recognised.astype(np.int64),
        interest_suspended=suspended.astype(np.int64),
        penalty=penalty.astype(np.int64),
        written_off=written,
        write_off_principal=write_principal.astype(np.int64),
        write_off_interest=write_interest.astype(np.int64),
        write_off_fees=write_fees.astype(np.int64),
    )
    return new, movements


def day_postings(book: Book, movements: DayMovements, business_date: date, currency: str) -> list[Posting]:
    """The ledger postings of one closed day: one per loan with accrual or penalty, one per write-off.

    Posting ids are ``cob:<date>:<loan>`` and ``cob:<date>:<loan>:write-off``: a re-run posts nothing new.
    """
    postings: list[Posting] = []
    stamp = business_date.isoformat()
    accrued = movements.interest_accrued
    penalty = movements.penalty
    for index in np.flatnonzero((accrued > 0) | (penalty > 0)).tolist():
        loan = str(book.loan_id[index])
        lines: list[PostingLine] = []
        amount = int(accrued[index])
        if amount:
            lines.append(PostingLine(join_account(INTEREST_RECEIVABLE, loan), Money(amount, currency)))
            lines.append(PostingLine(INTEREST_INCOME, Money(-amount, currency)))
        amount = int(penalty[index])
        if amount:
            lines.append(PostingLine(join_account(FEES_RECEIVABLE, loan), Money(amount, currency)))
            lines.append(PostingLine(PENALTY_INCOME, Money(-amount, currency)))
        postings.append(
            Posting(f"cob:{stamp}:{loan}", business_date, f"close of business {stamp}", tuple(lines))
        )
    for index in np.flatnonzero(movements.written_off).tolist():
        loan = str(book.loan_id[index])
        parts = (
            (LOANS_RECEIVABLE, int(movements.write_off_principal[index])),
            (INTEREST_RECEIVABLE, int(movements.write_off_interest[index])),
            (FEES_RECEIVABLE, int(movements.write_off_fees[index])),
        )
        credit_lines = [
            PostingLine(join_account(code, loan), Money(-amount, currency))
            for code, amount in parts
            if amount
        ]
        written = sum(amount for _, amount in parts)
        if written:
            postings.append(
                Posting(
                    f"cob:{stamp}:{loan}:write-off",
                    business_date,
                    f"write-off {stamp}",
                    (PostingLine(WRITE_OFF_EXPENSE, Money(written, currency)), *credit_lines),
                )
            )
    return postings
