"""Deduplication by event ID: replays add nothing, duplicates in a batch collapse to the first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given

from fengkong.clock import FixedClock
from fengkong.errors import InputError, InvariantError
from fengkong.ingest.dedup import (
    EventKey,
    InMemorySeenEvents,
    SeenEvents,
    from_microseconds,
    keep_new,
    microseconds,
)
from fengkong.ingest.validate import parse_record
from tests.strategies import duplicated_record_batches

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _keys(*event_ids: str) -> list[EventKey]:
    return [EventKey.of(event_id, "login", T0, T0) for event_id in event_ids]


def test_duplicates_in_a_batch_collapse_to_the_first() -> None:
    assert keep_new(_keys("a", "b", "a", "c", "b"), InMemorySeenEvents()) == [True, True, False, True, False]


def test_a_replayed_batch_adds_nothing() -> None:
    seen = InMemorySeenEvents()
    batch = _keys("a", "b", "c")
    assert keep_new(batch, seen) == [True, True, True]
    assert keep_new(batch, seen) == [False, False, False]
    assert keep_new(_keys("c", "d"), seen) == [False, True]
    assert len(seen) == 4


def test_the_window_forgets_the_oldest_beyond_its_capacity() -> None:
    seen = InMemorySeenEvents(capacity=3)
    keep_new(_keys("a", "b", "c", "d"), seen)
    assert "a" not in seen
    assert ["b" in seen, "c" in seen, "d" in seen] == [True, True, True]
    assert keep_new(_keys("a", "d"), seen) == [True, False]


def test_capacity_is_bounded() -> None:
    with pytest.raises(InputError):
        InMemorySeenEvents(capacity=0)
    with pytest.raises(InputError):
        InMemorySeenEvents(capacity=10**12)


def test_filter_new_refuses_a_batch_with_repeated_ids() -> None:
    with pytest.raises(InvariantError):
        InMemorySeenEvents().filter_new(_keys("a", "a"))


@given(duplicated_record_batches())
def test_any_interleaving_of_duplicated_batches_yields_each_event_once(
    batches: list[list[dict[str, object]]],
) -> None:
    clock = FixedClock(T0)
    seen: SeenEvents = InMemorySeenEvents()
    kept: list[str] = []
    for batch in batches:
        events = [parse_record(record, clock) for record in batch]
        keys = [EventKey.of(e.event_id, e.event_type, e.occurred_at, e.received_at) for e in events]
        keep = keep_new(keys, seen)
        kept.extend(event.event_id for event, kept_it in zip(events, keep, strict=True) if kept_it)
        seen.commit()
    every_id = [str(record["event_id"]) for batch in batches for record in batch]
    assert sorted(kept) == sorted(set(every_id))
    first_seen_order = list(dict.fromkeys(every_id))
    assert kept == first_seen_order


def test_store_backed_dedup_commits_only_when_told(tmp_path: Path) -> None:
    from fengkong.ingest.seen_store import StoreSeenEvents
    from fengkong.store import migrate

    url = f"sqlite:///{tmp_path / 'dedup.sqlite'}"
    migrate.upgrade(url)
    clock = FixedClock(T0)
    with StoreSeenEvents.from_url(url, clock) as seen:
        assert keep_new(_keys("a", "b", "a"), seen) == [True, True, False]
        seen.rollback()  # the batch did not become durable: forget it
        assert keep_new(_keys("a", "b"), seen) == [True, True]
        seen.commit()
        assert keep_new(_keys("b", "c"), seen) == [False, True]
        # leaving the block rolls "c" back
    with StoreSeenEvents.from_url(url, clock) as again:
        assert keep_new(_keys("a", "b", "c"), again) == [False, False, True]
        again.commit()


def test_event_key_times_round_trip_to_the_microsecond() -> None:
    instant = datetime(2026, 5, 17, 3, 4, 5, 678_901, tzinfo=UTC)
    key = EventKey.of("e", "login", instant, instant)
    assert from_microseconds(key.received_at_us) == instant
    assert microseconds(datetime(1970, 1, 1, tzinfo=UTC)) == 0
