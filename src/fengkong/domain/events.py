"""Events: the public contract for integrators.

An :class:`Event` is something that happened in the ecosystem: an order, a delivery, a review, a login, a
payment, a trade record, a loan application. Every event has

* ``event_id`` — unique, chosen by the producer; the same ID sent twice is the same event (deduplicated);
* ``event_type`` — one of :data:`EVENT_TYPES`;
* ``occurred_at`` — when it happened (UTC); ``received_at`` — when fengkong learned of it (UTC).
  Point-in-time features count an event only once it was *received*;
* ``subjects`` — the parties it is about, each with its role (``consumer``, ``merchant``, ``rider``...);
* ``attributes`` — typed values declared per event type in :data:`EVENT_TYPES`.

:data:`EVENT_TYPES` is the single source of the schema: ingestion validates against it, the lake writer
lays out one Parquet table per type from it, and ``docs/events.md`` is generated from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from fengkong.errors import InputError

SCHEMA_VERSION: Final = 1


class AttributeKind(StrEnum):
    """Wire types of event attributes. ``money`` travels as a string ``"1234.56"`` and is stored in fen."""

    STRING = "string"
    INTEGER = "integer"
    MONEY = "money"
    BOOLEAN = "boolean"
    DECIMAL = "decimal"  # a rate or ratio, as a string ``"0.0365"``
    DATE = "date"  # ``YYYY-MM-DD``
    CHOICE = "choice"  # one of ``choices``


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One attribute of an event type."""

    name: str
    kind: AttributeKind
    description: str
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def __post_init__(self) -> None:
        if (self.kind is AttributeKind.CHOICE) != bool(self.choices):
            raise InputError("choices are given exactly for choice attributes", field=self.name)


@dataclass(frozen=True, slots=True)
class EventTypeSpec:
    """The schema of one event type: its subject roles and attributes."""

    event_type: str
    description: str
    subject_roles: tuple[str, ...]
    attributes: tuple[AttributeSpec, ...]
    optional_subject_roles: tuple[str, ...] = ()

    def attribute(self, name: str) -> AttributeSpec:
        for spec in self.attributes:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def all_subject_roles(self) -> tuple[str, ...]:
        return self.subject_roles + self.optional_subject_roles


def _s(name: str, description: str, required: bool = True) -> AttributeSpec:
    return AttributeSpec(name, AttributeKind.STRING, description, required)


def _i(
    name: str, description: str, minimum: int | None = None, maximum: int | None = None, required: bool = True
) -> AttributeSpec:
    return AttributeSpec(name, AttributeKind.INTEGER, description, required, minimum=minimum, maximum=maximum)


def _m(name: str, description: str, required: bool = True) -> AttributeSpec:
    return AttributeSpec(name, AttributeKind.MONEY, description, required)


def _b(name: str, description: str, required: bool = True) -> AttributeSpec:
    return AttributeSpec(name, AttributeKind.BOOLEAN, description, required)


def _c(name: str, description: str, choices: tuple[str, ...], required: bool = True) -> AttributeSpec:
    return AttributeSpec(name, AttributeKind.CHOICE, description, required, choices=choices)


def _d(name: str, description: str, required: bool = True) -> AttributeSpec:
    return AttributeSpec(name, AttributeKind.DATE, description, required)


_DEVICE = _s("device_id", "opaque device identifier", required=False)
_IP = _s("ip", "client IP address (documentation ranges in simulations)", required=False)

EVENT_TYPES: Final[Mapping[str, EventTypeSpec]] = {
    spec.event_type: spec
    for spec in (
        EventTypeSpec(
            "party_registered",
            "A person or business joins the ecosystem.",
            ("party",),
            (
                _c("party_kind", "person or business", ("person", "business")),
                _s(
                    "roles",
                    "comma-separated roles: consumer, rider, merchant_owner, merchant, core_enterprise, "
                    "supplier",
                ),
                _s(
                    "household_id",
                    "household of a person (consumer credit caps are per household)",
                    required=False,
                ),
                _s("owner_party_id", "for a business: the owning person", required=False),
                _i("birth_year", "year of birth of a person", 1900, 2100, required=False),
                _m("declared_monthly_income", "income the person declared", required=False),
                _c(
                    "segment",
                    "business segment",
                    ("restaurant", "hotel", "shop", "snack", "core_enterprise", "supplier"),
                    required=False,
                ),
                _b("is_chain", "the business belongs to a chain", required=False),
                _i("city_tier", "1 (largest cities) to 5", 1, 5, required=False),
                _s("phone", "synthetic phone number (E.164); stored pseudonymised", required=False),
                _DEVICE,
                _IP,
            ),
        ),
        EventTypeSpec(
            "login",
            "A party signs in to the app.",
            ("party",),
            (
                _s("device_id", "opaque device identifier"),
                _s("ip", "client IP address"),
                _s("phone", "phone number used to sign in", required=False),
                _c("method", "how the party authenticated", ("password", "sms", "face", "token")),
            ),
        ),
        EventTypeSpec(
            "order_placed",
            "A consumer orders from a merchant (food, hotel or shop).",
            ("consumer", "merchant"),
            (
                _s("order_id", "order identifier"),
                _m("amount", "order value"),
                _c("category", "what was bought", ("food", "hotel", "shop")),
                _c("pay_method", "how the consumer paid", ("wallet", "bnpl", "card")),
                _DEVICE,
                _IP,
            ),
        ),
        EventTypeSpec(
            "order_refunded",
            "A merchant refunds all or part of an order.",
            ("consumer", "merchant"),
            (
                _s("order_id", "the refunded order"),
                _m("amount", "amount refunded"),
                _c("reason", "why", ("cancelled", "quality", "late", "other")),
            ),
        ),
        EventTypeSpec(
            "delivery_completed",
            "A rider finishes (or abandons) a delivery.",
            ("rider", "merchant"),
            (
                _s("order_id", "the delivered order"),
                _c("status", "outcome", ("on_time", "late", "cancelled")),
                _i("minutes_late", "minutes after the promised time (0 when on time)", 0, 1440),
                _m("rider_pay", "what the rider earned for it"),
            ),
            optional_subject_roles=("consumer",),
        ),
        EventTypeSpec(
            "review_posted",
            "A consumer reviews a merchant, 1 to 5 stars.",
            ("consumer", "merchant"),
            (_s("order_id", "the reviewed order", required=False), _i("stars", "rating", 1, 5)),
        ),
        EventTypeSpec(
            "merchant_settlement",
            "The platform pays a merchant its day's takings.",
            ("merchant",),
            (
                _d("business_date", "the settled business date (Asia/Shanghai)"),
                _m("amount", "net settled"),
                _i("orders_count", "orders in the settlement", 0),
            ),
        ),
        EventTypeSpec(
            "payment_made",
            "Money leaves a party's wallet: to a merchant, a bank account or another person.",
            ("payer",),
            (
                _m("amount", "amount paid"),
                _c("purpose", "what for", ("order", "transfer_out", "topup", "bill")),
                _s("counterparty_account", "opaque account identifier of the receiver", required=False),
                _b("counterparty_known", "the receiver was paid before by this payer", required=False),
                _DEVICE,
                _IP,
            ),
            optional_subject_roles=("payee",),
        ),
        EventTypeSpec(
            "trade_record",
            "A purchase order, delivery receipt or invoice between a core enterprise and a supplier.",
            ("issuer", "receiver"),
            (
                _c(
                    "record_kind", "kind of trade document", ("purchase_order", "delivery_receipt", "invoice")
                ),
                _s("record_id", "document identifier"),
                _s("trade_id", "the trade the document belongs to"),
                _m("amount", "document amount"),
                _d("due_date", "payment due date (invoices)", required=False),
            ),
        ),
        EventTypeSpec(
            "bureau_report",
            "A simplified credit-bureau report on a person with a bureau record (thick-file).",
            ("party",),
            (
                _i("bureau_score", "bureau score, higher is safer", 300, 900),
                _i("accounts_open", "open credit accounts", 0),
                _i("delinquencies_24m", "delinquent months", 0),
                _i("inquiries_6m", "hard inquiries in 6 months", 0),
                _i("months_on_file", "history length", 0),
                _m("total_debt", "outstanding debt at other lenders"),
            ),
        ),
        EventTypeSpec(
            "loan_application",
            "A party applies for credit (a BNPL line, a cash loan, a merchant or green loan).",
            ("applicant",),
            (
                _s("application_id", "application identifier"),
                _c(
                    "product",
                    "product applied for",
                    ("bnpl", "revolving", "installment", "merchant", "green"),
                ),
                _m("requested_amount", "amount requested"),
                _i("term_months", "term requested", 0, 360, required=False),
                _m("declared_monthly_income", "income declared on the application", required=False),
                _DEVICE,
                _IP,
                _s("phone", "phone on the application", required=False),
            ),
        ),
        EventTypeSpec(
            "draw",
            "A borrower draws on a line (a BNPL purchase or a cash draw).",
            ("borrower",),
            (
                _s("account_id", "credit account drawn on"),
                _s("draw_id", "draw identifier"),
                _m("amount", "amount drawn"),
                _DEVICE,
                _IP,
            ),
        ),
        EventTypeSpec(
            "repayment",
            "A borrower repays (by auto-debit or by hand).",
            ("borrower",),
            (
                _s("account_id", "credit account repaid"),
                _s("repayment_id", "repayment identifier"),
                _m("amount", "amount repaid"),
                _c("channel", "how", ("auto_debit", "manual", "collection")),
            ),
        ),
    )
}

EVENT_TYPE_NAMES: Final = tuple(sorted(EVENT_TYPES))

AttributeValue = str | int | bool | None


@dataclass(frozen=True, slots=True)
class Subject:
    """A party an event is about, with its role in that event."""

    role: str
    party_id: str


@dataclass(frozen=True, slots=True)
class Event:
    """One validated event. Money attributes hold integer fen; choices and strings hold ``str``."""

    event_id: str
    event_type: str
    occurred_at: datetime
    received_at: datetime
    subjects: tuple[Subject, ...]
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    source: str = "unknown"

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))

    def subject(self, role: str) -> str | None:
        """The party ID in ``role``, or None."""
        for subject in self.subjects:
            if subject.role == role:
                return subject.party_id
        return None

    @property
    def spec(self) -> EventTypeSpec:
        return EVENT_TYPES[self.event_type]


# -- the columnar layout (lake tables, simulator output) ----------------------------------------------------

#: Columns every event table starts with, and their logical types.
COMMON_COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("event_id", "string"),
    ("event_type", "string"),
    ("occurred_at", "timestamp_utc_us"),
    ("received_at", "timestamp_utc_us"),
    ("source", "string"),
)

_LOGICAL_TYPE: Final[Mapping[AttributeKind, str]] = {
    AttributeKind.STRING: "string",
    AttributeKind.CHOICE: "string",
    AttributeKind.INTEGER: "int64",
    AttributeKind.MONEY: "int64",
    AttributeKind.BOOLEAN: "bool",
    AttributeKind.DECIMAL: "string",
    AttributeKind.DATE: "date",
}


def subject_column(role: str) -> str:
    """Column holding the party ID in ``role``: ``consumer`` → ``consumer_id``."""
    return f"{role}_id"


def attribute_column(spec: AttributeSpec) -> str:
    """Column holding an attribute: money gets the unit last (``amount`` → ``amount_fen``)."""
    return f"{spec.name}_fen" if spec.kind is AttributeKind.MONEY else spec.name


def column_layout(event_type: str) -> tuple[tuple[str, str], ...]:
    """Ordered (column, logical type) of the table for ``event_type``.

    Logical types: ``string``, ``int64`` (money in fen), ``bool``, ``date``, ``timestamp_utc_us``. All
    subject and attribute columns are nullable; required-ness is checked at ingestion.
    """
    spec = EVENT_TYPES[event_type]
    subjects = tuple((subject_column(role), "string") for role in spec.all_subject_roles)
    attributes = tuple((attribute_column(a), _LOGICAL_TYPE[a.kind]) for a in spec.attributes)
    return COMMON_COLUMNS + subjects + attributes
