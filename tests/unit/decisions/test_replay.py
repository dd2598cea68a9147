"""Re-deciding from a stored trace gives the identical decision: outcome, reasons, rules, scores, offer."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fengkong.decisions.authorisation import AuthorisationRequest
from fengkong.decisions.policy import Policy
from fengkong.decisions.ports import InMemoryExposure
from fengkong.decisions.scorers import ScorecardScorer
from fengkong.decisions.trace import Trace
from fengkong.errors import ConflictError
from fengkong.scoring.gbm import GBMServing
from tests.unit.decisions.conftest import RECEIVED, application, build_engine, scorecard_table, world

counts = st.one_of(st.none(), st.integers(min_value=0, max_value=12))


def _stored(trace: Trace) -> Trace:
    """The trace as it comes back from storage: JSON text and back."""
    return Trace.from_text(json.dumps(json.loads(trace.to_text())))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bureau=st.one_of(st.none(), st.integers(min_value=300, max_value=850)),
    orders=counts,
    collections=st.one_of(st.none(), st.floats(min_value=0, max_value=1, allow_nan=False)),
    device_accounts=counts,
    logins=counts,
    income=st.integers(min_value=0, max_value=5_000_000),
    debts=st.integers(min_value=0, max_value=1_000_000),
    requested=st.integers(min_value=10_000, max_value=6_000_000),
    installments=st.sampled_from([3, 6, 9, 12, 24]),
)
def test_replaying_a_stored_onboarding_trace_gives_the_same_decision(
    default_policy: Policy,
    gbm_serving: GBMServing,
    bureau: int | None,
    orders: int | None,
    collections: float | None,
    device_accounts: int | None,
    logins: int | None,
    income: int,
    debts: int,
    requested: int,
    installments: int,
) -> None:
    reader = world(
        consumer_bureau_score_last=bureau,
        consumer_orders_30d=orders,
        consumer_collection_repayment_share_180d=collections,
        consumer_logins_1h=logins,
    )
    reader.data[("device", "dev-1")]["device_accounts_distinct_24h"] = device_accounts
    engine = build_engine(default_policy, gbm_serving, reader)
    app = application(
        monthly_income_fen=income,
        monthly_debt_payments_fen=debts,
        requested_amount_fen=requested,
        installments=installments,
    )
    decided = engine.decide_application(app)
    stored = _stored(decided.trace)
    assert stored == decided.trace
    again = engine.replay(stored)
    assert again.trace == decided.trace
    assert again.decision == decided.decision


def test_replaying_an_authorisation_uses_the_stored_line_and_hold(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    exposure = InMemoryExposure()
    exposure.set_limit("c-1", "bnpl", 100_000)
    exposure.set_household_cap("h-1", 100_000)
    engine = build_engine(default_policy, gbm_serving, world(), exposure=exposure)
    request = AuthorisationRequest("a-1", "c-1", "h-1", "bnpl", 60_000, RECEIVED, "food", "dev-1", "10.0.0.1")
    decided = engine.authorise(request)
    # the line has changed since (the hold took room): the replay still reads the line as it was
    again = engine.replay(_stored(decided.trace))
    assert again.trace == decided.trace
    assert again.decision == decided.decision
    assert len(exposure.holds) == 1  # the replay placed nothing


def test_a_trace_from_another_policy_or_model_version_is_refused(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    engine = build_engine(default_policy, gbm_serving, world())
    trace = engine.decide_application(application()).trace
    other_policy = Trace.from_json({**trace.to_json(), "versions": [["policy", "default@0+abc"]]})
    with pytest.raises(ConflictError, match="decided under policy"):
        engine.replay(other_policy)
    engine.models["scorecard"] = ScorecardScorer(scorecard_table(), "scorecard-test-2")
    with pytest.raises(ConflictError, match="scored by scorecard"):
        engine.replay(trace)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    limit=st.integers(min_value=0, max_value=200_000),
    amount=st.integers(min_value=1, max_value=250_000),
    logins=counts,
    category=st.sampled_from(["food", "hotel", "gambling"]),
)
def test_replaying_a_stored_authorisation_trace_gives_the_same_decision(
    default_policy: Policy,
    gbm_serving: GBMServing,
    limit: int,
    amount: int,
    logins: int | None,
    category: str,
) -> None:
    exposure = InMemoryExposure()
    exposure.set_limit("c-1", "bnpl", limit)
    exposure.set_household_cap("h-1", 150_000)
    engine = build_engine(default_policy, gbm_serving, world(consumer_logins_1h=logins), exposure=exposure)
    request = AuthorisationRequest(
        "a-1", "c-1", "h-1", "bnpl", amount, RECEIVED, category, "dev-1", "10.0.0.1"
    )
    decided = engine.authorise(request)
    again = engine.replay(_stored(decided.trace))
    assert again.trace == decided.trace
    assert again.decision == decided.decision
