"""Servicing, pure: acceptance, disbursement, the vectorised close of business, repayments and reversals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.compliance.caps import default_cap_policy
from fengkong.domain.products import (
    AnnualisedRate,
    DayCount,
    Fee,
    Offer,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
)
from fengkong.errors import InputError
from fengkong.ledger.accounts import STANDARD_CHART
from fengkong.ledger.journal import InMemoryJournal
from fengkong.lending.allocation import AllocationOrder, Component, Strategy, split
from fengkong.lending.close_of_business import Book, LoanStatus, close_day, day_postings
from fengkong.lending.delinquency import AssetClass, Bucket, DelinquencyPolicy, buckets, classify
from fengkong.lending.schedule import build_schedule
from fengkong.lending.servicing import (
    Accepted,
    NewLoan,
    OfferNotAccepted,
    RepaymentApplied,
    RepaymentRefused,
    accept_offer,
    apply_repayment,
    book_of,
    falling_due_for,
    payoff_quote,
    penalty_rate_in_force,
    reverse_repayment,
    row_of,
)
from fengkong.money import Money
from tests.strategies import allocation_owed, installment_products, repayment_behaviours

START = date(2026, 1, 31)
T0 = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)
POLICY = DelinquencyPolicy()


def make_offer(terms: ProductTerms, principal: int = 1_000_000, start: date = START) -> Offer:
    schedule = build_schedule(terms, Money(principal), start, rounding="ROUND_HALF_EVEN")
    return Offer(
        "OF-1", "P-1", terms, Money(principal), AnnualisedRate(Decimal("18"), "irr-periodic"),
        T0, T0 + timedelta(days=3), schedule,
    )  # fmt: skip


def standard_terms(**changes: object) -> ProductTerms:
    values: dict[str, object] = {
        "product": ProductKind.INSTALLMENT,
        "annual_rate": Decimal("0.18"),
        "method": RepaymentMethod.EQUAL_INSTALLMENT,
        "day_count": DayCount.ACTUAL_365,
        "installments": 6,
        "penalty_rate_annual": Decimal("0.18"),
    }
    values.update(changes)
    return ProductTerms(**values)  # type: ignore[arg-type]


class Servicer:
    """One or many loans in memory, driven day by day through the same functions the service uses."""

    def __init__(self, loans: list[NewLoan], policy: DelinquencyPolicy = POLICY) -> None:
        self.book: Book = book_of([loan.row for loan in loans])
        self.items = {loan.loan_id: loan.installments for loan in loans}
        self.journal = InMemoryJournal(STANDARD_CHART)
        self.journal.post([loan.posting for loan in loans])
        self.policy = policy
        self.recognised = np.zeros(len(loans), dtype=np.int64)
        self.suspended = np.zeros(len(loans), dtype=np.int64)

    def close(self, day: date) -> None:
        falling = falling_due_for(self.book, day, self.items)
        self.book, movements = close_day(self.book, day, falling, self.policy)
        self.recognised += movements.interest_accrued
        self.suspended += movements.interest_suspended
        self.journal.post(day_postings(self.book, movements, day, "CNY"))

    def repay(
        self, index: int, repayment_id: str, amount: int, day: date
    ) -> RepaymentApplied | RepaymentRefused:
        row = row_of(self.book, index)
        outcome = apply_repayment(row, self.items[row.loan_id], repayment_id, amount, day, "CNY")
        if isinstance(outcome, RepaymentApplied):
            self.journal.post([outcome.posting])
            rows = [row_of(self.book, i) for i in range(len(self.book))]
            rows[index] = outcome.row
            self.book = book_of(rows)
            self.items[row.loan_id] = outcome.installments
        return outcome

    def balances(self) -> dict[str, int]:
        return {total.code: total.net_minor for total in self.journal.totals()}


def disbursed(terms: ProductTerms, principal: int = 1_000_000, start: date = START) -> NewLoan:
    outcome = accept_offer(make_offer(terms, principal, start), T0 + timedelta(hours=1), "LN-1", start)
    assert isinstance(outcome, Accepted)
    return outcome.loan


# -- acceptance and disbursement ----------------------------------------------------------------------------


def test_an_offer_is_accepted_only_inside_its_validity_window() -> None:
    offer = make_offer(standard_terms())
    late = accept_offer(offer, T0 + timedelta(days=3), "LN-1", START)
    early = accept_offer(offer, T0 - timedelta(seconds=1), "LN-1", START)
    assert late == OfferNotAccepted("OF-1", "expired", T0 + timedelta(days=3))
    assert isinstance(early, OfferNotAccepted) and early.reason == "not-yet-valid"
    assert isinstance(accept_offer(offer, T0, "LN-1", START), Accepted)


def test_disbursement_pays_the_full_principal_and_books_fees_as_their_own_receivable() -> None:
    fee = Fee("service", Money(3_000), date(2026, 3, 1))
    loan = disbursed(standard_terms(fees=(fee,)))
    lines = {line.account: line.amount.amount_minor for line in loan.posting.lines}
    assert lines == {
        "loans_receivable:LN-1": 1_000_000,
        "cash_clearing": -1_000_000,
        "fees_receivable:LN-1": 3_000,
        "fee_income": -3_000,
    }
    # the fee falls due with the first installment on or after its date (31 March)
    assert [item.fee for item in loan.installments] == [0, 3_000, 0, 0, 0, 0]


def test_disbursement_refuses_a_credit_line_offer() -> None:
    offer = make_offer(standard_terms())
    line = Offer(offer.offer_id, offer.party_id, offer.terms, offer.amount, offer.annualised_rate,
                 offer.valid_from, offer.valid_until, None)  # fmt: skip
    with pytest.raises(InputError, match=r"offer\.schedule"):
        accept_offer(line, T0, "LN-1", START)


# -- close of business --------------------------------------------------------------------------------------


@given(installment_products())
def test_daily_accruals_add_up_to_the_schedule_interest_for_loans_paid_on_time(
    product: tuple[ProductTerms, Money, date, int],
) -> None:
    terms, principal, start, multiple = product
    if principal.amount_minor > 10**11 or multiple != 1:
        return
    schedule = build_schedule(terms, principal, start, rounding="ROUND_HALF_EVEN")
    offer = Offer("OF", "P", terms, principal, AnnualisedRate(Decimal("1"), "irr-periodic"),
                  T0, T0 + timedelta(days=1), schedule)  # fmt: skip
    outcome = accept_offer(offer, T0, "LN-1", start)
    assert isinstance(outcome, Accepted)
    servicer = Servicer([outcome.loan])
    day = start
    last_due = schedule.installments[-1].due
    while day < last_due:
        day += timedelta(days=1)
        servicer.close(day)
        row = row_of(servicer.book, 0)
        due = row.due_principal + row.due_interest + row.due_fee + row.penalty_outstanding
        if due:
            assert isinstance(servicer.repay(0, f"R-{day}", due, day), RepaymentApplied)
    schedule_interest = sum(line.interest.amount_minor for line in schedule.installments)
    assert int(servicer.recognised[0]) == schedule_interest
    balances = servicer.balances()
    assert balances.get("interest_income", 0) == -schedule_interest
    assert balances.get("loans_receivable", 0) == 0
    assert balances.get("interest_receivable", 0) == 0
    assert sum(balances.values()) == 0


def test_closing_a_day_twice_changes_nothing() -> None:
    servicer = Servicer([disbursed(standard_terms())])
    servicer.close(START + timedelta(days=1))
    before = row_of(servicer.book, 0)
    falling = falling_due_for(servicer.book, START + timedelta(days=1), servicer.items)
    again, movements = close_day(servicer.book, START + timedelta(days=1), falling, POLICY)
    assert row_of(again, 0) == before
    assert not movements.closed.any() and int(movements.interest_accrued.sum()) == 0


def test_a_late_loan_moves_through_buckets_classes_non_accrual_and_write_off() -> None:
    servicer = Servicer([disbursed(standard_terms())])
    seen: dict[int, tuple[int, int, int]] = {}
    day = START
    for _ in range(420):
        day += timedelta(days=1)
        servicer.close(day)
        row = row_of(servicer.book, 0)
        seen[row.days_past_due] = (row.bucket, row.asset_class, row.status)
        if row.status == LoanStatus.WRITTEN_OFF:
            break
    assert seen[1][:2] == (Bucket.M1, AssetClass.SPECIAL_MENTION)
    assert seen[31][:2] == (Bucket.M2, AssetClass.SPECIAL_MENTION)
    assert seen[61][:2] == (Bucket.M3_PLUS, AssetClass.SPECIAL_MENTION)
    assert seen[91][:2] == (Bucket.M3_PLUS, AssetClass.SUBSTANDARD)
    assert seen[180][2] == LoanStatus.WRITTEN_OFF
    assert int(servicer.suspended[0]) > 0  # interest counted while non-accrual was not income
    balances = servicer.balances()
    for code in ("loans_receivable", "interest_receivable", "fees_receivable"):
        assert balances.get(code, 0) == 0
    assert sum(balances.values()) == 0
    # recoveries after write-off
    outcome = servicer.repay(0, "R-rec", 10_000, day)
    assert isinstance(outcome, RepaymentApplied) and outcome.parts == (("recovery", 10_000),)


def test_thresholds_are_configuration() -> None:
    days = np.array([0, 1, 10, 11, 20, 21, 40], dtype=np.int64)
    policy = DelinquencyPolicy(m1_days_max=10, m2_days_max=20, substandard_days_over=10,
                               doubtful_days_over=20, loss_days_over=30)  # fmt: skip
    assert buckets(days, policy).tolist() == [0, 1, 1, 2, 2, 3, 3]
    assert classify(days, policy).tolist() == [0, 1, 1, 2, 2, 3, 4]
    with pytest.raises(InputError, match="loss_days_over"):
        DelinquencyPolicy(substandard_days_over=300, doubtful_days_over=200)


def test_penalty_interest_above_the_cap_is_held_to_the_cap_in_force() -> None:
    policy = default_cap_policy()
    capped, check = penalty_rate_in_force(policy, "installment", date(2026, 3, 1), Decimal("0.36"))
    assert not check.allowed and capped == Decimal("0.24") and check.cap_pct == Decimal("24.00")
    rate, check = penalty_rate_in_force(policy, "installment", date(2026, 3, 1), Decimal("0.1825"))
    assert check.allowed and rate == Decimal("0.1825")
    # the close of business charges it exactly: 10,000.00 overdue at the 24 % cap for 365 days is 2,400.00
    loan = disbursed(standard_terms(installments=1, method=RepaymentMethod.INTEREST_ONLY,
                                    penalty_rate_annual=capped))  # fmt: skip
    servicer = Servicer([loan], DelinquencyPolicy(substandard_days_over=400, doubtful_days_over=500,
                                                  loss_days_over=600, write_off_days=None))  # fmt: skip
    day = START
    due = loan.installments[0].due
    while day < due + timedelta(days=365):
        day += timedelta(days=1)
        servicer.close(day)
    assert row_of(servicer.book, 0).penalty_outstanding == 240_000


# -- repayments ---------------------------------------------------------------------------------------------


@given(owed=allocation_owed, amount=st.integers(min_value=0, max_value=5 * 10**9),
       strategy=st.sampled_from(list(Strategy)), order=st.permutations(list(Component)))  # fmt: skip
def test_every_split_conserves_its_total_and_never_overpays(
    owed: dict[str, int], amount: int, strategy: Strategy, order: list[Component]
) -> None:
    owed_by = {Component(name): value for name, value in owed.items()}
    parts = split(amount, owed_by, AllocationOrder(tuple(order), strategy))
    assert sum(parts.values()) == min(amount, sum(owed_by.values()))
    assert all(parts[component] <= owed_by[component] for component in parts)


def test_the_default_order_pays_overdue_interest_then_fee_then_interest_then_principal() -> None:
    owed = {Component.PENALTY: 100, Component.FEE: 200, Component.INTEREST: 300, Component.PRINCIPAL: 400}
    assert split(450, owed, AllocationOrder()) == {
        Component.PENALTY: 100, Component.FEE: 200, Component.INTEREST: 150, Component.PRINCIPAL: 0,
    }  # fmt: skip
    assert split(500, owed, AllocationOrder(strategy=Strategy.PRO_RATA)) == {
        Component.PENALTY: 50, Component.FEE: 100, Component.INTEREST: 150, Component.PRINCIPAL: 200,
    }  # fmt: skip
    with pytest.raises(InputError, match="order"):
        AllocationOrder.parse(["penalty", "fee", "interest"])


@given(installment_products(), repayment_behaviours())
def test_random_repayments_keep_the_ledger_balanced_and_the_loan_consistent(
    product: tuple[ProductTerms, Money, date, int], behaviour: list[tuple[int, int]]
) -> None:
    terms, principal, start, multiple = product
    if principal.amount_minor > 10**11 or multiple != 1:
        return
    terms = ProductTerms(**{**{f: getattr(terms, f) for f in terms.__dataclass_fields__},
                            "penalty_rate_annual": Decimal("0.2")})  # fmt: skip
    loan = disbursed(terms, principal.amount_minor, start)
    servicer = Servicer([loan])
    plan = dict(sorted(behaviour))
    day = start
    for offset in range(1, max(plan, default=0) + 1):
        day = start + timedelta(days=offset)
        servicer.close(day)
        if offset not in plan:
            continue
        row = row_of(servicer.book, 0)
        owed = row.due_principal + row.due_interest + row.due_fee + row.penalty_outstanding
        quote = payoff_quote(row, servicer.items[row.loan_id], day)
        amount = max(1, (owed if owed else quote.total) * plan[offset] // 1000)
        outcome = servicer.repay(0, f"R-{offset}", amount, day)
        if isinstance(outcome, RepaymentApplied):
            assert sum(part for _, part in outcome.parts) == amount
            if row.status == LoanStatus.WRITTEN_OFF:  # a recovery: no payoff, whatever the amount
                assert outcome.parts == (("recovery", amount),) and not outcome.paid_off
            else:
                assert outcome.paid_off == (amount == quote.total)
    balances = servicer.balances()
    assert sum(balances.values()) == 0
    row = row_of(servicer.book, 0)
    if row.status == LoanStatus.ACTIVE:
        row.check()
        assert balances.get("loans_receivable", 0) == row.principal_outstanding
        assert balances.get("interest_receivable", 0) == row.interest_receivable
        assert balances.get("fees_receivable", 0) == row.fees_outstanding + row.penalty_outstanding


def test_a_payoff_closes_the_loan_waives_future_interest_and_can_be_reversed() -> None:
    servicer = Servicer([disbursed(standard_terms())])
    day = START + timedelta(days=45)
    for offset in range(1, 46):
        servicer.close(START + timedelta(days=offset))
    row = row_of(servicer.book, 0)
    items = servicer.items["LN-1"]
    quote = payoff_quote(row, items, day)
    assert quote.principal == 1_000_000 and quote.interest_waived > 0
    partial = apply_repayment(row, items, "R-1", quote.total - 1, day, "CNY")
    assert isinstance(
        partial, RepaymentRefused
    )  # more than the dues, short of the payoff: not principal only
    outcome = servicer.repay(0, "R-2", quote.total, day)
    assert isinstance(outcome, RepaymentApplied) and outcome.paid_off
    assert outcome.row.status == LoanStatus.CLOSED
    balances = servicer.balances()
    for code in ("loans_receivable", "interest_receivable", "fees_receivable"):
        assert balances.get(code, 0) == 0
    restored, restored_items = reverse_repayment(outcome.row, outcome.installments, outcome.allocations, True)
    assert restored_items == items
    assert restored.principal_outstanding == row.principal_outstanding
    assert restored.status == LoanStatus.ACTIVE


def test_a_partial_repayment_reversed_restores_the_loan_exactly() -> None:
    servicer = Servicer([disbursed(standard_terms())])
    for offset in range(1, 70):
        servicer.close(START + timedelta(days=offset))
    row = row_of(servicer.book, 0)
    items = servicer.items["LN-1"]
    outcome = apply_repayment(row, items, "R-1", 100_000, START + timedelta(days=69), "CNY")
    assert isinstance(outcome, RepaymentApplied)
    restored, restored_items = reverse_repayment(
        outcome.row, outcome.installments, outcome.allocations, False
    )
    assert restored == row and restored_items == items


def test_prepayment_beyond_the_dues_shortens_the_term_from_the_last_installment() -> None:
    loan = disbursed(standard_terms())
    row = loan.row
    outcome = apply_repayment(row, loan.installments, "R-1", 200_000, START + timedelta(days=1), "CNY")
    assert isinstance(outcome, RepaymentApplied)
    assert dict(outcome.parts)["prepaid-principal"] == 200_000
    paid = [item.paid_principal for item in outcome.installments]
    assert paid[-1] == loan.installments[-1].principal and sum(paid) == 200_000
    assert outcome.row.principal_outstanding == 800_000


def test_a_closed_loan_refuses_repayments_and_bad_amounts_raise() -> None:
    loan = disbursed(standard_terms())
    with pytest.raises(InputError, match="amount"):
        apply_repayment(loan.row, loan.installments, "R-1", 0, START, "CNY")
    closed = apply_repayment(loan.row, loan.installments, "R-1", payoff_quote(loan.row, loan.installments,
                             START).total, START, "CNY")  # fmt: skip
    assert isinstance(closed, RepaymentApplied) and closed.paid_off
    again = apply_repayment(closed.row, closed.installments, "R-2", 100, START, "CNY")
    assert again == RepaymentRefused("R-2", "LN-1", "the loan is closed")


def test_one_implementation_for_one_loan_and_many() -> None:
    loans = []
    for number in range(50):
        outcome = accept_offer(make_offer(standard_terms(installments=1 + number % 12), 100_000 + number),
                               T0, f"LN-{number}", START)  # fmt: skip
        assert isinstance(outcome, Accepted)
        loans.append(outcome.loan)
    many = Servicer(loans)
    singles = [Servicer([loan]) for loan in loans[:5]]
    for offset in range(1, 80):
        day = START + timedelta(days=offset)
        many.close(day)
        for single in singles:
            single.close(day)
    for index, single in enumerate(singles):
        assert row_of(single.book, 0) == row_of(many.book, index)


def test_paying_the_installment_on_its_due_date_before_the_close_pays_that_installment() -> None:
    loan = disbursed(standard_terms())
    servicer = Servicer([loan])
    first = loan.installments[0]
    day = START
    while day < first.due - timedelta(days=1):
        day += timedelta(days=1)
        servicer.close(day)
    outcome = servicer.repay(0, "R-on-time", first.principal + first.interest, first.due)
    assert isinstance(outcome, RepaymentApplied) and not outcome.paid_off
    assert dict(outcome.parts)["prepaid-principal"] == 0
    assert outcome.installments[0].unpaid == 0
    servicer.close(first.due)
    servicer.close(first.due + timedelta(days=1))
    row = row_of(servicer.book, 0)
    assert row.days_past_due == 0 and row.overdue_since == 0 and row.period_number == 2
    second = loan.installments[1]
    first_day_of_second = second.interest * 1 // (second.due - first.due).days
    assert servicer.balances()["interest_income"] == -(first.interest + first_day_of_second)
    assert sum(servicer.balances().values()) == 0
