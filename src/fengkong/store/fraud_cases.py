"""The interception log and the review-case queue in SQL (tables in :mod:`fengkong.store.tables_fraud`).

Every function takes the caller's connection, inside the caller's transaction, so a decision can log its
interception in the same commit as the rest of its work.

* :func:`record_interception` writes an interception and opens its case, once: the interception ID is the
  idempotency key (INSERT ... ON CONFLICT DO NOTHING RETURNING); a retry with the same body returns the first
  row, the same ID with another body raises :class:`~fengkong.errors.IdempotencyConflictError`.
* :func:`review_case` closes an open case with a conditional UPDATE (``WHERE status = 'open'``), so two
  reviewers racing on one case cannot both decide it: the loser gets
  :class:`~fengkong.errors.ConflictError` (or the first result, if it asked for the same outcome).
* :func:`open_cases` is the queue, oldest first; :func:`labels_known_at` gives the outcomes reviewed at or
  before a time — the labels a model may use then, each with the delay it really had;
  :func:`interception_totals` sums what was intercepted per kind and action over a period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import require_utc
from fengkong.errors import ConflictError, IdempotencyConflictError, InputError, InvariantError, NotFoundError
from fengkong.store import tables_fraud
from fengkong.store.dialect import insert_ignoring_duplicates as _insert_ignoring_duplicates

INTERCEPTIONS = tables_fraud.fraud_interceptions
CASES = tables_fraud.fraud_cases
OPEN = "open"
REVIEWED = "reviewed"
OUTCOMES = ("fraud", "not_fraud")


@dataclass(frozen=True, slots=True)
class InterceptionRecord:
    """A row of ``fraud_interceptions`` (the domain value is ``fraud.interceptions.Interception``; the use
    cases in ``services/fraud_cases.py`` convert, since ``store/`` imports no domain package)."""

    interception_id: str
    party_id: str
    kind: str
    action: str
    subject_id: str
    amount_fen: int
    reason_code: str
    reason_detail: str
    source: str
    intercepted_at: datetime


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A row of ``fraud_cases``."""

    case_id: str
    party_id: str
    interception_id: str | None
    status: str
    outcome: str | None
    opened_at: datetime
    reviewed_at: datetime | None
    reviewer: str | None


@dataclass(frozen=True, slots=True)
class LabelRecord:
    """A reviewed case as a label: known from ``known_at`` (the review), observed at ``observed_at``."""

    party_id: str
    is_fraud: bool
    observed_at: datetime
    known_at: datetime
    case_id: str


def interception_from_row(row: sa.RowMapping) -> InterceptionRecord:
    return InterceptionRecord(
        interception_id=row["interception_id"],
        party_id=row["party_id"],
        kind=row["kind"],
        action=row["action"],
        subject_id=row["subject_id"],
        amount_fen=int(row["amount_fen"]),
        reason_code=row["reason_code"],
        reason_detail=row["reason_detail"],
        source=row["source"],
        intercepted_at=row["intercepted_at"],
    )


def case_from_row(row: sa.RowMapping) -> CaseRecord:
    return CaseRecord(
        case_id=row["case_id"],
        party_id=row["party_id"],
        interception_id=row["interception_id"],
        status=row["status"],
        outcome=row["outcome"],
        opened_at=row["opened_at"],
        reviewed_at=row["reviewed_at"],
        reviewer=row["reviewer"],
    )


def get_interception(connection: sa.Connection, interception_id: str) -> InterceptionRecord:
    row = (
        connection.execute(sa.select(INTERCEPTIONS).where(INTERCEPTIONS.c.interception_id == interception_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(f"no interception {interception_id!r}")
    return interception_from_row(row)


def get_case(connection: sa.Connection, case_id: str) -> CaseRecord:
    row = connection.execute(sa.select(CASES).where(CASES.c.case_id == case_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"no fraud case {case_id!r}")
    return case_from_row(row)


def record_interception(
    connection: sa.Connection, interception: InterceptionRecord, case: CaseRecord
) -> bool:
    """Log ``interception`` and open ``case`` for it, once per interception ID; whether this call wrote
    them (False: a retry of the same body)."""
    if interception.amount_fen < 0 or interception.amount_fen > bounds.exposure_amount_fen_max:
        raise InputError(f"must be between 0 and {bounds.exposure_amount_fen_max} fen", field="amount_fen")
    if case.interception_id != interception.interception_id or case.party_id != interception.party_id:
        raise InputError("the case must name the interception and its party", field="case")
    row = {name: getattr(interception, name) for name in interception.__slots__}
    row["intercepted_at"] = require_utc(interception.intercepted_at, "intercepted_at")
    created = _insert_ignoring_duplicates(connection, INTERCEPTIONS, row)
    if not created and get_interception(connection, interception.interception_id) != interception:
        raise IdempotencyConflictError(
            f"interception {interception.interception_id!r} was recorded with another body"
        )
    open_case(connection, case)
    return created


def open_case(connection: sa.Connection, case: CaseRecord) -> CaseRecord:
    """Open a case (idempotent by case ID: a retry returns the stored case, another body conflicts)."""
    if case.status != OPEN or case.outcome is not None or case.reviewed_at is not None:
        raise InputError("a new case is open, without outcome or review time", field="status")
    row = {name: getattr(case, name) for name in case.__slots__}
    row["opened_at"] = require_utc(case.opened_at, "opened_at")
    if not _insert_ignoring_duplicates(connection, CASES, row):
        first = get_case(connection, case.case_id)
        if (first.party_id, first.opened_at, first.interception_id) != (
            case.party_id,
            case.opened_at,
            case.interception_id,
        ):
            raise IdempotencyConflictError(f"case {case.case_id!r} was opened with another body")
        return first
    return case


def review_case(
    connection: sa.Connection, case_id: str, outcome: str, reviewed_at: datetime, reviewer: str
) -> CaseRecord:
    """Close an open case with ``outcome`` (``fraud`` or ``not_fraud``). A retry with the same outcome and
    reviewer returns the case; another review of a reviewed case raises :class:`ConflictError`; an unknown
    case :class:`NotFoundError`. The UPDATE is conditional on the case still being open, so of two
    reviewers racing only one decides."""
    if outcome not in OUTCOMES:
        raise InputError(f"is not one of {list(OUTCOMES)}", field="outcome")
    if not isinstance(reviewer, str) or not reviewer or len(reviewer) > bounds.fraud_reason_length_max:
        raise InputError(
            f"is a non-empty string of at most {bounds.fraud_reason_length_max}", field="reviewer"
        )
    reviewed_at = require_utc(reviewed_at, "reviewed_at")
    current = get_case(connection, case_id)
    if current.status == REVIEWED:
        if current.outcome == outcome and current.reviewer == reviewer:
            return current
        raise ConflictError(f"case {case_id!r} was already reviewed as {current.outcome}")
    if reviewed_at < current.opened_at:
        raise InputError("a case cannot be reviewed before it was opened", field="reviewed_at")
    changed = connection.execute(
        CASES.update()
        .where(CASES.c.case_id == case_id, CASES.c.status == OPEN)
        .values(status=REVIEWED, outcome=outcome, reviewed_at=reviewed_at, reviewer=reviewer)
    ).rowcount
    if changed != 1:
        # Another reviewer closed it between our read and our UPDATE: answer as for a retry.
        return review_case(connection, case_id, outcome, reviewed_at, reviewer)
    return get_case(connection, case_id)


def _limit(limit: int) -> int:
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= bounds.fraud_case_batch_rows_max
    ):
        raise InputError(f"must be between 1 and {bounds.fraud_case_batch_rows_max}", field="limit")
    return limit


def open_cases(connection: sa.Connection, limit: int = 100) -> list[CaseRecord]:
    """The review queue: open cases, oldest first (then by case ID)."""
    rows = connection.execute(
        sa.select(CASES)
        .where(CASES.c.status == OPEN)
        .order_by(CASES.c.opened_at, CASES.c.case_id)
        .limit(_limit(limit))
    ).mappings()
    return [case_from_row(row) for row in rows]


def labels_known_at(
    connection: sa.Connection, as_of: datetime, after: tuple[datetime, str] | None = None, limit: int = 1_000
) -> list[LabelRecord]:
    """Outcomes of cases reviewed at or before ``as_of``, in review order; page with ``after`` (the last
    label's ``(known_at, case_id)``)."""
    as_of = require_utc(as_of, "as_of")
    query = sa.select(CASES).where(CASES.c.status == REVIEWED, CASES.c.reviewed_at <= as_of)
    if after is not None:
        known_at, case_id = require_utc(after[0], "after"), after[1]
        query = query.where(
            sa.or_(
                CASES.c.reviewed_at > known_at,
                sa.and_(CASES.c.reviewed_at == known_at, CASES.c.case_id > case_id),
            )
        )
    rows = connection.execute(
        query.order_by(CASES.c.reviewed_at, CASES.c.case_id).limit(_limit(limit))
    ).mappings()
    labels = []
    for row in rows:
        case = case_from_row(row)
        if case.reviewed_at is None:
            raise InvariantError(f"reviewed case {case.case_id} without a review time")
        labels.append(
            LabelRecord(
                case.party_id, case.outcome == "fraud", case.opened_at, case.reviewed_at, case.case_id
            )
        )
    return labels


@dataclass(frozen=True, slots=True)
class InterceptionTotal:
    kind: str
    action: str
    count: int
    amount_fen: int


def interception_totals(connection: sa.Connection, start: datetime, end: datetime) -> list[InterceptionTotal]:
    """Interceptions with ``start <= intercepted_at < end``: count and amount per kind and action."""
    start, end = require_utc(start, "start"), require_utc(end, "end")
    if end <= start:
        raise InputError("end must be after start", field="end")
    rows = connection.execute(
        sa.select(
            INTERCEPTIONS.c.kind,
            INTERCEPTIONS.c.action,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(INTERCEPTIONS.c.amount_fen), 0),
        )
        .where(INTERCEPTIONS.c.intercepted_at >= start, INTERCEPTIONS.c.intercepted_at < end)
        .group_by(INTERCEPTIONS.c.kind, INTERCEPTIONS.c.action)
        .order_by(INTERCEPTIONS.c.kind, INTERCEPTIONS.c.action)
    ).all()
    return [
        InterceptionTotal(str(kind), str(action), int(count), int(amount))
        for kind, action, count, amount in rows
    ]
