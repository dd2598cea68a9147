"""The loan servicing use cases against a real database: one contract, run on SQLite (unit) and PostgreSQL
(integration). A subclass provides the ``engine`` fixture (migrated, empty) and ``reference_engine`` (another
migrated, empty database for an uninterrupted run to compare with)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fengkong.clock import FixedClock
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
from fengkong.errors import IdempotencyConflictError, InputError
from fengkong.lending.delinquency import DelinquencyPolicy
from fengkong.lending.schedule import build_schedule
from fengkong.lending.servicing import OfferNotAccepted
from fengkong.money import Money
from fengkong.services import ledger as ledger_service
from fengkong.services import loans as loans_service
from fengkong.store import tables
from fengkong.store.ledger import LedgerRepository

START = date(2026, 1, 31)
T0 = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)
POLICY = DelinquencyPolicy()
CAPS = default_cap_policy()


class CrashError(Exception):
    """Raised inside a chunk to simulate a process dying mid-close."""


def offer_for(number: int, principal: int = 1_000_000, penalty: str = "0.18") -> Offer:
    methods = list(RepaymentMethod)[:4]
    terms = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=Decimal("0.18") + Decimal(number % 7) / 100,
        method=methods[number % 4],
        day_count=list(DayCount)[number % 4],
        installments=1 + number % 6,
        penalty_rate_annual=Decimal(penalty),
        fees=(Fee("service", Money(1_000 + number), START + timedelta(days=20)),) if number % 3 == 0 else (),
    )
    schedule = build_schedule(terms, Money(principal + number), START, rounding="ROUND_HALF_EVEN")
    rate = AnnualisedRate(Decimal("20"), "irr-periodic")
    amount = Money(principal + number)
    return Offer(f"OF-{number}", f"P-{number}", terms, amount, rate, T0, T0 + timedelta(days=7), schedule)


def book_loans(engine: sa.Engine, clock: FixedClock, count: int, penalty: str = "0.18") -> None:
    with engine.begin() as connection:
        ledger_service.install_chart(connection, LedgerRepository(clock))
    for number in range(count):
        offer = offer_for(number, penalty=penalty)
        booked = loans_service.accept_offer(engine, clock, offer, T0, f"LN-{number}", START)
        assert isinstance(booked, loans_service.LoanBooked) and booked.created


def ledger_contents(engine: sa.Engine) -> set[tuple[str, str, tuple[tuple[str, str, int], ...]]]:
    transfers, lines = tables.ledger_transfers, tables.ledger_lines
    with engine.connect() as connection:
        headers = {
            row.transfer_id: row.business_date.isoformat() for row in connection.execute(sa.select(transfers))
        }
        found: dict[str, list[tuple[int, str, str, int]]] = {}
        for row in connection.execute(sa.select(lines)):
            found.setdefault(row.transfer_id, []).append(
                (row.line_number, row.account_code, row.subaccount, int(row.amount_minor))
            )
    return {
        (
            transfer,
            headers[transfer],
            tuple((f"{code}:{sub}", "", amount) for _, code, sub, amount in sorted(parts)),
        )
        for transfer, parts in found.items()
    }


def close_days(engine: sa.Engine, clock: FixedClock, days: int, chunk_loans: int = 4) -> None:
    for offset in range(1, days + 1):
        loans_service.close_business_day(
            engine, clock, START + timedelta(days=offset), POLICY, CAPS, chunk_loans=chunk_loans
        )


class LoansContract:
    @pytest.fixture
    def clock(self) -> FixedClock:
        return FixedClock(T0)

    def test_acceptance_books_once_and_an_expired_offer_is_a_value(
        self, engine: sa.Engine, clock: FixedClock
    ) -> None:
        book_loans(engine, clock, 1)
        again = loans_service.accept_offer(engine, clock, offer_for(0), T0, "LN-0", START)
        assert again == loans_service.LoanBooked("LN-0", "OF-0", created=False)
        late = loans_service.accept_offer(engine, clock, offer_for(1), T0 + timedelta(days=8), "LN-1", START)
        assert isinstance(late, OfferNotAccepted) and late.reason == "expired"
        with engine.connect() as connection:
            trial = ledger_service.current_trial_balance(connection, LedgerRepository(clock))
        assert trial.is_balanced
        view = loans_service.loan_view(engine, clock, "LN-0")
        assert view.row.principal_outstanding == 1_000_000 and view.row.status == 0

    def test_accruals_sum_to_the_schedule_interest_and_a_second_close_changes_nothing(
        self, engine: sa.Engine, clock: FixedClock
    ) -> None:
        book_loans(engine, clock, 9)
        due_days = {
            item.due
            for number in range(9)
            for item in loans_service.loan_view(engine, clock, f"LN-{number}").installments
        }
        for day in sorted(due_days):
            close_days_until(engine, clock, day)  # the installment falls due at the close of its due date
            for number in range(9):
                row = loans_service.loan_view(engine, clock, f"LN-{number}").row
                owed = row.due_principal + row.due_interest + row.due_fee + row.penalty_outstanding
                if owed:
                    result = loans_service.post_repayment(
                        engine, clock, f"LN-{number}", f"R-{number}-{day}", owed, day
                    )
                    assert result.outcome == "applied"
        last = START + timedelta(days=200)
        close_days_until(engine, clock, last)
        after = ledger_contents(engine)
        assert loans_service.close_business_day(engine, clock, last, POLICY, CAPS).already_closed
        assert ledger_contents(engine) == after
        with engine.connect() as connection:
            trial = ledger_service.current_trial_balance(connection, LedgerRepository(clock))
            income = {line.account.code: line.credit.amount_minor for line in trial.lines}
        expected = 0
        for number in range(9):
            view = loans_service.loan_view(engine, clock, f"LN-{number}")
            expected += sum(item.interest for item in view.installments)
        assert income["interest_income"] == expected

    def test_a_close_interrupted_by_a_crash_resumes_and_ends_with_the_same_ledger(
        self, engine: sa.Engine, reference_engine: sa.Engine, clock: FixedClock
    ) -> None:
        for target in (engine, reference_engine):
            book_loans(target, clock, 10)
        close_days(reference_engine, clock, 40)
        close_days(engine, clock, 39)
        day = START + timedelta(days=40)

        def crash(chunk_number: int) -> None:
            if chunk_number == 1:
                raise CrashError

        with pytest.raises(CrashError):
            loans_service.close_business_day(engine, clock, day, POLICY, CAPS, chunk_loans=4, on_chunk=crash)
        resumed = loans_service.close_business_day(engine, clock, day, POLICY, CAPS, chunk_loans=4)
        assert resumed.chunks == 3 and resumed.chunks_done_now == 2  # chunk 0 was done before the crash
        assert ledger_contents(engine) == ledger_contents(reference_engine)

    def test_days_are_closed_in_order(self, engine: sa.Engine, clock: FixedClock) -> None:
        book_loans(engine, clock, 2)
        with pytest.raises(InputError, match="business_date"):
            loans_service.close_business_day(engine, clock, START + timedelta(days=2), POLICY, CAPS)
        assert not loans_service.close_business_day(
            engine, clock, START + timedelta(days=1), POLICY, CAPS
        ).already_closed
        with pytest.raises(InputError, match="business_date"):
            loans_service.close_business_day(engine, clock, START, POLICY, CAPS)  # before the last closed day

    def test_the_close_holds_penalty_interest_to_the_cap_in_force(
        self, engine: sa.Engine, clock: FixedClock
    ) -> None:
        book_loans(engine, clock, 1, penalty="0.36")  # one installment, due 28 February, never paid
        view = loans_service.loan_view(engine, clock, "LN-0")
        due = view.installments[0].due
        close_days_until(engine, clock, due + timedelta(days=30))
        row = loans_service.loan_view(engine, clock, "LN-0").row
        principal = view.installments[0].principal
        # 30 days at the 24 % cap (6/25), not at the contract's 36 %, exact to the fen
        assert (row.penalty_rate_num, row.penalty_rate_den) == (6, 25)
        assert row.penalty_outstanding == principal * 6 * 30 // (25 * 365)
        with engine.connect() as connection:
            penalty_income = LedgerRepository(clock).balance(connection, "penalty_income", "CNY")
        assert penalty_income == -row.penalty_outstanding

    def test_repayments_are_idempotent_by_id_and_reversible(
        self, engine: sa.Engine, clock: FixedClock
    ) -> None:
        book_loans(engine, clock, 1)
        close_days(engine, clock, 40)
        day = START + timedelta(days=40)
        quote_before = loans_service.payoff_quote(engine, clock, "LN-0", day)
        first = loans_service.post_repayment(engine, clock, "LN-0", "R-1", 50_000, day)
        retry = loans_service.post_repayment(engine, clock, "LN-0", "R-1", 50_000, day)
        assert first.outcome == "applied" and first.first_time and not retry.first_time
        assert (retry.parts, retry.posting_id) == (first.parts, first.posting_id)
        with pytest.raises(IdempotencyConflictError):
            loans_service.post_repayment(engine, clock, "LN-0", "R-1", 60_000, day)
        quote = loans_service.payoff_quote(engine, clock, "LN-0", day)
        assert quote.total > 0
        reversal = loans_service.reverse_repayment(engine, clock, "R-1", "REV-1", day)
        assert reversal.reversed
        assert loans_service.reverse_repayment(engine, clock, "R-1", "REV-1", day).reversed  # idempotent
        assert quote.total == quote_before.total - 50_000
        assert loans_service.payoff_quote(engine, clock, "LN-0", day) == quote_before
        paid = loans_service.post_repayment(
            engine, clock, "LN-0", "R-2", loans_service.payoff_quote(engine, clock, "LN-0", day).total, day
        )
        assert paid.paid_off
        view = loans_service.loan_view(engine, clock, "LN-0")
        assert view.row.status == 1
        with engine.connect() as connection:
            repository = LedgerRepository(clock)
            assert repository.balance(connection, "loans_receivable:LN-0", "CNY") == 0
            assert repository.balance(connection, "interest_receivable:LN-0", "CNY") == 0
            assert ledger_service.current_trial_balance(connection, repository).is_balanced


def close_days_until(engine: sa.Engine, clock: FixedClock, last: date) -> None:
    with engine.connect() as connection:
        done = connection.execute(
            sa.select(sa.func.max(tables.cob_runs.c.business_date)).where(tables.cob_runs.c.status == "done")
        ).scalar_one_or_none()
    day = (done or START) + timedelta(days=1)
    while day <= last:
        loans_service.close_business_day(engine, clock, day, POLICY, CAPS, chunk_loans=4)
        day += timedelta(days=1)
