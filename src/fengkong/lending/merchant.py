"""Merchant loans: term loans on the installment schedules, and revenue-based repayment from daily sales.

Term loans (:func:`merchant_term_loan`) are installment loans with ``ProductKind.MERCHANT`` terms: the
schedule is :func:`fengkong.lending.schedule.build_schedule`'s and the price is checked like every other
(:func:`fengkong.compliance.caps.check_price` on the schedule and every fee); above the cap the answer is a
:class:`MerchantLoanRefused` value.

Revenue-based repayment (:class:`RevenueShareTerms`). The merchant receives the full principal and repays a
fixed **total repayable** (principal plus a financing charge agreed up front) out of its sales:

* each day, ``share_bp`` of that day's sales is remitted, rounded down to the fen, never more than what is
  left (so the total is reached exactly, never passed);
* a **minimum per period**: on the last day of each period of ``period_days`` days, if the period's
  remittances fell short of ``minimum_per_period``, the difference is collected as a top-up (again never
  more than what is left) — a slow month still pays down the loan;
* a **cap on the term**: whatever is left on day ``term_days_max`` falls due that day.

Day *d* is the *d*-th day after disbursement (``start + d days``); ``daily_sales[d - 1]`` are its sales in
fen. Every remittance is split into principal and financing charge exactly: after a cumulative
``C`` fen repaid of a total ``T``, the principal repaid is ``⌊C × P / T⌋``, so the parts of each remittance
are integers, the principal parts add up to ``P`` and the charges to ``T − P`` when the loan is repaid.

Its price: the financing charge is the whole cost of credit, so the annualised rate is the dated IRR
(actual/365, :func:`fengkong.compliance.apr.dated_rate`) over the disbursement and the remittances that the
*expected* daily sales produce (:func:`price_revenue_share`), checked against the merchant cap in force. The
faster the sales, the sooner the charge is paid and the higher that rate: the disclosure is only as good as
the sales forecast, which the caller states (and should state conservatively fast, so the rate shown is not
understated).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Final

from fengkong import bounds
from fengkong.compliance.apr import dated_rate
from fengkong.compliance.caps import CapCheck, CapPolicy, check_price
from fengkong.domain.products import (
    AnnualisedRate,
    CashFlow,
    DayCount,
    Fee,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
    Schedule,
)
from fengkong.errors import InputError, InvariantError
from fengkong.lending.rounding import round_fraction
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money, Rounding

BASIS_POINTS_WHOLE: Final = 10_000
SALES_SHARE_ROUNDING: Final[Rounding] = "ROUND_DOWN"  # a day's share never takes a fraction of a fen more


# -- term loans ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MerchantTermLoan:
    terms: ProductTerms
    schedule: Schedule
    check: CapCheck


@dataclass(frozen=True, slots=True)
class MerchantLoanRefused:
    """An expected outcome: the loan would be priced above the cap in force."""

    check: CapCheck
    reason: str


def merchant_term_loan(
    principal: Money,
    annual_rate: Decimal,
    installments: int,
    disbursed_on: date,
    policy: CapPolicy,
    *,
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT,
    day_count: DayCount = DayCount.ACTUAL_365,
    fees: Sequence[Fee] = (),
    rounding: Rounding,
) -> MerchantTermLoan | MerchantLoanRefused:
    """A merchant term loan: its terms, its schedule and its price checked against the cap."""
    terms = ProductTerms(
        product=ProductKind.MERCHANT,
        annual_rate=annual_rate,
        method=method,
        day_count=day_count,
        installments=installments,
        fees=tuple(fees),
        currency=principal.currency,
    )
    schedule = build_schedule(terms, principal, disbursed_on, rounding=rounding)
    check = check_price(policy, ProductKind.MERCHANT.value, disbursed_on, schedule, fees=tuple(fees))
    if not check.allowed:
        return MerchantLoanRefused(
            check, f"annualised rate {check.rate_pct} % is above the cap {check.cap_pct} %"
        )
    return MerchantTermLoan(terms, schedule, check)


# -- revenue-based repayment ---------------------------------------------------------------------------------


class RemittanceKind(StrEnum):
    SALES_SHARE = "sales-share"
    MINIMUM_TOP_UP = "minimum-top-up"
    TERM_END = "term-end"


@dataclass(frozen=True, slots=True)
class RevenueShareTerms:
    """A revenue-based merchant loan: principal, total repayable, the share of daily sales, the minimum per
    period and the longest term."""

    principal: Money
    total_repayable: Money
    share_bp: int
    minimum_per_period: Money
    period_days: int = 30
    term_days_max: int = 180

    def __post_init__(self) -> None:
        currency = self.principal.currency
        if self.principal.amount_minor <= 0 or self.principal.amount_minor > bounds.loan_principal_fen_max:
            raise InputError(
                f"must be more than zero and at most loan_principal_fen_max={bounds.loan_principal_fen_max}",
                field="principal",
            )
        if self.total_repayable.currency != currency or self.total_repayable < self.principal:
            raise InputError(f"must be in {currency} and at least the principal", field="total_repayable")
        if self.total_repayable.amount_minor > 2 * bounds.loan_principal_fen_max:
            raise InputError("more than twice the largest principal", field="total_repayable")
        if isinstance(self.share_bp, bool) or not isinstance(self.share_bp, int):
            raise InputError("must be a whole number of basis points", field="share_bp")
        if not 0 < self.share_bp <= BASIS_POINTS_WHOLE:
            raise InputError(f"must be between 1 and {BASIS_POINTS_WHOLE}", field="share_bp")
        if self.minimum_per_period.currency != currency or self.minimum_per_period.is_negative():
            raise InputError(f"must be a non-negative amount in {currency}", field="minimum_per_period")
        for name in ("period_days", "term_days_max"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError("must be a whole number of days, at least 1", field=name)
        if self.term_days_max > bounds.revenue_share_term_days_max:
            raise InputError(
                f"at most revenue_share_term_days_max={bounds.revenue_share_term_days_max}",
                field="term_days_max",
            )
        if self.period_days > self.term_days_max:
            raise InputError("a period cannot be longer than the term", field="period_days")

    @property
    def financing_charge(self) -> Money:
        return self.total_repayable - self.principal


@dataclass(frozen=True, slots=True)
class Remittance:
    """One amount collected on ``on``: its kind, the day's sales (0 for a top-up or the term end), the
    amount and its principal and financing-charge parts, and what is left after it (fen)."""

    day: int
    on: date
    kind: RemittanceKind
    sales: int
    amount: int
    principal: int
    charge: int
    remaining_after: int


@dataclass(frozen=True, slots=True)
class RevenueShareRun:
    """The remittances the given sales produce. ``completed_on`` is None while something is left (the sales
    given ran out before the total was reached and before the term ended)."""

    terms: RevenueShareTerms
    start: date
    remittances: tuple[Remittance, ...]
    repaid: int
    remaining: int
    completed_on: date | None

    def cash_flows(self) -> tuple[CashFlow, ...]:
        """The merchant's flows: the disbursement (negative) and one flow per remittance day."""
        currency = self.terms.principal.currency
        by_day: dict[date, int] = {}
        for item in self.remittances:
            by_day[item.on] = by_day.get(item.on, 0) + item.amount
        flows = [CashFlow(self.start, -self.terms.principal)]
        flows += [CashFlow(on, Money(amount, currency)) for on, amount in sorted(by_day.items())]
        return tuple(flows)


def _principal_to_date(repaid: int, terms: RevenueShareTerms) -> int:
    return int(Fraction(repaid * terms.principal.amount_minor, terms.total_repayable.amount_minor))


def revenue_share_remittances(
    terms: RevenueShareTerms, start: date, daily_sales: Sequence[int]
) -> RevenueShareRun:
    """Run the repayment over ``daily_sales`` (fen per day from the day after ``start``)."""
    if len(daily_sales) > terms.term_days_max:
        raise InputError(
            f"{len(daily_sales)} days of sales for a term of {terms.term_days_max} days", field="daily_sales"
        )
    total = terms.total_repayable.amount_minor
    repaid = 0
    period_paid = 0
    remittances: list[Remittance] = []
    completed_on: date | None = None

    def collect(day: int, kind: RemittanceKind, sales: int, amount: int) -> None:
        nonlocal repaid, period_paid
        if amount <= 0:
            return
        before = _principal_to_date(repaid, terms)
        repaid += amount
        period_paid += amount
        principal = _principal_to_date(repaid, terms) - before
        remittances.append(
            Remittance(day, start + timedelta(days=day), kind, sales, amount, principal, amount - principal,
                       total - repaid)
        )  # fmt: skip

    for day, sales in enumerate(daily_sales, start=1):
        if isinstance(sales, bool) or not isinstance(sales, int) or sales < 0:
            raise InputError("must be a non-negative whole number of fen", field=f"daily_sales[{day - 1}]")
        share = round_fraction(Fraction(sales * terms.share_bp, BASIS_POINTS_WHOLE), SALES_SHARE_ROUNDING)
        collect(day, RemittanceKind.SALES_SHARE, sales, min(share, total - repaid))
        if day % terms.period_days == 0:
            shortfall = terms.minimum_per_period.amount_minor - period_paid
            collect(day, RemittanceKind.MINIMUM_TOP_UP, 0, min(max(shortfall, 0), total - repaid))
            period_paid = 0
        if day == terms.term_days_max:
            collect(day, RemittanceKind.TERM_END, 0, total - repaid)
        if repaid == total:
            completed_on = start + timedelta(days=day)
            break
    principal_paid = sum(item.principal for item in remittances)
    if repaid > total or principal_paid != _principal_to_date(repaid, terms):
        raise InvariantError("a revenue-share run paid more than its total or lost principal")
    if completed_on is not None and principal_paid != terms.principal.amount_minor:
        raise InvariantError("a repaid revenue-share loan did not repay its principal exactly")
    return RevenueShareRun(terms, start, tuple(remittances), repaid, total - repaid, completed_on)


@dataclass(frozen=True, slots=True)
class RevenueSharePriced:
    run: RevenueShareRun
    rate: AnnualisedRate
    check: CapCheck


@dataclass(frozen=True, slots=True)
class RevenueShareRefused:
    """An expected outcome: on the expected sales the loan would cost more than the cap allows."""

    run: RevenueShareRun
    check: CapCheck
    reason: str


def price_revenue_share(
    terms: RevenueShareTerms, start: date, expected_daily_sales: Sequence[int], policy: CapPolicy
) -> RevenueSharePriced | RevenueShareRefused:
    """The annualised rate of the loan on the expected sales (dated IRR over the disbursement and the
    remittances) and its cap check. The expected sales must reach the total or cover the whole term."""
    run = revenue_share_remittances(terms, start, expected_daily_sales)
    if run.completed_on is None:
        raise InputError(
            f"the expected sales cover {len(expected_daily_sales)} days and leave {run.remaining} fen "
            f"unpaid: give the sales of every day up to the term's end ({terms.term_days_max} days)",
            field="expected_daily_sales",
        )
    rate = dated_rate(run.cash_flows())
    check = check_price(policy, ProductKind.MERCHANT.value, start, rate, fees=())
    if not check.allowed:
        return RevenueShareRefused(
            run,
            check,
            f"annualised rate {check.rate_pct} % is above the cap {check.cap_pct} % on the expected sales",
        )
    return RevenueSharePriced(run, rate, check)
