"""Use cases of loan servicing: accept an offer, close a business day, post and reverse repayments, quote a
payoff. Each writes its loan rows, repayment rows and ledger postings in one transaction.

* :func:`accept_offer` — idempotent by offer: accepting the same offer again returns the loan booked first.
* :func:`close_business_day` — records a run for the date with its chunks of loans (loan-number ranges, fixed
  when the run starts). Each chunk is one transaction: load the chunk into a
  :class:`~fengkong.lending.close_of_business.Book`, :func:`~fengkong.lending.close_of_business.close_day`,
  post the day's postings, write the loans, mark the chunk done. A crash loses at most the chunk in flight,
  which the next call redoes; a date already done returns at once, changing nothing. The penalty rate of
  each loan is held to the cap in force on the date
  (:func:`~fengkong.lending.servicing.penalty_rate_in_force`, checked once per distinct product and rate).
* :func:`post_repayment` — idempotent by repayment ID: the loan's row lock serialises repayments of a loan;
  a retry with the same request returns the first result and posts nothing; the same ID with another request
  raises :class:`~fengkong.errors.IdempotencyConflictError`.
* :func:`reverse_repayment` — a reversing ledger entry and the loan restored; a payoff can be reversed only
  until its business day is closed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.compliance.caps import CapPolicy
from fengkong.domain.products import Offer
from fengkong.errors import (
    BoundExceededError,
    ConflictError,
    IdempotencyConflictError,
    InputError,
    NotFoundError,
)
from fengkong.lending.allocation import AllocationOrder
from fengkong.lending.close_of_business import BOOK_COLUMNS, Book, LoanStatus, close_day, day_postings
from fengkong.lending.delinquency import DelinquencyPolicy
from fengkong.lending.servicing import (
    Accepted,
    AllocationLine,
    InstallmentState,
    LoanRow,
    OfferNotAccepted,
    PayoffQuote,
    RepaymentApplied,
    apply_repayment,
    falling_due_for,
    penalty_rate_in_force,
)
from fengkong.lending.servicing import accept_offer as accept_offer_rule
from fengkong.lending.servicing import payoff_quote as payoff_quote_rule
from fengkong.lending.servicing import reverse_repayment as reverse_repayment_rule
from fengkong.services import ledger as ledger_service
from fengkong.store.ledger import LedgerRepository
from fengkong.store.loans import STATE_COLUMNS, LoansRepository

DEFAULT_CHUNK_LOANS = 5_000

# -- conversions (row ↔ domain) ------------------------------------------------------------------------------


def _row(loan_id: str, state: Mapping[str, int]) -> LoanRow:
    return LoanRow(loan_id=loan_id, **{field: int(state[field]) for field, _, _ in STATE_COLUMNS})


def _state(row: LoanRow) -> dict[str, int]:
    return {field: getattr(row, field) for field, _, _ in STATE_COLUMNS}


def _installment(item: Mapping[str, Any]) -> InstallmentState:
    return InstallmentState(
        number=int(item["number"]),
        due=item["due_on"],
        principal=int(item["principal_fen"]),
        interest=int(item["interest_fen"]),
        fee=int(item["fee_fen"]),
        paid_principal=int(item["paid_principal_fen"]),
        paid_interest=int(item["paid_interest_fen"]),
        paid_fee=int(item["paid_fee_fen"]),
        waived_interest=int(item["waived_interest_fen"]),
    )


def _installment_row(item: InstallmentState) -> dict[str, Any]:
    return {
        "number": item.number,
        "due_on": item.due,
        "principal_fen": item.principal,
        "interest_fen": item.interest,
        "fee_fen": item.fee,
        "paid_principal_fen": item.paid_principal,
        "paid_interest_fen": item.paid_interest,
        "paid_fee_fen": item.paid_fee,
        "waived_interest_fen": item.waived_interest,
    }


@dataclass(frozen=True, slots=True)
class LoanBooked:
    loan_id: str
    offer_id: str
    created: bool  # False: the offer had been accepted before; this is that loan


def accept_offer(
    engine: sa.Engine,
    clock: Clock,
    offer: Offer,
    at: datetime,
    loan_id: str,
    business_date: date,
) -> LoanBooked | OfferNotAccepted:
    """Accept ``offer`` at ``at``, book and disburse loan ``loan_id`` (see the module docstring)."""
    with engine.begin() as connection:
        return accept_offer_on(connection, clock, offer, at, loan_id, business_date)


def accept_offer_on(
    connection: sa.Connection,
    clock: Clock,
    offer: Offer,
    at: datetime,
    loan_id: str,
    business_date: date,
) -> LoanBooked | OfferNotAccepted:
    """:func:`accept_offer` in the caller's transaction (the API commits it with its idempotency key)."""
    outcome = accept_offer_rule(offer, at, loan_id, business_date)
    if isinstance(outcome, OfferNotAccepted):
        return outcome
    loans = LoansRepository(clock)
    loan = outcome.loan
    header = {
        "loan_id": loan.loan_id, "offer_id": loan.offer_id, "party_id": loan.party_id,
        "product": loan.product, "currency": loan.currency, "principal_fen": loan.principal,
        "disbursed_on": loan.disbursed_on,
    }  # fmt: skip
    number = loans.add_loan(
        connection, header, _state(loan.row), [_installment_row(item) for item in loan.installments]
    )
    if number is None:
        stored = loans.header(connection, offer_id=offer.offer_id)
        if stored["loan_id"] != loan_id:
            raise ConflictError(f"offer {offer.offer_id!r} was accepted before as loan {stored['loan_id']!r}")
        return LoanBooked(loan_id, offer.offer_id, created=False)
    ledger_service.post(connection, LedgerRepository(clock), [loan.posting])
    return LoanBooked(loan_id, offer.offer_id, created=True)


@dataclass(frozen=True, slots=True)
class LoanView:
    loan_id: str
    product: str
    currency: str
    principal_fen: int
    row: LoanRow
    installments: tuple[InstallmentState, ...]


def loan_view(engine: sa.Engine, clock: Clock, loan_id: str) -> LoanView:
    with engine.connect() as connection:
        return loan_view_on(connection, clock, loan_id)


def loan_view_on(connection: sa.Connection, clock: Clock, loan_id: str) -> LoanView:
    """:func:`loan_view` in the caller's transaction."""
    loans = LoansRepository(clock)
    header = loans.header(connection, loan_id=loan_id)
    number = int(header["loan_number"])
    row = _row(loan_id, loans.state(connection, number))
    items = tuple(_installment(item) for item in loans.installments(connection, number))
    return LoanView(loan_id, header["product"], header["currency"], int(header["principal_fen"]), row, items)


def payoff_quote(engine: sa.Engine, clock: Clock, loan_id: str, on: date) -> PayoffQuote:
    view = loan_view(engine, clock, loan_id)
    return payoff_quote_rule(view.row, view.installments, on)


# -- repayments ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RepaymentResult:
    repayment_id: str
    loan_id: str
    amount_fen: int
    outcome: str  # "applied" or "refused"
    reason: str | None
    parts: tuple[tuple[str, int], ...]
    paid_off: bool
    posting_id: str | None
    first_time: bool  # False: a retry answered from the stored result


def _request_hash(loan_id: str, amount_fen: int, business_date: date, order: AllocationOrder) -> str:
    body = json.dumps(
        [loan_id, amount_fen, business_date.isoformat(), [c.value for c in order.order], order.strategy.value]
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _stored_result(stored: Mapping[str, Any], loan_id: str, request_hash: str) -> RepaymentResult:
    if stored["request_hash"] != request_hash:
        raise IdempotencyConflictError(
            f"repayment {stored['repayment_id']!r} was posted with another request"
        )
    return RepaymentResult(
        repayment_id=stored["repayment_id"],
        loan_id=loan_id,
        amount_fen=int(stored["amount_fen"]),
        outcome=stored["outcome"],
        reason=stored["reason"],
        parts=tuple((str(name), int(amount)) for name, amount in json.loads(stored["parts"])),
        paid_off=bool(stored["paid_off"]),
        posting_id=stored["posting_id"],
        first_time=False,
    )


def post_repayment(
    engine: sa.Engine,
    clock: Clock,
    loan_id: str,
    repayment_id: str,
    amount_fen: int,
    business_date: date,
    order: AllocationOrder | None = None,
) -> RepaymentResult:
    """Apply a repayment once, however often it is retried (see the module docstring)."""
    with engine.begin() as connection:
        return post_repayment_on(connection, clock, loan_id, repayment_id, amount_fen, business_date, order)


def post_repayment_on(
    connection: sa.Connection,
    clock: Clock,
    loan_id: str,
    repayment_id: str,
    amount_fen: int,
    business_date: date,
    order: AllocationOrder | None = None,
) -> RepaymentResult:
    """:func:`post_repayment` in the caller's transaction (the API commits it with its idempotency key)."""
    if not repayment_id or len(repayment_id) > bounds.repayment_id_length_max:
        raise InputError(f"must be 1 to {bounds.repayment_id_length_max} characters", field="repayment_id")
    chosen = order if order is not None else AllocationOrder()
    request_hash = _request_hash(loan_id, amount_fen, business_date, chosen)
    loans = LoansRepository(clock)
    header = loans.header(connection, loan_id=loan_id)
    number = int(header["loan_number"])
    state = loans.state(connection, number, lock=True)
    stored = loans.repayment(connection, repayment_id)
    if stored is not None:
        return _stored_result(stored, loan_id, request_hash)
    items = tuple(_installment(item) for item in loans.installments(connection, number))
    row = _row(loan_id, state)
    outcome = apply_repayment(row, items, repayment_id, amount_fen, business_date, header["currency"], chosen)
    applied = isinstance(outcome, RepaymentApplied)
    parts = outcome.parts if isinstance(outcome, RepaymentApplied) else ()
    inserted = loans.add_repayment(
        connection,
        {
            "repayment_id": repayment_id, "loan_number": number, "request_hash": request_hash,
            "amount_fen": amount_fen, "business_date": business_date,
            "outcome": "applied" if applied else "refused",
            "reason": None if isinstance(outcome, RepaymentApplied) else outcome.reason,
            "parts": json.dumps([list(part) for part in parts]),
            "paid_off": outcome.paid_off if isinstance(outcome, RepaymentApplied) else False,
            "posting_id": outcome.posting.posting_id if isinstance(outcome, RepaymentApplied) else None,
        },
    )  # fmt: skip
    if not inserted:  # the same id was written meanwhile for another loan
        stored = loans.repayment(connection, repayment_id)
        if stored is None:
            raise ConflictError(f"repayment {repayment_id!r} collided with a concurrent write")
        return _stored_result(stored, loan_id, request_hash)
    if isinstance(outcome, RepaymentApplied):
        loans.add_allocations(
            connection,
            repayment_id,
            [(line.installment, line.component, line.amount) for line in outcome.allocations],
        )
        changed = [
            _installment_row(new) for new, old in zip(outcome.installments, items, strict=True) if new != old
        ]
        loans.update_installments(connection, number, changed)
        loans.update_state(connection, number, _state(outcome.row))
        ledger_service.post(connection, LedgerRepository(clock), [outcome.posting])
        return RepaymentResult(
            repayment_id, loan_id, amount_fen, "applied", None, outcome.parts, outcome.paid_off,
            outcome.posting.posting_id, True,
        )  # fmt: skip
    return RepaymentResult(
        repayment_id, loan_id, amount_fen, "refused", outcome.reason, (), False, None, True
    )


@dataclass(frozen=True, slots=True)
class ReversalResult:
    repayment_id: str
    reversal_id: str | None
    reversed: bool
    reason: str | None = None


def reverse_repayment(
    engine: sa.Engine, clock: Clock, repayment_id: str, reversal_id: str, business_date: date
) -> ReversalResult:
    """Reverse an applied repayment (idempotent by ``reversal_id``)."""
    loans = LoansRepository(clock)
    ledger = LedgerRepository(clock)
    with engine.begin() as connection:
        stored = loans.repayment(connection, repayment_id)
        if stored is None:
            raise NotFoundError(f"repayment {repayment_id!r} not found")
        number = int(stored["loan_number"])
        state = loans.state(connection, number, lock=True)
        stored = loans.repayment(connection, repayment_id)
        if stored is None:
            raise NotFoundError(f"repayment {repayment_id!r} not found")
        if stored["reversed_by"] is not None:
            if stored["reversed_by"] != reversal_id:
                raise ConflictError(
                    f"repayment {repayment_id!r} is already reversed by {stored['reversed_by']!r}"
                )
            return ReversalResult(repayment_id, reversal_id, True)
        if stored["outcome"] != "applied" or stored["posting_id"] is None:
            return ReversalResult(repayment_id, None, False, "the repayment was refused: nothing to reverse")
        paid_off = bool(stored["paid_off"])
        if paid_off and state["last_closed"] > stored["business_date"].toordinal():
            return ReversalResult(
                repayment_id, None, False, "a payoff can be reversed only before its business day is closed"
            )
        header_loan = connection.execute(
            sa.text("SELECT loan_id FROM loans WHERE loan_number = :n"), {"n": number}
        ).scalar_one()
        items = tuple(_installment(item) for item in loans.installments(connection, number))
        allocations = tuple(AllocationLine(*line) for line in loans.allocations(connection, repayment_id))
        row, new_items = reverse_repayment_rule(_row(str(header_loan), state), items, allocations, paid_off)
        ledger_service.reverse(connection, ledger, stored["posting_id"], reversal_id, business_date)
        if not loans.mark_reversed(connection, repayment_id, reversal_id):
            raise ConflictError(f"repayment {repayment_id!r} was reversed concurrently")
        changed = [_installment_row(new) for new, old in zip(new_items, items, strict=True) if new != old]
        loans.update_installments(connection, number, changed)
        loans.update_state(connection, number, _state(row))
    return ReversalResult(repayment_id, reversal_id, True)


# -- close of business ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CloseResult:
    business_date: date
    already_closed: bool
    chunks: int
    chunks_done_now: int
    loans_closed: int
    postings: int


def _chunk_ranges(numbers: np.ndarray[Any, np.dtype[np.int64]], chunk_loans: int) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    for start in range(0, len(numbers), chunk_loans):
        part = numbers[start : start + chunk_loans]
        ranges.append((int(part[0]), int(part[-1])))
    return ranges


def _hold_penalty_rates(columns: dict[str, Any], cap_policy: CapPolicy | None, business_date: date) -> None:
    """Hold each loan's penalty rate to the cap in force (in place; the capped rate is stored)."""
    if cap_policy is None or len(columns["loan_id"]) == 0:
        return
    nums, dens, products = columns["penalty_rate_num"], columns["penalty_rate_den"], columns["product"]
    charged = nums > 0
    keys = {
        (str(p), int(n), int(d))
        for p, n, d in zip(products[charged], nums[charged], dens[charged], strict=True)
    }
    for product, num, den in keys:
        rate = Decimal(num) / Decimal(den)
        in_force, _ = penalty_rate_in_force(cap_policy, product, business_date, rate)
        if in_force == rate:
            continue
        capped = Fraction(in_force)
        mask = (products == product) & (nums == num) & (dens == den)
        # the carry below the fen is re-expressed over the new denominator (rounded down: never invented)
        columns["penalty_carry"][mask] = columns["penalty_carry"][mask] * capped.denominator // den
        nums[mask] = capped.numerator
        dens[mask] = capped.denominator


def close_business_day(
    engine: sa.Engine,
    clock: Clock,
    business_date: date,
    policy: DelinquencyPolicy,
    cap_policy: CapPolicy | None,
    *,
    chunk_loans: int = DEFAULT_CHUNK_LOANS,
    on_chunk: Callable[[int], None] | None = None,
) -> CloseResult:
    """Close ``business_date`` for every active loan (see the module docstring).

    ``on_chunk`` is called with each chunk's number inside its transaction, before it commits (tests raise
    there to simulate a crash).
    """
    if not 1 <= chunk_loans <= bounds.cob_chunk_loans_max:
        raise InputError(
            f"must be between 1 and cob_chunk_loans_max={bounds.cob_chunk_loans_max}", field="chunk_loans"
        )
    loans = LoansRepository(clock)
    ledger = LedgerRepository(clock)
    with engine.begin() as connection:
        run = loans.run(connection, business_date)
        if run is not None and run["status"] == "done":
            chunks = loans.chunks(connection, business_date)
            return CloseResult(business_date, True, len(chunks), 0, 0, 0)
        if run is None:
            unfinished = [day for day in loans.unfinished_runs(connection) if day != business_date]
            if unfinished:
                raise ConflictError(f"the close of {unfinished[0]} is unfinished: run it again first")
            last = loans.last_done(connection)
            if last is not None and business_date <= last:
                raise InputError(
                    f"{business_date} is before the last closed day {last}", field="business_date"
                )
            behind = loans.earliest_open_day(connection)
            if behind is not None and behind < business_date - timedelta(days=1):
                raise InputError(
                    f"active loans were last closed on {behind}: close {behind + timedelta(days=1)} first",
                    field="business_date",
                )
            numbers = loans.open_loan_numbers(connection, business_date)
            loans.start_run(connection, business_date, chunk_loans, _chunk_ranges(numbers, chunk_loans))
    with engine.connect() as connection:
        chunks = loans.chunks(connection, business_date)
    done_now = closed_total = postings_total = 0
    for chunk in chunks:
        if chunk["done_at"] is not None:
            continue
        with engine.begin() as connection:
            if not loans.claim_chunk(connection, business_date, chunk["chunk_number"]):
                continue
            columns = loans.load_chunk(
                connection, chunk["first_loan_number"], chunk["last_loan_number"], business_date
            )
            _hold_penalty_rates(columns, cap_policy, business_date)
            book = Book(**{name: columns[name] for name in BOOK_COLUMNS})
            due_numbers = columns["loan_number"][book.period_due == business_date.toordinal()]
            installments = loans.installments_of(connection, due_numbers.tolist())
            by_loan = {
                str(loan_id): tuple(_installment(item) for item in installments.get(int(number), []))
                for loan_id, number in zip(columns["loan_id"], columns["loan_number"], strict=True)
                if int(number) in installments
            }
            falling = falling_due_for(book, business_date, by_loan)
            new_book, movements = close_day(book, business_date, falling, policy)
            postings = day_postings(new_book, movements, business_date, "CNY")
            if len(postings) > bounds.ledger_batch_postings_max:
                raise BoundExceededError(
                    "ledger_batch_postings_max", bounds.ledger_batch_postings_max, len(postings)
                )
            ledger_service.post(connection, ledger, postings)
            written = {name: getattr(new_book, name) for name in BOOK_COLUMNS}
            written["loan_number"] = columns["loan_number"]
            loans.write_chunk(connection, written)
            closed = int(movements.closed.sum())
            loans.finish_chunk(connection, business_date, chunk["chunk_number"], closed, len(postings))
            if on_chunk is not None:
                on_chunk(chunk["chunk_number"])
        done_now += 1
        closed_total += closed
        postings_total += len(postings)
    with engine.begin() as connection:
        remaining = [chunk for chunk in loans.chunks(connection, business_date) if chunk["done_at"] is None]
        if not remaining:
            loans.finish_run(connection, business_date)
    return CloseResult(business_date, False, len(chunks), done_now, closed_total, postings_total)


def close_business_days(
    engine: sa.Engine,
    clock: Clock,
    first: date,
    last: date,
    policy: DelinquencyPolicy,
    cap_policy: CapPolicy | None,
    *,
    chunk_loans: int = DEFAULT_CHUNK_LOANS,
) -> list[CloseResult]:
    """Close every business date from ``first`` to ``last`` in order."""
    days = (last - first).days + 1
    if not 0 < days <= bounds.cob_days_per_call_max:
        raise InputError(
            f"must span 1 to cob_days_per_call_max={bounds.cob_days_per_call_max} days", field="last"
        )
    return [
        close_business_day(
            engine, clock, first + timedelta(days=offset), policy, cap_policy, chunk_loans=chunk_loans
        )
        for offset in range(days)
    ]


def loans_by_status(engine: sa.Engine, clock: Clock) -> dict[str, int]:
    names = {LoanStatus.ACTIVE: "active", LoanStatus.CLOSED: "closed", LoanStatus.WRITTEN_OFF: "written_off"}
    with engine.connect() as connection:
        counts = LoansRepository(clock).count_by_status(connection)
    return {names[status]: count for status, count in counts.items()}


__all__ = [
    "Accepted",
    "CloseResult",
    "LoanBooked",
    "LoanView",
    "RepaymentResult",
    "ReversalResult",
    "accept_offer",
    "accept_offer_on",
    "close_business_day",
    "close_business_days",
    "loan_view",
    "loan_view_on",
    "loans_by_status",
    "payoff_quote",
    "post_repayment",
    "post_repayment_on",
    "reverse_repayment",
]
