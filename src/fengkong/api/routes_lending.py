"""The lending API under ``/v1``: accept offers, draw on lines, repay, read loans and schedules, quote
payoffs.

Thin handlers: each parses its wire model, calls one use case of :mod:`fengkong.services.api_lending` and
renders the value it returns. Every ``POST`` is idempotent through
:func:`fengkong.api.idempotency.respond_once`.
Expected outcomes are answers, not errors: an offer outside its window is ``not-accepted`` (200), a draw
over the available credit is ``refused`` (200), a repayment above what closes the loan is ``refused`` (200).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from fengkong.api.context import get_context
from fengkong.api.errors import ERROR_RESPONSES
from fengkong.api.idempotency import IdempotencyKey, respond_once
from fengkong.api.wire import (
    ID_PATTERN,
    AcceptRequest,
    AcceptResponse,
    DrawRequest,
    DrawResponse,
    DueNow,
    LoanResponse,
    PayoffRequest,
    PayoffResponse,
    RepaymentRequest,
    RepaymentResponse,
    ScheduleResponse,
    ScheduleRow,
    fen_of,
    money_text,
)
from fengkong.clock import business_date
from fengkong.domain.products import RepaymentMethod
from fengkong.errors import InputError
from fengkong.services import api_lending
from fengkong.services.api_context import ApiContext
from fengkong.services.loans import LoanBooked, LoanView, RepaymentResult

router = APIRouter(prefix="/v1", tags=["lending"], responses=ERROR_RESPONSES)

Context = Annotated[ApiContext, Depends(get_context)]
OfferPath = Annotated[str, Path(min_length=1, max_length=128, pattern=ID_PATTERN, description="Offer ID")]
LoanPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="Loan ID")]


# -- renderings --------------------------------------------------------------------------------------------


def accept_response(
    outcome: LoanBooked | api_lending.LineAccepted | api_lending.OfferNotAccepted,
) -> tuple[int, AcceptResponse]:
    if isinstance(outcome, LoanBooked):
        body = AcceptResponse(
            outcome="booked", offer_id=outcome.offer_id, loan_id=outcome.loan_id, created=outcome.created
        )
        return (201 if outcome.created else 200), body
    if isinstance(outcome, api_lending.LineAccepted):
        body = AcceptResponse(
            outcome="line-accepted",
            offer_id=outcome.offer_id,
            line=money_text(outcome.line_fen, outcome.currency),
            accepted_at=outcome.accepted_at,
            created=outcome.created,
        )
        return 200, body
    return 200, AcceptResponse(outcome="not-accepted", offer_id=outcome.offer_id, reason=outcome.reason)


def draw_response(outcome: api_lending.DrawBooked | api_lending.DrawRefused) -> tuple[int, DrawResponse]:
    if isinstance(outcome, api_lending.DrawBooked):
        return (201 if outcome.created else 200), DrawResponse(
            outcome="booked",
            draw_id=outcome.draw_id,
            line_offer_id=outcome.line_offer_id,
            loan_id=outcome.loan_id,
            amount=money_text(outcome.amount_fen, outcome.currency),
            annual_rate_pct=outcome.annual_rate_pct,
            available=money_text(outcome.available_after_fen, outcome.currency),
            created=outcome.created,
        )
    return 200, DrawResponse(
        outcome="refused",
        draw_id=outcome.draw_id,
        line_offer_id=outcome.line_offer_id,
        reason=outcome.reason,
        available=None if outcome.available_fen is None else money_text(outcome.available_fen),
        detail=outcome.detail or None,
    )


def repayment_response(result: RepaymentResult, currency: str) -> tuple[int, RepaymentResponse]:
    applied = result.outcome == "applied"
    body = RepaymentResponse(
        outcome="applied" if applied else "refused",
        repayment_id=result.repayment_id,
        loan_id=result.loan_id,
        amount=money_text(result.amount_fen, currency),
        reason=result.reason,
        parts={name: money_text(amount, currency) for name, amount in result.parts},
        paid_off=result.paid_off,
        posting_id=result.posting_id,
    )
    return (201 if applied else 200), body


def loan_response(details: api_lending.LoanDetails) -> LoanResponse:
    view, row = details.view, details.view.row
    currency = view.currency
    next_due = next((item.due for item in view.installments if item.unpaid > 0), None)
    return LoanResponse(
        loan_id=view.loan_id,
        offer_id=details.offer_id,
        party_id=details.party_id,
        product=view.product,
        currency=currency,
        principal=money_text(view.principal_fen, currency),
        disbursed_on=details.disbursed_on,
        status=api_lending.status_name(row.status),
        closed_through=date.fromordinal(row.last_closed),
        principal_outstanding=money_text(row.principal_outstanding, currency),
        due=DueNow(
            principal=money_text(row.due_principal, currency),
            interest=money_text(row.due_interest, currency),
            fee=money_text(row.due_fee, currency),
        ),
        fees_outstanding=money_text(row.fees_outstanding, currency),
        penalty_outstanding=money_text(row.penalty_outstanding, currency),
        days_past_due=row.days_past_due,
        bucket=row.bucket,
        asset_class=api_lending.asset_class_name(row.asset_class),
        next_due_on=next_due,
    )


def schedule_response(view: LoanView) -> ScheduleResponse:
    currency = view.currency
    rows = [
        ScheduleRow(
            number=item.number,
            due_date=item.due,
            principal=money_text(item.principal, currency),
            interest=money_text(item.interest, currency),
            fee=money_text(item.fee, currency),
            installment=money_text(item.principal + item.interest + item.fee, currency),
            paid_principal=money_text(item.paid_principal, currency),
            paid_interest=money_text(item.paid_interest, currency),
            paid_fee=money_text(item.paid_fee, currency),
            waived_interest=money_text(item.waived_interest, currency),
            unpaid=money_text(item.unpaid, currency),
        )
        for item in view.installments
    ]
    return ScheduleResponse(
        loan_id=view.loan_id,
        currency=currency,
        rows=rows,
        total_interest=money_text(sum(item.interest for item in view.installments), currency),
        total_due=money_text(
            sum(item.principal + item.interest + item.fee for item in view.installments), currency
        ),
        total_unpaid=money_text(sum(item.unpaid for item in view.installments), currency),
    )


def _json(status_and_body: tuple[int, Any]) -> tuple[int, dict[str, Any]]:
    status, body = status_and_body
    return status, body.model_dump(mode="json")


# -- routes ------------------------------------------------------------------------------------------------


@router.post(
    "/offers/{offer_id}/accept",
    response_model=AcceptResponse,
    status_code=201,
    responses={200: {"model": AcceptResponse, "description": "A line accepted, a retry, or not accepted"}},
    summary="Accept an offer: book and disburse its loan, or open its credit line",
)
def accept_offer(
    offer_id: OfferPath,
    body: AcceptRequest,
    request: Request,
    context: Context,
    key: IdempotencyKey,
) -> JSONResponse:
    def work(connection: sa.Connection) -> tuple[int, dict[str, Any]]:
        at = context.clock.now()
        stored = api_lending.get_offer_on(connection, context.clock, offer_id)
        if not stored.is_line and body.loan_id is None:
            raise InputError("required to accept an offer with a schedule", field="loan_id")
        loan_id = body.loan_id or ""
        return _json(accept_response(api_lending.accept(connection, context.clock, offer_id, loan_id, at)))

    return respond_once(context, request, key, body, work)


@router.post(
    "/draws",
    response_model=DrawResponse,
    status_code=201,
    responses={200: {"model": DrawResponse, "description": "Refused, or a retry of a booked draw"}},
    summary="Draw on an accepted credit line: the draw is booked as its own loan",
)
def post_draw(body: DrawRequest, request: Request, context: Context, key: IdempotencyKey) -> JSONResponse:
    def work(connection: sa.Connection) -> tuple[int, dict[str, Any]]:
        draw = api_lending.DrawRequest(
            draw_id=body.draw_id,
            line_offer_id=body.line_offer_id,
            amount_fen=fen_of(body.amount, "amount"),
            installments=body.installments,
            method=RepaymentMethod(body.method),
        )
        at = context.clock.now()
        return _json(draw_response(api_lending.draw(connection, context.clock, context.cap_policy, draw, at)))

    return respond_once(context, request, key, body, work)


@router.post(
    "/repayments",
    response_model=RepaymentResponse,
    status_code=201,
    responses={200: {"model": RepaymentResponse, "description": "Refused (more than closes the loan)"}},
    summary="Post a repayment (allocated overdue interest → fee → interest → principal)",
)
def post_repayment(
    body: RepaymentRequest, request: Request, context: Context, key: IdempotencyKey
) -> JSONResponse:
    def work(connection: sa.Connection) -> tuple[int, dict[str, Any]]:
        amount_fen = fen_of(body.amount, "amount")
        if amount_fen <= 0:
            raise InputError("must be more than zero", field="amount")
        at = context.clock.now()
        result = api_lending.repay(connection, context.clock, body.loan_id, body.repayment_id, amount_fen, at)
        currency = api_lending.loan_currency(connection, context.clock, body.loan_id)
        return _json(repayment_response(result, currency))

    return respond_once(context, request, key, body, work)


@router.get("/loans/{loan_id}", response_model=LoanResponse, summary="A loan as serviced now")
def get_loan(loan_id: LoanPath, context: Context) -> LoanResponse:
    return loan_response(api_lending.loan(context.engine, context.clock, loan_id))


@router.get(
    "/loans/{loan_id}/schedule",
    response_model=ScheduleResponse,
    summary="A loan's schedule with what was paid and waived per installment",
)
def get_schedule(loan_id: LoanPath, context: Context) -> ScheduleResponse:
    return schedule_response(api_lending.loan(context.engine, context.clock, loan_id).view)


@router.post(
    "/loans/{loan_id}/payoff-quote",
    response_model=PayoffResponse,
    status_code=200,
    summary="What closes the loan on a business date (nothing is posted)",
)
def post_payoff_quote(
    loan_id: LoanPath, body: PayoffRequest, request: Request, context: Context, key: IdempotencyKey
) -> JSONResponse:
    def work(connection: sa.Connection) -> tuple[int, dict[str, Any]]:
        on = body.on or business_date(context.clock.now())
        view, quote = api_lending.payoff_quote(connection, context.clock, loan_id, on)
        currency = view.currency
        response = PayoffResponse(
            loan_id=quote.loan_id,
            on=quote.on,
            penalty=money_text(quote.penalty, currency),
            fees=money_text(quote.fees, currency),
            interest=money_text(quote.interest, currency),
            principal=money_text(quote.principal, currency),
            total=money_text(quote.total, currency),
            interest_waived=money_text(quote.interest_waived, currency),
        )
        return 200, response.model_dump(mode="json")

    return respond_once(context, request, key, body, work)
