"""Use cases of the lending API: keep offers, accept them, draw on lines, repay, read loans, quote payoffs.

The writes take the caller's connection (``api`` runs them inside
:func:`fengkong.services.api_context.run_once`, so the work commits with its idempotency key); reads take the
engine.

* :func:`save_offer` keeps an :class:`~fengkong.domain.products.Offer` made elsewhere (the decision engine,
  a test, an operator) so that it can be accepted by ID. Idempotent on ``offer_id``.
* :func:`accept` — an offer with a schedule books and disburses its loan
  (:func:`fengkong.services.loans.accept_offer_on`) on the business date its schedule starts; a credit line
  (no schedule) is marked accepted, after which it can be drawn on. Outside the offer's validity window the
  answer is a :class:`~fengkong.lending.servicing.OfferNotAccepted` value, not an error.
* :func:`draw` — a draw on an accepted line is booked as its own installment loan: the line's product, rate
  and day count, the caller's number of monthly installments (equal installments unless another scheduled
  method is asked for), starting today. Its annualised rate is computed by the IRR method and checked
  against the cap in force (:func:`~fengkong.compliance.caps.check_price`); the draw becomes an offer with
  that schedule (``draw:<draw_id>``, pointing at its line) and is accepted at once as loan ``<draw_id>``. The
  line's row lock serialises draws, so two concurrent draws never together pass the line's amount. A draw
  refused (line not accepted, not enough available credit, over the cap) is a :class:`DrawRefused` value.
  A line's validity window is the time to accept it; once accepted it stays drawable (freezing or closing a
  line is the credit-lines work, not done here).
  Not served yet: the revolving line's daily interest on a running balance and BNPL statement billing
  (``lending.products``) — every draw here has a fixed schedule.
* :func:`repay` — :func:`fengkong.services.loans.post_repayment_on` on today's business date.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock, business_date
from fengkong.compliance.apr import annualised_rate
from fengkong.compliance.caps import CapPolicy, check_price
from fengkong.domain.products import Offer, RepaymentMethod
from fengkong.errors import ConflictError, IdempotencyConflictError, InputError, InvariantError, NotFoundError
from fengkong.lending.close_of_business import STATUS_NAMES
from fengkong.lending.delinquency import AssetClass
from fengkong.lending.schedule import SCHEDULED_METHODS, build_schedule
from fengkong.lending.servicing import OfferNotAccepted as OfferNotAccepted  # re-exported for api/
from fengkong.lending.servicing import PayoffQuote
from fengkong.lending.servicing import payoff_quote as payoff_quote_rule
from fengkong.money import Money, Rounding
from fengkong.services.loans import (
    LoanBooked,
    LoanView,
    RepaymentResult,
    accept_offer_on,
    loan_view_on,
    post_repayment_on,
)
from fengkong.store.loans import LoansRepository
from fengkong.store.offers import OffersRepository, StoredOffer

DRAW_OFFER_PREFIX: Final = "draw:"
DRAW_ROUNDING: Final[Rounding] = "ROUND_HALF_EVEN"  # schedules round half-even (services/schedule.py)
DRAW_OFFER_WINDOW: Final = timedelta(seconds=1)  # a draw's own offer is accepted the moment it is made


# -- offers ----------------------------------------------------------------------------------------------


def save_offer(engine: sa.Engine, clock: Clock, offer: Offer, *, line_offer_id: str | None = None) -> bool:
    """Keep ``offer`` so that it can be accepted by ID; True when new (the identical offer again: False)."""
    with engine.begin() as connection:
        return OffersRepository(clock).add(connection, offer, line_offer_id=line_offer_id)


def get_offer(engine: sa.Engine, clock: Clock, offer_id: str) -> StoredOffer:
    with engine.connect() as connection:
        return OffersRepository(clock).get(connection, offer_id)


def get_offer_on(connection: sa.Connection, clock: Clock, offer_id: str) -> StoredOffer:
    return OffersRepository(clock).get(connection, offer_id)


@dataclass(frozen=True, slots=True)
class LineAccepted:
    """A credit line accepted: it can be drawn on from now (``accepted_at`` is the first acceptance)."""

    offer_id: str
    party_id: str
    product: str
    line_fen: int
    currency: str
    accepted_at: datetime
    created: bool  # False: the line had been accepted before


def accept(
    connection: sa.Connection, clock: Clock, offer_id: str, loan_id: str, at: datetime
) -> LoanBooked | LineAccepted | OfferNotAccepted:
    """Accept offer ``offer_id`` at ``at`` (see the module docstring); ``loan_id`` names the loan booked."""
    offers = OffersRepository(clock)
    stored = offers.get(connection, offer_id, lock=True)
    offer = stored.offer
    if stored.line_offer_id is not None:
        raise InputError(
            f"this offer is a draw on line {stored.line_offer_id!r}, booked when it was drawn",
            field="offer_id",
        )
    if stored.is_line:
        if stored.accepted_at is not None:
            return _line_accepted(offer, stored.accepted_at, created=False)
        if at < offer.valid_from:
            return OfferNotAccepted(offer_id, "not-yet-valid", at)
        if at >= offer.valid_until:
            return OfferNotAccepted(offer_id, "expired", at)
        return _line_accepted(offer, offers.mark_accepted(connection, offer_id, at), created=True)
    booked = _booked_loan(connection, clock, offer_id)
    if booked is not None:  # accepted before (perhaps on an earlier day): that loan, or a conflict
        if booked != loan_id:
            raise ConflictError(f"offer {offer_id!r} was accepted before as loan {booked!r}")
        return LoanBooked(loan_id, offer_id, created=False)
    today = business_date(at)
    schedule = offer.schedule
    if schedule is not None and offer.valid_from <= at < offer.valid_until and schedule.disbursed_on != today:
        raise InputError(
            f"the offer's schedule starts on {schedule.disbursed_on.isoformat()}; it can be accepted only on "
            f"that business day (today is {today.isoformat()})",
            field="offer_id",
        )
    return accept_offer_on(connection, clock, offer, at, loan_id, today)


def _booked_loan(connection: sa.Connection, clock: Clock, offer_id: str) -> str | None:
    try:
        return str(LoansRepository(clock).header(connection, offer_id=offer_id)["loan_id"])
    except NotFoundError:
        return None


def _line_accepted(offer: Offer, accepted_at: datetime, *, created: bool) -> LineAccepted:
    return LineAccepted(
        offer_id=offer.offer_id,
        party_id=offer.party_id,
        product=offer.terms.product.value,
        line_fen=offer.amount.amount_minor,
        currency=offer.amount.currency,
        accepted_at=accepted_at,
        created=created,
    )


# -- draws -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DrawRequest:
    draw_id: str
    line_offer_id: str
    amount_fen: int
    installments: int
    method: RepaymentMethod = RepaymentMethod.EQUAL_INSTALLMENT


@dataclass(frozen=True, slots=True)
class DrawBooked:
    draw_id: str
    loan_id: str
    line_offer_id: str
    amount_fen: int
    currency: str
    annual_rate_pct: str
    available_after_fen: int
    created: bool  # False: the same draw was booked before; this is it


@dataclass(frozen=True, slots=True)
class DrawRefused:
    """An expected outcome: nothing was booked. ``reason`` is one of :data:`DRAW_REFUSALS`."""

    draw_id: str
    line_offer_id: str
    reason: str
    available_fen: int | None = None
    detail: str = ""


DRAW_REFUSALS: Final = ("line-not-accepted", "insufficient-available-credit", "over-rate-cap")


def _check_draw(request: DrawRequest) -> None:
    if not request.draw_id or len(request.draw_id) > bounds.draw_id_length_max:
        raise InputError(f"must be 1 to {bounds.draw_id_length_max} characters", field="draw_id")
    if request.amount_fen <= 0 or request.amount_fen > bounds.loan_principal_fen_max:
        raise InputError(
            f"must be more than zero and at most loan_principal_fen_max={bounds.loan_principal_fen_max} fen",
            field="amount",
        )
    if not 1 <= request.installments <= bounds.schedule_installments_max:
        raise InputError(
            f"must be between 1 and schedule_installments_max={bounds.schedule_installments_max}",
            field="installments",
        )
    if request.method not in SCHEDULED_METHODS:
        allowed = ", ".join(sorted(method.value for method in SCHEDULED_METHODS))
        raise InputError(f"a draw needs a scheduled method: one of {allowed}", field="method")


def _same_draw(stored: StoredOffer, request: DrawRequest) -> bool:
    offer = stored.offer
    return (
        stored.line_offer_id == request.line_offer_id
        and offer.amount.amount_minor == request.amount_fen
        and offer.terms.installments == request.installments
        and offer.terms.method is request.method
    )


def draw(
    connection: sa.Connection, clock: Clock, cap_policy: CapPolicy, request: DrawRequest, at: datetime
) -> DrawBooked | DrawRefused:
    """Draw on a line (see the module docstring). Idempotent by ``draw_id``."""
    _check_draw(request)
    offers = OffersRepository(clock)
    line = offers.get(connection, request.line_offer_id, lock=True)
    if not line.is_line or line.line_offer_id is not None:
        raise InputError(
            "not a credit line: an offer with a schedule is accepted, not drawn on", field="line_offer_id"
        )
    offer_id = DRAW_OFFER_PREFIX + request.draw_id
    try:
        earlier = offers.get(connection, offer_id)
    except NotFoundError:
        earlier = None
    if earlier is not None:
        if not _same_draw(earlier, request):
            raise IdempotencyConflictError(f"draw {request.draw_id!r} was made before with another request")
        available = line.offer.amount.amount_minor - offers.drawn_principal_outstanding_fen(
            connection, request.line_offer_id
        )
        return _booked(request, earlier.offer, available, created=False)
    if line.accepted_at is None:
        return DrawRefused(request.draw_id, request.line_offer_id, "line-not-accepted")
    limit = line.offer.amount.amount_minor
    available = limit - offers.drawn_principal_outstanding_fen(connection, request.line_offer_id)
    if request.amount_fen > available:
        return DrawRefused(
            request.draw_id, request.line_offer_id, "insufficient-available-credit", max(available, 0)
        )
    today = business_date(at)
    currency = line.offer.amount.currency
    terms = replace(
        line.offer.terms,
        method=request.method,
        installments=request.installments,
        principal_grace_periods=0,
        interest_grace_periods=0,
        interest_free_periods=0,
        fees=(),
    )
    schedule = build_schedule(terms, Money(request.amount_fen, currency), today, rounding=DRAW_ROUNDING)
    rate = annualised_rate(schedule, fees=(), frequency=terms.frequency)
    priced = check_price(cap_policy, terms.product.value, today, rate, fees=())
    if not priced.allowed:
        return DrawRefused(
            request.draw_id,
            request.line_offer_id,
            "over-rate-cap",
            detail=f"annualised rate {priced.rate_pct} % is above the cap of {priced.cap_pct} % in force",
        )
    offer = Offer(
        offer_id=offer_id,
        party_id=line.offer.party_id,
        terms=terms,
        amount=Money(request.amount_fen, currency),
        annualised_rate=rate,
        valid_from=at,
        valid_until=at + DRAW_OFFER_WINDOW,
        schedule=schedule,
        versions=line.offer.versions,
    )
    offers.add(connection, offer, line_offer_id=request.line_offer_id)
    booked = accept_offer_on(connection, clock, offer, at, request.draw_id, today)
    if not isinstance(booked, LoanBooked):  # the draw's own offer is open at ``at`` by construction
        raise InputError(f"the draw could not be booked: {booked.reason}", field="draw_id")
    return _booked(request, offer, available - request.amount_fen, created=booked.created)


def _booked(request: DrawRequest, offer: Offer, available_fen: int, *, created: bool) -> DrawBooked:
    return DrawBooked(
        draw_id=request.draw_id,
        loan_id=request.draw_id,
        line_offer_id=request.line_offer_id,
        amount_fen=offer.amount.amount_minor,
        currency=offer.amount.currency,
        annual_rate_pct=str(offer.annualised_rate.annual_rate_pct),
        available_after_fen=max(available_fen, 0),
        created=created,
    )


# -- repayments, loans and payoff quotes -----------------------------------------------------------------


def loan_currency(connection: sa.Connection, clock: Clock, loan_id: str) -> str:
    return str(LoansRepository(clock).header(connection, loan_id=loan_id)["currency"])


def repay(
    connection: sa.Connection,
    clock: Clock,
    loan_id: str,
    repayment_id: str,
    amount_fen: int,
    at: datetime,
) -> RepaymentResult:
    """Post a repayment received at ``at`` (its business date) once, however often it is retried."""
    return post_repayment_on(connection, clock, loan_id, repayment_id, amount_fen, business_date(at))


@dataclass(frozen=True, slots=True)
class LoanDetails:
    view: LoanView
    party_id: str
    offer_id: str
    disbursed_on: date


def loan(engine: sa.Engine, clock: Clock, loan_id: str) -> LoanDetails:
    """The loan ``loan_id`` as serviced now; :class:`NotFoundError` when there is none."""
    with engine.connect() as connection:
        header = LoansRepository(clock).header(connection, loan_id=loan_id)
        view = loan_view_on(connection, clock, loan_id)
    return LoanDetails(view, str(header["party_id"]), str(header["offer_id"]), header["disbursed_on"])


def payoff_quote(
    connection: sa.Connection, clock: Clock, loan_id: str, on: date
) -> tuple[LoanView, PayoffQuote]:
    """What closes loan ``loan_id`` on business date ``on`` (nothing is written)."""
    view = loan_view_on(connection, clock, loan_id)
    if on.toordinal() < view.row.last_closed:
        raise InputError(
            f"the loan is closed through {date.fromordinal(view.row.last_closed).isoformat()}: "
            "quote on that day or later",
            field="on",
        )
    return view, payoff_quote_rule(view.row, view.installments, on)


def status_name(code: int) -> str:
    """``active``, ``closed`` or ``written_off``."""
    name = STATUS_NAMES.get(code)
    if name is None:
        raise InvariantError(f"unknown loan status {code}")
    return name


def asset_class_name(code: int) -> str:
    """``normal``, ``special-mention``, ``substandard``, ``doubtful`` or ``loss``."""
    return AssetClass(code).name.lower().replace("_", "-")
