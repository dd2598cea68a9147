"""Statements: the BNPL monthly bill (账单) and its conversion into installments, and installment-loan
statements (amount due and its breakdown).

BNPL (月付, DOMAIN.md). A statement is cut on the cycle's statement day (:class:`~fengkong.lending.products.
BnplCycle`: the 1st by default) and is due on its due day (the 8th). It bills the purchases made from the
previous statement day (included) to this one (excluded) — a purchase on the statement day itself waits for
the next bill, so a purchase right after a statement is interest-free for up to 38 days — and shows, each
as its own line:

* the new purchases, each with its interest-free days (purchase to due date);
* what is still unpaid of the previous bill (overdue since its due date), and the overdue interest on it:
  simple daily interest (actual/365) from the previous due date to this statement date, at the contract's
  overdue rate held to the cap in force (:func:`fengkong.lending.servicing.penalty_rate_in_force` →
  :func:`fengkong.compliance.caps.check_price`), rounded down to the fen;
* installments of earlier converted bills falling due on this due date (principal and fee);
* the total due, and the minimum due (:class:`MinimumDuePolicy`): a share of the new purchases (10 % by
  default) plus everything that is already owed in full — overdue amounts, overdue interest and
  installments due — and never less than a floor or more than the total.

Bill conversion (账单分期). :func:`convert_statement` converts the statement's new purchases into 3, 6, 9 or
12 monthly installments with a monthly fee through :func:`fengkong.lending.products.convert_bill`, which asks
``compliance`` for the annualised rate (IRR over the dated flows) and the cap check; above the cap the answer
is a :class:`~fengkong.lending.products.ConversionRefused` value and nothing is converted.
:func:`apply_conversion` gives the statement as it stands after a conversion: the converted purchases leave
this bill, and the installments fall due on later statements.

Installment loans. :func:`loan_statement` states, on a date, the next installment falling due (principal,
interest, fee still unpaid), every earlier installment still unpaid (overdue), the penalty interest owed,
the amount due in total and the principal that will remain once it is paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Final

from fengkong import bounds
from fengkong.compliance.caps import CapCheck, CapPolicy
from fengkong.domain.products import ProductKind, Schedule
from fengkong.errors import BoundExceededError, InputError
from fengkong.lending.products import BillConversion, BnplCycle, ConversionRefused, convert_bill
from fengkong.lending.rounding import round_fraction
from fengkong.lending.schedule import add_months
from fengkong.lending.servicing import InstallmentState, penalty_rate_in_force
from fengkong.money import Money

BASIS_POINTS_WHOLE: Final = 10_000
OVERDUE_DAYS_PER_YEAR: Final = 365


@dataclass(frozen=True, slots=True)
class Purchase:
    """One BNPL purchase: its ID, the day it was made and its amount."""

    purchase_id: str
    on: date
    amount: Money


@dataclass(frozen=True, slots=True)
class MinimumDuePolicy:
    """The minimum due: ``share_bp`` of the new purchases plus everything owed in full, at least
    ``floor_fen`` (when the total is larger) and never more than the total."""

    share_bp: int = 1_000
    floor_fen: int = 1_000

    def __post_init__(self) -> None:
        if isinstance(self.share_bp, bool) or not isinstance(self.share_bp, int):
            raise InputError("must be a whole number of basis points", field="share_bp")
        if not 0 <= self.share_bp <= BASIS_POINTS_WHOLE:
            raise InputError(f"must be between 0 and {BASIS_POINTS_WHOLE}", field="share_bp")
        if isinstance(self.floor_fen, bool) or not isinstance(self.floor_fen, int) or self.floor_fen < 0:
            raise InputError("must be a non-negative whole number of fen", field="floor_fen")


@dataclass(frozen=True, slots=True)
class PurchaseLine:
    purchase_id: str
    on: date
    amount: Money
    interest_free_days: int  # from the purchase to the statement's due date


@dataclass(frozen=True, slots=True)
class InstallmentDue:
    """An installment of a converted bill falling due with this statement."""

    schedule_start: date  # the converted bill's due date, which identifies the conversion
    number: int
    principal: Money
    fee: Money


@dataclass(frozen=True, slots=True)
class BnplStatement:
    """One monthly bill. Amounts are :class:`~fengkong.money.Money`; ``total_due`` is their sum."""

    cycle_start: date  # the previous statement date: purchases from this day (included)
    statement_on: date  # ... to this day (excluded)
    due_on: date
    purchases: tuple[PurchaseLine, ...]
    new_purchases: Money
    converted: Money  # the part of the new purchases converted into installments
    previous_unpaid: Money
    overdue_interest: Money
    overdue_rate_check: CapCheck | None
    installments_due: tuple[InstallmentDue, ...]
    total_due: Money
    minimum_due: Money

    @property
    def installments_due_total(self) -> Money:
        currency = self.total_due.currency
        return sum((line.principal + line.fee for line in self.installments_due), Money.zero(currency))

    @property
    def convertible(self) -> Money:
        """What a conversion may still take: the new purchases not yet converted."""
        return self.new_purchases - self.converted


def _minimum(policy: MinimumDuePolicy, convertible: int, owed_in_full: int, total: int) -> int:
    share = round_fraction(Fraction(convertible * policy.share_bp, BASIS_POINTS_WHOLE), "ROUND_UP")
    return min(total, max(policy.floor_fen, share + owed_in_full))


def bnpl_statement(
    cycle: BnplCycle,
    statement_on: date,
    purchases: Sequence[Purchase],
    *,
    previous_unpaid: Money,
    conversions: Sequence[Schedule] = (),
    overdue_rate_annual: Decimal | None = None,
    cap_policy: CapPolicy | None = None,
    minimum: MinimumDuePolicy | None = None,
    currency: str = "CNY",
) -> BnplStatement:
    """The statement cut on ``statement_on`` (a statement day of ``cycle``).

    ``purchases`` may hold the account's other purchases too: only those of this cycle are billed.
    ``previous_unpaid`` is what is left unpaid of the previous bill (overdue since its due date);
    ``conversions`` are the schedules of earlier converted bills; overdue interest needs
    ``overdue_rate_annual`` and the ``cap_policy`` it is checked against.
    """
    if statement_on.day != cycle.statement_day:
        raise InputError(
            f"a statement is cut on day {cycle.statement_day} of the month", field="statement_on"
        )
    if len(purchases) > bounds.statement_purchases_max:
        raise BoundExceededError("statement_purchases_max", bounds.statement_purchases_max, len(purchases))
    if previous_unpaid.currency != currency or previous_unpaid.is_negative():
        raise InputError(f"must be a non-negative amount in {currency}", field="previous_unpaid")
    chosen_minimum = minimum if minimum is not None else MinimumDuePolicy()
    cycle_start = add_months(statement_on, -1)
    due_on = statement_on.replace(day=cycle.due_day)
    lines: list[PurchaseLine] = []
    for index, purchase in enumerate(purchases):
        if purchase.amount.currency != currency or purchase.amount.amount_minor <= 0:
            raise InputError(f"must be a positive amount in {currency}", field=f"purchases[{index}].amount")
        if cycle_start <= purchase.on < statement_on:
            lines.append(
                PurchaseLine(purchase.purchase_id, purchase.on, purchase.amount, (due_on - purchase.on).days)
            )
    lines.sort(key=lambda line: (line.on, line.purchase_id))
    new_purchases = sum(line.amount.amount_minor for line in lines)
    overdue_interest = 0
    check: CapCheck | None = None
    if previous_unpaid.amount_minor:
        if overdue_rate_annual is None or cap_policy is None:
            raise InputError(
                "an unpaid previous bill needs the overdue rate and the cap policy to price it",
                field="overdue_rate_annual",
            )
        previous_due = cycle_start.replace(day=cycle.due_day)
        days = max((statement_on - previous_due).days, 0)
        rate, check = penalty_rate_in_force(
            cap_policy, ProductKind.BNPL.value, statement_on, overdue_rate_annual
        )
        overdue_interest = round_fraction(
            Fraction(previous_unpaid.amount_minor) * Fraction(rate) * days / OVERDUE_DAYS_PER_YEAR,
            "ROUND_DOWN",
        )
    due_lines: list[InstallmentDue] = []
    for conversion in conversions:
        for line in conversion.installments:
            if line.due == due_on:
                due_lines.append(
                    InstallmentDue(conversion.disbursed_on, line.number, line.principal, line.fee)
                )
    installments_total = sum(line.principal.amount_minor + line.fee.amount_minor for line in due_lines)
    owed_in_full = previous_unpaid.amount_minor + overdue_interest + installments_total
    total = new_purchases + owed_in_full
    return BnplStatement(
        cycle_start=cycle_start,
        statement_on=statement_on,
        due_on=due_on,
        purchases=tuple(lines),
        new_purchases=Money(new_purchases, currency),
        converted=Money.zero(currency),
        previous_unpaid=previous_unpaid,
        overdue_interest=Money(overdue_interest, currency),
        overdue_rate_check=check,
        installments_due=tuple(due_lines),
        total_due=Money(total, currency),
        minimum_due=Money(_minimum(chosen_minimum, new_purchases, owed_in_full, total), currency),
    )


def convert_statement(
    statement: BnplStatement,
    installments: int,
    monthly_fee_rate: Decimal,
    policy: CapPolicy,
    amount: Money | None = None,
) -> BillConversion | ConversionRefused:
    """Offer to convert ``amount`` (default: everything still convertible) of the statement's new purchases
    into ``installments`` monthly installments with a monthly fee; priced and cap-checked by
    :func:`~fengkong.lending.products.convert_bill`, refused as a value when over the cap."""
    chosen = amount if amount is not None else statement.convertible
    if chosen.currency != statement.total_due.currency:
        raise InputError("in another currency than the statement", field="amount")
    if chosen.amount_minor <= 0 or chosen > statement.convertible:
        raise InputError(
            f"must be more than zero and at most the {statement.convertible.format()} still convertible "
            "(only new purchases convert; overdue amounts and installments do not)",
            field="amount",
        )
    return convert_bill(
        chosen, statement.due_on, installments, monthly_fee_rate, policy, ProductKind.BNPL.value
    )


def apply_conversion(
    statement: BnplStatement, conversion: BillConversion, minimum: MinimumDuePolicy | None = None
) -> BnplStatement:
    """The statement once ``conversion`` (of this statement's purchases) is accepted: the converted amount
    leaves this bill; its installments fall due on the next statements (pass its schedule in
    ``conversions``)."""
    converted = conversion.schedule.principal
    if conversion.schedule.disbursed_on != statement.due_on:
        raise InputError("the conversion is of another statement", field="conversion")
    if converted > statement.convertible:
        raise InputError("converts more than the statement's convertible purchases", field="conversion")
    chosen_minimum = minimum if minimum is not None else MinimumDuePolicy()
    total = statement.total_due - converted
    owed_in_full = (
        statement.previous_unpaid.amount_minor
        + statement.overdue_interest.amount_minor
        + statement.installments_due_total.amount_minor
    )
    convertible = statement.convertible - converted
    minimum_due = _minimum(chosen_minimum, convertible.amount_minor, owed_in_full, total.amount_minor)
    return replace(
        statement,
        converted=statement.converted + converted,
        total_due=total,
        minimum_due=Money(minimum_due, total.currency),
    )


# -- installment loans -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AmountsDue:
    principal: int = 0
    interest: int = 0
    fee: int = 0

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee


@dataclass(frozen=True, slots=True)
class LoanStatement:
    """What an installment-loan borrower owes, stated on ``statement_on`` (amounts in fen)."""

    loan_id: str
    statement_on: date
    current_number: int | None  # the next installment falling due on or after the statement date
    current_due_on: date | None
    current: AmountsDue
    overdue_numbers: tuple[int, ...]
    overdue: AmountsDue
    penalty: int
    principal_outstanding: int  # all unpaid principal, due or not
    principal_after: int  # what remains once the amount due is paid

    @property
    def amount_due(self) -> int:
        return self.current.total + self.overdue.total + self.penalty


def loan_statement(
    loan_id: str, installments: Sequence[InstallmentState], statement_on: date, penalty_fen: int = 0
) -> LoanStatement:
    """The statement of an installment loan on ``statement_on`` from its serviced installments
    (:class:`~fengkong.lending.servicing.InstallmentState`) and the penalty interest owed."""
    if isinstance(penalty_fen, bool) or not isinstance(penalty_fen, int) or penalty_fen < 0:
        raise InputError("must be a non-negative whole number of fen", field="penalty_fen")
    overdue_items = [item for item in installments if item.due < statement_on and item.unpaid > 0]
    upcoming = [item for item in installments if item.due >= statement_on and item.unpaid > 0]
    current = min(upcoming, key=lambda item: item.due) if upcoming else None
    overdue = AmountsDue(
        sum(item.unpaid_principal for item in overdue_items),
        sum(item.unpaid_interest for item in overdue_items),
        sum(item.unpaid_fee for item in overdue_items),
    )
    current_due = (
        AmountsDue(current.unpaid_principal, current.unpaid_interest, current.unpaid_fee)
        if current is not None
        else AmountsDue()
    )
    outstanding = sum(item.unpaid_principal for item in installments)
    return LoanStatement(
        loan_id=loan_id,
        statement_on=statement_on,
        current_number=current.number if current is not None else None,
        current_due_on=current.due if current is not None else None,
        current=current_due,
        overdue_numbers=tuple(item.number for item in overdue_items),
        overdue=overdue,
        penalty=penalty_fen,
        principal_outstanding=outstanding,
        principal_after=outstanding - overdue.principal - current_due.principal,
    )
