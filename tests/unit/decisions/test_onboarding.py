"""Onboarding: identity and fraud checks, eligibility, scores, outcome, line, price, schedule, offer."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from fengkong.compliance.apr import verify_offer
from fengkong.decisions.policy import Policy
from fengkong.decisions.ports import StaticBlocklist
from fengkong.domain.decision import Outcome, Reason
from fengkong.domain.protocols import FraudVerdict
from fengkong.scoring.gbm import GBMServing
from tests.unit.decisions.conftest import NOW, RECEIVED, application, build_engine, world


def _statuses(results: tuple[object, ...]) -> dict[str, str]:
    return {r.rule_id: r.status for r in results}  # type: ignore[attr-defined]


def test_a_good_applicant_gets_an_offer_priced_by_band_within_the_cap(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    engine = build_engine(default_policy, gbm_serving, world())
    decided = engine.decide_application(application())
    decision, trace = decided.decision, decided.trace
    assert decision.outcome is Outcome.APPROVE
    assert decision.reasons == ()
    offer = decision.offer
    assert offer is not None
    band = default_policy.band_for(decision.score or 0.0)
    assert band is not None and trace.risk_band == band.band
    assert offer.terms.annual_rate == band.annual_rate
    # the request (10,000 yuan) is under the band's line cap and the income multiple: granted in full
    assert offer.amount.amount_minor == 1_000_000
    assert offer.schedule is not None and offer.schedule.principal == offer.amount
    assert len(offer.schedule.installments) == 12
    assert offer.valid_from == NOW and offer.valid_until - offer.valid_from == timedelta(days=7)
    verify_offer(offer)  # the disclosed rate carries every cost of the schedule
    assert Decimal(trace.offer.annualised_rate_pct) <= Decimal(trace.offer.cap_pct)  # type: ignore[union-attr]
    assert trace.as_of == RECEIVED
    assert dict(trace.versions)["policy"] == default_policy.version
    assert {"model:scorecard", "model:gbm", "features"} <= set(dict(trace.versions))
    assert all(status in ("passed", "missing") for status in _statuses(trace.rules).values())


def test_a_shared_device_declines_before_any_model_runs(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    reader = world()
    reader.data[("device", "dev-1")]["device_accounts_distinct_24h"] = 4
    engine = build_engine(default_policy, gbm_serving, reader)
    decided = engine.decide_application(application())
    assert decided.decision.outcome is Outcome.DECLINE
    assert decided.decision.reasons[0] == Reason("fraud:shared_device")
    assert decided.trace.scores == ()
    statuses = _statuses(decided.trace.rules)
    assert statuses["identity.device_accounts_24h"] == "fired"
    assert statuses["credit.pd_decline"] == "not_run"
    fired = next(r for r in decided.trace.rules if r.rule_id == "identity.device_accounts_24h")
    assert fired.values == (("device_accounts_distinct_24h", 4.0),)
    assert decided.decision.offer is None


def test_eligibility_checks_name_their_reason(default_policy: Policy, gbm_serving: GBMServing) -> None:
    engine = build_engine(default_policy, gbm_serving, world())
    cases = {
        "eligibility:age": application(age_years=17),
        "eligibility:identity": application(identity_verified=False),
        "eligibility:amount": application(installments=7),
    }
    for reason, app in cases.items():
        decided = engine.decide_application(app)
        assert decided.decision.outcome is Outcome.DECLINE, reason
        assert Reason(reason) in decided.decision.reasons


def test_a_blocklisted_phone_declines(default_policy: Policy, gbm_serving: GBMServing) -> None:
    blocklist = StaticBlocklist([("phone", "13800000001")])
    engine = build_engine(default_policy, gbm_serving, world(), blocklist=blocklist)
    decided = engine.decide_application(application())
    assert decided.decision.outcome is Outcome.DECLINE
    assert decided.decision.reasons[0] == Reason("eligibility:blocklist")


def test_a_risky_score_declines_with_the_models_reasons(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    reader = world(
        consumer_bureau_score_last=480, consumer_orders_30d=3, consumer_collection_repayment_share_180d=0.3
    )
    engine = build_engine(default_policy, gbm_serving, reader)
    decided = engine.decide_application(application())
    assert decided.decision.outcome is Outcome.DECLINE
    codes = [reason.code for reason in decided.decision.reasons]
    assert codes[0] in ("score", "consumer_bureau_score_last")
    assert "consumer_bureau_score_last" in codes  # the characteristic that cost the most points
    assert decided.decision.score is not None and decided.decision.score > 0.2


class _Suspicious:
    def check(self, features: object) -> FraudVerdict:
        return FraudVerdict(Outcome.REVIEW, (Reason("fraud:fraud_score"),), 0.7, "fraud-test-1")


def test_an_elevated_fraud_score_sends_to_review(default_policy: Policy, gbm_serving: GBMServing) -> None:
    engine = build_engine(default_policy, gbm_serving, world(), fraud_check=_Suspicious())
    decided = engine.decide_application(application())
    assert decided.decision.outcome is Outcome.REVIEW
    assert decided.decision.offer is None
    assert decided.decision.reasons[0] == Reason("fraud:fraud_score")
    assert dict(decided.trace.versions)["fraud"] == "fraud-test-1"


def test_unaffordable_credit_is_declined(default_policy: Policy, gbm_serving: GBMServing) -> None:
    engine = build_engine(default_policy, gbm_serving, world())
    decided = engine.decide_application(application(monthly_debt_payments_fen=550_000))
    assert decided.decision.outcome is Outcome.DECLINE
    assert decided.decision.reasons == (Reason("eligibility:affordability"),)
    check = next(c for c in decided.trace.checks if c.rule_id == "eligibility.debt_service_ratio")
    assert check.status == "fired"


def test_the_line_is_cut_to_the_income_multiple(default_policy: Policy, gbm_serving: GBMServing) -> None:
    engine = build_engine(default_policy, gbm_serving, world())
    decided = engine.decide_application(
        application(requested_amount_fen=5_000_000, monthly_income_fen=1_000_050)
    )
    band = default_policy.band_for(decided.decision.score or 0.0)
    assert band is not None
    offer = decided.decision.offer
    if decided.decision.outcome is Outcome.APPROVE:
        assert offer is not None
        income_cap = int(Decimal(1_000_050) * band.income_multiple) // 100 * 100
        assert offer.amount.amount_minor == min(5_000_000, band.line_max_fen, income_cap)
    else:
        assert offer is None


def test_a_missing_feature_skips_the_rules_that_read_it(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    engine = build_engine(default_policy, gbm_serving, world(consumer_bureau_score_last=None))
    decided = engine.decide_application(application())
    statuses = _statuses(decided.trace.rules)
    assert statuses["credit.bureau_score_low"] == "missing"
    assert decided.trace.features["consumer_bureau_score_last"] is None


def test_a_bnpl_application_gets_a_line_priced_from_the_grid(
    default_policy: Policy, gbm_serving: GBMServing
) -> None:
    from fengkong.decisions.onboarding import grid_key
    from fengkong.domain.products import ProductKind

    engine = build_engine(default_policy, gbm_serving, world())
    decided = engine.decide_application(application(product=ProductKind.BNPL, installments=3))
    offer = decided.decision.offer
    assert decided.decision.outcome is Outcome.APPROVE and offer is not None
    assert offer.schedule is None  # a line: no schedule until a draw
    band = decided.trace.risk_band
    assert band is not None
    expected = engine.onboarding.grid.rate(grid_key(ProductKind.BNPL, band, 3))
    assert offer.annualised_rate == expected
    # affordability counted the line at 10 % a month
    check = next(c for c in decided.trace.checks if c.rule_id == "eligibility.debt_service_ratio")
    assert dict(check.values)["monthly_payment_fen"] == offer.amount.amount_minor * 0.10


class _Anomalous:
    """A fraud check objecting on its own (an anomaly) with a low score, reading a feature no rule reads."""

    feature_names = ("consumer_spend_growth_7d_30d",)

    def __init__(self) -> None:
        self.seen: list[object] = []

    def check(self, features: object) -> FraudVerdict:
        self.seen.append(features)
        return FraudVerdict(Outcome.DECLINE, (Reason("fraud:fraud_score"),), 0.1, "fraud-anomaly-1")


def test_the_fraud_checks_own_outcome_counts(default_policy: Policy, gbm_serving: GBMServing) -> None:
    check = _Anomalous()
    reader = world(consumer_spend_growth_7d_30d=3.5)
    engine = build_engine(default_policy, gbm_serving, reader, fraud_check=check)
    decided = engine.decide_application(application())
    assert decided.decision.outcome is Outcome.DECLINE
    assert decided.decision.reasons[0] == Reason("fraud:fraud_score")
    fraud = next(c for c in decided.trace.checks if c.rule_id == "fraud.check")
    assert fraud.status == "fired"
    assert check.seen[0].values["consumer_spend_growth_7d_30d"] == 3.5  # type: ignore[attr-defined]
    assert engine.replay(decided.trace).decision == decided.decision
