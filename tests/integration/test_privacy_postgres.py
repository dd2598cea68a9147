"""Personal data, told reasons, reviews and bureau notices on a real PostgreSQL: the same services as the
SQLite unit tests, plus concurrent rotation and concurrent review requests.

Each test gets a fresh schema (the ``postgres_url`` fixture). All people are fictitious (made-up ID numbers
with a valid check character, 138-0000-xxxx style phone numbers).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from fengkong.clock import FixedClock
from fengkong.compliance import privacy
from fengkong.compliance.privacy import ConsentRefused, DataKey, Keyring, PseudonymKey
from fengkong.services import bureau, reviews
from fengkong.services import privacy as service
from fengkong.store import migrate
from fengkong.store.config import make_engine

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PEOPLE = {
    "alice": {"name": "王小明", "id_number": "110101199003071233", "phone": "138-0000-0001"},
    "bob": {"name": "李四", "id_number": "440304198511204567", "phone": "138-0000-0002"},
    "carol": {"name": "赵六", "phone": "+86 138 0000 0001"},
}
BARRIER_TIMEOUT_SECONDS = 30


def ring(active: str, *ids: str) -> Keyring:
    keys = tuple(DataKey(key_id, bytes([ord(key_id[-1])]) * 32) for key_id in ids)
    return Keyring(keys, active, PseudonymKey("p1", b"\x07" * 32))


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


def test_sealed_values_join_consent_rotation_and_purge_on_postgres(engine: sa.Engine) -> None:
    clock = FixedClock(AT)
    old = ring("k1", "k1")
    with engine.begin() as connection:
        for party, values in PEOPLE.items():
            service.register_identity(connection, clock, old, party, values)
        assert service.parties_with(connection, clock, old, "phone", "13800000001") == ["alice", "carol"]
        stored = connection.execute(sa.text("SELECT ciphertext FROM privacy_values")).scalars().all()
        assert all("138" not in bytes(value).decode("latin-1") for value in stored)
        assert isinstance(
            service.reveal(connection, clock, old, "bob", ["phone"], "marketing"), ConsentRefused
        )
        service.record_consent(connection, clock, "c-1", "bob", "marketing", "grant", AT)
        revealed = service.reveal(connection, clock, old, "bob", ["phone"], "marketing")
        assert isinstance(revealed, service.Revealed) and revealed.values == {"phone": "+8613800000002"}
    both = ring("k2", "k1", "k2")
    report = service.rotate_keys(engine, clock, both)
    assert report.resealed == 8 and report.remaining_by_key == {"k2": 8}
    with engine.begin() as connection:
        service.end_relationship(
            connection, clock, "bob", date(2026, 1, 31), privacy.load_retention_schedule()
        )
    purged = service.purge_expired(engine, clock, "purge-1", date(2031, 6, 1))
    assert purged.counts == {"id_number": 1, "name": 1, "phone": 1} and purged.party_ids == ("bob",)


def test_concurrent_rotations_reseal_each_row_once(engine: sa.Engine) -> None:
    clock = FixedClock(AT)
    with engine.begin() as connection:
        for number in range(40):
            service.register_identity(
                connection, clock, ring("k1", "k1"), f"p{number}", {"phone": f"138-0000-{number:04d}"}
            )
    both = ring("k2", "k1", "k2")
    barrier = threading.Barrier(4, timeout=BARRIER_TIMEOUT_SECONDS)

    def rotate(_: int) -> int:
        barrier.wait()
        return service.rotate_keys(engine, clock, both).resealed

    with ThreadPoolExecutor(max_workers=4) as pool:
        resealed = list(pool.map(rotate, range(4)))
    assert sum(resealed) == 40  # SKIP LOCKED: each row re-sealed by exactly one worker
    with engine.connect() as connection:
        assert service.parties_with(connection, clock, both, "phone", "13800000007") == ["p7"]
        keys = connection.execute(sa.text("SELECT DISTINCT key_id FROM privacy_values")).scalars().all()
    assert keys == ["k2"]


def test_concurrent_review_requests_open_one_case(engine: sa.Engine) -> None:
    clock = FixedClock(AT)
    with engine.begin() as connection:
        reviews.tell_reasons(connection, clock, "dec-1", "alice", ["score"], "zh-CN", AT)
    barrier = threading.Barrier(6, timeout=BARRIER_TIMEOUT_SECONDS)

    def ask(number: int) -> str:
        barrier.wait()
        with engine.begin() as connection:
            return reviews.request_review(connection, clock, f"case-{number}", "dec-1", "alice", AT).case_id

    with ThreadPoolExecutor(max_workers=6) as pool:
        cases = set(pool.map(ask, range(6)))
    assert len(cases) == 1
    with engine.begin() as connection:
        bureau.record_notice(connection, clock, "n-1", "L-1", "delinquency", date(2026, 3, 1), "sms")
        again = bureau.record_notice(connection, clock, "n-1", "L-1", "delinquency", date(2026, 3, 1), "sms")
        assert not again.created
        assert connection.execute(sa.text("SELECT count(*) FROM review_cases")).scalar_one() == 1


def test_a_bureau_file_is_exported_from_a_postgres_loan_book(engine: sa.Engine) -> None:
    from fengkong.compliance.caps import default_cap_policy
    from fengkong.lending.delinquency import DelinquencyPolicy
    from fengkong.services import ledger as ledger_service
    from fengkong.services import loans as loans_service
    from fengkong.store.ledger import LedgerRepository
    from tests.unit.reporting.test_bureau_export import KEYRING, PEOPLE, START, T0, offer

    clock = FixedClock(T0)
    with engine.begin() as connection:
        ledger_service.install_chart(connection, LedgerRepository(clock))
        for party, values in PEOPLE.items():
            service.register_identity(connection, clock, KEYRING, party, values)
    for number, party in enumerate(("P-A", "P-B")):
        loans_service.accept_offer(engine, clock, offer(party, number), T0, f"L-{party[-1]}", START)
    first_due = min(item.due for item in loans_service.loan_view(engine, clock, "L-A").installments)
    item = next(i for i in loans_service.loan_view(engine, clock, "L-A").installments if i.due == first_due)
    loans_service.post_repayment(
        engine, clock, "L-A", "R-1", item.principal + item.interest + item.fee, first_due
    )
    loans_service.close_business_days(
        engine, clock, date(2026, 2, 1), date(2026, 3, 31), DelinquencyPolicy(), default_cap_policy()
    )
    with engine.begin() as connection:
        bureau.record_notice(connection, clock, "N-B", "L-B", "delinquency", date(2026, 3, 2), "sms")
    exported = bureau.export_month(engine, clock, KEYRING, "2026-03", "pboc", generated_at=AT)
    codes = {line.split("|")[1]: line.split("|")[3] for line in exported.text.splitlines() if line[0] == "P"}
    assert codes == {"L-A": "N", "L-B": "2"}  # L-B: February installment unpaid, 31 days late
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM bureau_reported")).scalar_one() == 2
