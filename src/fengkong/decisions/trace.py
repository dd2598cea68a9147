"""Decision traces: everything a decision read and did, enough to explain it and to decide it again.

A :class:`Trace` holds the flow's inputs, the feature snapshot (every value a rule or model read, None when
missing), the built-in eligibility checks and each rule's result with the values it read, the scores, the
risk band and offer or the hold, the reasons and the versions of the policy, models and feature set.

:meth:`Trace.to_json` / :meth:`Trace.from_json` round-trip exactly (amounts as integer fen, rates as decimal
strings, instants as ISO 8601 UTC), which is what lets the engine re-decide from a stored trace
(:meth:`fengkong.decisions.engine.DecisionEngine.replay`) and compare. The header goes to SQL
(``store/decisions.py``), the body to the Parquet trace lake (:mod:`fengkong.decisions.trace_lake`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from fengkong import bounds
from fengkong.clock import format_timestamp, parse_timestamp
from fengkong.decisions.policy import RuleResult
from fengkong.errors import InputError

TRACE_FORMAT: Final = "fengkong.decision-trace/1"
InputValue = str | int | bool | None
FeatureValue = float | int | None


@dataclass(frozen=True, slots=True)
class ScoreRecord:
    model: str
    model_version: str
    probability_of_default: float
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OfferRecord:
    """The offer's figures as decided (the full :class:`~fengkong.domain.Offer` is rebuilt from them)."""

    offer_id: str
    product: str
    amount_fen: int
    installments: int
    annual_rate: str  # nominal, a decimal fraction
    annualised_rate_pct: str  # the disclosed IRR-based rate
    rate_method: str
    cap_pct: str
    monthly_payment_fen: int
    valid_from: datetime
    valid_until: datetime


@dataclass(frozen=True, slots=True)
class HoldRecord:
    hold_id: str
    placed: bool
    amount_fen: int
    expires_at: datetime | None = None
    refused_cap: str | None = None
    available_fen: int | None = None


@dataclass(frozen=True, slots=True)
class Trace:
    decision_id: str
    flow: str  # "onboarding" or "authorisation"
    party_id: str
    decided_at: datetime
    as_of: datetime  # features as known at this instant
    outcome: str
    reasons: tuple[str, ...]
    inputs: Mapping[str, InputValue]
    entity_ids: Mapping[str, str]
    features: Mapping[str, FeatureValue]
    checks: tuple[RuleResult, ...]
    rules: tuple[RuleResult, ...]
    scores: tuple[ScoreRecord, ...] = ()
    risk_band: str | None = None
    offer: OfferRecord | None = None
    line: tuple[int, int] | None = None  # authorisation: (limit_fen, available_fen) as read
    hold: HoldRecord | None = None
    versions: tuple[tuple[str, str], ...] = field(default=())

    def version(self, component: str) -> str | None:
        return dict(self.versions).get(component)

    # -- JSON ---------------------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": TRACE_FORMAT,
            "decision_id": self.decision_id,
            "flow": self.flow,
            "party_id": self.party_id,
            "decided_at": format_timestamp(self.decided_at),
            "as_of": format_timestamp(self.as_of),
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "inputs": dict(self.inputs),
            "entity_ids": dict(self.entity_ids),
            "features": dict(self.features),
            "checks": [_result_json(result) for result in self.checks],
            "rules": [_result_json(result) for result in self.rules],
            "scores": [
                {
                    "model": s.model,
                    "model_version": s.model_version,
                    "probability_of_default": s.probability_of_default,
                    "reasons": list(s.reasons),
                }
                for s in self.scores
            ],
            "risk_band": self.risk_band,
            "offer": None if self.offer is None else _offer_json(self.offer),
            "line": None if self.line is None else list(self.line),
            "hold": None if self.hold is None else _hold_json(self.hold),
            "versions": [list(pair) for pair in self.versions],
        }

    def to_text(self) -> str:
        text = json.dumps(self.to_json(), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        if len(text.encode("utf-8")) > bounds.trace_body_bytes_max:
            raise InputError(f"over trace_body_bytes_max={bounds.trace_body_bytes_max}", field="trace")
        return text

    @classmethod
    def from_text(cls, text: str) -> Trace:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"not JSON: {error}", field="trace") from None
        return cls.from_json(data)

    @classmethod
    def from_json(cls, data: Any) -> Trace:
        if not isinstance(data, dict) or data.get("format") != TRACE_FORMAT:
            raise InputError(f"not a {TRACE_FORMAT} document", field="trace")
        try:
            offer = data["offer"]
            hold = data["hold"]
            line = data["line"]
            return cls(
                decision_id=str(data["decision_id"]),
                flow=str(data["flow"]),
                party_id=str(data["party_id"]),
                decided_at=parse_timestamp(data["decided_at"], "decided_at"),
                as_of=parse_timestamp(data["as_of"], "as_of"),
                outcome=str(data["outcome"]),
                reasons=tuple(str(code) for code in data["reasons"]),
                inputs=dict(data["inputs"]),
                entity_ids={str(k): str(v) for k, v in data["entity_ids"].items()},
                features=dict(data["features"]),
                checks=tuple(_result_from(item) for item in data["checks"]),
                rules=tuple(_result_from(item) for item in data["rules"]),
                scores=tuple(
                    ScoreRecord(
                        str(s["model"]),
                        str(s["model_version"]),
                        float(s["probability_of_default"]),
                        tuple(str(r) for r in s["reasons"]),
                    )
                    for s in data["scores"]
                ),
                risk_band=data["risk_band"],
                offer=None if offer is None else _offer_from(offer),
                line=None if line is None else (int(line[0]), int(line[1])),
                hold=None if hold is None else _hold_from(hold),
                versions=tuple((str(pair[0]), str(pair[1])) for pair in data["versions"]),
            )
        except (KeyError, TypeError, IndexError, ValueError) as error:
            raise InputError(f"malformed trace: {error!r}", field="trace") from None


def _result_json(result: RuleResult) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": result.rule_id,
        "status": result.status,
        "values": [list(v) for v in result.values],
    }
    if result.error:
        out["error"] = result.error
    return out


def _result_from(item: Any) -> RuleResult:
    return RuleResult(
        rule_id=str(item["id"]),
        status=item["status"],
        values=tuple((str(name), value) for name, value in item["values"]),
        error=str(item.get("error", "")),
    )


def _offer_json(offer: OfferRecord) -> dict[str, Any]:
    return {
        "offer_id": offer.offer_id,
        "product": offer.product,
        "amount_fen": offer.amount_fen,
        "installments": offer.installments,
        "annual_rate": offer.annual_rate,
        "annualised_rate_pct": offer.annualised_rate_pct,
        "rate_method": offer.rate_method,
        "cap_pct": offer.cap_pct,
        "monthly_payment_fen": offer.monthly_payment_fen,
        "valid_from": format_timestamp(offer.valid_from),
        "valid_until": format_timestamp(offer.valid_until),
    }


def _offer_from(item: Any) -> OfferRecord:
    return OfferRecord(
        offer_id=str(item["offer_id"]),
        product=str(item["product"]),
        amount_fen=int(item["amount_fen"]),
        installments=int(item["installments"]),
        annual_rate=str(item["annual_rate"]),
        annualised_rate_pct=str(item["annualised_rate_pct"]),
        rate_method=str(item["rate_method"]),
        cap_pct=str(item["cap_pct"]),
        monthly_payment_fen=int(item["monthly_payment_fen"]),
        valid_from=parse_timestamp(item["valid_from"], "valid_from"),
        valid_until=parse_timestamp(item["valid_until"], "valid_until"),
    )


def _hold_json(hold: HoldRecord) -> dict[str, Any]:
    return {
        "hold_id": hold.hold_id,
        "placed": hold.placed,
        "amount_fen": hold.amount_fen,
        "expires_at": None if hold.expires_at is None else format_timestamp(hold.expires_at),
        "refused_cap": hold.refused_cap,
        "available_fen": hold.available_fen,
    }


def _hold_from(item: Any) -> HoldRecord:
    expires = item["expires_at"]
    return HoldRecord(
        hold_id=str(item["hold_id"]),
        placed=bool(item["placed"]),
        amount_fen=int(item["amount_fen"]),
        expires_at=None if expires is None else parse_timestamp(expires, "expires_at"),
        refused_cap=item["refused_cap"],
        available_fen=item["available_fen"],
    )
