"""Exposure reserved on a real PostgreSQL: concurrent reservations against one household cap never pass it.

Each test gets a fresh schema (the ``postgres_url`` fixture). Threads meet at a barrier and reserve at once;
the row locks taken by the conditional UPDATEs serialise them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from fengkong.store import exposure, migrate
from fengkong.store.config import make_engine
from fengkong.store.exposure import Refusal, Reservation

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=15)
HOUSEHOLD_CAP_FEN = 200_000 * 100  # 200,000 yuan per household (online micro-lenders, DOMAIN.md)
THREADS = 12  # within the engine's pool (5 + 10 overflow)
BARRIER_TIMEOUT_SECONDS = 30  # only reached if a worker is stuck


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with engine.begin() as connection:
        exposure.set_household_cap(connection, "h1", HOUSEHOLD_CAP_FEN, NOW)
        for index in range(THREADS):
            exposure.set_party_limit(connection, f"p{index}", "consumer", 150_000 * 100, NOW)
    yield engine
    engine.dispose()


def reserve(
    engine: sa.Engine, party: str, fen: int, rid: str, expires_at: datetime = LATER
) -> Reservation | Refusal:
    with engine.begin() as connection:
        return exposure.reserve(connection, party, "h1", "consumer", fen, rid, expires_at, NOW)


def reserve_all_at_once(
    engine: sa.Engine, requests: list[tuple[str, int, str]]
) -> list[Reservation | Refusal]:
    barrier = threading.Barrier(len(requests), timeout=BARRIER_TIMEOUT_SECONDS)

    def one(request: tuple[str, int, str]) -> Reservation | Refusal:
        barrier.wait()
        return reserve(engine, *request)

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(one, requests))


def held_in_household(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        household = exposure.household_exposure(connection, "h1")
    assert household is not None
    return household.held_fen


def test_concurrent_reservations_fit_exactly_under_the_household_cap(engine: sa.Engine) -> None:
    amount = 30_000_00  # 6 of 12 fit under the cap; each party's own limit would allow it
    results = reserve_all_at_once(engine, [(f"p{i}", amount, f"r{i}") for i in range(THREADS)])
    held = [result for result in results if isinstance(result, Reservation)]
    refused = [result for result in results if isinstance(result, Refusal)]
    assert len(held) == HOUSEHOLD_CAP_FEN // amount
    assert {refusal.cap for refusal in refused} == {"household_cap"}
    assert held_in_household(engine) == len(held) * amount <= HOUSEHOLD_CAP_FEN
    # every retry, all at once again, returns its first result and holds nothing more
    again = reserve_all_at_once(engine, [(f"p{i}", amount, f"r{i}") for i in range(THREADS)])
    assert again == results
    assert held_in_household(engine) == len(held) * amount


def test_concurrent_retries_of_one_reservation_count_once(engine: sa.Engine) -> None:
    results = reserve_all_at_once(engine, [("p0", 50_000_00, "same")] * THREADS)
    assert all(result == results[0] for result in results)
    assert isinstance(results[0], Reservation)
    assert held_in_household(engine) == 50_000_00


def test_expiry_releases_room_for_new_holds(engine: sa.Engine) -> None:
    amount = 100_000_00
    assert isinstance(reserve(engine, "p0", amount, "a"), Reservation)
    assert isinstance(reserve(engine, "p1", amount, "b"), Reservation)
    assert reserve(engine, "p2", amount, "c") == Refusal("c", "household_cap", 0)
    with engine.begin() as connection:
        assert exposure.expire(connection, LATER) == 2
    assert held_in_household(engine) == 0
    assert isinstance(reserve(engine, "p2", amount, "d"), Reservation)
    with engine.begin() as connection:
        exposure.convert(connection, "d", NOW)
        household = exposure.household_exposure(connection, "h1")
    assert household == exposure.Exposure(HOUSEHOLD_CAP_FEN, 0, amount)


def test_expiry_running_beside_new_reservations_keeps_the_sums(engine: sa.Engine) -> None:
    amount = 15_000_00
    for index in range(THREADS):
        assert isinstance(reserve(engine, f"p{index}", amount, f"old{index}"), Reservation)
    barrier = threading.Barrier(THREADS, timeout=BARRIER_TIMEOUT_SECONDS)

    def expire_all() -> int:
        barrier.wait()
        with engine.begin() as connection:
            return exposure.expire(connection, LATER)

    def reserve_new(index: int) -> Reservation | Refusal:
        barrier.wait()
        return reserve(engine, f"p{index}", amount, f"new{index}", LATER + timedelta(hours=1))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        expired = pool.submit(expire_all)
        new = [pool.submit(reserve_new, index) for index in range(1, THREADS)]
        assert expired.result() == THREADS
        results = [future.result() for future in new]
    held = [result for result in results if isinstance(result, Reservation)]
    assert held_in_household(engine) == len(held) * amount <= HOUSEHOLD_CAP_FEN
    with engine.connect() as connection:
        for index in range(THREADS):
            party = exposure.party_exposure(connection, f"p{index}")["consumer"]
            assert party.held_fen == sum(amount for result in held if result.party_id == f"p{index}")
