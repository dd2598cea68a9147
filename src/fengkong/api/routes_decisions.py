"""The decision API under ``/v1``: applications for new credit, authorisations against a line, decisions.

Installed with :func:`install` (the router and the process's
:class:`~fengkong.services.api_decisions.DecisionDesk` together), so the routes never exist without an engine
behind them. Every ``POST`` is idempotent through :func:`fengkong.api.idempotency.respond_once`; the decision
is recorded (trace in the lake, header and offer in SQL) in the same transaction as the idempotency key.
A decline or a review is an answer (201 with its reasons), not an error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, FastAPI, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fengkong import bounds
from fengkong.api.context import get_context
from fengkong.api.errors import ERROR_RESPONSES
from fengkong.api.idempotency import IdempotencyKey, respond_once
from fengkong.api.wire import AMOUNT_PATTERN, ID_PATTERN, POSITIVE_AMOUNT_PATTERN, fen_of, money_text
from fengkong.errors import UnavailableError
from fengkong.services import api_decisions
from fengkong.services.api_context import ApiContext
from fengkong.services.api_decisions import AuthorisationRequest, Decided, DecisionDesk, Trace

router = APIRouter(prefix="/v1", tags=["decisions"], responses=ERROR_RESPONSES)

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
Optional = Annotated[str, StringConstraints(min_length=1, max_length=bounds.fraud_identifier_length_max)]
Amount = Annotated[str, StringConstraints(pattern=AMOUNT_PATTERN, max_length=16)]
PositiveAmount = Annotated[str, StringConstraints(pattern=POSITIVE_AMOUNT_PATTERN, max_length=16)]
DecisionPath = Annotated[
    str,
    Path(
        min_length=1, max_length=bounds.decision_id_length_max, pattern=ID_PATTERN, description="Decision ID"
    ),
]


class ApplicationBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    application_id: Identifier
    party_id: Identifier
    household_id: Identifier
    product: Literal["installment", "bnpl"]
    amount: Amount = Field(description="The amount asked for, in yuan")
    installments: int = Field(ge=1, le=60)
    age_years: int = Field(ge=0, le=150)
    identity_verified: bool
    monthly_income: Amount
    monthly_debt_payments: Amount
    device_id: Optional | None = None
    phone: Optional | None = None
    ip: Optional | None = None


class AuthorisationBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    authorisation_id: Identifier
    party_id: Identifier
    household_id: Identifier
    product: Annotated[
        str,
        StringConstraints(min_length=1, max_length=bounds.exposure_product_length_max, pattern=ID_PATTERN),
    ]
    amount: PositiveAmount
    merchant_category: Annotated[str, StringConstraints(max_length=64)] = ""
    device_id: Optional | None = None
    ip: Optional | None = None


class ReasonWire(BaseModel):
    code: str
    en: str
    zh_cn: str


class OfferWire(BaseModel):
    offer_id: str
    product: str
    amount: str
    installments: int
    annual_rate: str
    annualised_rate_pct: str
    cap_pct: str
    monthly_payment: str
    valid_until: datetime


class HoldWire(BaseModel):
    hold_id: str
    placed: bool
    amount: str
    expires_at: datetime | None = None
    refused_cap: str | None = None


class DecisionWire(BaseModel):
    decision_id: str
    flow: str
    party_id: str
    outcome: Literal["approve", "review", "decline"]
    decided_at: datetime
    reasons: list[ReasonWire]
    risk_band: str | None = None
    offer: OfferWire | None = None
    hold: HoldWire | None = None
    versions: dict[str, str]


class DecisionDetail(DecisionWire):
    trace: dict[str, Any] = Field(description="The whole trace: inputs, features, checks and rules, scores")


def get_desk(request: Request) -> DecisionDesk:
    desk = getattr(request.app.state, "decisions", None)
    if not isinstance(desk, DecisionDesk):
        raise UnavailableError("no decision engine is configured for this process")
    return desk


Context = Annotated[ApiContext, Depends(get_context)]
Desk = Annotated[DecisionDesk, Depends(get_desk)]


def install(app: FastAPI, desk: DecisionDesk) -> None:
    """Serve the decision routes on ``app`` with ``desk`` behind them."""
    app.state.decisions = desk
    app.include_router(router)


def _reasons(codes: tuple[str, ...]) -> list[ReasonWire]:
    return [
        ReasonWire(code=view.code, en=view.en, zh_cn=view.zh_cn) for view in api_decisions.reason_views(codes)
    ]


def decision_wire(trace: Trace) -> dict[str, Any]:
    offer = trace.offer
    hold = trace.hold
    body = DecisionWire(
        decision_id=trace.decision_id,
        flow=trace.flow,
        party_id=trace.party_id,
        outcome=trace.outcome,
        decided_at=trace.decided_at,
        reasons=_reasons(trace.reasons),
        risk_band=trace.risk_band,
        offer=None
        if offer is None
        else OfferWire(
            offer_id=offer.offer_id,
            product=offer.product,
            amount=money_text(offer.amount_fen),
            installments=offer.installments,
            annual_rate=offer.annual_rate,
            annualised_rate_pct=offer.annualised_rate_pct,
            cap_pct=offer.cap_pct,
            monthly_payment=money_text(offer.monthly_payment_fen),
            valid_until=offer.valid_until,
        ),
        hold=None
        if hold is None
        else HoldWire(
            hold_id=hold.hold_id,
            placed=hold.placed,
            amount=money_text(hold.amount_fen),
            expires_at=hold.expires_at,
            refused_cap=hold.refused_cap,
        ),
        versions=dict(trace.versions),
    )
    return body.model_dump(mode="json")


def _answer(decided: Decided) -> tuple[int, dict[str, Any]]:
    return 201, decision_wire(decided.trace)


@router.post(
    "/applications",
    response_model=DecisionWire,
    status_code=201,
    summary="Decide an application for new credit: approve with an offer, review, or decline with reasons",
)
def post_application(
    body: ApplicationBody, request: Request, context: Context, desk: Desk, key: IdempotencyKey
) -> JSONResponse:
    application = api_decisions.new_application(
        application_id=body.application_id,
        party_id=body.party_id,
        household_id=body.household_id,
        product=body.product,
        requested_amount_fen=fen_of(body.amount, "amount"),
        installments=body.installments,
        age_years=body.age_years,
        identity_verified=body.identity_verified,
        monthly_income_fen=fen_of(body.monthly_income, "monthly_income"),
        monthly_debt_payments_fen=fen_of(body.monthly_debt_payments, "monthly_debt_payments"),
        received_at=context.clock.now(),
        device_id=body.device_id,
        phone=body.phone,
        ip=body.ip,
    )

    def work(connection: sa.Connection) -> tuple[int, dict[str, Any]]:
        return _answer(api_decisions.apply_on(connection, desk, application))

    return respond_once(context, request, key, body, work)


@router.post(
    "/authorisations",
    response_model=DecisionWire,
    status_code=201,
    summary="Authorise a purchase or draw against a line: approve with a hold, review, or decline",
)
def post_authorisation(
    body: AuthorisationBody, request: Request, context: Context, desk: Desk, key: IdempotencyKey
) -> JSONResponse:
    authorisation = AuthorisationRequest(
        authorisation_id=body.authorisation_id,
        party_id=body.party_id,
        household_id=body.household_id,
        product=body.product,
        amount_fen=fen_of(body.amount, "amount"),
        received_at=context.clock.now(),
        merchant_category=body.merchant_category,
        device_id=body.device_id,
        ip=body.ip,
    )

    def work(connection: sa.Connection) -> tuple[int, dict[str, Any]]:
        return _answer(api_decisions.authorise_on(connection, desk, authorisation))

    return respond_once(context, request, key, body, work)


@router.get("/decisions/{decision_id}", response_model=DecisionDetail, summary="A decision and its trace")
def get_decision(decision_id: DecisionPath, context: Context, desk: Desk) -> dict[str, Any]:
    explanation = api_decisions.explain(context.engine, desk, decision_id)
    return {**decision_wire(explanation.trace), "trace": explanation.trace.to_json()}
