"""Hypothesis strategies shared by every test (one place, as attrs keeps them)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from fengkong.domain.events import EVENT_TYPE_NAMES, EVENT_TYPES, AttributeKind, AttributeSpec
from fengkong.money import CURRENCY_SCALES, Money

currencies = st.sampled_from(sorted(CURRENCY_SCALES))
minor_units = st.integers(min_value=-(10**15), max_value=10**15)


@st.composite
def money(draw: st.DrawFn, currency: str | None = None) -> Money:
    chosen = currency if currency is not None else draw(currencies)
    return Money(draw(minor_units), chosen)


int_weights = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=20).filter(
    lambda weights: sum(weights) > 0
)
decimal_weights = st.lists(
    st.decimals(
        min_value=Decimal(0), max_value=Decimal(1000), allow_nan=False, allow_infinity=False, places=4
    ),
    min_size=1,
    max_size=20,
).filter(lambda weights: sum(weights) > 0)


# -- store: event IDs in overlapping batches ----------------------------------------------------------------
event_ids = st.sampled_from([f"evt-{n:03d}" for n in range(40)])


def event_id_batches() -> st.SearchStrategy[list[list[str]]]:
    """Batches of event IDs drawn from a small pool, so batches overlap and repeat IDs inside themselves."""
    return st.lists(st.lists(event_ids, max_size=25), max_size=8)


# -- ingest: valid event records (JSON wire form) and duplicated batches -------------------------------------


def sample_attribute_value(spec: AttributeSpec) -> object:
    """A valid JSON value for an attribute of any kind (money as a string, dates as YYYY-MM-DD)."""
    if spec.kind is AttributeKind.CHOICE:
        return spec.choices[0]
    if spec.kind is AttributeKind.INTEGER:
        return spec.minimum if spec.minimum is not None else 3
    if spec.kind is AttributeKind.MONEY:
        return "12.34"
    if spec.kind is AttributeKind.BOOLEAN:
        return True
    if spec.kind is AttributeKind.DATE:
        return "2026-01-31"
    if spec.kind is AttributeKind.DECIMAL:
        return "0.0365"
    return f"{spec.name}-value"


def valid_ingest_record(
    event_type: str = "order_placed",
    event_id: str = "evt-1",
    *,
    party: str = "P1",
    occurred_at: str = "2026-01-01T08:00:00Z",
    received_at: str | None = "2026-01-01T08:00:01Z",
    optional: bool = False,
) -> dict[str, object]:
    """A JSON record of ``event_type`` that validates: every required role and attribute (all when
    ``optional``) filled with a valid value; the primary party is ``party``."""
    spec = EVENT_TYPES[event_type]
    roles = spec.all_subject_roles if optional else spec.subject_roles
    record: dict[str, object] = {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "subjects": {role: party if index == 0 else f"{role}-{index}" for index, role in enumerate(roles)},
        "attributes": {
            attribute.name: sample_attribute_value(attribute)
            for attribute in spec.attributes
            if attribute.required or optional
        },
    }
    if received_at is not None:
        record["received_at"] = received_at
    return record


@st.composite
def ingest_records(draw: st.DrawFn) -> dict[str, object]:
    """A valid record of any type; IDs from a small pool, and the same ID always means the same event."""
    number = draw(st.integers(min_value=0, max_value=29))
    event_type = EVENT_TYPE_NAMES[number % len(EVENT_TYPE_NAMES)]
    second = 10 + number
    return valid_ingest_record(
        event_type,
        f"evt-{number:03d}",
        party=f"P{number % 5}",
        occurred_at=f"2026-01-01T08:00:{second:02d}Z",
        received_at=f"2026-01-01T08:01:{second:02d}Z",
        optional=number % 2 == 0,
    )


def duplicated_record_batches() -> st.SearchStrategy[list[list[dict[str, object]]]]:
    """Batches of valid records whose IDs repeat within and across batches."""
    return st.lists(st.lists(ingest_records(), max_size=12), max_size=6)
