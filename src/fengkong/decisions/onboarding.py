"""Onboarding: an application for new credit, decided and priced.

The flow, in order (each step's result goes into the :class:`~fengkong.decisions.trace.Trace`):

1. **features** — the snapshot every rule and model reads, from the consumer, device, phone and IP entities
   as known when the application was received (point in time);
2. **identity and fraud** — the fraud check (an injected :class:`~fengkong.domain.FraudCheck`, whose score
   rules read as ``fraud_score``), the blocklists, then the identity, fraud and velocity rules;
3. **eligibility** — the built-in checks of the policy's ``eligibility`` section (age, identity verified,
   product, installments and amount in range), then the eligibility rules;
4. **scores** — only when nothing so far declined: every inline model; the champion's probability of default
   is ``pd_champion``; challengers are handed to the shadow queue (they never decide); then the credit rules;
5. **outcome** — the strictest outcome of everything that fired;
6. for an approval, **line, price and offer** — the risk band from the decision table; the amount is the
   request cut to the band's line cap, the income multiple and the product's maximum (rounded down to the
   yuan); the band's rate is checked against the cap in force from the precomputed grid; the schedule is
   built (``lending.schedule``), its annualised rate computed by IRR and checked against the cap
   (``compliance``); affordability (debt-service ratio with the new payment) last; then the
   :class:`~fengkong.domain.Offer` with its validity window.

An approval that fails at step 6 becomes a decline with the step's reason (``score``: no band;
``amount_below_minimum``; ``pricing:over_cap``; ``eligibility:affordability``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Final

from fengkong.clock import business_date, require_utc
from fengkong.compliance.apr import annualised_rate
from fengkong.compliance.caps import CapPolicy, check_price
from fengkong.compliance.grid import PriceGrid, PricePoint
from fengkong.decisions.evaluation import (
    FeaturePlan,
    Fired,
    FraudOutcome,
    blocklisted,
    not_run,
    outcome_of,
    reasons_of,
    rule_value,
    run_rules,
)
from fengkong.decisions.policy import (
    CHAMPION_SCORE,
    PRE_SCORE_STAGES,
    Flow,
    Policy,
    ProductPolicy,
    RiskBand,
    RuleResult,
)
from fengkong.decisions.ports import Blocklist
from fengkong.decisions.shadow import ShadowScoring
from fengkong.decisions.trace import OfferRecord, ScoreRecord, Trace
from fengkong.domain.decision import Decision, Outcome, Reason
from fengkong.domain.features import FeatureReader, FeatureVector
from fengkong.domain.products import AnnualisedRate, Offer, ProductKind, ProductTerms, Schedule
from fengkong.domain.protocols import FraudCheck, Scorer
from fengkong.errors import InputError
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money

YUAN_FEN: Final = 100
GRID_REFERENCE_DAY: Final = "2026-01-15"  # the grid's reference loans are disbursed on this date


@dataclass(frozen=True, slots=True)
class Application:
    """An application for new credit. Money in fen; ``household_id`` groups the parties one cap binds."""

    application_id: str
    party_id: str
    household_id: str
    product: ProductKind
    requested_amount_fen: int
    installments: int
    age_years: int
    identity_verified: bool
    monthly_income_fen: int
    monthly_debt_payments_fen: int
    received_at: datetime
    device_id: str | None = None
    phone: str | None = None
    ip: str | None = None

    def __post_init__(self) -> None:
        require_utc(self.received_at, "received_at")
        for name in (
            "requested_amount_fen",
            "installments",
            "age_years",
            "monthly_income_fen",
            "monthly_debt_payments_fen",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InputError("must be a whole number, at least 0", field=name)
        if not self.application_id or not self.party_id or not self.household_id:
            raise InputError("application_id, party_id and household_id are required", field="application_id")

    @property
    def entity_ids(self) -> dict[str, str]:
        ids = {"consumer": self.party_id}
        for entity, value in (("device", self.device_id), ("phone", self.phone), ("ip", self.ip)):
            if value:
                ids[entity] = value
        return ids

    def inputs(self) -> dict[str, str | int | bool | None]:
        """The application as stored in a trace (and read back by :meth:`from_inputs`)."""
        return {
            "application_id": self.application_id,
            "party_id": self.party_id,
            "household_id": self.household_id,
            "product": self.product.value,
            "requested_amount_fen": self.requested_amount_fen,
            "installments": self.installments,
            "age_years": self.age_years,
            "identity_verified": self.identity_verified,
            "monthly_income_fen": self.monthly_income_fen,
            "monthly_debt_payments_fen": self.monthly_debt_payments_fen,
            "received_at": self.received_at.isoformat(),
            "device_id": self.device_id,
            "phone": self.phone,
            "ip": self.ip,
        }

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, object]) -> Application:
        try:
            return cls(
                application_id=str(inputs["application_id"]),
                party_id=str(inputs["party_id"]),
                household_id=str(inputs["household_id"]),
                product=ProductKind(str(inputs["product"])),
                requested_amount_fen=_int(inputs["requested_amount_fen"]),
                installments=_int(inputs["installments"]),
                age_years=_int(inputs["age_years"]),
                identity_verified=bool(inputs["identity_verified"]),
                monthly_income_fen=_int(inputs["monthly_income_fen"]),
                monthly_debt_payments_fen=_int(inputs["monthly_debt_payments_fen"]),
                received_at=datetime.fromisoformat(str(inputs["received_at"])),
                device_id=_optional(inputs.get("device_id")),
                phone=_optional(inputs.get("phone")),
                ip=_optional(inputs.get("ip")),
            )
        except (KeyError, ValueError) as error:
            raise InputError(f"not an application: {error!r}", field="inputs") from None


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a whole number")
    return value


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def grid_key(product: ProductKind, band: str, installments: int) -> str:
    return f"{product.value}/{band}/{installments}"


def build_price_grid(policy: Policy) -> PriceGrid:
    """Every (product, band, installments) price point's annualised rate, solved once at load."""
    disbursed_on = datetime.fromisoformat(GRID_REFERENCE_DAY).date()
    principal = Money(policy.pricing.reference_principal_fen, "CNY")
    points = []
    for product in policy.products.values():
        for band in policy.risk_bands:
            for installments in product.installments:
                schedule = build_schedule(
                    _terms(product, band, installments),
                    principal,
                    disbursed_on,
                    rounding=policy.pricing.rounding,
                )
                points.append(
                    PricePoint(grid_key(product.product, band.band, installments), schedule.cash_flows(), ())
                )
    return PriceGrid.build(points)


def _terms(product: ProductPolicy, band: RiskBand, installments: int) -> ProductTerms:
    return ProductTerms(
        product=product.product,
        annual_rate=band.annual_rate,
        method=product.method,
        day_count=product.day_count,
        installments=installments,
    )


@dataclass(frozen=True, slots=True)
class OnboardingContext:
    """Everything the flow needs, built once by the engine."""

    policy: Policy
    reader: FeatureReader
    plan: FeaturePlan
    feature_set_version: str
    models: Mapping[str, Scorer]
    model_versions: Mapping[str, str]
    fraud_check: FraudCheck | None
    blocklist: Blocklist | None
    grid: PriceGrid
    caps: CapPolicy
    shadow: ShadowScoring | None


@dataclass(frozen=True, slots=True)
class Decided:
    decision: Decision
    trace: Trace


def decide_application(
    context: OnboardingContext,
    application: Application,
    decision_id: str,
    now: datetime,
    *,
    fraud: FraudOutcome | None = None,
) -> Decided:
    """Decide ``application`` at ``now`` (see the module docstring for the steps). ``fraud`` replaces the
    fraud check's answer (a replay uses the one stored in the trace)."""
    policy = context.policy
    now = require_utc(now, "now")
    as_of = application.received_at
    entity_ids = application.entity_ids
    snapshot = context.plan.read(context.reader, entity_ids, as_of)
    vector = FeatureVector(
        "application", application.application_id, as_of, snapshot, context.feature_set_version
    )

    # 2. identity and fraud
    if fraud is None:
        fraud = FraudOutcome.of(context.fraud_check, vector)
    values: dict[str, object] = {name: rule_value(value) for name, value in snapshot.items()}
    values.update(
        requested_amount_fen=float(application.requested_amount_fen),
        installments=float(application.installments),
        age_years=float(application.age_years),
        identity_verified=application.identity_verified,
        monthly_income_fen=float(application.monthly_income_fen),
        monthly_debt_payments_fen=float(application.monthly_debt_payments_fen),
        product=application.product.value,
        fraud_score=fraud.score,
        blocklisted=blocklisted(context.blocklist, policy.eligibility.blocklists, entity_ids),
    )

    # 3. built-in eligibility checks, then the rules before the models
    fired: list[Fired] = []
    checks: list[RuleResult] = []
    fraud.apply(fired, checks)
    product = policy.products.get(application.product)
    _checks(policy, application, product, fired, checks)
    rules = policy.rules_for(Flow.ONBOARDING)
    results: list[RuleResult] = []
    run_rules([r for r in rules if r.stage in PRE_SCORE_STAGES], values, fired, results)

    # 4. scores and credit rules, unless already declined
    credit_rules = [r for r in rules if r.stage not in PRE_SCORE_STAGES]
    scores: list[ScoreRecord] = []
    champion_pd: float | None = None
    champion_reasons: tuple[str, ...] = ()
    if outcome_of(fired) is Outcome.DECLINE:
        results.extend(not_run(credit_rules))
    else:
        for name in policy.models.inline:
            score = context.models[name].score(vector)
            codes = tuple(reason.code for reason in score.reasons)
            scores.append(ScoreRecord(name, score.model_version, score.probability_of_default, codes))
            values[f"pd_{name}"] = score.probability_of_default
            if name == policy.models.champion:
                champion_pd, champion_reasons = score.probability_of_default, codes
        values[CHAMPION_SCORE] = champion_pd
        if context.shadow is not None and policy.models.challengers:
            context.shadow.submit(decision_id, vector)
        run_rules(credit_rules, values, fired, results)

    # 5. outcome; 6. line, price and offer
    outcome = outcome_of(fired)
    band: RiskBand | None = None
    offer: Offer | None = None
    record: OfferRecord | None = None
    if outcome is Outcome.APPROVE:
        if champion_pd is None or product is None:  # no inline model ran, or the product check fired
            raise InputError(
                "an approval needs the champion's score and a configured product", field="policy"
            )
        band = policy.band_for(champion_pd)
        priced = _price(context, application, product, band, decision_id, now, fired, checks)
        if priced is not None:
            offer, record = priced
        outcome = outcome_of(fired)
    extra = champion_reasons if outcome is not Outcome.APPROVE else ()
    reasons = reasons_of(fired, extra)
    versions = [("policy", policy.version), ("features", context.feature_set_version)]
    versions.extend((f"model:{score.model}", score.model_version) for score in scores)
    if fraud.version is not None:
        versions.append(("fraud", fraud.version))
    trace = Trace(
        decision_id=decision_id,
        flow=Flow.ONBOARDING.value,
        party_id=application.party_id,
        decided_at=now,
        as_of=as_of,
        outcome=outcome.label,
        reasons=reasons,
        inputs={**application.inputs(), **fraud.inputs()},
        entity_ids=entity_ids,
        features=snapshot,
        checks=tuple(checks),
        rules=tuple(results),
        scores=tuple(scores),
        risk_band=None if band is None else band.band,
        offer=record,
        versions=tuple(versions),
    )
    decision = Decision(
        decision_id=decision_id,
        party_id=application.party_id,
        decision_type=Flow.ONBOARDING.value,
        outcome=outcome,
        decided_at=now,
        reasons=tuple(Reason(code) for code in reasons),
        versions=tuple(versions),
        offer=offer if outcome is Outcome.APPROVE else None,
        score=champion_pd,
    )
    return Decided(decision, trace)


def _check(
    check_id: str,
    passed: bool,
    values: tuple[tuple[str, float | bool | str | None], ...],
    reason: str,
    fired: list[Fired],
    checks: list[RuleResult],
) -> None:
    checks.append(RuleResult(check_id, "passed" if passed else "fired", values))
    if not passed:
        fired.append(Fired(Outcome.DECLINE, reason, 1_000_000, len(fired)))


def _checks(
    policy: Policy,
    application: Application,
    product: ProductPolicy | None,
    fired: list[Fired],
    checks: list[RuleResult],
) -> None:
    rules = policy.eligibility
    age = application.age_years
    _check(
        "eligibility.age_years",
        rules.age_years_min <= age <= rules.age_years_max,
        (
            ("age_years", float(age)),
            ("age_years_min", float(rules.age_years_min)),
            ("age_years_max", float(rules.age_years_max)),
        ),
        "eligibility:age",
        fired,
        checks,
    )
    _check(
        "eligibility.identity_verified",
        application.identity_verified or not rules.identity_verified_required,
        (("identity_verified", application.identity_verified),),
        "eligibility:identity",
        fired,
        checks,
    )
    in_range = (
        product is not None
        and application.installments in product.installments
        and product.amount_min_fen <= application.requested_amount_fen <= product.amount_max_fen
    )
    _check(
        "eligibility.product_terms",
        in_range,
        (
            ("product", application.product.value),
            ("installments", float(application.installments)),
            ("requested_amount_fen", float(application.requested_amount_fen)),
        ),
        "eligibility:amount",
        fired,
        checks,
    )


def _price(
    context: OnboardingContext,
    application: Application,
    product: ProductPolicy,
    band: RiskBand | None,
    decision_id: str,
    now: datetime,
    fired: list[Fired],
    checks: list[RuleResult],
) -> tuple[Offer, OfferRecord] | None:
    policy = context.policy
    if band is None:
        _check("pricing.risk_band", False, (), "score", fired, checks)
        return None
    income_cap = int(
        (Decimal(application.monthly_income_fen) * band.income_multiple).to_integral_value(
            rounding=ROUND_FLOOR
        )
    )
    amount = min(application.requested_amount_fen, band.line_max_fen, income_cap, product.amount_max_fen)
    amount -= amount % YUAN_FEN
    _check(
        "pricing.amount_minimum",
        amount >= product.amount_min_fen,
        (("amount_fen", float(amount)), ("amount_min_fen", float(product.amount_min_fen))),
        "amount_below_minimum",
        fired,
        checks,
    )
    if amount < product.amount_min_fen:
        return None
    on = business_date(now)
    terms = _terms(product, band, application.installments)
    grid_rate = context.grid.rate(grid_key(product.product, band.band, application.installments))
    grid_check = check_price(context.caps, product.product.value, on, grid_rate, fees=())
    schedule: Schedule | None = None
    rate: AnnualisedRate = grid_rate
    cap_check = grid_check
    if grid_check.allowed and product.product is not ProductKind.BNPL:
        schedule = build_schedule(terms, Money(amount, "CNY"), on, rounding=policy.pricing.rounding)
        rate = annualised_rate(schedule, fees=terms.fees, frequency=terms.frequency)
        cap_check = check_price(context.caps, product.product.value, on, rate, fees=())
    _check(
        "pricing.rate_cap",
        cap_check.allowed,
        (("annualised_rate_pct", str(cap_check.rate_pct)), ("cap_pct", str(cap_check.cap_pct))),
        "pricing:over_cap",
        fired,
        checks,
    )
    if not cap_check.allowed:
        return None
    if schedule is not None:
        monthly_payment = max(line.total.amount_minor for line in schedule.installments)
    else:
        monthly_payment = math.ceil(Decimal(amount) * product.line_monthly_payment_share)
    debt = application.monthly_debt_payments_fen + monthly_payment
    income = application.monthly_income_fen
    affordable = income > 0 and Decimal(debt) <= Decimal(income) * policy.eligibility.debt_service_ratio_max
    _check(
        "eligibility.debt_service_ratio",
        affordable,
        (
            ("monthly_payment_fen", float(monthly_payment)),
            ("monthly_debt_payments_fen", float(application.monthly_debt_payments_fen)),
            ("monthly_income_fen", float(income)),
            ("debt_service_ratio_max", str(policy.eligibility.debt_service_ratio_max)),
        ),
        "eligibility:affordability",
        fired,
        checks,
    )
    if not affordable:
        return None
    valid_until = now + timedelta(days=policy.pricing.offer_validity_days)
    offer = Offer(
        offer_id=f"offer-{decision_id}",
        party_id=application.party_id,
        terms=terms,
        amount=Money(amount, "CNY"),
        annualised_rate=rate,
        valid_from=now,
        valid_until=valid_until,
        schedule=schedule,
        versions=(("policy", policy.version),),
    )
    record = OfferRecord(
        offer_id=offer.offer_id,
        product=product.product.value,
        amount_fen=amount,
        installments=application.installments,
        annual_rate=str(band.annual_rate),
        annualised_rate_pct=str(rate.annual_rate_pct),
        rate_method=rate.method,
        cap_pct=str(cap_check.cap_pct),
        monthly_payment_fen=monthly_payment,
        valid_from=now,
        valid_until=valid_until,
    )
    return offer, record
