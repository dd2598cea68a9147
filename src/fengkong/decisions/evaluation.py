"""What both flows share: which features to read from which entity, running a stage's rules, the reasons.

Reasons of a decision: the codes of the checks and rules that fired, strictest outcome first, then by rule
priority (highest first), then in run order; each code once; at most ``bounds.decision_reasons_max``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from fengkong import bounds
from fengkong.decisions.policy import Rule, RuleResult, evaluate_rule, rule_outcome
from fengkong.decisions.ports import Blocklist
from fengkong.domain.decision import Outcome
from fengkong.domain.features import FeatureReader, FeatureValue, FeatureVector
from fengkong.domain.protocols import FraudCheck
from fengkong.errors import InputError
from fengkong.features.spec import FeatureSet


@dataclass(frozen=True, slots=True)
class FeaturePlan:
    """Feature names to read, grouped by the entity that has them (consumer, device, phone, ip...)."""

    by_entity: tuple[tuple[str, tuple[str, ...]], ...]

    @classmethod
    def of(cls, feature_set: FeatureSet, names: Iterable[str]) -> FeaturePlan:
        grouped: dict[str, dict[str, None]] = {}
        for name in names:
            try:
                spec = feature_set.get(name)
            except (KeyError, InputError):
                raise InputError(f"no feature {name!r} in the feature set", field="features") from None
            grouped.setdefault(spec.entity.value, {})[name] = None
        return cls(tuple((entity, tuple(found)) for entity, found in grouped.items()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for _entity, names in self.by_entity for name in names)

    def read(
        self, reader: FeatureReader, entity_ids: Mapping[str, str], as_of: datetime
    ) -> dict[str, FeatureValue]:
        """Every planned feature as known at ``as_of``; an entity with no ID (no device given) reads None."""
        values: dict[str, FeatureValue] = {}
        for entity, names in self.by_entity:
            entity_id = entity_ids.get(entity)
            if entity_id is None:
                values.update(dict.fromkeys(names))
                continue
            vector = reader.read(entity, entity_id, as_of, names)
            for name in names:
                values[name] = vector.values.get(name)
        return values


@dataclass(frozen=True, slots=True)
class Fired:
    """A check or rule that fired: its outcome and reason code, with its priority for ordering reasons."""

    outcome: Outcome
    reason: str
    priority: int
    order: int


def run_rules(
    rules: Sequence[Rule], values: Mapping[str, object], fired: list[Fired], results: list[RuleResult]
) -> None:
    """Run ``rules`` in order over ``values``, appending each result and each firing."""
    for rule in rules:
        result = evaluate_rule(rule, values)
        results.append(result)
        contributed = rule_outcome(rule, result)
        if contributed is not None:
            fired.append(Fired(contributed[0], contributed[1], rule.priority, len(fired)))


def not_run(rules: Sequence[Rule]) -> list[RuleResult]:
    return [RuleResult(rule.rule_id, "not_run") for rule in rules]


def outcome_of(fired: Sequence[Fired]) -> Outcome:
    if not fired:
        return Outcome.APPROVE
    return Outcome.strictest([item.outcome for item in fired])


def reasons_of(fired: Sequence[Fired], extra: Sequence[str] = ()) -> tuple[str, ...]:
    ordered = sorted(fired, key=lambda item: (-item.outcome.priority, -item.priority, item.order))
    codes: dict[str, None] = {}
    for code in [item.reason for item in ordered if item.outcome is not Outcome.APPROVE] + list(extra):
        codes[code] = None
    return tuple(codes)[: bounds.decision_reasons_max]


@dataclass(frozen=True, slots=True)
class FraudOutcome:
    """The fraud check's answer as the rules see it (``fraud_score``) and as the trace keeps it. The check's
    own outcome counts too: a check that asks for review or declines is a fired check of the flow."""

    score: float = 0.0
    reasons: tuple[str, ...] = ()
    version: str | None = None
    outcome: Outcome = Outcome.APPROVE

    @classmethod
    def of(cls, check: FraudCheck | None, vector: FeatureVector) -> FraudOutcome:
        if check is None:
            return cls()
        verdict = check.check(vector)
        return cls(
            float(verdict.fraud_score),
            tuple(reason.code for reason in verdict.reasons),
            verdict.check_version,
            verdict.outcome,
        )

    def inputs(self) -> dict[str, str | None]:
        return {
            "fraud_score": repr(self.score),
            "fraud_reasons": " ".join(self.reasons),
            "fraud_version": self.version,
            "fraud_outcome": self.outcome.label,
        }

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, object]) -> FraudOutcome:
        outcomes = {outcome.label: outcome for outcome in Outcome}
        try:
            version = inputs.get("fraud_version")
            return cls(
                float(str(inputs["fraud_score"])),
                tuple(str(inputs.get("fraud_reasons") or "").split()),
                None if version is None else str(version),
                outcomes[str(inputs.get("fraud_outcome") or "approve")],
            )
        except (KeyError, ValueError) as error:
            raise InputError(f"the trace has no fraud score: {error!r}", field="inputs") from None

    def apply(self, fired: list[Fired], checks: list[RuleResult]) -> None:
        """Record the check (when one ran) and, when it objects, fire its outcome with its first reason."""
        if self.version is None:
            return
        objects = self.outcome is not Outcome.APPROVE
        checks.append(
            RuleResult("fraud.check", "fired" if objects else "passed", (("fraud_score", self.score),))
        )
        if objects:
            reason = self.reasons[0] if self.reasons else "fraud:fraud_score"
            fired.append(Fired(self.outcome, reason, 1_000_000, len(fired)))


def rule_value(value: FeatureValue) -> float | None:
    """A feature value as a rule reads it: a CEL double, or None when missing."""
    return None if value is None else float(value)


BLOCKLIST_ENTITIES = {"party": "consumer", "device": "device", "phone": "phone", "ip": "ip"}


def blocklisted(blocklist: Blocklist | None, kinds: Sequence[str], entity_ids: Mapping[str, str]) -> bool:
    """Whether any identifier of the request (of the kinds the policy checks) is on the blocklist."""
    if blocklist is None:
        return False
    return any(
        blocklist.contains(kind, entity_ids[BLOCKLIST_ENTITIES[kind]])
        for kind in kinds
        if BLOCKLIST_ENTITIES[kind] in entity_ids
    )
