"""The interception log and the review-case queue, as domain values.

Every application, draw or transfer fengkong blocks or holds is an :class:`Interception`: who, what kind,
which application, draw or transfer, the amount in fen, why (a stable reason code and a detail), which check
caught it, and when. An interception opens a :class:`FraudCase` in the review queue; a reviewer closes it with
an :class:`CaseOutcome` (``fraud`` or ``not_fraud``).

Case outcomes are the fraud labels models train on, and a label exists only from the moment the case was
reviewed: :func:`labels_known_at` returns, for a date, exactly the outcomes reviewed at or before it — never
one decided later — so a model fitted "as of" a date sees the delay real labels have.

The SQL is in :mod:`fengkong.store.fraud_cases`; these values and rules are what it stores and enforces.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fengkong import bounds
from fengkong.clock import require_utc
from fengkong.errors import ConflictError, InputError


class InterceptionKind(StrEnum):
    APPLICATION = "application"
    DRAW = "draw"
    TRANSFER = "transfer"


class InterceptionAction(StrEnum):
    """What was done: refused outright, or held (a cooling-off hold released after a call-back)."""

    BLOCKED = "blocked"
    HELD = "held"


class CaseStatus(StrEnum):
    OPEN = "open"
    REVIEWED = "reviewed"


class CaseOutcome(StrEnum):
    FRAUD = "fraud"
    NOT_FRAUD = "not_fraud"


def _text(value: object, field: str, length_max: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("must be a non-empty string", field=field)
    if len(value) > length_max:
        raise InputError(f"is longer than {length_max} characters", field=field)
    return value


def _instant(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise InputError("must be a datetime", field=field)
    try:
        return require_utc(value, field)
    except (TypeError, ValueError) as error:
        raise InputError("must be a timezone-aware UTC datetime", field=field) from error


@dataclass(frozen=True, slots=True)
class Interception:
    """One blocked or held application, draw or transfer. ``interception_id`` is the caller's idempotency
    key; ``subject_id`` names the application, draw or transfer; ``source`` names the check (a rule, a
    model, scam protection)."""

    interception_id: str
    party_id: str
    kind: InterceptionKind
    action: InterceptionAction
    subject_id: str
    amount_fen: int
    reason_code: str
    reason_detail: str
    source: str
    intercepted_at: datetime

    def __post_init__(self) -> None:
        _text(self.interception_id, "interception_id", bounds.fraud_case_id_length_max)
        _text(self.party_id, "party_id", bounds.party_id_length_max)
        _text(self.subject_id, "subject_id", bounds.fraud_case_id_length_max)
        _text(self.reason_code, "reason_code", bounds.fraud_reason_length_max)
        _text(self.source, "source", bounds.fraud_reason_length_max)
        if (
            not isinstance(self.reason_detail, str)
            or len(self.reason_detail) > bounds.fraud_reason_length_max
        ):
            raise InputError(
                f"is a string of at most {bounds.fraud_reason_length_max} characters", field="reason_detail"
            )
        if not isinstance(self.kind, InterceptionKind):
            raise InputError(f"is not one of {[k.value for k in InterceptionKind]}", field="kind")
        if not isinstance(self.action, InterceptionAction):
            raise InputError(f"is not one of {[a.value for a in InterceptionAction]}", field="action")
        if isinstance(self.amount_fen, bool) or not isinstance(self.amount_fen, int):
            raise InputError("must be an integer number of fen", field="amount_fen")
        if not 0 <= self.amount_fen <= bounds.exposure_amount_fen_max:
            raise InputError(
                f"must be between 0 and {bounds.exposure_amount_fen_max} fen", field="amount_fen"
            )
        object.__setattr__(self, "intercepted_at", _instant(self.intercepted_at, "intercepted_at"))


@dataclass(frozen=True, slots=True)
class FraudCase:
    """A case in the review queue: ``open`` until reviewed with an outcome."""

    case_id: str
    party_id: str
    opened_at: datetime
    interception_id: str | None = None
    status: CaseStatus = CaseStatus.OPEN
    outcome: CaseOutcome | None = None
    reviewed_at: datetime | None = None
    reviewer: str | None = None

    def __post_init__(self) -> None:
        _text(self.case_id, "case_id", bounds.fraud_case_id_length_max)
        _text(self.party_id, "party_id", bounds.party_id_length_max)
        object.__setattr__(self, "opened_at", _instant(self.opened_at, "opened_at"))
        if self.interception_id is not None:
            _text(self.interception_id, "interception_id", bounds.fraud_case_id_length_max)
        reviewed = self.status is CaseStatus.REVIEWED
        if reviewed != (self.outcome is not None) or reviewed != (self.reviewed_at is not None):
            raise InputError(
                "a reviewed case has an outcome and a review time; an open case neither", field="status"
            )
        if self.reviewed_at is not None:
            object.__setattr__(self, "reviewed_at", _instant(self.reviewed_at, "reviewed_at"))
            if self.reviewed_at < self.opened_at:
                raise InputError("a case cannot be reviewed before it was opened", field="reviewed_at")
        if self.reviewer is not None:
            _text(self.reviewer, "reviewer", bounds.fraud_reason_length_max)

    def review(self, outcome: CaseOutcome, reviewed_at: datetime, reviewer: str) -> FraudCase:
        """The case closed with ``outcome``; a case already reviewed raises :class:`ConflictError`."""
        if self.status is not CaseStatus.OPEN:
            raise ConflictError(f"case {self.case_id} was already reviewed ({self.outcome})")
        if not isinstance(outcome, CaseOutcome):
            raise InputError(f"is not one of {[o.value for o in CaseOutcome]}", field="outcome")
        return dataclasses.replace(
            self, status=CaseStatus.REVIEWED, outcome=outcome, reviewed_at=reviewed_at, reviewer=reviewer
        )


def case_for(interception: Interception) -> FraudCase:
    """The open case an interception starts (named after it, so a retried interception opens no second)."""
    return FraudCase(
        case_id=f"case:{interception.interception_id}",
        party_id=interception.party_id,
        opened_at=interception.intercepted_at,
        interception_id=interception.interception_id,
    )


@dataclass(frozen=True, slots=True)
class FraudLabel:
    """A party's fraud label as the case queue gave it: known from ``known_at`` (the review time), about
    behaviour up to ``observed_at`` (when the case was opened)."""

    party_id: str
    is_fraud: bool
    observed_at: datetime
    known_at: datetime
    case_id: str


def labels_known_at(cases: Iterable[FraudCase], as_of: datetime) -> tuple[FraudLabel, ...]:
    """The labels a model may use at ``as_of``: outcomes of cases reviewed at or before it, in review order.
    Open cases and cases reviewed later give no label."""
    as_of = _instant(as_of, "as_of")
    labels = [
        FraudLabel(c.party_id, c.outcome is CaseOutcome.FRAUD, c.opened_at, c.reviewed_at, c.case_id)
        for c in cases
        if c.status is CaseStatus.REVIEWED and c.reviewed_at is not None and c.reviewed_at <= as_of
    ]
    return tuple(sorted(labels, key=lambda label: (label.known_at, label.case_id)))
