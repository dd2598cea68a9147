"""Property: over any sequence of overlapping batches, record_new reports each event ID new exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given

from fengkong.clock import FixedClock
from fengkong.store.config import make_engine
from fengkong.store.repositories import IngestedEventRepository
from fengkong.store.tables import metadata
from tests.strategies import event_id_batches

AT = datetime(2026, 3, 1, tzinfo=UTC)


@given(batches=event_id_batches())
def test_each_id_is_new_exactly_once(batches: list[list[str]]) -> None:
    engine = make_engine("sqlite://")  # in memory: a fresh database per example
    try:
        metadata.create_all(engine)
        repository = IngestedEventRepository(FixedClock(AT))
        seen: set[str] = set()
        reported: list[str] = []
        for batch in batches:
            with engine.begin() as connection:
                new = repository.record_new(connection, [(i, "login", AT, AT) for i in batch])
            assert new == set(batch) - seen  # exactly the IDs of this batch not recorded before
            seen |= set(batch)
            reported.extend(new)
        assert sorted(reported) == sorted(seen)  # every ID once, none twice
    finally:
        engine.dispose()
