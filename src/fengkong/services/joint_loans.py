"""Use cases of joint loans: book one with its funders, split each repayment among them, share a write-off.

Each runs in one transaction with the single-loan use case it extends (:mod:`fengkong.services.loans`), so
the loan, its funders' balances and every posting are written together or not at all.

* :func:`book_joint_loan` — accepts the offer as :func:`~fengkong.services.loans.accept_offer_on` does, stores
  the funding (:mod:`fengkong.store.joint_funding`) and posts the partners' funding (``Dr cash_clearing /
  Cr partner_payables:P``). Accepting the same offer with the same funding again is a retry and changes
  nothing; another funding for a booked loan raises :class:`~fengkong.errors.IdempotencyConflictError`.
* :func:`post_joint_repayment` — posts the repayment through
  :func:`~fengkong.services.loans.post_repayment_on` (which takes the loan's row lock first, so the funders'
  balances read next are the latest), splits what it paid among the funders
  (:func:`~fengkong.lending.joint.split_flow`), lowers their principal outstanding and posts the partners'
  interest, fee and penalty to what the lender owes them. After a write-off the payment is a recovery, split
  by :func:`~fengkong.lending.joint.split_recovery`. A retry of the repayment splits nothing again.
* :func:`share_write_off` — after the close of business wrote a joint loan off, books each funder's share of
  the principal lost by the agreement (pro rata or first loss) and posts the partners' part
  (``Dr partner_payables:P / Cr write_off_expense``). Once per loan.
* :func:`share_write_offs` — :func:`share_write_off` for every joint loan written off and not shared yet: the
  step to run after each close of business.
* :func:`settle_partner` — money passed on to a partner (``Dr partner_payables:P / Cr cash_clearing``),
  idempotent by settlement ID through the ledger.
* :func:`reverse_joint_repayment` — reverses the repayment through
  :func:`~fengkong.services.loans.reverse_repayment` (its own transaction), then, in a second one, gives the
  funders back their principal (or takes back their recovery) from the stored parts and reverses the
  partners' posting. Both steps are idempotent by the reversal ID, so a crash between them is finished by
  calling again.

Each funder's part of each repayment is stored (``joint_repayment_parts``): what a partner's settlement for a
day adds up (:func:`fengkong.store.joint_funding.partner_parts_on`) and what a reversal undoes.

Repayments posted through the single-loan use case (the API's ``POST /v1/repayments``) are not split: a
joint loan's repayments must come through :func:`post_joint_repayment` — not wired into the API yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from fengkong.clock import Clock
from fengkong.domain.ledger import Posting
from fengkong.domain.products import Offer
from fengkong.errors import InputError, InvariantError
from fengkong.lending.allocation import AllocationOrder, Component
from fengkong.lending.close_of_business import LoanStatus
from fengkong.lending.joint import (
    FeeSharing,
    FunderAmounts,
    JointFunding,
    LossAgreement,
    LossSharing,
    PartnerShare,
    funding_posting,
    recovery_posting,
    repayment_posting,
    settlement_posting,
    split_disbursement,
    split_flow,
    split_loss,
    split_recovery,
    write_off_posting,
)
from fengkong.lending.servicing import RECOVERY, OfferNotAccepted
from fengkong.services import ledger as ledger_service
from fengkong.services import loans as loans_service
from fengkong.store import joint_funding
from fengkong.store.joint_funding import FunderRecord, JointLoanRecord, RepaymentPart
from fengkong.store.ledger import LedgerRepository
from fengkong.store.loans import LoansRepository

# the allocation components that are money paid (not "interest-waived" or the "interest-suspended" marker)
SPLIT_COMPONENTS = tuple(component.value for component in Component)


def record_of(loan_id: str, currency: str, funding: JointFunding, borrower_rate: Decimal, principal: int) -> (
    JointLoanRecord
):  # fmt: skip
    """The store's record of a new joint loan: each funder owed what it lent."""
    disbursed = split_disbursement(funding, principal)
    rates: list[Decimal | None] = [None, *(partner.annual_rate for partner in funding.partners)]
    return JointLoanRecord(
        loan_id=loan_id,
        currency=currency,
        borrower_rate=borrower_rate,
        lender_floor_bp=funding.lender_floor_bp,
        loss_sharing=funding.loss.sharing.value,
        first_loss_bp=funding.loss.first_loss_bp,
        fee_sharing=funding.fees.value,
        funders=tuple(
            FunderRecord(index, funder, share, rate, lent, lent)
            for index, (funder, share, rate, lent) in enumerate(
                zip(funding.funder_ids, funding.shares_bp, rates, disbursed, strict=True)
            )
        ),
    )


def funding_of(record: JointLoanRecord) -> JointFunding:
    """The rules' value of a stored funding."""
    partners = []
    for funder in record.funders[1:]:
        if funder.annual_rate is None:
            raise InvariantError(f"joint loan {record.loan_id!r}: partner {funder.funder_id!r} has no rate")
        partners.append(PartnerShare(funder.funder_id, funder.share_bp, funder.annual_rate))
    return JointFunding(
        lender_id=record.funders[0].funder_id,
        lender_share_bp=record.funders[0].share_bp,
        partners=tuple(partners),
        loss=LossAgreement(LossSharing(record.loss_sharing), record.first_loss_bp),
        fees=FeeSharing(record.fee_sharing),
        lender_floor_bp=record.lender_floor_bp,
    )


def _post(connection: sa.Connection, clock: Clock, postings: list[Posting | None]) -> None:
    chosen = [posting for posting in postings if posting is not None]
    if chosen:
        ledger_service.post(connection, LedgerRepository(clock), chosen)


def book_joint_loan(
    engine: sa.Engine,
    clock: Clock,
    offer: Offer,
    funding: JointFunding,
    at: datetime,
    loan_id: str,
    business_date: date,
) -> loans_service.LoanBooked | OfferNotAccepted:
    """Accept ``offer`` as joint loan ``loan_id`` funded by ``funding`` (see the module docstring)."""
    funding.check_borrower_rate(offer.terms.annual_rate)
    with engine.begin() as connection:
        booked = loans_service.accept_offer_on(connection, clock, offer, at, loan_id, business_date)
        if isinstance(booked, OfferNotAccepted):
            return booked
        record = record_of(
            loan_id, offer.amount.currency, funding, offer.terms.annual_rate, offer.amount.amount_minor
        )
        if joint_funding.add_joint_loan(connection, record, clock.now()):
            disbursed = [funder.disbursed_fen for funder in record.funders]
            _post(
                connection,
                clock,
                [funding_posting(funding, loan_id, disbursed, business_date, record.currency)],
            )
        return booked


@dataclass(frozen=True, slots=True)
class JointRepaymentResult:
    repayment: loans_service.RepaymentResult
    parts: tuple[FunderAmounts, ...]  # each funder's part, lender first; empty when nothing was split now
    recovery_parts: tuple[int, ...]  # after a write-off: each funder's part of the recovery


def post_joint_repayment(
    engine: sa.Engine,
    clock: Clock,
    loan_id: str,
    repayment_id: str,
    amount_fen: int,
    business_date: date,
    order: AllocationOrder | None = None,
) -> JointRepaymentResult:
    """Post a repayment of a joint loan and split it among the funders (see the module docstring)."""
    with engine.begin() as connection:
        result = loans_service.post_repayment_on(
            connection, clock, loan_id, repayment_id, amount_fen, business_date, order
        )
        if result.outcome != "applied" or not result.first_time:
            return JointRepaymentResult(result, (), ())
        record = joint_funding.joint_loan(connection, loan_id, lock=True)
        funding = funding_of(record)
        parts = dict(result.parts)
        if RECOVERY in parts:
            losses = [funder.loss_fen - funder.recovered_fen for funder in record.funders]
            recovered = split_recovery(funding, losses, parts[RECOVERY])
            joint_funding.record_recoveries(connection, loan_id, recovered)
            joint_funding.add_repayment_parts(
                connection,
                [
                    RepaymentPart(repayment_id, index, funder.funder_id, loan_id, "recovery", business_date,
                                  recovery_fen=part)
                    for index, (funder, part) in enumerate(zip(record.funders, recovered, strict=True))
                ],
                clock.now(),
            )  # fmt: skip
            _post(connection, clock, [recovery_posting(funding, repayment_id, recovered, business_date,
                                                       record.currency)])  # fmt: skip
            return JointRepaymentResult(result, (), recovered)
        # what was paid, by component, from the repayment's allocation lines (a payoff's interest to the day
        # and its future fees are there, not among the parts of the dues)
        paid = dict.fromkeys(SPLIT_COMPONENTS, 0)
        for _, component, amount in LoansRepository(clock).allocations(connection, repayment_id):
            if component in paid:
                paid[component] += amount
        if sum(paid.values()) != amount_fen:
            raise InvariantError(f"repayment {repayment_id!r}: its allocations do not add up to its amount")
        balances = [funder.principal_outstanding_fen for funder in record.funders]
        split = split_flow(
            funding, record.borrower_rate, balances,
            principal=paid[Component.PRINCIPAL.value], interest=paid[Component.INTEREST.value],
            fee=paid[Component.FEE.value], penalty=paid[Component.PENALTY.value],
        )  # fmt: skip
        joint_funding.apply_principal(connection, loan_id, [part.principal for part in split])
        joint_funding.add_repayment_parts(
            connection,
            [
                RepaymentPart(repayment_id, index, part.funder_id, loan_id, "repayment", business_date,
                              part.principal, part.interest, part.fee, part.penalty)
                for index, part in enumerate(split)
            ],
            clock.now(),
        )  # fmt: skip
        _post(connection, clock, [repayment_posting(repayment_id, split, business_date, record.currency)])
        return JointRepaymentResult(result, split, ())


def share_write_off(engine: sa.Engine, clock: Clock, loan_id: str, business_date: date) -> tuple[int, ...]:
    """Book each funder's share of a written-off joint loan's principal; returns the losses (lender first),
    or the losses booked before when called again."""
    with engine.begin() as connection:
        loans = LoansRepository(clock)
        header = loans.header(connection, loan_id=loan_id)
        state = loans.state(connection, int(header["loan_number"]), lock=True)
        if state["status"] != LoanStatus.WRITTEN_OFF:
            raise InputError(f"loan {loan_id!r} is not written off", field="loan_id")
        record = joint_funding.joint_loan(connection, loan_id, lock=True)
        if any(funder.loss_fen for funder in record.funders):
            return tuple(funder.loss_fen for funder in record.funders)
        funding = funding_of(record)
        balances = [funder.principal_outstanding_fen for funder in record.funders]
        losses = split_loss(funding, int(header["principal_fen"]), balances, sum(balances))
        joint_funding.record_losses(connection, loan_id, losses)
        _post(
            connection, clock, [write_off_posting(funding, loan_id, losses, business_date, record.currency)]
        )
        return losses


def share_write_offs(engine: sa.Engine, clock: Clock, business_date: date) -> dict[str, tuple[int, ...]]:
    """Share the loss of every joint loan written off and not shared yet; the losses booked, by loan."""
    booked: dict[str, tuple[int, ...]] = {}
    while True:
        with engine.connect() as connection:
            pending = joint_funding.written_off_unshared(connection)
        pending = [loan_id for loan_id in pending if loan_id not in booked]
        if not pending:
            return booked
        for loan_id in pending:
            booked[loan_id] = share_write_off(engine, clock, loan_id, business_date)


def settle_partner(
    engine: sa.Engine,
    clock: Clock,
    settlement_id: str,
    partner_id: str,
    amount_fen: int,
    business_date: date,
    currency: str = "CNY",
) -> None:
    """Record money passed on to ``partner_id`` (idempotent by ``settlement_id`` through the ledger)."""
    with engine.begin() as connection:
        _post(
            connection,
            clock,
            [settlement_posting(settlement_id, partner_id, amount_fen, business_date, currency)],
        )


def reverse_joint_repayment(
    engine: sa.Engine, clock: Clock, repayment_id: str, reversal_id: str, business_date: date
) -> loans_service.ReversalResult:
    """Reverse a joint loan's repayment and its split (see the module docstring)."""
    result = loans_service.reverse_repayment(engine, clock, repayment_id, reversal_id, business_date)
    if not result.reversed:
        return result
    with engine.begin() as connection:
        parts = joint_funding.repayment_parts(connection, repayment_id)
        if not parts or any(part.reversed_by is not None for part in parts):
            return result  # not split (refused, or not a joint loan), or its split is undone already
        loan_id = parts[0].loan_id
        joint_funding.joint_loan(connection, loan_id, lock=True)
        if not joint_funding.mark_parts_reversed(connection, repayment_id, reversal_id):
            raise InvariantError(f"the split of {repayment_id!r} was reversed concurrently")
        if parts[0].kind == "recovery":
            joint_funding.undo_recoveries(connection, loan_id, [part.recovery_fen for part in parts])
            original = f"joint-recover:{repayment_id}"
        else:
            joint_funding.restore_principal(connection, loan_id, [part.principal_fen for part in parts])
            original = f"joint-repay:{repayment_id}"
        if any(part.total_fen - part.principal_fen for part in parts[1:]):
            ledger_service.reverse(
                connection, LedgerRepository(clock), original, f"{reversal_id}:joint", business_date
            )
    return result
