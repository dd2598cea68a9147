"""Decisions: a closed, ordered set of outcomes, with reasons and the versions that produced them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Self

from fengkong.domain.products import Offer


class Outcome(Enum):
    """Outcomes, ordered by priority: when rules disagree the highest priority wins."""

    APPROVE = ("approve", 0)
    REVIEW = ("review", 1)
    DECLINE = ("decline", 2)

    def __init__(self, label: str, priority: int) -> None:
        self.label = label
        self.priority = priority

    @classmethod
    def strictest(cls, outcomes: list[Self]) -> Self:
        if not outcomes:
            raise ValueError("strictest() of no outcomes")
        return max(outcomes, key=lambda outcome: outcome.priority)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True)
class Reason:
    """Why: a stable code (for reason-code texts and adverse-action notices) and a detail."""

    code: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to an application or an authorisation."""

    decision_id: str
    party_id: str
    decision_type: str  # "onboarding" or "authorisation"
    outcome: Outcome
    decided_at: datetime
    reasons: tuple[Reason, ...] = ()
    versions: tuple[tuple[str, str], ...] = field(default=())  # policy, models, features
    offer: Offer | None = None
    score: float | None = None  # probability of default, if a model ran
