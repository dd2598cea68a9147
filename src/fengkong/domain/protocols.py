"""The protocols that let later packages plug together without import cycles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from fengkong.domain.decision import Outcome, Reason
from fengkong.domain.features import FeatureVector
from fengkong.domain.products import ProductTerms
from fengkong.money import Money


@dataclass(frozen=True, slots=True)
class Score:
    """A model's answer: probability of default, reasons (most adverse first), the model version."""

    probability_of_default: float
    reasons: tuple[Reason, ...]
    model_version: str


class Scorer(Protocol):
    """A credit model at serving time."""

    def score(self, features: FeatureVector) -> Score: ...


@dataclass(frozen=True, slots=True)
class FraudVerdict:
    """A fraud check's answer: an outcome (approve means no objection), reasons, a score in [0, 1]."""

    outcome: Outcome
    reasons: tuple[Reason, ...]
    fraud_score: float
    check_version: str


class FraudCheck(Protocol):
    """Anything that can object to an application, draw or disbursement."""

    def check(self, features: FeatureVector) -> FraudVerdict: ...


@dataclass(frozen=True, slots=True)
class Price:
    """A risk band and the terms it prices to."""

    risk_band: str
    terms: ProductTerms
    annual_rate: Decimal


class Pricer(Protocol):
    """Picks a risk band and price for an amount, given the probability of default."""

    def price(
        self, probability_of_default: float, amount: Money, on: date, candidates: Sequence[ProductTerms]
    ) -> Price | None: ...
