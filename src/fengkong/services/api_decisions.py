"""The decision engine behind the API: decide an application or an authorisation inside the idempotent
write's transaction, record it (trace to the lake, header and offer in SQL), explain a decision by ID.

A :class:`DecisionDesk` is the engine and the trace lake of one API process. The trace body is written to
the lake first (one file per decision here; the demo and batch callers record in batches through
:class:`~fengkong.services.decisions.DecisionRecorder`), then the header and, for an approval, the offer are
written in the caller's transaction — the one that also keeps the idempotency key — so a retried request
returns the first response and never decides twice. An authorisation's line is read and its hold placed in
that same transaction too (:class:`~fengkong.services.decisions.ConnectionExposure`): the hold, the decision
and the key commit together or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from fengkong.clock import Clock
from fengkong.compliance.reasons import default_reason_texts
from fengkong.decisions.authorisation import AuthorisationRequest
from fengkong.decisions.engine import DecisionEngine
from fengkong.decisions.onboarding import Application, Decided
from fengkong.decisions.trace import Trace
from fengkong.domain.products import ProductKind
from fengkong.errors import InputError
from fengkong.services.decisions import ConnectionExposure, Explanation, TraceLake, header_of
from fengkong.store.decisions import get_header, record_headers
from fengkong.store.offers import OffersRepository


@dataclass(frozen=True, slots=True)
class DecisionDesk:
    engine: DecisionEngine
    lake: TraceLake
    clock: Clock


def _record(connection: sa.Connection, desk: DecisionDesk, decided: Decided) -> None:
    parts = desk.lake.append([decided.trace], unique_names=True)
    record_headers(connection, [header_of(decided, parts[decided.trace.decision_id])], desk.clock.now())


def apply_on(connection: sa.Connection, desk: DecisionDesk, application: Application) -> Decided:
    """Decide ``application`` and record it (and its offer) in ``connection``'s transaction."""
    decided = desk.engine.decide_application(application)
    _record(connection, desk, decided)
    if decided.decision.offer is not None:
        OffersRepository(desk.clock).add(connection, decided.decision.offer)
    return decided


def authorise_on(connection: sa.Connection, desk: DecisionDesk, request: AuthorisationRequest) -> Decided:
    decided = desk.engine.authorise(request, exposure=ConnectionExposure(connection))
    _record(connection, desk, decided)
    return decided


def explain(engine: sa.Engine, desk: DecisionDesk, decision_id: str) -> Explanation:
    with engine.connect() as connection:
        header = get_header(connection, decision_id)
    return Explanation(header, desk.lake.read(decision_id, header.trace_part))


__all__ = ["Application", "AuthorisationRequest", "Decided", "DecisionDesk", "Trace"]


@dataclass(frozen=True, slots=True)
class ReasonView:
    code: str
    en: str
    zh_cn: str


def reason_views(codes: tuple[str, ...]) -> list[ReasonView]:
    """Each reason code with its customer sentences (empty when a code, say a fraud check's, has none)."""
    texts = default_reason_texts()
    out = []
    for code in codes:
        try:
            found = texts.lookup(code)
            out.append(ReasonView(code, found.en, found.zh_cn))
        except InputError:
            out.append(ReasonView(code, "", ""))
    return out


def new_application(
    *,
    application_id: str,
    party_id: str,
    household_id: str,
    product: str,
    requested_amount_fen: int,
    installments: int,
    age_years: int,
    identity_verified: bool,
    monthly_income_fen: int,
    monthly_debt_payments_fen: int,
    received_at: datetime,
    device_id: str | None,
    phone: str | None,
    ip: str | None,
) -> Application:
    try:
        kind = ProductKind(product)
    except ValueError:
        raise InputError(f"unknown product {product!r}", field="product") from None
    return Application(
        application_id=application_id,
        party_id=party_id,
        household_id=household_id,
        product=kind,
        requested_amount_fen=requested_amount_fen,
        installments=installments,
        age_years=age_years,
        identity_verified=identity_verified,
        monthly_income_fen=monthly_income_fen,
        monthly_debt_payments_fen=monthly_debt_payments_fen,
        received_at=received_at,
        device_id=device_id,
        phone=phone,
        ip=ip,
    )
