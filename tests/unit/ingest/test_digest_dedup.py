"""The compact digest window: the same answers as the dict window, exactly, and eviction of whole batches."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given

from fengkong.errors import InputError, InvariantError
from fengkong.ingest.dedup import EventKey, InMemorySeenEvents, keep_new
from fengkong.ingest.digest_dedup import DigestSeenEvents, event_id_digests
from tests.strategies import event_id_batches

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _keys(*event_ids: str) -> list[EventKey]:
    return [EventKey.of(event_id, "login", T0, T0) for event_id in event_ids]


@given(event_id_batches())
def test_the_columnar_path_answers_as_keep_new_over_the_dict_window(batches: list[list[str]]) -> None:
    reference, compact, through_keys = InMemorySeenEvents(), DigestSeenEvents(), DigestSeenEvents()
    for batch in batches:
        expected = keep_new(_keys(*batch), reference)
        assert compact.keep_new_ids(pa.array(batch, pa.string())).tolist() == expected
        assert keep_new(_keys(*batch), through_keys) == expected
    assert len(compact) == len(reference) == len(through_keys)


def test_a_replay_adds_nothing_and_membership_is_by_id() -> None:
    seen = DigestSeenEvents()
    ids = pa.array([f"evt-{n:06d}" for n in range(5_000)], pa.string())
    assert seen.keep_new_ids(ids).all()
    assert not seen.keep_new_ids(ids).any()
    assert not seen.keep_new_ids(ids.slice(100, 50)).any()
    assert "evt-000007" in seen and "evt-999999" not in seen and 7 not in seen
    assert len(seen) == 5_000


def test_many_batches_merge_into_few_sorted_runs() -> None:
    seen = DigestSeenEvents()
    for batch in range(300):
        ids = pa.array([f"b{batch}-{n}" for n in range(37)], pa.string())
        assert seen.keep_new_ids(ids).all()
    assert len(seen) == 300 * 37
    assert len(seen._runs) <= 2 * int(np.log2(300)) + 2
    for run in seen._runs:
        assert (run.high[1:] >= run.high[:-1]).all()  # sorted by the first word
        assert len(set(zip(run.high.tolist(), run.low.tolist(), strict=True))) == run.size  # none twice
    assert not seen.keep_new_ids(pa.array(["b0-0", "b299-36", "b150-3"], pa.string())).any()


def test_beyond_capacity_the_oldest_whole_batches_are_forgotten() -> None:
    seen = DigestSeenEvents(capacity=80)
    for batch in range(10):  # 100 IDs: the window keeps at least the newest 80, in whole batches
        seen.keep_new_ids(pa.array([f"b{batch}-{n}" for n in range(10)], pa.string()))
    assert 80 <= len(seen) <= 90
    assert "b9-9" in seen and "b2-0" in seen
    assert "b0-0" not in seen  # forgotten: a replay this old is accepted again
    assert seen.keep_new_ids(pa.array(["b0-0", "b9-0"], pa.string())).tolist() == [True, False]


def test_digests_are_sha256_prefixes_of_the_utf8_bytes() -> None:
    import hashlib

    import duckdb

    ids = ["a", "évènement-1", "x" * 128]
    digests = event_id_digests(pa.chunked_array([ids[:1], ids[1:]], pa.string()), duckdb.connect())
    assert [bytes(value) for value in digests.tolist()] == [
        hashlib.sha256(value.encode()).digest()[:16].rstrip(b"\0") for value in ids
    ]
    with pytest.raises(InvariantError):
        event_id_digests(pa.array(["a", None], pa.string()), duckdb.connect())


def test_bad_capacity_and_duplicated_keys_are_refused() -> None:
    with pytest.raises(InputError, match="capacity"):
        DigestSeenEvents(capacity=0)
    with pytest.raises(InvariantError):
        DigestSeenEvents().filter_new(_keys("a", "a"))


def test_digests_sharing_a_first_word_are_told_apart_by_the_second() -> None:
    from fengkong.ingest.digest_dedup import _merge, _Run

    def run(pairs: list[tuple[int, int]], batch: int) -> _Run:
        high = np.asarray([h for h, _ in pairs], dtype=np.uint64)
        low = np.asarray([lo for _, lo in pairs], dtype=np.uint64)
        return _Run(high, low, np.full(len(pairs), batch, dtype=np.uint32))

    merged = _merge(run([(1, 5), (7, 1), (7, 9), (9, 0)], 0), run([(7, 4), (8, 8)], 1))
    assert merged.high.tolist() == sorted(merged.high.tolist())
    queries = [(7, 9), (7, 4), (7, 1), (7, 2), (8, 8), (9, 1), (0, 0)]
    high = np.asarray([h for h, _ in queries], dtype=np.uint64)
    low = np.asarray([lo for _, lo in queries], dtype=np.uint64)
    assert merged.contains(high, low).tolist() == [True, True, True, False, True, False, False]
