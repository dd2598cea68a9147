"""Joint loans through the use cases on SQLite: booked with their funders, repaid and split, written off and
shared, recovered, settled — with the ledger balanced and every partner payable accounted for."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

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
from fengkong.errors import IdempotencyConflictError, InputError
from fengkong.lending.delinquency import DelinquencyPolicy
from fengkong.lending.joint import JointFunding, LossAgreement, LossSharing, PartnerShare, split_schedule
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money
from fengkong.services import joint_loans
from fengkong.services import ledger as ledger_service
from fengkong.services import loans as loans_service
from fengkong.store import joint_funding, migrate
from fengkong.store.config import make_engine
from fengkong.store.ledger import LedgerRepository

START = date(2026, 1, 15)
T0 = datetime(2026, 1, 15, 1, 0, tzinfo=UTC)
RATE = Decimal("0.18")
FUNDING = JointFunding(
    "LENDER", 3_000,
    (PartnerShare("BANK-A", 5_000, Decimal("0.06")), PartnerShare("BANK-B", 2_000, Decimal("0.08"))),
)  # fmt: skip


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'joint.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        ledger_service.install_chart(connection, LedgerRepository(FixedClock(T0)))
    yield engine
    engine.dispose()


def offer(loan_id: str, installments: int = 6, principal: int = 1_234_567) -> Offer:
    terms = ProductTerms(
        ProductKind.INSTALLMENT, RATE, RepaymentMethod.EQUAL_INSTALLMENT, DayCount.THIRTY_360,
        installments=installments, penalty_rate_annual=Decimal("0.18"),
    )  # fmt: skip
    schedule = build_schedule(terms, Money(principal), START, rounding="ROUND_HALF_EVEN")
    rate = AnnualisedRate(Decimal("19.56"), "irr-periodic")
    return Offer(f"OF-{loan_id}", "P-1", terms, Money(principal), rate, T0, T0 + timedelta(days=1), schedule)


def totals(engine: sa.Engine) -> dict[str, int]:
    with engine.begin() as connection:
        rows = ledger_service.totals(connection, LedgerRepository(FixedClock(T0)))
    return {row.code: row.net_minor for row in rows}


def test_a_joint_loan_booked_repaid_on_time_and_settled(engine: sa.Engine) -> None:
    clock = FixedClock(T0)
    joint_offer = offer("LN-J")
    assert joint_offer.schedule is not None
    booked = joint_loans.book_joint_loan(engine, clock, joint_offer, FUNDING, T0, "LN-J", START)
    assert isinstance(booked, loans_service.LoanBooked) and booked.created
    # a retry books nothing new; another funding for the same loan is refused
    again = joint_loans.book_joint_loan(engine, clock, joint_offer, FUNDING, T0, "LN-J", START)
    assert isinstance(again, loans_service.LoanBooked) and not again.created
    other = JointFunding("LENDER", 4_000, (PartnerShare("BANK-A", 6_000, Decimal("0.06")),))
    with pytest.raises(IdempotencyConflictError):
        joint_loans.book_joint_loan(engine, clock, joint_offer, other, T0, "LN-J", START)
    assert totals(engine)["partner_payables"] == -(617_284 + 246_913)  # 50 % and 20 % of 1,234,567
    owed = {"BANK-A": 0, "BANK-B": 0}
    for line in joint_offer.schedule.installments:
        amount = line.total.amount_minor
        outcome = joint_loans.post_joint_repayment(
            engine, clock, "LN-J", f"R-{line.number}", amount, line.due
        )
        assert outcome.repayment.outcome == "applied"
        for part in outcome.parts[1:]:
            owed[part.funder_id] += part.total
        retry = joint_loans.post_joint_repayment(engine, clock, "LN-J", f"R-{line.number}", amount, line.due)
        assert retry.parts == () and not retry.repayment.first_time  # a retry splits nothing again
    with engine.begin() as connection:
        stored = joint_funding.joint_loan(connection, "LN-J")
    assert [funder.principal_outstanding_fen for funder in stored.funders] == [0, 0, 0]
    expected = split_schedule(FUNDING, joint_offer.schedule, RATE)
    for partner in ("BANK-A", "BANK-B"):
        scheduled = expected.funder_totals(partner)
        assert owed[partner] == scheduled.principal + scheduled.interest
    # what the lender owes the partners is their principal and interest; once settled, nothing
    assert totals(engine)["partner_payables"] == -sum(owed.values())
    for partner, amount in owed.items():
        joint_loans.settle_partner(engine, clock, f"S-{partner}", partner, amount, date(2026, 7, 16))
    balances = totals(engine)
    assert balances.get("partner_payables", 0) == 0 and balances.get("loans_receivable", 0) == 0
    assert balances["interest_income"] == -expected.funder_totals("LENDER").interest
    assert sum(balances.values()) == 0


def test_a_written_off_joint_loan_shares_its_loss_and_its_recoveries(engine: sa.Engine) -> None:
    clock = FixedClock(T0)
    first_loss = JointFunding("LENDER", 3_000, FUNDING.partners, LossAgreement(LossSharing.FIRST_LOSS, 1_000))
    booked = joint_loans.book_joint_loan(
        engine, clock, offer("LN-W", 3, 1_000_000), first_loss, T0, "LN-W", START
    )
    assert isinstance(booked, loans_service.LoanBooked)
    with pytest.raises(InputError):  # not written off yet
        joint_loans.share_write_off(engine, clock, "LN-W", START)
    policy = DelinquencyPolicy(write_off_days=5)  # written off 5 days after the first missed installment
    day = START
    while True:
        day += timedelta(days=1)
        loans_service.close_business_day(engine, clock, day, policy, None)
        if loans_service.loans_by_status(engine, clock).get("written_off"):
            break
        assert day < START + timedelta(days=400)
    shared = joint_loans.share_write_offs(engine, clock, day)  # the step after each close of business
    assert list(shared) == ["LN-W"] and joint_loans.share_write_offs(engine, clock, day) == {}
    losses = shared["LN-W"]
    # 10 % of 1,000,000 first on the lender, the other 900,000 by balances (30 / 50 / 20 %)
    assert losses == (100_000 + 270_000, 450_000, 180_000)
    assert joint_loans.share_write_off(engine, clock, "LN-W", day) == losses  # once per loan
    # each partner's payable is what it lent less what it lost
    assert totals(engine)["partner_payables"] == -((500_000 - 450_000) + (200_000 - 180_000))
    recovered = joint_loans.post_joint_repayment(
        engine, clock, "LN-W", "REC-1", 600_000, day + timedelta(days=1)
    )
    # under a first loss the partners are made whole first (630,000 lost), in proportion to their losses:
    # 600,000 x 450 / 630 = 428,571.43 and 600,000 x 180 / 630 = 171,428.57; the fen left over goes to
    # the larger remainder
    assert recovered.recovery_parts == (0, 428_571, 171_429)
    assert sum(totals(engine).values()) == 0


def test_each_funders_part_is_stored_and_a_reversal_undoes_it(engine: sa.Engine) -> None:
    clock = FixedClock(T0)
    joint_offer = offer("LN-R")
    assert joint_offer.schedule is not None
    joint_loans.book_joint_loan(engine, clock, joint_offer, FUNDING, T0, "LN-R", START)
    first = joint_offer.schedule.installments[0]
    before = totals(engine)
    outcome = joint_loans.post_joint_repayment(
        engine, clock, "LN-R", "R-1", first.total.amount_minor, first.due
    )
    with engine.begin() as connection:
        stored = joint_funding.repayment_parts(connection, "R-1")
        settlement = joint_funding.partner_parts_on(connection, "BANK-A", first.due)
        funders = joint_funding.joint_loan(connection, "LN-R").funders
    assert [(part.funder_id, part.principal_fen, part.interest_fen) for part in stored] == [
        (part.funder_id, part.principal, part.interest) for part in outcome.parts
    ]
    assert sum(part.total_fen for part in stored) == first.total.amount_minor
    assert [part.repayment_id for part in settlement] == ["R-1"]  # what BANK-A is owed for the day
    assert (
        sum(funder.principal_outstanding_fen for funder in funders)
        == 1_234_567 - first.principal.amount_minor
    )
    reversed_once = joint_loans.reverse_joint_repayment(engine, clock, "R-1", "REV-1", first.due)
    again = joint_loans.reverse_joint_repayment(engine, clock, "R-1", "REV-1", first.due)
    assert reversed_once.reversed and again.reversed
    with engine.begin() as connection:
        funders = joint_funding.joint_loan(connection, "LN-R").funders
        assert joint_funding.partner_parts_on(connection, "BANK-A", first.due) == []
        assert {part.reversed_by for part in joint_funding.repayment_parts(connection, "R-1")} == {"REV-1"}
    assert [funder.principal_outstanding_fen for funder in funders] == [
        funder.disbursed_fen for funder in funders
    ]
    # the repayment and the partners' share of it are both reversed: every balance is as it was
    assert {code: net for code, net in totals(engine).items() if net} == {
        code: net for code, net in before.items() if net
    }


def test_a_payoff_of_a_joint_loan_repays_every_funder_in_full(engine: sa.Engine) -> None:
    clock = FixedClock(T0)
    joint_offer = offer("LN-P")
    assert joint_offer.schedule is not None
    joint_loans.book_joint_loan(engine, clock, joint_offer, FUNDING, T0, "LN-P", START)
    payoff_day = date(2026, 3, 1)  # inside the second period: interest to the day, the rest waived
    quote = loans_service.payoff_quote(engine, clock, "LN-P", payoff_day)
    outcome = joint_loans.post_joint_repayment(engine, clock, "LN-P", "PAYOFF", quote.total, payoff_day)
    assert outcome.repayment.paid_off
    with engine.begin() as connection:
        funders = joint_funding.joint_loan(connection, "LN-P").funders
    assert [funder.principal_outstanding_fen for funder in funders] == [0, 0, 0]
    assert [part.principal for part in outcome.parts] == [funder.disbursed_fen for funder in funders]
    assert sum(part.total for part in outcome.parts) == quote.total
    assert sum(totals(engine).values()) == 0
