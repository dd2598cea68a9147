"""Product terms, cash flows, schedules and offers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from fengkong.errors import InputError
from fengkong.money import Money


class ProductKind(StrEnum):
    BNPL = "bnpl"  # monthly pay: statement day, due day, interest-free period
    REVOLVING = "revolving"  # borrow any time, repay any time, daily interest
    INSTALLMENT = "installment"
    MERCHANT = "merchant"  # term loan or revenue-based repayment
    GREEN = "green"  # discounted, tagged for portfolio reporting


class RepaymentMethod(StrEnum):
    EQUAL_INSTALLMENT = "equal-installment"  # 等额本息
    EQUAL_PRINCIPAL = "equal-principal"  # 等额本金
    INTEREST_ONLY = "interest-only"  # 先息后本 (bullet)
    FLAT = "flat"
    REVENUE_SHARE = "revenue-share"  # merchant: a share of daily sales
    REVOLVING = "revolving"  # no fixed schedule


class DayCount(StrEnum):
    THIRTY_360 = "30/360"
    ACTUAL_365 = "actual/365"
    ACTUAL_360 = "actual/360"
    ACTUAL_ACTUAL = "actual/actual"


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class Fee:
    """A fee charged with a loan. Every fee counts in the annualised rate; none is netted from principal."""

    name: str
    amount: Money
    due: date


@dataclass(frozen=True, slots=True)
class ProductTerms:
    """What a product promises: rate, method, day count, term, grace, BNPL days, tags."""

    product: ProductKind
    annual_rate: Decimal  # nominal, as a fraction: Decimal("0.18") is 18 %
    method: RepaymentMethod
    day_count: DayCount
    frequency: Frequency = Frequency.MONTHLY
    installments: int = 1
    principal_grace_periods: int = 0
    interest_grace_periods: int = 0
    interest_free_periods: int = 0
    statement_day: int | None = None  # BNPL: day of month of the statement
    due_day: int | None = None  # BNPL: day of month repayment is due
    penalty_rate_annual: Decimal | None = None
    fees: tuple[Fee, ...] = ()
    tags: frozenset[str] = frozenset()  # e.g. {"green:e-bike"}
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if not isinstance(self.annual_rate, Decimal) or self.annual_rate < 0:
            raise InputError("must be a non-negative Decimal fraction", field="annual_rate")
        if self.installments < 1:
            raise InputError("must be at least 1", field="installments")
        for name in ("principal_grace_periods", "interest_grace_periods", "interest_free_periods"):
            value = getattr(self, name)
            if value < 0 or value >= self.installments + (1 if name == "interest_free_periods" else 0):
                raise InputError(f"must be between 0 and installments - 1, got {value}", field=name)


@dataclass(frozen=True, slots=True)
class CashFlow:
    """One dated amount from the borrower's point of view: negative is paid out to the borrower."""

    on: date
    amount: Money


@dataclass(frozen=True, slots=True)
class Installment:
    """One line of a schedule."""

    number: int
    due: date
    principal: Money
    interest: Money
    fee: Money
    balance_after: Money

    @property
    def total(self) -> Money:
        return self.principal + self.interest + self.fee


@dataclass(frozen=True, slots=True)
class Schedule:
    """A repayment schedule exact to the fen: principal repaid equals the amount disbursed."""

    principal: Money
    disbursed_on: date
    installments: tuple[Installment, ...]

    def __post_init__(self) -> None:
        repaid = sum((line.principal.amount_minor for line in self.installments), 0)
        if self.installments and repaid != self.principal.amount_minor:
            raise InputError(
                f"principal repaid {repaid} differs from principal {self.principal.amount_minor}",
                field="installments",
            )

    def cash_flows(self) -> tuple[CashFlow, ...]:
        """The borrower's cash flows: the disbursement (negative) then every installment."""
        flows = [CashFlow(self.disbursed_on, -self.principal)]
        flows.extend(CashFlow(line.due, line.total) for line in self.installments)
        return tuple(flows)


@dataclass(frozen=True, slots=True)
class AnnualisedRate:
    """The disclosed price: IRR-based annual rate, how it was computed, and its label."""

    annual_rate_pct: Decimal
    method: str  # "irr-periodic" or "irr-dated-actual/365"; a simple figure is labelled "simple"
    periodic_irr: Decimal | None = None
    effective_annual_rate_pct: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Offer:
    """What the lender offers one party: terms, line or amount, schedule, disclosed rate, validity."""

    offer_id: str
    party_id: str
    terms: ProductTerms
    amount: Money  # loan principal, or the credit line for BNPL/revolving
    annualised_rate: AnnualisedRate
    valid_from: datetime
    valid_until: datetime
    schedule: Schedule | None = None  # None for lines (no fixed schedule until a draw)
    versions: tuple[tuple[str, str], ...] = field(default=())  # (component, version) that made it

    def __post_init__(self) -> None:
        if self.valid_until <= self.valid_from:
            raise InputError("must be after valid_from", field="valid_until")
