"""Product mechanics: BNPL monthly pay (statement, due day, interest-free days, bill conversion) and the
revolving line's daily interest.

BNPL (月付, DOMAIN.md): the statement is cut on ``statement_day`` (the 1st by default) and is due on
``due_day`` of the same month (the 8th). A purchase is billed on the first statement *after* the purchase day
(a purchase on the statement day itself waits for the next one), so a purchase on the 1st of a 31-day month
is interest-free for 38 days (37 in a 30-day month, 35 in February) and one on the last day of a month for 8.

Bill conversion (账单分期): a bill converted into 3, 6, 9 or 12 monthly installments pays its principal in
equal parts (split by :func:`fengkong.money.allocate`, so the parts add up to the bill) and a fee each month
of ``bill × monthly fee rate``, rounded half-even to the fen; the first installment falls due one month after
the bill's due date. Its annualised rate is computed by the IRR method over the dated flows
(:func:`fengkong.compliance.apr.annualised_rate`) and checked against the cap in force
(:func:`fengkong.compliance.caps.check_price`); a conversion above the cap is a :class:`ConversionRefused`
value, never offered.

Revolving line (随借随还): interest accrues daily on the day's closing balance at ``annual rate / 365``
(simple, actual/365 — the common display). :func:`daily_interest` carries what is below the fen exactly, so a
run of days charges ``⌊Σ balance × rate / 365⌋`` in total, never a fen more or less, and it is vectorised over
days (and over lines, one row each).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Final

import numpy as np
import numpy.typing as npt

from fengkong import bounds
from fengkong.compliance.caps import CapCheck, CapPolicy, check_price
from fengkong.domain.products import (
    CashFlow,
    DayCount,
    Installment,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
    Schedule,
)
from fengkong.errors import BoundExceededError, InputError
from fengkong.lending.rounding import round_fraction
from fengkong.lending.schedule import add_months
from fengkong.money import Money, allocate

CONVERSION_TERMS: Final = (3, 6, 9, 12)
REVOLVING_DAYS_PER_YEAR: Final = 365


@dataclass(frozen=True, slots=True)
class BnplCycle:
    """Statement and due day of a BNPL account (days of the month)."""

    statement_day: int = 1
    due_day: int = 8

    def __post_init__(self) -> None:
        if not 1 <= self.statement_day <= 28:
            raise InputError("must be between 1 and 28", field="statement_day")
        if not self.statement_day < self.due_day <= 28:
            raise InputError("must be after the statement day and at most 28", field="due_day")

    def statement_for(self, purchase_on: date) -> date:
        """The statement date that bills a purchase made on ``purchase_on``."""
        this_month = purchase_on.replace(day=self.statement_day)
        return this_month if purchase_on < this_month else add_months(this_month, 1)

    def due_for(self, purchase_on: date) -> date:
        return self.statement_for(purchase_on).replace(day=self.due_day)

    def interest_free_days(self, purchase_on: date) -> int:
        """Days from the purchase to the due date of its bill."""
        return (self.due_for(purchase_on) - purchase_on).days


@dataclass(frozen=True, slots=True)
class BillConversion:
    schedule: Schedule
    monthly_fee_rate: Decimal
    fee_total: int
    check: CapCheck


@dataclass(frozen=True, slots=True)
class ConversionRefused:
    """An expected outcome: the conversion would be priced above the cap in force."""

    bill: Money
    installments: int
    check: CapCheck
    reason: str


def convert_bill(
    bill: Money,
    bill_due_on: date,
    installments: int,
    monthly_fee_rate: Decimal,
    policy: CapPolicy,
    product: str = ProductKind.BNPL.value,
) -> BillConversion | ConversionRefused:
    """Convert ``bill`` (due on ``bill_due_on``) into ``installments`` monthly installments with a fee."""
    if installments not in CONVERSION_TERMS:
        raise InputError(f"must be one of {list(CONVERSION_TERMS)}", field="installments")
    if bill.amount_minor <= 0:
        raise InputError("must be more than zero", field="bill")
    if not isinstance(monthly_fee_rate, Decimal) or monthly_fee_rate < 0 or monthly_fee_rate >= 1:
        raise InputError("must be a Decimal fraction between 0 and 1", field="monthly_fee_rate")
    principal_parts = allocate(bill.amount_minor, [1] * installments)
    fee_each = round_fraction(Fraction(bill.amount_minor) * Fraction(monthly_fee_rate), "ROUND_HALF_EVEN")
    balance = bill.amount_minor
    lines: list[Installment] = []
    for number, principal in enumerate(principal_parts, start=1):
        balance -= principal
        lines.append(
            Installment(
                number=number,
                due=add_months(bill_due_on, number),
                principal=Money(principal, bill.currency),
                interest=Money.zero(bill.currency),
                fee=Money(fee_each, bill.currency),
                balance_after=Money(balance, bill.currency),
            )
        )
    schedule = Schedule(principal=bill, disbursed_on=bill_due_on, installments=tuple(lines))
    flows = [CashFlow(bill_due_on, -bill)] + [CashFlow(line.due, line.total) for line in lines]
    check = check_price(policy, product, bill_due_on, flows, fees=())
    if not check.allowed:
        return ConversionRefused(
            bill,
            installments,
            check,
            f"annualised rate {check.rate_pct} % is above the cap {check.cap_pct} %",
        )
    return BillConversion(schedule, monthly_fee_rate, fee_each * installments, check)


def revolving_terms(annual_rate: Decimal) -> ProductTerms:
    """The terms of a revolving line at ``annual_rate`` (no fixed schedule)."""
    return ProductTerms(
        product=ProductKind.REVOLVING,
        annual_rate=annual_rate,
        method=RepaymentMethod.REVOLVING,
        day_count=DayCount.ACTUAL_365,
    )


def daily_interest(
    balances_fen: npt.NDArray[np.int64], annual_rate: Decimal, carry: npt.NDArray[np.int64] | None = None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Interest per day on closing balances, exact to the fen with the remainder carried.

    ``balances_fen`` has one row per line and one column per day (a 1-D array is one line). Returns the fen
    charged each day and the carry after the last day (a numerator over ``rate denominator × 365``; pass it
    back in to continue). Balances must not be negative (a credit balance earns nothing).
    """
    balances = np.atleast_2d(np.asarray(balances_fen, dtype=np.int64))
    if balances.size and int(balances.min()) < 0:
        raise InputError("balances must not be negative", field="balances_fen")
    if not isinstance(annual_rate, Decimal) or annual_rate < 0 or annual_rate > 1:
        raise InputError("must be a Decimal fraction between 0 and 1", field="annual_rate")
    rate = Fraction(annual_rate)
    if rate.denominator > 10**bounds.penalty_rate_decimals_max:
        raise InputError(
            f"at most {bounds.penalty_rate_decimals_max} decimals (exact daily interest stays in int64)",
            field="annual_rate",
        )
    if balances.size and int(balances.max()) > bounds.loan_principal_fen_max:
        raise InputError(
            f"above loan_principal_fen_max={bounds.loan_principal_fen_max}", field="balances_fen"
        )
    if balances.shape[1] > bounds.cob_days_per_call_max:
        raise BoundExceededError("cob_days_per_call_max", bounds.cob_days_per_call_max, balances.shape[1])
    denominator = rate.denominator * REVOLVING_DAYS_PER_YEAR
    start = (
        np.zeros(balances.shape[0], dtype=np.int64) if carry is None else np.asarray(carry, dtype=np.int64)
    )
    numerators = np.cumsum(balances * rate.numerator, axis=1) + start[:, None]
    charged_to_date = numerators // denominator
    charged = np.diff(charged_to_date, axis=1, prepend=np.zeros((balances.shape[0], 1), dtype=np.int64))
    new_carry = numerators[:, -1] - charged_to_date[:, -1] * denominator if balances.shape[1] else start
    shaped = charged if np.ndim(balances_fen) == 2 else charged[0]
    return shaped.astype(np.int64), new_carry.astype(np.int64)


def days_in_month(on: date) -> int:
    return calendar.monthrange(on.year, on.month)[1]
