"""Small synthetic event streams in ``column_layout`` for the feature tests (no simulator).

Times sit on a coarse grid so that receipts tie, land exactly on window edges and on 00:00 Shanghai; some
events are late (occurred long before received), some are sent twice with a later or an earlier receipt.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from fengkong.domain.events import EVENT_TYPES, AttributeKind, attribute_column, subject_column
from fengkong.features.offline import lake_schema

START = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # 2026-03-02 00:00 Asia/Shanghai
GRID = timedelta(hours=1)

Row = dict[str, object]


def pools(prefix: str, size: int) -> list[str]:
    return [f"{prefix}-{n}" for n in range(size)]


PARTIES = pools("P", 5)
MERCHANTS = pools("M", 3)
DEVICES = pools("D", 3)
IPS = ["192.0.2.1", "192.0.2.2", "198.51.100.7"]  # documentation ranges (RFC 5737)
PHONES = ["+86-000-0000-0001", "+86-000-0000-0002"]  # clearly fake


def _attribute_value(rng: random.Random, event_type: str, name: str) -> object:
    spec = EVENT_TYPES[event_type].attribute(name)
    if name == "device_id":
        return rng.choice([*DEVICES, None])
    if name == "ip":
        return rng.choice(IPS)
    if name == "phone":
        return rng.choice([*PHONES, None])
    if spec.kind is AttributeKind.CHOICE:
        return rng.choice(spec.choices)
    if spec.kind is AttributeKind.MONEY:
        return rng.choice([0, 1, 999, 12_345, 10**9, None if not spec.required else 7])
    if spec.kind is AttributeKind.INTEGER:
        low = spec.minimum if spec.minimum is not None else 0
        high = spec.maximum if spec.maximum is not None else low + 50
        return rng.randint(low, min(high, low + 50))
    if spec.kind is AttributeKind.BOOLEAN:
        return rng.choice([True, False, None])
    if spec.kind is AttributeKind.DATE:
        return date(2026, 3, 1)
    return f"{name}-{rng.randint(0, 3)}"


def _subject(rng: random.Random, role: str) -> str | None:
    if role == "merchant":
        return rng.choice(MERCHANTS)
    if role in {"issuer", "receiver"}:
        return rng.choice(MERCHANTS)
    return rng.choice(PARTIES)


def make_row(
    rng: random.Random, event_type: str, event_id: str, received_at: datetime, occurred_at: datetime
) -> Row:
    spec = EVENT_TYPES[event_type]
    row: Row = {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "received_at": received_at,
        "source": "test",
    }
    for role in spec.subject_roles:
        row[subject_column(role)] = _subject(rng, role)
    for role in spec.optional_subject_roles:
        row[subject_column(role)] = rng.choice([_subject(rng, role), None])
    for attribute in spec.attributes:
        row[attribute_column(attribute)] = _attribute_value(rng, event_type, attribute.name)
    return row


def random_stream(
    seed: int, events: int, event_types: Sequence[str], *, span: timedelta = timedelta(days=40)
) -> dict[str, list[Row]]:
    """``events`` rows (plus duplicates) of the given types, received on the grid within ``span``."""
    rng = random.Random(seed)
    slots = int(span / GRID)
    rows: dict[str, list[Row]] = {t: [] for t in event_types}
    for n in range(events):
        event_type = rng.choice(list(event_types))
        received = START + GRID * rng.randint(0, slots) + timedelta(microseconds=rng.choice([0, 0, 0, 1]))
        late = timedelta(hours=rng.choice([0, 0, 0, 5, 48]))
        row = make_row(rng, event_type, f"e{seed}-{n}", received, received - late)
        rows[event_type].append(row)
        if rng.random() < 0.1:  # a retry: the same event received again, later or earlier
            copy = dict(row)
            copy["received_at"] = received + GRID * rng.choice([-3, 0, 1, 24 * 7])
            rows[event_type].append(copy)
    return rows


def to_tables(rows: Mapping[str, list[Row]]) -> dict[str, pa.Table]:
    return {
        event_type: pa.Table.from_pylist(items, schema=lake_schema(event_type))
        for event_type, items in rows.items()
    }
