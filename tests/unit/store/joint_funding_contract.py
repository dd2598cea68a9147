"""Joint-lending funding shares in SQL: one contract, run on SQLite (unit) and PostgreSQL (integration). A
subclass provides the ``engine`` fixture (migrated, empty)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fengkong.clock import FixedClock
from fengkong.domain.products import (
    AnnualisedRate,
    DayCount,
    Offer,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
)
from fengkong.errors import ConflictError, IdempotencyConflictError, NotFoundError
from fengkong.lending.joint import (
    FeeSharing,
    JointFunding,
    LossAgreement,
    LossSharing,
    PartnerShare,
    split_flow,
    split_loss,
)
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money
from fengkong.services import joint_loans
from fengkong.services import ledger as ledger_service
from fengkong.services import loans as loans_service
from fengkong.store import joint_funding
from fengkong.store.joint_funding import JointLoanRecord
from fengkong.store.ledger import LedgerRepository

START = date(2026, 1, 15)
T0 = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)
RATE = Decimal("0.18")
FUNDING = JointFunding(
    "LENDER",
    3_000,
    (PartnerShare("BANK-A", 5_000, Decimal("0.06")), PartnerShare("BANK-B", 2_000, Decimal("0.0825"))),
    LossAgreement(LossSharing.FIRST_LOSS, 500),
    FeeSharing.LENDER,
)


def book_loan(engine: sa.Engine, loan_id: str, principal: int = 1_000_000) -> None:
    """A loan row for the funding to refer to, booked by the servicing use case."""
    terms = ProductTerms(
        ProductKind.INSTALLMENT, RATE, RepaymentMethod.EQUAL_INSTALLMENT, DayCount.THIRTY_360, installments=6
    )
    schedule = build_schedule(terms, Money(principal), START, rounding="ROUND_HALF_EVEN")
    rate = AnnualisedRate(Decimal("19.56"), "irr-periodic")
    offer = Offer(f"OF-{loan_id}", "P-1", terms, Money(principal), rate, T0, T0 + timedelta(days=1), schedule)
    clock = FixedClock(T0)
    with engine.begin() as connection:
        ledger_service.install_chart(connection, LedgerRepository(clock))
    loans_service.accept_offer(engine, clock, offer, T0, loan_id, START)


def record_of(loan_id: str, funding: JointFunding, principal: int) -> JointLoanRecord:
    """The store's record of ``funding`` (what the use case writes when it books a joint loan)."""
    return joint_loans.record_of(loan_id, "CNY", funding, RATE, principal)


class JointFundingContract:
    def test_a_funding_round_trips_and_a_retry_is_a_no_op(self, engine: sa.Engine) -> None:
        book_loan(engine, "LN-1")
        record = record_of("LN-1", FUNDING, 1_000_000)
        with engine.begin() as connection:
            assert joint_funding.add_joint_loan(connection, record, T0) is True
        with engine.begin() as connection:
            assert joint_funding.add_joint_loan(connection, record, T0) is False
            stored = joint_funding.joint_loan(connection, "LN-1")
        assert stored == record
        assert joint_loans.funding_of(stored) == FUNDING
        smaller = JointFunding("LENDER", 4_000, (PartnerShare("BANK-A", 6_000, Decimal("0.06")),))
        other = record_of("LN-1", smaller, 1_000_000)
        with pytest.raises(IdempotencyConflictError), engine.begin() as connection:
            joint_funding.add_joint_loan(connection, other, T0)

    def test_the_funding_refers_to_a_booked_loan(self, engine: sa.Engine) -> None:
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            joint_funding.add_joint_loan(connection, record_of("LN-NONE", FUNDING, 1_000_000), T0)
        with pytest.raises(NotFoundError), engine.begin() as connection:
            joint_funding.joint_loan(connection, "LN-NONE")

    def test_repayments_move_the_balances_and_never_below_zero(self, engine: sa.Engine) -> None:
        book_loan(engine, "LN-2")
        with engine.begin() as connection:
            joint_funding.add_joint_loan(connection, record_of("LN-2", FUNDING, 1_000_000), T0)
        for principal in (123_457, 400_000):
            with engine.begin() as connection:
                stored = joint_funding.joint_loan(connection, "LN-2", lock=True)
                balances = [f.principal_outstanding_fen for f in stored.funders]
                parts = split_flow(FUNDING, RATE, balances, principal=principal, interest=9_999)
                joint_funding.apply_principal(connection, "LN-2", [part.principal for part in parts])
        with engine.begin() as connection:
            after = joint_funding.joint_loan(connection, "LN-2")
        assert sum(f.principal_outstanding_fen for f in after.funders) == 1_000_000 - 523_457
        too_much = [f.principal_outstanding_fen + (1 if f.funder_index == 2 else 0) for f in after.funders]
        with pytest.raises(ConflictError), engine.begin() as connection:
            joint_funding.apply_principal(connection, "LN-2", too_much)
        with engine.begin() as connection:  # the refused move wrote nothing
            assert joint_funding.joint_loan(connection, "LN-2") == after

    def test_losses_and_recoveries_by_agreement(self, engine: sa.Engine) -> None:
        book_loan(engine, "LN-3")
        with engine.begin() as connection:
            joint_funding.add_joint_loan(connection, record_of("LN-3", FUNDING, 1_000_000), T0)
            stored = joint_funding.joint_loan(connection, "LN-3")
            balances = [f.principal_outstanding_fen for f in stored.funders]
            losses = split_loss(FUNDING, 1_000_000, balances, sum(balances))
            joint_funding.record_losses(connection, "LN-3", losses)
        with engine.begin() as connection:
            written = joint_funding.joint_loan(connection, "LN-3")
        # first loss of 5 % (50,000 fen) on the lender, the rest by balances
        assert [f.loss_fen for f in written.funders] == list(losses) and losses[0] > 300_000
        assert all(f.principal_outstanding_fen == 0 for f in written.funders)
        with engine.begin() as connection:
            joint_funding.record_recoveries(connection, "LN-3", [0, 1_000, 0])
        with pytest.raises(ConflictError), engine.begin() as connection:
            joint_funding.record_recoveries(connection, "LN-3", [0, 0, losses[2] + 1])
        with engine.begin() as connection:
            assert [f.recovered_fen for f in joint_funding.joint_loan(connection, "LN-3").funders] == [
                0,
                1_000,
                0,
            ]

    def test_a_partner_sees_only_the_loans_it_funds(self, engine: sa.Engine) -> None:
        for loan_id, funding in (("LN-4", FUNDING), ("LN-5", JointFunding("LENDER", 3_000, (
                PartnerShare("BANK-C", 7_000, Decimal("0.05")),)))):  # fmt: skip
            book_loan(engine, loan_id)
            with engine.begin() as connection:
                joint_funding.add_joint_loan(connection, record_of(loan_id, funding, 1_000_000), T0)
        with engine.begin() as connection:
            assert joint_funding.loans_funded_by(connection, "BANK-A") == ["LN-4"]
            assert joint_funding.loans_funded_by(connection, "BANK-C") == ["LN-5"]
            assert joint_funding.loans_funded_by(connection, "LENDER") == []  # the lender is not a partner
