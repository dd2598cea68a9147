"""Wire types of the public API: pydantic models, separate from the domain's frozen values.

Amounts travel as decimal strings in yuan (``"1234.56"``), never as JSON numbers; rates as decimal strings of
percent; dates as ``YYYY-MM-DD``; instants as ISO 8601 UTC. The routes build responses from the use cases'
values through named functions (``routes_lending.loan_response``...), never ``Model(**row)``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fengkong import bounds
from fengkong.errors import InputError, MoneyError
from fengkong.money import Money

AMOUNT_PATTERN: Final = r"^[0-9]{1,13}(\.[0-9]{1,2})?$"
# more than zero, at most 999,999,999.99 yuan (below loan_principal_fen_max), no leading zeros
POSITIVE_AMOUNT_PATTERN: Final = r"^([1-9][0-9]{0,8}(\.[0-9]{1,2})?|0\.(0[1-9]|[1-9][0-9]?))$"
ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
DEFAULT_CURRENCY: Final = "CNY"

Amount = Annotated[
    str,
    StringConstraints(pattern=AMOUNT_PATTERN, max_length=16),
    Field(description="An amount in yuan as a decimal string (at most 2 decimals), never a number"),
]
PositiveAmount = Annotated[
    str,
    StringConstraints(pattern=POSITIVE_AMOUNT_PATTERN, max_length=12),
    Field(
        description="An amount in yuan above zero as a decimal string (at most 2 decimals), never a number"
    ),
]


OfferId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=bounds.offer_id_length_max, pattern=ID_PATTERN),
    Field(description="An offer's ID"),
]
LoanId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=bounds.loan_id_length_max, pattern=ID_PATTERN),
    Field(description="A loan's ID, chosen by the caller when booking"),
]
RepaymentId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=bounds.repayment_id_length_max, pattern=ID_PATTERN),
    Field(description="The caller's ID of a repayment (retries reuse it)"),
]
DrawId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=bounds.draw_id_length_max, pattern=ID_PATTERN),
    Field(description="The caller's ID of a draw; the loan it books has this ID"),
]


def money_text(fen: int, currency: str = DEFAULT_CURRENCY) -> str:
    return Money(fen, currency).format()


def fen_of(text: str, field: str, currency: str = DEFAULT_CURRENCY) -> int:
    """Integer fen of a wire amount; :class:`InputError` naming ``field`` when it is not one."""
    try:
        return Money.parse(text, currency).amount_minor
    except MoneyError as error:
        raise InputError(error.reason, field=field) from error


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Response(BaseModel):
    model_config = ConfigDict(frozen=True)


# -- offers ------------------------------------------------------------------------------------------------


class AcceptRequest(_Request):
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [{"loan_id": "LN-1"}]}
    )

    loan_id: LoanId | None = Field(
        default=None, description="The ID of the loan to book (required for an offer with a schedule)"
    )


class AcceptResponse(_Response):
    outcome: Literal["booked", "line-accepted", "not-accepted"]
    offer_id: str
    loan_id: str | None = None
    created: bool | None = None
    line: Amount | None = None
    accepted_at: datetime | None = None
    reason: str | None = Field(default=None, description="not-accepted: expired or not-yet-valid")


# -- draws -------------------------------------------------------------------------------------------------


DrawMethod = Literal["equal-installment", "equal-principal", "interest-only", "flat"]  # scheduled methods


class DrawRequest(_Request):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"draw_id": "D-1", "line_offer_id": "LINE-1", "amount": "3000.00", "installments": 3}
            ]
        },
    )

    draw_id: DrawId
    line_offer_id: OfferId
    amount: PositiveAmount
    installments: int = Field(ge=1, le=bounds.schedule_installments_max, description="Monthly installments")
    method: DrawMethod = "equal-installment"


class DrawResponse(_Response):
    outcome: Literal["booked", "refused"]
    draw_id: str
    line_offer_id: str
    loan_id: str | None = None
    amount: Amount | None = None
    annual_rate_pct: str | None = Field(default=None, description="The draw's annualised rate (IRR), percent")
    available: Amount | None = Field(default=None, description="Credit left on the line")
    created: bool | None = None
    reason: str | None = None
    detail: str | None = None


# -- repayments --------------------------------------------------------------------------------------------


class RepaymentRequest(_Request):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"repayment_id": "R-1", "loan_id": "LN-1", "amount": "2106.30"}]},
    )

    repayment_id: RepaymentId
    loan_id: LoanId
    amount: PositiveAmount


class RepaymentResponse(_Response):
    outcome: Literal["applied", "refused"]
    repayment_id: str
    loan_id: str
    amount: Amount
    reason: str | None = None
    parts: dict[str, Amount] = Field(default_factory=dict, description="What it paid, by component")
    paid_off: bool
    posting_id: str | None = None


# -- loans -------------------------------------------------------------------------------------------------


class DueNow(_Response):
    principal: Amount
    interest: Amount
    fee: Amount


class LoanResponse(_Response):
    loan_id: str
    offer_id: str
    party_id: str
    product: str
    currency: str
    principal: Amount
    disbursed_on: date
    status: str
    closed_through: date = Field(description="The last business day closed for this loan")
    principal_outstanding: Amount
    due: DueNow
    fees_outstanding: Amount
    penalty_outstanding: Amount
    days_past_due: int
    bucket: int = Field(description="Delinquency bucket: 0 current, 1 M1, 2 M2, 3 M3+")
    asset_class: str = Field(description="Five-tier classification: normal ... loss")
    next_due_on: date | None = None


class ScheduleRow(_Response):
    number: int
    due_date: date
    principal: Amount
    interest: Amount
    fee: Amount
    installment: Amount
    paid_principal: Amount
    paid_interest: Amount
    paid_fee: Amount
    waived_interest: Amount
    unpaid: Amount


class ScheduleResponse(_Response):
    loan_id: str
    currency: str
    rows: list[ScheduleRow]
    total_interest: Amount
    total_due: Amount
    total_unpaid: Amount


class PayoffRequest(_Request):
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [{"on": "2026-03-02"}]}
    )

    on: date | None = Field(default=None, description="The business date of the payoff (default: today)")


class PayoffResponse(_Response):
    loan_id: str
    on: date
    penalty: Amount
    fees: Amount
    interest: Amount
    principal: Amount
    total: Amount
    interest_waived: Amount


# -- events ------------------------------------------------------------------------------------------------


EVENT_EXAMPLE: Final[dict[str, Any]] = {  # fictitious parties; an IP from the documentation range (RFC 5737)
    "event_id": "ord-2026-000001",
    "event_type": "order_placed",
    "occurred_at": "2026-03-01T11:58:02.125+08:00",
    "source": "food-app",
    "subjects": {"consumer": "P000123", "merchant": "B000045"},
    "attributes": {
        "order_id": "O-88812",
        "amount": "36.50",
        "category": "food",
        "pay_method": "bnpl",
        "device_id": "dev-7f3a",
        "ip": "203.0.113.7",
    },
}


class EventsRequest(_Request):
    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [{"events": [EVENT_EXAMPLE]}]}
    )

    events: list[Any] = Field(
        min_length=1,
        max_length=bounds.api_events_per_request_max,
        description="Events in the public schema (docs/events.md); each is validated on its own",
    )


class EventResultOut(_Response):
    index: int
    status: Literal["accepted", "duplicate", "rejected"]
    event_id: str | None = None
    field: str | None = None
    reason: str | None = None


class EventsResponse(_Response):
    accepted: int
    duplicates: int
    rejected: int
    published: int
    results: list[EventResultOut]


class HealthResponse(_Response):
    status: Literal["ok"]
    database: str
    events: str
