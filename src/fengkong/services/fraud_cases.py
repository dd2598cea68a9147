"""Use cases of the interception log and the review-case queue: domain values in, domain values out.

:mod:`fengkong.fraud.interceptions` holds the values and their rules; :mod:`fengkong.store.fraud_cases` holds
the SQL over its own row records (``store/`` imports no domain package); these functions convert between the
two. Each takes the caller's connection, so an interception commits with the decision that made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock, SystemClock
from fengkong.errors import BoundExceededError
from fengkong.fraud.interceptions import (
    CaseOutcome,
    CaseStatus,
    FraudCase,
    FraudLabel,
    Interception,
    InterceptionAction,
    InterceptionKind,
    case_for,
)
from fengkong.fraud.numbers import ChannelBook
from fengkong.fraud.protection import ProtectionDecision, ProtectionParameters, ProtectionSignals, assess
from fengkong.store import fraud_cases as store
from fengkong.store.config import database_url, make_engine

__all__ = [  # the values the command line reads through this use-case module
    "CaseOutcome",
    "FraudCase",
    "ProtectedDisbursement",
    "fraud_labels_known_at",
    "intercept",
    "open_case",
    "open_cases_in",
    "protect_disbursement",
    "review",
    "review_in",
    "review_queue",
]


def _interception_record(interception: Interception) -> store.InterceptionRecord:
    return store.InterceptionRecord(
        interception_id=interception.interception_id,
        party_id=interception.party_id,
        kind=interception.kind.value,
        action=interception.action.value,
        subject_id=interception.subject_id,
        amount_fen=interception.amount_fen,
        reason_code=interception.reason_code,
        reason_detail=interception.reason_detail,
        source=interception.source,
        intercepted_at=interception.intercepted_at,
    )


def _case_record(case: FraudCase) -> store.CaseRecord:
    return store.CaseRecord(
        case_id=case.case_id,
        party_id=case.party_id,
        interception_id=case.interception_id,
        status=case.status.value,
        outcome=None if case.outcome is None else case.outcome.value,
        opened_at=case.opened_at,
        reviewed_at=case.reviewed_at,
        reviewer=case.reviewer,
    )


def interception_from_record(record: store.InterceptionRecord) -> Interception:
    return Interception(
        interception_id=record.interception_id,
        party_id=record.party_id,
        kind=InterceptionKind(record.kind),
        action=InterceptionAction(record.action),
        subject_id=record.subject_id,
        amount_fen=record.amount_fen,
        reason_code=record.reason_code,
        reason_detail=record.reason_detail,
        source=record.source,
        intercepted_at=record.intercepted_at,
    )


def case_from_record(record: store.CaseRecord) -> FraudCase:
    return FraudCase(
        case_id=record.case_id,
        party_id=record.party_id,
        opened_at=record.opened_at,
        interception_id=record.interception_id,
        status=CaseStatus(record.status),
        outcome=None if record.outcome is None else CaseOutcome(record.outcome),
        reviewed_at=record.reviewed_at,
        reviewer=record.reviewer,
    )


def intercept(connection: sa.Connection, interception: Interception) -> FraudCase:
    """Log a blocked or held application, draw or transfer and open its review case (once per ID)."""
    store.record_interception(
        connection, _interception_record(interception), _case_record(case_for(interception))
    )
    return case_from_record(store.get_case(connection, case_for(interception).case_id))


def open_case(connection: sa.Connection, case: FraudCase) -> FraudCase:
    """Open a case that no interception started (a tip, a complaint, a bank's report)."""
    return case_from_record(store.open_case(connection, _case_record(case)))


def review(
    connection: sa.Connection, case_id: str, outcome: CaseOutcome, reviewed_at: datetime, reviewer: str
) -> FraudCase:
    """Close an open case; from ``reviewed_at`` on, its outcome is a label."""
    return case_from_record(
        store.review_case(connection, case_id, CaseOutcome(outcome).value, reviewed_at, reviewer)
    )


def review_queue(connection: sa.Connection, limit: int = 100) -> list[FraudCase]:
    """Open cases, oldest first."""
    return [case_from_record(record) for record in store.open_cases(connection, limit)]


def fraud_labels_known_at(connection: sa.Connection, as_of: datetime) -> tuple[FraudLabel, ...]:
    """Every label known at ``as_of`` (cases reviewed at or before it), in review order, read page by page;
    more than ``bounds.fraud_score_training_rows_max`` raises :class:`BoundExceededError`."""
    labels: list[FraudLabel] = []
    after: tuple[datetime, str] | None = None
    while True:
        page = store.labels_known_at(connection, as_of, after, bounds.fraud_case_batch_rows_max)
        labels.extend(FraudLabel(r.party_id, r.is_fraud, r.observed_at, r.known_at, r.case_id) for r in page)
        if len(labels) > bounds.fraud_score_training_rows_max:
            raise BoundExceededError(
                "fraud_score_training_rows_max", bounds.fraud_score_training_rows_max, len(labels)
            )
        if len(page) < bounds.fraud_case_batch_rows_max:
            return tuple(labels)
        after = (page[-1].known_at, page[-1].case_id)


@dataclass(frozen=True, slots=True)
class ProtectedDisbursement:
    """The protection decision for a disbursement and, when it was held, the case it opened."""

    decision: ProtectionDecision
    case: FraudCase | None


def protect_disbursement(
    connection: sa.Connection,
    signals: ProtectionSignals,
    book: ChannelBook,
    lender_brand: str,
    on: date,
    interception_id: str,
    subject_id: str,
    kind: InterceptionKind = InterceptionKind.DRAW,
    parameters: ProtectionParameters | None = None,
) -> ProtectedDisbursement:
    """Assess a disbursement for coerced borrowing; a hold is logged as an interception with its case (in
    the caller's transaction, so the hold and the log commit together)."""
    decision = assess(signals, book, lender_brand, on, parameters)
    if not decision.hold:
        return ProtectedDisbursement(decision, None)
    case = intercept(connection, decision.interception(signals, interception_id, subject_id, kind))
    return ProtectedDisbursement(decision, case)


def open_cases_in(url: str | None, limit: int = 100) -> list[FraudCase]:
    """The review queue of the database at ``url`` (default: ``FENGKONG_DATABASE_URL`` or the SQLite file)."""
    engine = make_engine(url or database_url())
    try:
        with engine.connect() as connection:
            return review_queue(connection, limit)
    finally:
        engine.dispose()


def review_in(
    url: str | None, case_id: str, outcome: CaseOutcome, reviewer: str, clock: Clock | None = None
) -> FraudCase:
    """Review one case in the database at ``url``, now (by ``clock``); the outcome is a label from now on."""
    engine = make_engine(url or database_url())
    try:
        with engine.begin() as connection:
            return review(connection, case_id, outcome, (clock or SystemClock()).now(), reviewer)
    finally:
        engine.dispose()
