"""Servicing one loan: accepting an offer, disbursing, payoff quotes, repayments and their reversal.

Everything here is pure: it takes the loan's state (:class:`LoanRow`, one row of a
:class:`~fengkong.lending.close_of_business.Book`) and its installments (:class:`InstallmentState`) and
returns new values and the ledger posting; :mod:`fengkong.services.loans` stores them in one transaction.

* :func:`accept_offer` — within the offer's validity window (``valid_from <= at < valid_until``) an
  :class:`Accepted` value with the new loan; outside it an :class:`OfferNotAccepted` value, not an exception.
* Disbursement pays out the **full principal** (no head-cut): ``Dr loans_receivable:L / Cr cash_clearing``;
  fees are their own receivable, ``Dr fees_receivable:L / Cr fee_income``, and fall due with the installment
  on or after their date.
* :func:`payoff_quote` — what closes the loan on a business date: penalty, every unpaid fee, interest due,
  the current period's interest accrued through that date (exactly as the close of business would accrue
  it), and all unpaid principal; the rest of the schedule's interest is waived.
* :func:`apply_repayment` — pays what is due through the :class:`~fengkong.lending.allocation.AllocationOrder`
  (default penalty → fee → interest → principal); an amount equal to the payoff quote closes the loan; an
  amount above the dues and below the quote prepays principal not yet due, from the last installment
  backwards (the term shortens; scheduled interest is not re-amortised); more than that is a
  :class:`RepaymentRefused` value. A written-off loan's repayments are recoveries.
* :func:`reverse_repayment` — undoes a repayment's effect on the loan (the ledger side is a reversing entry).

Interest paid is taken first from the interest receivable (income already recognised) and beyond it from
suspended interest (recognised as income when the cash arrives: the loan was non-accrual).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Final

import numpy as np

from fengkong import bounds
from fengkong.compliance.apr import METHOD_PERIODIC
from fengkong.compliance.caps import CapCheck, CapPolicy, check_price
from fengkong.domain.ledger import Posting, PostingLine
from fengkong.domain.products import AnnualisedRate, Offer, Schedule
from fengkong.errors import InputError, InvariantError
from fengkong.ledger.accounts import (
    CASH_CLEARING,
    FEE_INCOME,
    FEES_RECEIVABLE,
    INTEREST_INCOME,
    INTEREST_RECEIVABLE,
    LOANS_RECEIVABLE,
    RECOVERIES,
    join_account,
)
from fengkong.lending.allocation import DEFAULT_ORDER, AllocationOrder, Component, split
from fengkong.lending.close_of_business import (
    BOOK_COLUMNS,
    DAYS_PER_YEAR_PENALTY,
    Book,
    FallingDue,
    LoanStatus,
    empty_book,
    falling_due_mask,
    no_falling_due,
)
from fengkong.lending.delinquency import AssetClass
from fengkong.money import Money

SUSPENDED_INTEREST: Final = "interest-suspended"  # allocation record: interest paid out of suspended interest
WAIVED_INTEREST: Final = "interest-waived"  # allocation record: future interest waived by a payoff
RECOVERY: Final = "recovery"


@dataclass(frozen=True, slots=True)
class LoanRow:
    """One loan's servicing state: the fields of :class:`Book` as Python ints (dates as ordinals)."""

    loan_id: str
    status: int
    last_closed: int
    period_number: int
    period_start: int
    period_due: int
    period_interest: int
    accrued_in_period: int
    principal_outstanding: int
    due_principal: int
    due_interest: int
    due_fee: int
    fees_outstanding: int
    penalty_outstanding: int
    penalty_carry: int
    penalty_rate_num: int
    penalty_rate_den: int
    interest_receivable: int
    interest_suspended: int
    overdue_since: int
    days_past_due: int
    bucket: int
    asset_class: int

    def check(self) -> None:
        """The interest identity: receivable + suspended equals interest due plus this period's accrual."""
        if self.status == LoanStatus.ACTIVE and (
            self.interest_receivable + self.interest_suspended != self.due_interest + self.accrued_in_period
        ):
            raise InvariantError(f"loan {self.loan_id}: interest receivable and suspended do not match dues")


ROW_FIELDS: Final = tuple(spec.name for spec in fields(LoanRow))
if ROW_FIELDS != BOOK_COLUMNS:
    raise InvariantError("LoanRow and Book must have the same fields in the same order")


def row_of(book: Book, index: int) -> LoanRow:
    values = {name: getattr(book, name)[index] for name in BOOK_COLUMNS}
    return LoanRow(
        **{name: (str(value) if name == "loan_id" else int(value)) for name, value in values.items()}  # type: ignore[arg-type]
    )


def book_of(rows: list[LoanRow]) -> Book:
    book = empty_book(len(rows))
    for name in BOOK_COLUMNS:
        column = getattr(book, name)
        for index, row in enumerate(rows):
            column[index] = getattr(row, name)
    return book


@dataclass(frozen=True, slots=True)
class InstallmentState:
    """One installment of a loan as serviced: the schedule's amounts and what was paid or waived."""

    number: int
    due: date
    principal: int
    interest: int
    fee: int
    paid_principal: int = 0
    paid_interest: int = 0
    paid_fee: int = 0
    waived_interest: int = 0

    @property
    def unpaid_principal(self) -> int:
        return self.principal - self.paid_principal

    @property
    def unpaid_interest(self) -> int:
        return self.interest - self.paid_interest - self.waived_interest

    @property
    def unpaid_fee(self) -> int:
        return self.fee - self.paid_fee

    @property
    def unpaid(self) -> int:
        return self.unpaid_principal + self.unpaid_interest + self.unpaid_fee


# -- acceptance and disbursement -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewLoan:
    loan_id: str
    offer_id: str
    party_id: str
    product: str
    currency: str
    principal: int
    disbursed_on: date
    row: LoanRow
    installments: tuple[InstallmentState, ...]
    posting: Posting


@dataclass(frozen=True, slots=True)
class Accepted:
    loan: NewLoan


@dataclass(frozen=True, slots=True)
class OfferNotAccepted:
    """An expected outcome: the offer was not open at the moment of acceptance."""

    offer_id: str
    reason: str  # "expired" or "not-yet-valid"
    at: datetime


def penalty_fraction(rate_annual: Decimal | None) -> tuple[int, int]:
    """The penalty rate as an exact ``(numerator, denominator)``; ``None`` is no penalty (0/1)."""
    if rate_annual is None:
        return 0, 1
    if not isinstance(rate_annual, Decimal) or not rate_annual.is_finite() or rate_annual < 0:
        raise InputError("must be a non-negative Decimal fraction", field="penalty_rate_annual")
    exponent = rate_annual.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > bounds.penalty_rate_decimals_max:
        raise InputError(
            f"at most penalty_rate_decimals_max={bounds.penalty_rate_decimals_max} decimals",
            field="penalty_rate_annual",
        )
    if rate_annual > 1:
        raise InputError("a penalty rate above 100 % a year is not a price", field="penalty_rate_annual")
    ratio = Fraction(rate_annual)
    return ratio.numerator, ratio.denominator


def penalty_rate_in_force(
    policy: CapPolicy, product: str, on: date, rate_annual: Decimal
) -> tuple[Decimal, CapCheck]:
    """The penalty rate to charge on ``on``: the contract's, held to the cap in force when it is above it.

    Penalty interest is simple daily interest on overdue principal (actual/365), so its annualised rate is
    ``rate_annual`` (a daily periodic rate of ``rate_annual / 365``); it is checked by
    :func:`~fengkong.compliance.caps.check_price` like every other price.
    """
    rate = AnnualisedRate(
        annual_rate_pct=rate_annual * 100,
        method=METHOD_PERIODIC,
        periodic_irr=rate_annual / DAYS_PER_YEAR_PENALTY,
    )
    result = check_price(policy, product, on, rate, fees=())
    if result.allowed:
        return rate_annual, result
    return result.cap.annual_rate_cap, result


def _fees_by_installment(offer: Offer, schedule: Schedule) -> list[int]:
    fees = [0] * len(schedule.installments)
    for fee in offer.terms.fees:
        if fee.amount.currency != offer.amount.currency:
            raise InputError(f"fee {fee.name!r} is in another currency", field="terms.fees")
        if fee.amount.amount_minor < 0:
            raise InputError(f"fee {fee.name!r} is negative", field="terms.fees")
        index = next(
            (i for i, line in enumerate(schedule.installments) if line.due >= fee.due),
            len(schedule.installments) - 1,
        )
        fees[index] += fee.amount.amount_minor
    return fees


def accept_offer(
    offer: Offer, at: datetime, loan_id: str, business_date: date
) -> Accepted | OfferNotAccepted:
    """Accept ``offer`` at ``at`` and disburse it on ``business_date`` as loan ``loan_id``.

    The schedule is the offer's own (its due dates were fixed when it was offered). Offers without a fixed
    schedule (credit lines) are drawn, not accepted as one loan: :class:`InputError`.
    """
    if at < offer.valid_from:
        return OfferNotAccepted(offer.offer_id, "not-yet-valid", at)
    if at >= offer.valid_until:
        return OfferNotAccepted(offer.offer_id, "expired", at)
    schedule = offer.schedule
    if schedule is None:
        raise InputError("this offer is a credit line: draw on it instead", field="offer.schedule")
    if not loan_id or len(loan_id) > bounds.loan_id_length_max:
        raise InputError(f"must be 1 to {bounds.loan_id_length_max} characters", field="loan_id")
    principal = schedule.principal.amount_minor
    if principal != offer.amount.amount_minor:
        raise InputError("the schedule's principal differs from the offer's amount", field="offer.schedule")
    if principal > bounds.loan_principal_fen_max:
        raise InputError(
            f"above loan_principal_fen_max={bounds.loan_principal_fen_max}", field="offer.amount"
        )
    if not schedule.installments:
        raise InputError("the schedule has no installments", field="offer.schedule")
    currency = offer.amount.currency
    num, den = penalty_fraction(offer.terms.penalty_rate_annual)
    fees = _fees_by_installment(offer, schedule)
    installments = tuple(
        InstallmentState(
            number=line.number,
            due=line.due,
            principal=line.principal.amount_minor,
            interest=line.interest.amount_minor,
            fee=line.fee.amount_minor + extra,
        )
        for line, extra in zip(schedule.installments, fees, strict=True)
    )
    first = installments[0]
    fee_total = sum(item.fee for item in installments)
    start = schedule.disbursed_on.toordinal()
    row = LoanRow(
        loan_id=loan_id,
        status=LoanStatus.ACTIVE,
        last_closed=max(start, business_date.toordinal()),
        period_number=1,
        period_start=start,
        period_due=first.due.toordinal(),
        period_interest=first.interest,
        accrued_in_period=0,
        principal_outstanding=principal,
        due_principal=0,
        due_interest=0,
        due_fee=0,
        fees_outstanding=fee_total,
        penalty_outstanding=0,
        penalty_carry=0,
        penalty_rate_num=num,
        penalty_rate_den=den,
        interest_receivable=0,
        interest_suspended=0,
        overdue_since=0,
        days_past_due=0,
        bucket=0,
        asset_class=0,
    )
    if business_date != schedule.disbursed_on:
        raise InputError("disbursement must happen on the schedule's start date", field="business_date")
    lines = [
        PostingLine(join_account(LOANS_RECEIVABLE, loan_id), Money(principal, currency)),
        PostingLine(CASH_CLEARING, Money(-principal, currency)),
    ]
    if fee_total:
        lines.append(PostingLine(join_account(FEES_RECEIVABLE, loan_id), Money(fee_total, currency)))
        lines.append(PostingLine(FEE_INCOME, Money(-fee_total, currency)))
    posting = Posting(f"disburse:{loan_id}", business_date, f"disbursement of {loan_id}", tuple(lines))
    return Accepted(
        NewLoan(
            loan_id=loan_id,
            offer_id=offer.offer_id,
            party_id=offer.party_id,
            product=offer.terms.product.value,
            currency=currency,
            principal=principal,
            disbursed_on=business_date,
            row=row,
            installments=installments,
            posting=posting,
        )
    )


# -- payoff quotes -------------------------------------------------------------------------------------------


def accrual_catch_up(row: LoanRow, business_date: date) -> int:
    """Interest of the current period the close of ``business_date`` would still count (0 once closed)."""
    d = business_date.toordinal()
    if row.status != LoanStatus.ACTIVE or row.period_due == 0 or row.last_closed >= d:
        return 0
    length = row.period_due - row.period_start
    day = min(max(d - row.period_start, 0), length)
    return row.period_interest * day // length - row.accrued_in_period


@dataclass(frozen=True, slots=True)
class PayoffQuote:
    loan_id: str
    on: date
    penalty: int
    fees: int
    interest: int
    principal: int
    interest_waived: int  # the schedule's interest that a payoff on this date does not charge

    @property
    def total(self) -> int:
        return self.penalty + self.fees + self.interest + self.principal


def payoff_quote(row: LoanRow, installments: tuple[InstallmentState, ...], on: date) -> PayoffQuote:
    row.check()
    catch_up = accrual_catch_up(row, on)
    interest = row.due_interest + row.accrued_in_period + catch_up
    future = sum(item.unpaid_interest for item in installments if item.number >= row.period_number)
    return PayoffQuote(
        loan_id=row.loan_id,
        on=on,
        penalty=row.penalty_outstanding,
        fees=row.fees_outstanding,
        interest=interest,
        principal=row.principal_outstanding,
        interest_waived=future - row.accrued_in_period - catch_up,
    )


# -- repayments ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AllocationLine:
    """One part of a repayment: ``installment`` 0 is the loan itself (penalty, recovery)."""

    installment: int
    component: str
    amount: int


@dataclass(frozen=True, slots=True)
class RepaymentApplied:
    repayment_id: str
    loan_id: str
    amount: int
    parts: tuple[tuple[str, int], ...]  # per component, in the allocation order, then "prepaid-principal"
    paid_off: bool
    row: LoanRow
    installments: tuple[InstallmentState, ...]
    allocations: tuple[AllocationLine, ...]
    posting: Posting


@dataclass(frozen=True, slots=True)
class RepaymentRefused:
    """An expected outcome: nothing was posted."""

    repayment_id: str
    loan_id: str
    reason: str


def fall_due_today(
    row: LoanRow, installments: tuple[InstallmentState, ...], business_date: date
) -> tuple[LoanRow, int]:
    """The loan with its current installment fallen due, when it is due on ``business_date`` and the day is
    not closed yet — what the close of that day would do — so that a borrower paying on the due date pays
    that installment (not principal at the end of the schedule). Returns the row and the interest still to
    count for the period (income, unless the loan is non-accrual: then suspended)."""
    d = business_date.toordinal()
    if row.status != LoanStatus.ACTIVE or row.period_due != d or row.last_closed >= d:
        return row, 0
    catch_up = accrual_catch_up(row, business_date)
    non_accrual = row.asset_class >= AssetClass.SUBSTANDARD
    number = row.period_number
    current = installments[number - 1]
    following = installments[number] if number < len(installments) else None
    added = current.unpaid_principal + current.unpaid_interest + current.unpaid_fee
    fallen = replace(
        row,
        interest_receivable=row.interest_receivable + (0 if non_accrual else catch_up),
        interest_suspended=row.interest_suspended + (catch_up if non_accrual else 0),
        due_principal=row.due_principal + current.unpaid_principal,
        due_interest=row.due_interest + current.unpaid_interest,
        due_fee=row.due_fee + current.unpaid_fee,
        overdue_since=d if row.overdue_since == 0 and added > 0 else row.overdue_since,
        period_number=number + 1,
        period_start=row.period_due,
        period_due=following.due.toordinal() if following is not None else 0,
        period_interest=following.interest if following is not None else 0,
        accrued_in_period=0,
    )
    fallen.check()
    return fallen, catch_up


def _overdue_since(installments: tuple[InstallmentState, ...], period_number: int) -> int:
    for item in installments:
        if item.number < period_number and item.unpaid > 0:
            return item.due.toordinal()
    return 0


def _spread(
    installments: list[InstallmentState], attribute: str, amount: int, numbers: list[int]
) -> list[AllocationLine]:
    """Pay ``amount`` of ``attribute`` ("principal", "interest", "fee") over ``numbers`` in that order."""
    lines: list[AllocationLine] = []
    left = amount
    for number in numbers:
        if left == 0:
            break
        index = number - 1
        item = installments[index]
        unpaid = {
            "principal": item.unpaid_principal,
            "interest": item.unpaid_interest,
            "fee": item.unpaid_fee,
        }[attribute]
        part = min(left, unpaid)
        if part:
            installments[index] = replace(
                item, **{f"paid_{attribute}": getattr(item, f"paid_{attribute}") + part}
            )
            lines.append(AllocationLine(number, attribute, part))
            left -= part
    if left:
        raise InvariantError(f"{left} fen of {attribute} found no installment to pay")
    return lines


def apply_repayment(
    row: LoanRow,
    installments: tuple[InstallmentState, ...],
    repayment_id: str,
    amount: int,
    business_date: date,
    currency: str,
    order: AllocationOrder | None = None,
) -> RepaymentApplied | RepaymentRefused:
    """Apply ``amount`` fen received on ``business_date`` to the loan (see the module docstring)."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InputError("must be a positive whole number of fen", field="amount")
    if amount > bounds.loan_principal_fen_max * 2:
        raise InputError("absurdly large", field="amount")
    chosen = order if order is not None else AllocationOrder(DEFAULT_ORDER)
    loan = row.loan_id
    cash = PostingLine(CASH_CLEARING, Money(amount, currency))
    if row.status == LoanStatus.WRITTEN_OFF:
        posting = Posting(
            f"repay:{repayment_id}",
            business_date,
            f"recovery on {loan}",
            (cash, PostingLine(join_account(RECOVERIES, loan), Money(-amount, currency))),
        )
        return RepaymentApplied(
            repayment_id, loan, amount, ((RECOVERY, amount),), False, row, installments,
            (AllocationLine(0, RECOVERY, amount),), posting,
        )  # fmt: skip
    if row.status != LoanStatus.ACTIVE:
        return RepaymentRefused(repayment_id, loan, "the loan is closed")
    row.check()
    row, early_accrual = fall_due_today(row, installments, business_date)
    quote = payoff_quote(row, installments, business_date)
    if amount > quote.total:
        return RepaymentRefused(repayment_id, loan, f"more than the payoff amount {quote.total} fen")
    paid_off = amount == quote.total
    catch_up = accrual_catch_up(row, business_date) if paid_off else 0
    non_accrual = row.asset_class >= AssetClass.SUBSTANDARD
    receivable = row.interest_receivable + (0 if non_accrual else catch_up)
    suspended = row.interest_suspended + (catch_up if non_accrual else 0)
    owed = {
        Component.PENALTY: row.penalty_outstanding,
        Component.FEE: row.due_fee,
        Component.INTEREST: row.due_interest,
        Component.PRINCIPAL: row.due_principal,
    }
    parts = split(amount, owed, chosen)
    rest = amount - sum(parts.values())
    items = list(installments)
    fallen = [item.number for item in installments if item.number < row.period_number]
    future = [item.number for item in installments if item.number >= row.period_number]
    allocations: list[AllocationLine] = []
    if parts[Component.PENALTY]:
        allocations.append(AllocationLine(0, Component.PENALTY.value, parts[Component.PENALTY]))
    allocations += _spread(items, "fee", parts[Component.FEE], fallen)
    allocations += _spread(items, "interest", parts[Component.INTEREST], fallen)
    allocations += _spread(items, "principal", parts[Component.PRINCIPAL], fallen)
    fee_paid = parts[Component.FEE]
    interest_paid = parts[Component.INTEREST]
    principal_paid = parts[Component.PRINCIPAL]
    prepaid = 0
    if paid_off:
        future_fees = row.fees_outstanding - row.due_fee
        current_interest = row.accrued_in_period + catch_up
        allocations += _spread(items, "fee", future_fees, future)
        if future and current_interest:
            allocations += _spread(items, "interest", current_interest, future[:1])
        for number in future:
            item = items[number - 1]
            if item.unpaid_interest:
                allocations.append(AllocationLine(number, WAIVED_INTEREST, item.unpaid_interest))
                items[number - 1] = replace(item, waived_interest=item.waived_interest + item.unpaid_interest)
        prepaid = row.principal_outstanding - row.due_principal
        allocations += _spread(items, "principal", prepaid, future)
        fee_paid += future_fees
        interest_paid += current_interest
        if rest != future_fees + current_interest + prepaid:
            raise InvariantError("a payoff does not match its quote")
    elif rest:
        not_due = row.principal_outstanding - row.due_principal
        if rest > not_due:
            return RepaymentRefused(
                repayment_id,
                loan,
                f"{rest} fen beyond what is due is more than the principal not yet due ({not_due}); "
                f"pay the payoff amount {quote.total} fen to close the loan",
            )
        prepaid = rest
        allocations += _spread(items, "principal", prepaid, list(reversed(future)))
    from_receivable = min(interest_paid, receivable)
    from_suspended = interest_paid - from_receivable
    if from_suspended > suspended:
        raise InvariantError("interest paid exceeds interest owed")
    allocations = [AllocationLine(line.installment, line.component, line.amount) for line in allocations]
    if from_suspended:
        allocations.append(AllocationLine(0, SUSPENDED_INTEREST, from_suspended))
    new_installments = tuple(items)
    new_row = replace(
        row,
        penalty_outstanding=row.penalty_outstanding - parts[Component.PENALTY],
        due_fee=row.due_fee - parts[Component.FEE],
        due_interest=row.due_interest - parts[Component.INTEREST],
        due_principal=row.due_principal - parts[Component.PRINCIPAL],
        fees_outstanding=row.fees_outstanding - fee_paid,
        principal_outstanding=row.principal_outstanding - principal_paid - prepaid,
        interest_receivable=receivable - from_receivable,
        interest_suspended=suspended - from_suspended,
        accrued_in_period=row.accrued_in_period + catch_up,
    )
    if paid_off:
        new_row = replace(
            new_row,
            status=LoanStatus.CLOSED,
            accrued_in_period=0,
            overdue_since=0,
        )
        if any(
            getattr(new_row, name)
            for name in (
                "principal_outstanding",
                "interest_receivable",
                "fees_outstanding",
                "penalty_outstanding",
                "due_interest",
            )
        ):
            raise InvariantError("a paid-off loan still owes")
    else:
        new_row = replace(new_row, overdue_since=_overdue_since(new_installments, row.period_number))
        new_row.check()
    lines = [cash]
    if early_accrual and not non_accrual:
        lines.append(PostingLine(join_account(INTEREST_RECEIVABLE, loan), Money(early_accrual, currency)))
        lines.append(PostingLine(INTEREST_INCOME, Money(-early_accrual, currency)))
    fees_total = parts[Component.PENALTY] + fee_paid
    if catch_up:
        if non_accrual:
            pass  # suspended interest is counted, not income; it is recognised below when paid
        else:
            lines.append(PostingLine(join_account(INTEREST_RECEIVABLE, loan), Money(catch_up, currency)))
            lines.append(PostingLine(INTEREST_INCOME, Money(-catch_up, currency)))
    if fees_total:
        lines.append(PostingLine(join_account(FEES_RECEIVABLE, loan), Money(-fees_total, currency)))
    if from_receivable:
        lines.append(PostingLine(join_account(INTEREST_RECEIVABLE, loan), Money(-from_receivable, currency)))
    if from_suspended:
        lines.append(PostingLine(INTEREST_INCOME, Money(-from_suspended, currency)))
    if principal_paid + prepaid:
        lines.append(
            PostingLine(join_account(LOANS_RECEIVABLE, loan), Money(-(principal_paid + prepaid), currency))
        )
    posting = Posting(f"repay:{repayment_id}", business_date, f"repayment on {loan}", tuple(lines))
    # a payoff also pays the fees not yet due and the interest to the day: they belong to their components
    paid = {
        Component.PENALTY: parts[Component.PENALTY],
        Component.FEE: fee_paid,
        Component.INTEREST: interest_paid,
        Component.PRINCIPAL: principal_paid,
    }
    named = tuple((component.value, paid[component]) for component in chosen.order)
    return RepaymentApplied(
        repayment_id=repayment_id,
        loan_id=loan,
        amount=amount,
        parts=(*named, ("prepaid-principal", prepaid)),
        paid_off=paid_off,
        row=new_row,
        installments=new_installments,
        allocations=tuple(allocations),
        posting=posting,
    )


def reverse_repayment(
    row: LoanRow,
    installments: tuple[InstallmentState, ...],
    allocations: tuple[AllocationLine, ...],
    paid_off: bool,
) -> tuple[LoanRow, tuple[InstallmentState, ...]]:
    """The loan as if the repayment with ``allocations`` had not been applied (its catch-up accrual, if any,
    stays: that interest was earned). A reversed payoff reopens the loan."""
    items = list(installments)
    penalty = fee = interest = principal = suspended_part = 0
    due_fee = due_interest = due_principal = 0
    for line in allocations:
        if line.component == RECOVERY:
            return row, installments
        if line.component == Component.PENALTY.value:
            penalty += line.amount
            continue
        if line.component == SUSPENDED_INTEREST:
            suspended_part += line.amount
            continue
        item = items[line.installment - 1]
        fallen = line.installment < row.period_number
        if line.component == WAIVED_INTEREST:
            items[line.installment - 1] = replace(item, waived_interest=item.waived_interest - line.amount)
            continue
        attribute = f"paid_{line.component}"
        items[line.installment - 1] = replace(item, **{attribute: getattr(item, attribute) - line.amount})
        if line.component == "fee":
            fee += line.amount
            due_fee += line.amount if fallen else 0
        elif line.component == "interest":
            interest += line.amount
            due_interest += line.amount if fallen else 0
        elif line.component == "principal":
            principal += line.amount
            due_principal += line.amount if fallen else 0
        else:
            raise InvariantError(f"unknown allocation component {line.component!r}")
    current_interest = interest - due_interest  # paid out of the current period's accrual (payoffs only)
    new_row = replace(
        row,
        status=LoanStatus.ACTIVE,
        penalty_outstanding=row.penalty_outstanding + penalty,
        fees_outstanding=row.fees_outstanding + fee,
        due_fee=row.due_fee + due_fee,
        due_interest=row.due_interest + due_interest,
        due_principal=row.due_principal + due_principal,
        principal_outstanding=row.principal_outstanding + principal,
        interest_receivable=row.interest_receivable + interest - suspended_part,
        interest_suspended=row.interest_suspended + suspended_part,
        accrued_in_period=row.accrued_in_period + (current_interest if paid_off else 0),
    )
    new_items = tuple(items)
    new_row = replace(new_row, overdue_since=_overdue_since(new_items, row.period_number))
    new_row.check()
    return new_row, new_items


def as_array_row(row: LoanRow) -> dict[str, object]:
    """``row`` as a plain mapping of its fields (for storage)."""
    return {name: getattr(row, name) for name in ROW_FIELDS}


def falling_due_for(
    book: Book, business_date: date, installments: Mapping[str, Sequence[InstallmentState]]
) -> FallingDue:
    """The :class:`FallingDue` arrays of ``book`` on ``business_date`` from each loan's installments (only
    loans falling due that day are looked up: a few per cent of a book)."""
    falling = no_falling_due(len(book))
    for index in np.flatnonzero(falling_due_mask(book, business_date.toordinal())).tolist():
        items = installments[str(book.loan_id[index])]
        number = int(book.period_number[index])
        current = items[number - 1]
        falling.principal[index] = current.unpaid_principal
        falling.interest[index] = current.unpaid_interest
        falling.fee[index] = current.unpaid_fee
        if number < len(items):
            falling.next_due[index] = items[number].due.toordinal()
            falling.next_interest[index] = items[number].interest
    return falling
