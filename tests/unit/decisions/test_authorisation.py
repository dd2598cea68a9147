"""Authorisation against a line: available credit, velocity and fraud rules, the hold through the port."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from fengkong.decisions.authorisation import AuthorisationRequest
from fengkong.decisions.policy import Policy
from fengkong.decisions.ports import InMemoryExposure
from fengkong.domain.decision import Outcome, Reason
from fengkong.errors import IdempotencyConflictError
from fengkong.scoring.gbm import GBMServing
from tests.unit.decisions.conftest import NOW, RECEIVED, build_engine, world


def _request(**changes: object) -> AuthorisationRequest:
    base = AuthorisationRequest(
        authorisation_id="auth-1",
        party_id="c-1",
        household_id="h-1",
        product="bnpl",
        amount_fen=30_000,
        received_at=RECEIVED,
        merchant_category="food",
        device_id="dev-1",
        ip="10.0.0.1",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _exposure(limit_fen: int = 100_000, household_cap_fen: int = 20_000_000) -> InMemoryExposure:
    exposure = InMemoryExposure()
    exposure.set_limit("c-1", "bnpl", limit_fen)
    exposure.set_household_cap("h-1", household_cap_fen)
    return exposure


def test_a_purchase_within_the_line_is_approved_and_held(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    exposure = _exposure()
    engine = build_engine(default_policy, gbm_serving, world(), exposure=exposure)
    decided = engine.authorise(_request())
    assert decided.decision.outcome is Outcome.APPROVE
    hold = decided.trace.hold
    assert hold is not None and hold.placed and hold.amount_fen == 30_000
    assert hold.expires_at == NOW + timedelta(hours=default_policy.pricing.authorisation_hold_hours)
    assert decided.trace.line == (100_000, 100_000)
    line = exposure.line("c-1", "bnpl", "other")
    assert line is not None and line.available_fen == 70_000
    assert decided.trace.scores == ()  # the checkout path runs no credit model


def test_over_the_available_credit_is_declined_without_a_hold(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    exposure = _exposure(limit_fen=20_000)
    engine = build_engine(default_policy, gbm_serving, world(), exposure=exposure)
    decided = engine.authorise(_request())
    assert decided.decision.outcome is Outcome.DECLINE
    assert decided.decision.reasons[0] == Reason("authorisation:over_available")
    assert decided.trace.hold is None
    assert exposure.holds == {}


def test_no_line_is_a_decline_naming_the_limit(default_policy: Policy, gbm_serving: GBMServing) -> None:
    engine = build_engine(default_policy, gbm_serving, world(), exposure=InMemoryExposure())
    decided = engine.authorise(_request())
    assert decided.decision.outcome is Outcome.DECLINE
    assert decided.decision.reasons[0] == Reason("exposure:party_limit")


def test_a_household_cap_taken_by_another_member_turns_the_approval_into_a_decline(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    exposure = _exposure(household_cap_fen=50_000)
    exposure.set_limit("c-2", "bnpl", 100_000)
    reader = world()
    reader.data[("consumer", "c-2")] = dict(reader.data[("consumer", "c-1")])
    engine = build_engine(default_policy, gbm_serving, reader, exposure=exposure)
    first = engine.authorise(_request(authorisation_id="a-1", party_id="c-2"))
    second = engine.authorise(_request(authorisation_id="a-2"))
    assert first.decision.outcome is Outcome.APPROVE
    assert second.decision.outcome is Outcome.DECLINE
    assert second.decision.reasons[0] == Reason("exposure:household_cap")
    assert second.trace.hold is not None and not second.trace.hold.placed
    assert second.trace.hold.available_fen == 20_000


def test_a_retry_places_no_second_hold(default_policy: Policy, gbm_serving: GBMServing) -> None:
    exposure = _exposure()
    engine = build_engine(default_policy, gbm_serving, world(), exposure=exposure)
    engine.authorise(_request())
    again = engine.authorise(_request())
    assert again.decision.outcome is Outcome.APPROVE
    line = exposure.line("c-1", "bnpl", "other")
    assert line is not None and line.available_fen == 70_000
    with pytest.raises(IdempotencyConflictError):
        engine.authorise(_request(amount_fen=40_000))


def test_velocity_and_merchant_rules(default_policy: Policy, gbm_serving: GBMServing) -> None:
    busy = world(consumer_logins_1h=25)
    engine = build_engine(default_policy, gbm_serving, busy, exposure=_exposure())
    review = engine.authorise(_request())
    assert review.decision.outcome is Outcome.REVIEW
    assert review.decision.reasons == (Reason("fraud:velocity"),)
    assert review.trace.hold is None
    engine = build_engine(default_policy, gbm_serving, world(), exposure=_exposure())
    gambling = engine.authorise(_request(merchant_category="gambling"))
    assert gambling.decision.outcome is Outcome.DECLINE
    assert gambling.decision.reasons[0] == Reason("authorisation:merchant_category")
