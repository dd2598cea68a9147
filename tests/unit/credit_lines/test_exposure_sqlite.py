"""Exposure held in SQL (fengkong.store.exposure) on SQLite: caps, idempotency, release, expiry, convert."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.errors import IdempotencyConflictError, InputError, NotFoundError
from fengkong.store import exposure, migrate
from fengkong.store.config import make_engine
from fengkong.store.exposure import Refusal, Reservation

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=15)
HOUSEHOLD_CAP_FEN = 200_000 * 100  # 200,000 yuan per household (online micro-lenders, DOMAIN.md)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'exposure.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        exposure.set_household_cap(connection, "h1", HOUSEHOLD_CAP_FEN, NOW)
        for party in ("p1", "p2"):
            for product in ("consumer", "ebike"):
                exposure.set_party_limit(connection, party, product, 150_000 * 100, NOW)
    yield engine
    engine.dispose()


def reserve(engine: sa.Engine, party: str, product: str, fen: int, rid: str) -> Reservation | Refusal:
    with engine.begin() as connection:
        return exposure.reserve(connection, party, "h1", product, fen, rid, LATER, NOW)


def test_holds_count_against_party_and_household_across_products(engine: sa.Engine) -> None:
    assert isinstance(reserve(engine, "p1", "consumer", 100_000_00, "r1"), Reservation)
    assert isinstance(reserve(engine, "p2", "ebike", 60_000_00, "r2"), Reservation)
    refused = reserve(engine, "p1", "ebike", 40_000_01, "r3")
    assert refused == Refusal("r3", "household_cap", 40_000_00)
    with engine.connect() as connection:
        assert exposure.household_exposure(connection, "h1") == exposure.Exposure(
            HOUSEHOLD_CAP_FEN, 160_000_00, 0
        )
        # the refused request left the party's ebike row untouched
        assert exposure.party_exposure(connection, "p1")["ebike"].held_fen == 0


def test_the_party_limit_is_checked_per_product(engine: sa.Engine) -> None:
    refused = reserve(engine, "p1", "consumer", 150_000_01, "r1")
    assert refused == Refusal("r1", "party_limit", 150_000_00)
    assert reserve(engine, "p1", "loan", 1, "r2") == Refusal("r2", "party_limit", 0)  # no limit set


def test_a_household_without_a_cap_has_no_room(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        result = exposure.reserve(connection, "p1", "h-none", "consumer", 100, "r1", LATER, NOW)
        assert result == Refusal("r1", "household_cap", 0)
        assert exposure.party_exposure(connection, "p1")["consumer"].held_fen == 0


def test_a_retry_returns_the_first_result_and_counts_once(engine: sa.Engine) -> None:
    first = reserve(engine, "p1", "consumer", 50_000_00, "r1")
    assert reserve(engine, "p1", "consumer", 50_000_00, "r1") == first
    refused = reserve(engine, "p2", "consumer", 150_000_01, "r2")
    assert reserve(engine, "p2", "consumer", 150_000_01, "r2") == refused  # a refusal is replayed too
    with engine.connect() as connection:
        assert exposure.household_exposure(connection, "h1").held_fen == 50_000_00  # type: ignore[union-attr]


def test_the_same_id_with_another_amount_is_a_conflict(engine: sa.Engine) -> None:
    reserve(engine, "p1", "consumer", 100, "r1")
    with pytest.raises(IdempotencyConflictError):
        reserve(engine, "p1", "consumer", 101, "r1")
    with pytest.raises(IdempotencyConflictError):
        reserve(engine, "p2", "consumer", 100, "r1")


def test_release_expire_and_convert(engine: sa.Engine) -> None:
    for rid in ("a", "b", "c"):
        reserve(engine, "p1", "consumer", 10_000_00, rid)
    with engine.begin() as connection:
        assert exposure.release(connection, "a", NOW).status == "released"
        assert exposure.release(connection, "a", NOW).status == "released"  # releasing twice: no change
        assert exposure.convert(connection, "b", NOW).amount_fen == 10_000_00
        assert exposure.expire(connection, NOW) == 0  # not yet due
        assert exposure.expire(connection, LATER) == 1  # "c"
        assert exposure.expire(connection, LATER) == 0
        assert exposure.party_exposure(connection, "p1")["consumer"] == exposure.Exposure(
            150_000_00, 0, 10_000_00
        )
        assert exposure.household_exposure(connection, "h1") == exposure.Exposure(
            HOUSEHOLD_CAP_FEN, 0, 10_000_00
        )
        exposure.repay(connection, "p1", "h1", "consumer", 4_000_00, NOW)
        assert exposure.household_exposure(connection, "h1") == exposure.Exposure(
            HOUSEHOLD_CAP_FEN, 0, 6_000_00
        )
        with pytest.raises(NotFoundError):
            exposure.release(connection, "missing", NOW)
    # the retry of an expired reservation returns it as it is now, and does not hold again
    again = reserve(engine, "p1", "consumer", 10_000_00, "c")
    assert isinstance(again, Reservation) and again.status == "expired"


def test_a_lowered_limit_refuses_new_holds_only(engine: sa.Engine) -> None:
    reserve(engine, "p1", "consumer", 100_000_00, "r1")
    with engine.begin() as connection:
        exposure.set_party_limit(connection, "p1", "consumer", 50_000_00, NOW)
        assert exposure.party_exposure(connection, "p1")["consumer"].available_fen == 0
    assert reserve(engine, "p1", "consumer", 1, "r2") == Refusal("r2", "party_limit", 0)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("amount_fen", {"amount_fen": 0}),
        ("amount_fen", {"amount_fen": 1.5}),
        ("amount_fen", {"amount_fen": True}),
        ("party_id", {"party_id": ""}),
        ("reservation_id", {"reservation_id": "x" * 129}),
        ("expires_at", {"expires_at": datetime(2026, 3, 1)}),  # naive
    ],
)
def test_bad_input_names_the_field(engine: sa.Engine, field: str, kwargs: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "party_id": "p1",
        "household_id": "h1",
        "product": "consumer",
        "amount_fen": 100,
        "reservation_id": "r1",
        "expires_at": LATER,
        "now": NOW,
    } | kwargs
    with engine.begin() as connection, pytest.raises(InputError) as raised:
        exposure.reserve(connection, **arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


def test_concurrent_reservations_never_pass_the_household_cap(engine: sa.Engine) -> None:
    amount = 30_000_00  # 6 fit under 200,000 yuan with limits of 150,000 per party and product
    parties = [("p1", "consumer"), ("p1", "ebike"), ("p2", "consumer"), ("p2", "ebike")]
    barrier = threading.Barrier(8)
    results: list[Reservation | Refusal] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        barrier.wait()
        for attempt in range(2):  # every request is retried once: it must count once
            party, product = parties[index % 4]
            result = reserve(engine, party, product, amount, f"r{index}")
            if attempt == 0:
                with lock:
                    results.append(result)

    threads = [threading.Thread(target=work, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    held = [result for result in results if isinstance(result, Reservation)]
    assert len(held) == HOUSEHOLD_CAP_FEN // amount
    with engine.connect() as connection:
        assert exposure.household_exposure(connection, "h1").held_fen == len(held) * amount  # type: ignore[union-attr]


def test_repaying_more_than_is_outstanding_is_refused(engine: sa.Engine) -> None:
    reserve(engine, "p1", "consumer", 10_000_00, "a")
    with engine.begin() as connection:
        exposure.convert(connection, "a", NOW)
    with engine.begin() as connection, pytest.raises(InputError) as raised:
        exposure.repay(connection, "p1", "h1", "consumer", 10_000_01, NOW)
    assert raised.value.field == "amount_fen"
    with engine.begin() as connection, pytest.raises(NotFoundError):
        exposure.repay(connection, "p9", "h1", "consumer", 1, NOW)
    with engine.connect() as connection:
        assert exposure.party_exposure(connection, "p1")["consumer"].outstanding_fen == 10_000_00
