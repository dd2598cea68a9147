"""Use cases of explaining automated decisions: store the reasons told to a borrower, open a human review
when the borrower asks for one, and close it with an outcome.

Independent of the decision engine: a decision is known here only by its ID string. :func:`tell_reasons`
turns reason codes into the customer sentences of :mod:`fengkong.compliance.reasons` and stores the codes,
the exact sentences and the language in one ``told_reasons`` row per decision (a retry with the same codes
returns the first record; other codes for the same decision are a conflict: what was told cannot change).

A review can be asked only for a decision whose reasons were told, and only by the party it concerned; a
decision another party asks about reads as not found (the owner check). A decision has at most one case: a
second request returns the case already open. The borrower's own words are kept with ID and phone numbers
masked. Each step writes an ``audit`` outbox message with IDs only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock, require_utc
from fengkong.compliance.disclosure import LANGUAGES, Language
from fengkong.compliance.privacy import mask_text
from fengkong.compliance.reasons import default_reason_texts
from fengkong.errors import ConflictError, IdempotencyConflictError, InputError, NotFoundError
from fengkong.store.privacy import PrivacyRepository
from fengkong.store.repositories import OutboxRepository

AUDIT_TOPIC = "audit"


class ReviewOutcome(StrEnum):
    UPHELD = "upheld"  # the automated decision stands
    OVERTURNED = "overturned"  # the reviewer decided otherwise
    WITHDRAWN = "withdrawn"  # the borrower withdrew the request


def _text(value: str, field: str, length_max: int) -> str:
    if not isinstance(value, str) or not value or len(value) > length_max or not value.isprintable():
        raise InputError(f"must be 1 to {length_max} printable characters", field=field)
    return value


def _audit(connection: sa.Connection, clock: Clock, decision_id: str, action: str, **detail: str) -> None:
    OutboxRepository(clock).enqueue(
        connection,
        AUDIT_TOPIC,
        f"decision:{decision_id}",
        {"area": "reviews", "action": action, "decision_id": decision_id, **detail},
    )


@dataclass(frozen=True, slots=True)
class ToldReasons:
    decision_id: str
    party_id: str
    language: Language
    codes: tuple[str, ...]
    sentences: tuple[str, ...]
    told_at: datetime
    created: bool  # False: this decision's reasons were stored before (a retry)


def tell_reasons(
    connection: sa.Connection,
    clock: Clock,
    decision_id: str,
    party_id: str,
    codes: Sequence[str],
    language: str,
    told_at: datetime,
) -> ToldReasons:
    """Store the sentences told to ``party_id`` for ``decision_id`` (see the module docstring)."""
    _text(decision_id, "decision_id", bounds.decision_id_length_max)
    _text(party_id, "party_id", bounds.party_id_length_max)
    if language not in LANGUAGES:
        raise InputError(f"must be one of {list(LANGUAGES)}, got {language!r}", field="language")
    if not codes or len(codes) > bounds.decision_reasons_max:
        raise InputError(f"give 1 to {bounds.decision_reasons_max} reason codes", field="codes")
    told_language: Language = "zh-CN" if language == "zh-CN" else "en"
    dictionary = default_reason_texts()
    sentences = tuple(dictionary.text(code, told_language) for code in codes)
    instant = require_utc(told_at, "told_at")
    repository = PrivacyRepository(clock)
    created = repository.add_told(connection, decision_id, party_id, told_language, codes, sentences, instant)
    if created:
        _audit(connection, clock, decision_id, "reasons_told", party_id=party_id, language=told_language)
        return ToldReasons(decision_id, party_id, told_language, tuple(codes), sentences, instant, True)
    stored = repository.told(connection, decision_id)
    if stored is None or (stored["party_id"], stored["language"], stored["codes"]) != (
        party_id,
        told_language,
        list(codes),
    ):
        raise IdempotencyConflictError(f"decision {decision_id!r} was told other reasons before")
    return ToldReasons(
        decision_id,
        party_id,
        told_language,
        tuple(stored["codes"]),
        tuple(stored["sentences"]),
        stored["told_at"],
        False,
    )


def told_reasons(connection: sa.Connection, clock: Clock, decision_id: str, party_id: str) -> dict[str, Any]:
    """What was told for ``decision_id``, to its own party only (another party: not found)."""
    stored = PrivacyRepository(clock).told(connection, decision_id)
    if stored is None or stored["party_id"] != party_id:
        raise NotFoundError(f"decision {decision_id!r} not found")
    return stored


@dataclass(frozen=True, slots=True)
class ReviewCase:
    case_id: str
    decision_id: str
    party_id: str
    status: str
    outcome: str | None
    requested_at: datetime
    created: bool  # False: the decision already had this case


def _case(row: dict[str, Any], created: bool) -> ReviewCase:
    return ReviewCase(
        str(row["case_id"]),
        str(row["decision_id"]),
        str(row["party_id"]),
        str(row["status"]),
        row["outcome"],
        row["requested_at"],
        created,
    )


def request_review(
    connection: sa.Connection,
    clock: Clock,
    case_id: str,
    decision_id: str,
    party_id: str,
    requested_at: datetime,
    statement: str | None = None,
) -> ReviewCase:
    """Open a human review of ``decision_id`` at the request of ``party_id`` (see the module docstring)."""
    _text(case_id, "case_id", bounds.review_case_id_length_max)
    if statement is not None and len(statement) > bounds.review_statement_chars_max:
        raise InputError(f"must be at most {bounds.review_statement_chars_max} characters", field="statement")
    told_reasons(connection, clock, decision_id, party_id)  # the owner check: NotFoundError otherwise
    repository = PrivacyRepository(clock)
    instant = require_utc(requested_at, "requested_at")
    kept = None if statement is None else mask_text(statement)  # the borrower's words, ID and phone masked
    if repository.add_case(connection, case_id, decision_id, party_id, kept, instant):
        _audit(connection, clock, decision_id, "review_requested", case_id=case_id, party_id=party_id)
        stored = repository.case(connection, case_id=case_id)
        if stored is None:
            raise ConflictError(f"case {case_id!r} vanished after it was opened")
        return _case(stored, created=True)
    existing = repository.case(connection, decision_id=decision_id)
    if existing is not None:
        return _case(existing, created=False)
    raise ConflictError(f"case ID {case_id!r} is already used for another decision")


def close_review(
    connection: sa.Connection,
    clock: Clock,
    case_id: str,
    outcome: str,
    reviewer: str,
    at: datetime,
    note: str | None = None,
) -> ReviewCase:
    """Close an open case with ``outcome`` by ``reviewer`` (a person: automated closing is not a review)."""
    try:
        result = ReviewOutcome(outcome)
    except ValueError as error:
        raise InputError(f"must be one of {[o.value for o in ReviewOutcome]}", field="outcome") from error
    _text(reviewer, "reviewer", 128)
    repository = PrivacyRepository(clock)
    stored = repository.case(connection, case_id=case_id)
    if stored is None:
        raise NotFoundError(f"review case {case_id!r} not found")
    if not repository.close_case(connection, case_id, result.value, reviewer, note, require_utc(at, "at")):
        raise ConflictError(f"review case {case_id!r} is already closed ({stored['outcome']})")
    _audit(
        connection, clock, str(stored["decision_id"]), "review_closed", case_id=case_id, outcome=result.value
    )
    closed = repository.case(connection, case_id=case_id)
    if closed is None:
        raise ConflictError(f"case {case_id!r} vanished while closing")
    return _case(closed, created=False)


def open_reviews(connection: sa.Connection, clock: Clock, limit: int = 100) -> list[ReviewCase]:
    """Open cases, oldest first (the reviewers' queue)."""
    return [_case(row, False) for row in PrivacyRepository(clock).open_cases(connection, limit)]
