"""Authorisation: a purchase or draw against an existing line — the checkout path.

In order: the feature snapshot (consumer, device, IP velocity as known when the request was received); the
line as held in SQL (limit and room left, through the injected
:class:`~fengkong.decisions.ports.ExposurePort`, never from the feature store); the fraud check and
blocklists; the identity, fraud, velocity and authorisation rules (``amount_fen > available_fen`` is a rule,
so the policy says what to do about it); then, for an approval, the **hold** placed through the port (atomic
in SQL, idempotent by the authorisation ID). A hold refused because a concurrent request took the room turns
the approval into a decline naming the cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from fengkong.clock import require_utc
from fengkong.decisions.evaluation import (
    FeaturePlan,
    Fired,
    FraudOutcome,
    blocklisted,
    outcome_of,
    reasons_of,
    rule_value,
    run_rules,
)
from fengkong.decisions.onboarding import Decided
from fengkong.decisions.policy import Flow, Policy, RuleResult
from fengkong.decisions.ports import Blocklist, ExposurePort, HoldPlaced, HoldRequest
from fengkong.decisions.trace import HoldRecord, Trace
from fengkong.domain.decision import Decision, Outcome, Reason
from fengkong.domain.features import FeatureReader, FeatureVector
from fengkong.domain.protocols import FraudCheck
from fengkong.errors import InputError

NO_LINE_REASON = "exposure:party_limit"


@dataclass(frozen=True, slots=True)
class AuthorisationRequest:
    """A purchase or draw of ``amount_fen`` on the party's ``product`` line."""

    authorisation_id: str
    party_id: str
    household_id: str
    product: str
    amount_fen: int
    received_at: datetime
    merchant_category: str = ""
    device_id: str | None = None
    ip: str | None = None

    def __post_init__(self) -> None:
        require_utc(self.received_at, "received_at")
        if isinstance(self.amount_fen, bool) or not isinstance(self.amount_fen, int) or self.amount_fen <= 0:
            raise InputError("must be a positive whole number of fen", field="amount_fen")
        if not self.authorisation_id or not self.party_id or not self.household_id or not self.product:
            raise InputError(
                "authorisation_id, party_id, household_id and product are required", field="authorisation_id"
            )

    @property
    def entity_ids(self) -> dict[str, str]:
        ids = {"consumer": self.party_id}
        for entity, value in (("device", self.device_id), ("ip", self.ip)):
            if value:
                ids[entity] = value
        return ids

    def inputs(self) -> dict[str, str | int | bool | None]:
        return {
            "authorisation_id": self.authorisation_id,
            "party_id": self.party_id,
            "household_id": self.household_id,
            "product": self.product,
            "amount_fen": self.amount_fen,
            "received_at": self.received_at.isoformat(),
            "merchant_category": self.merchant_category,
            "device_id": self.device_id,
            "ip": self.ip,
        }

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, object]) -> AuthorisationRequest:
        try:
            amount = inputs["amount_fen"]
            if isinstance(amount, bool) or not isinstance(amount, int):
                raise ValueError("amount_fen")
            return cls(
                authorisation_id=str(inputs["authorisation_id"]),
                party_id=str(inputs["party_id"]),
                household_id=str(inputs["household_id"]),
                product=str(inputs["product"]),
                amount_fen=amount,
                received_at=datetime.fromisoformat(str(inputs["received_at"])),
                merchant_category=str(inputs.get("merchant_category") or ""),
                device_id=None if inputs.get("device_id") is None else str(inputs["device_id"]),
                ip=None if inputs.get("ip") is None else str(inputs["ip"]),
            )
        except (KeyError, ValueError) as error:
            raise InputError(f"not an authorisation request: {error!r}", field="inputs") from None


@dataclass(frozen=True, slots=True)
class AuthorisationContext:
    policy: Policy
    reader: FeatureReader
    plan: FeaturePlan
    feature_set_version: str
    exposure: ExposurePort
    fraud_check: FraudCheck | None
    blocklist: Blocklist | None
    hold_hours: int


def authorise(
    context: AuthorisationContext,
    request: AuthorisationRequest,
    decision_id: str,
    now: datetime,
    *,
    fraud: FraudOutcome | None = None,
) -> Decided:
    policy = context.policy
    now = require_utc(now, "now")
    as_of = request.received_at
    entity_ids = request.entity_ids
    snapshot = context.plan.read(context.reader, entity_ids, as_of)
    line = context.exposure.line(request.party_id, request.product, request.authorisation_id)
    if fraud is None:
        vector = FeatureVector(
            "authorisation", request.authorisation_id, as_of, snapshot, context.feature_set_version
        )
        fraud = FraudOutcome.of(context.fraud_check, vector)
    values: dict[str, object] = {name: rule_value(value) for name, value in snapshot.items()}
    values.update(
        amount_fen=float(request.amount_fen),
        available_fen=float(line.available_fen if line is not None else 0),
        limit_fen=float(line.limit_fen if line is not None else 0),
        product=request.product,
        merchant_category=request.merchant_category,
        fraud_score=fraud.score,
        blocklisted=blocklisted(context.blocklist, policy.eligibility.blocklists, entity_ids),
    )
    fired: list[Fired] = []
    checks: list[RuleResult] = [
        RuleResult("authorisation.line_exists", "passed" if line is not None else "fired")
    ]
    if line is None:
        fired.append(Fired(Outcome.DECLINE, NO_LINE_REASON, 1_000_000, 0))
    fraud.apply(fired, checks)
    results: list[RuleResult] = []
    run_rules(policy.rules_for(Flow.AUTHORISATION), values, fired, results)
    hold: HoldRecord | None = None
    if outcome_of(fired) is Outcome.APPROVE:
        expires_at = now + timedelta(hours=context.hold_hours)
        placed = context.exposure.hold(
            HoldRequest(
                request.authorisation_id,
                request.party_id,
                request.household_id,
                request.product,
                request.amount_fen,
                expires_at,
                now,
            )
        )
        if isinstance(placed, HoldPlaced):
            hold = HoldRecord(placed.hold_id, True, placed.amount_fen, expires_at=placed.expires_at)
        else:
            hold = HoldRecord(
                placed.hold_id,
                False,
                request.amount_fen,
                refused_cap=placed.cap,
                available_fen=placed.available_fen,
            )
            checks.append(RuleResult("authorisation.hold", "fired", (("refused_cap", placed.cap),)))
            fired.append(Fired(Outcome.DECLINE, f"exposure:{placed.cap}", 1_000_000, len(fired)))
    outcome = outcome_of(fired)
    reasons = reasons_of(fired)
    versions = [("policy", policy.version), ("features", context.feature_set_version)]
    if fraud.version is not None:
        versions.append(("fraud", fraud.version))
    trace = Trace(
        decision_id=decision_id,
        flow=Flow.AUTHORISATION.value,
        party_id=request.party_id,
        decided_at=now,
        as_of=as_of,
        outcome=outcome.label,
        reasons=reasons,
        inputs={**request.inputs(), **fraud.inputs()},
        entity_ids=entity_ids,
        features=snapshot,
        checks=tuple(checks),
        rules=tuple(results),
        line=None if line is None else (line.limit_fen, line.available_fen),
        hold=hold,
        versions=tuple(versions),
    )
    decision = Decision(
        decision_id=decision_id,
        party_id=request.party_id,
        decision_type=Flow.AUTHORISATION.value,
        outcome=outcome,
        decided_at=now,
        reasons=tuple(Reason(code) for code in reasons),
        versions=tuple(versions),
    )
    return Decided(decision, trace)
