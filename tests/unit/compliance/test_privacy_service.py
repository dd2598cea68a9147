"""Personal data through the services on a migrated SQLite database: sealed storage, the identity graph's join
on blind indexes, consent per use and partner, key rotation, retention and purge, the borrower's own export,
and that no personal data reaches the database in clear or the chain log at all.

All names, ID numbers and phone numbers are fictitious (ID numbers made up with a valid check character;
phones in the 138-0000-xxxx style).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.clock import FixedClock
from fengkong.compliance import privacy
from fengkong.compliance.privacy import ConsentRefused, DataKey, Keyring, PseudonymKey
from fengkong.errors import IdempotencyConflictError, InputError, NotFoundError
from fengkong.services import chain as chain_service
from fengkong.services import privacy as service
from fengkong.services import reviews
from fengkong.store import migrate
from fengkong.store.chain import ChainRepository
from fengkong.store.config import make_engine
from fengkong.store.tables import outbox

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
# fictitious people
ALICE = {
    "name": "王小明",
    "name_latin": "WANG XIAOMING",
    "id_number": "110101199003071233",
    "phone": "138-0000-0001",
}
BOB = {"name": "李四", "id_number": "440304198511204567", "phone": "+86 138 0000 0002"}
CAROL_SHARES_ALICES_PHONE = {"name": "赵六", "phone": "13800000001"}


def ring(active: str = "k1", *ids: str) -> Keyring:
    keys = tuple(DataKey(key_id, bytes([ord(key_id[-1])]) * 32) for key_id in (ids or ("k1",)))
    return Keyring(keys, active, PseudonymKey("p1", b"\x07" * 32))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[sa.Engine, Path]]:
    path = tmp_path / "privacy.sqlite"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine, path
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(AT)


def register_all(engine: sa.Engine, clock: FixedClock, keyring: Keyring) -> None:
    with engine.begin() as connection:
        service.register_identity(connection, clock, keyring, "alice", ALICE)
        service.register_identity(connection, clock, keyring, "bob", BOB)
        service.register_identity(connection, clock, keyring, "carol", CAROL_SHARES_ALICES_PHONE)


def plaintext_forms() -> list[bytes]:
    forms: set[str] = set()
    for person in (ALICE, BOB, CAROL_SHARES_ALICES_PHONE):
        for field, value in person.items():
            forms.add(value)
            forms.add(privacy.normalise(privacy.Field(field), value))
            if field == "phone":
                forms.add(privacy.normalise_phone(value)[3:])  # the national number alone
    return [form.encode() for form in forms]


def test_values_are_stored_sealed_and_the_identity_graph_joins_on_blind_indexes(
    db: tuple[sa.Engine, Path], clock: FixedClock
) -> None:
    engine, path = db
    keyring = ring()
    register_all(engine, clock, keyring)
    with engine.connect() as connection:
        assert service.parties_with(connection, clock, keyring, "phone", "+86 13800000001") == [
            "alice",
            "carol",
        ]
        assert service.parties_with(connection, clock, keyring, "id_number", "44030419851120456 7") == ["bob"]
        assert service.masked_identity(connection, clock, keyring, "alice")["phone"] == "138****0001"
        with pytest.raises(InputError):
            service.parties_with(connection, clock, keyring, "name", "王小明")  # names are not indexed
        with pytest.raises(InputError) as caught:
            service.parties_with(connection, clock, keyring, "email", "x@example.com")
        assert caught.value.field == "field"
        with pytest.raises(InputError) as caught:
            service.reveal(connection, clock, keyring, "alice", ["phone"], "selling")
        assert caught.value.field == "use"
    engine.dispose()
    content = path.read_bytes()
    for form in plaintext_forms():
        assert form not in content, f"{form!r} is in the database file in clear"


def test_a_use_without_consent_is_refused_and_a_partner_needs_its_own(
    db: tuple[sa.Engine, Path], clock: FixedClock
) -> None:
    engine, _ = db
    keyring = ring()
    register_all(engine, clock, keyring)
    with engine.begin() as connection:
        refused = service.reveal(connection, clock, keyring, "alice", ["phone"], "collections")
        assert isinstance(refused, ConsentRefused)
        service.record_consent(connection, clock, "c-1", "alice", "collections", "grant", AT)
        service.record_consent(connection, clock, "c-2", "alice", "partner_sharing", "grant", AT, "bank-a")
        allowed = service.reveal(connection, clock, keyring, "alice", ["phone", "name"], "collections")
        assert isinstance(allowed, service.Revealed)
        assert allowed.values == {"phone": "+8613800000001", "name": "王小明"}
        assert isinstance(
            service.reveal(connection, clock, keyring, "alice", ["name"], "partner_sharing", "bank-b"),
            ConsentRefused,
        )
        shared = service.reveal(
            connection, clock, keyring, "alice", ["id_number"], "partner_sharing", "bank-a"
        )
        assert isinstance(shared, service.Revealed) and shared.values["id_number"] == ALICE["id_number"]
        later = AT + timedelta(days=1)
        service.record_consent(connection, clock, "c-3", "alice", "collections", "withdraw", later)
        assert isinstance(
            service.reveal(connection, clock, keyring, "alice", ["phone"], "collections", at=later),
            ConsentRefused,
        )
        # bureau reporting rests on a legal duty, not on consent
        assert isinstance(
            service.reveal(connection, clock, keyring, "bob", ["id_number"], "bureau_reporting"),
            service.Revealed,
        )


def test_consent_events_are_idempotent_by_id(db: tuple[sa.Engine, Path], clock: FixedClock) -> None:
    engine, _ = db
    with engine.begin() as connection:
        first = service.record_consent(connection, clock, "c-1", "alice", "marketing", "grant", AT)
        again = service.record_consent(connection, clock, "c-1", "alice", "marketing", "grant", AT)
        assert (first.created, again.created) == (True, False)
        with pytest.raises(IdempotencyConflictError):
            service.record_consent(connection, clock, "c-1", "alice", "marketing", "withdraw", AT)
        with pytest.raises(InputError) as caught:
            service.record_consent(connection, clock, "c-9", "alice", "selling", "grant", AT)
        assert caught.value.field == "use"


def test_rotation_moves_every_row_to_the_active_key_and_the_old_key_can_then_be_retired(
    db: tuple[sa.Engine, Path], clock: FixedClock
) -> None:
    engine, _ = db
    register_all(engine, clock, ring("k1", "k1"))
    both = ring("k2", "k1", "k2")
    with engine.connect() as connection:  # before rotation, the old key still opens everything
        assert service.masked_identity(connection, clock, both, "bob")["name"] == "李*"
    report = service.rotate_keys(engine, clock, both)
    assert report.resealed == 9
    assert report.remaining_by_key == {"k2": 9}
    retired = Keyring((both.key("k2"),), "k2", both.pseudonym)
    with engine.connect() as connection:
        assert (
            service.masked_identity(connection, clock, retired, "alice")["id_number"] == "110101********1233"
        )
        assert service.parties_with(connection, clock, retired, "phone", "13800000002") == ["bob"]
    assert service.rotate_keys(engine, clock, retired).resealed == 0


def test_a_new_pseudonym_key_reindexes_so_the_graph_still_joins(
    db: tuple[sa.Engine, Path], clock: FixedClock
) -> None:
    engine, _ = db
    register_all(engine, clock, ring())
    new = Keyring(ring().keys, "k1", PseudonymKey("p2", b"\x09" * 32))
    with engine.connect() as connection:
        assert service.parties_with(connection, clock, new, "phone", "13800000001") == []
    assert service.rotate_keys(engine, clock, new).resealed == 5  # the ID and phone rows
    with engine.connect() as connection:
        assert service.parties_with(connection, clock, new, "phone", "13800000001") == ["alice", "carol"]


def test_purge_after_retention_records_counts_and_ids_never_the_data(
    db: tuple[sa.Engine, Path], clock: FixedClock
) -> None:
    engine, _ = db
    keyring = ring()
    register_all(engine, clock, keyring)
    schedule = privacy.load_retention_schedule()
    with engine.begin() as connection:
        dates = service.end_relationship(connection, clock, "bob", date(2026, 1, 31), schedule)
        assert dates["phone"] == date(2029, 1, 30) and dates["id_number"] == date(2031, 1, 31)
        with pytest.raises(NotFoundError):
            service.end_relationship(connection, clock, "nobody", date(2026, 1, 31), schedule)
    assert service.purge_expired(engine, clock, "purge-2029-01", date(2029, 1, 30)).counts == {}
    report = service.purge_expired(engine, clock, "purge-2029-02", date(2029, 2, 1))
    assert report.counts == {"phone": 1} and report.party_ids == ("bob",)
    again = service.purge_expired(engine, clock, "purge-2029-02", date(2031, 6, 1))  # a retry purges nothing
    assert not again.created and again.counts == {"phone": 1}
    final = service.purge_expired(engine, clock, "purge-2031-06", date(2031, 6, 1))
    assert final.counts == {"id_number": 1, "name": 1}
    with engine.connect() as connection:
        assert service.masked_identity(connection, clock, keyring, "bob") == {}
        assert set(service.masked_identity(connection, clock, keyring, "alice")) == {
            "name",
            "name_latin",
            "id_number",
            "phone",
        }
        record = connection.execute(
            sa.text("SELECT counts, party_ids FROM privacy_purges WHERE purge_id = :p"),
            {"p": "purge-2031-06"},
        ).one()
    assert json.loads(record.party_ids) == ["bob"]
    assert "李四" not in record.counts + record.party_ids


def test_a_borrower_exports_their_own_data_as_json(db: tuple[sa.Engine, Path], clock: FixedClock) -> None:
    engine, _ = db
    keyring = ring()
    register_all(engine, clock, keyring)
    with engine.begin() as connection:
        service.record_consent(connection, clock, "c-1", "alice", "marketing", "grant", AT)
        reviews.tell_reasons(connection, clock, "dec-1", "alice", ["score"], "zh-CN", AT)
        reviews.request_review(connection, clock, "case-1", "dec-1", "alice", AT, "请人工复核")
        exported = service.export_subject(connection, clock, keyring, "alice")
        with pytest.raises(NotFoundError):
            service.export_subject(connection, clock, keyring, "nobody")
    text = json.dumps(exported, ensure_ascii=False)
    assert json.loads(text)["personal_data"]["id_number"]["value"] == ALICE["id_number"]
    assert exported["consents"][0]["use"] == "marketing"
    assert exported["reasons_told"][0]["sentences"][0].startswith("根据您目前的信用")
    assert exported["review_cases"][0]["status"] == "open"
    assert "李四" not in text  # nobody else's data


def test_no_personal_data_reaches_the_chain_log(db: tuple[sa.Engine, Path], clock: FixedClock) -> None:
    """Every audit message these services write is appended to a chain log the way the outbox worker does
    (canonical JSON of the payload as the leaf entry, stored in ``chain_leaves.entry``); no value, in any
    spelling, is in an entry, and the entries do carry the salted commitments and IDs instead."""
    engine, _ = db
    keyring = ring()
    register_all(engine, clock, keyring)
    with engine.begin() as connection:
        service.record_consent(connection, clock, "c-1", "alice", "collections", "grant", AT)
        service.reveal(connection, clock, keyring, "alice", ["phone"], "collections")
        reviews.tell_reasons(connection, clock, "dec-1", "alice", ["score"], "en", AT)
        reviews.request_review(
            connection, clock, "case-1", "dec-1", "alice", AT, "my number is 138-0000-0001"
        )
        service.export_subject(connection, clock, keyring, "alice")
        payloads = connection.execute(sa.select(outbox.c.payload).order_by(outbox.c.id)).scalars().all()
        entries = [
            json.dumps(json.loads(p), sort_keys=True, separators=(",", ":")).encode() for p in payloads
        ]
        repository = ChainRepository(clock)
        chain_service.create_log(connection, repository, "audit")
        chain_service.append_entries(connection, repository, "audit", 0, entries)
        stored = (
            connection.execute(sa.text("SELECT entry FROM chain_leaves ORDER BY leaf_index")).scalars().all()
        )
    assert len(stored) == len(entries) >= 7
    for entry in stored:
        for form in plaintext_forms():
            assert form not in bytes(entry), f"{form!r} reached the chain log"
    stored_identity = json.loads(bytes(stored[0]))
    assert (
        stored_identity["action"] == "identity_stored" and len(stored_identity["commitments"]["phone"]) == 64
    )


def test_the_privacy_jobs_run_from_the_command_line(
    db: tuple[sa.Engine, Path], clock: FixedClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    from typer.testing import CliRunner

    import fengkong.cli.privacy  # noqa: F401 - registers the commands
    from fengkong.cli.main import app

    engine, path = db
    register_all(engine, clock, ring("k1", "k1"))
    with engine.begin() as connection:
        service.end_relationship(
            connection, clock, "bob", date(2020, 1, 1), privacy.load_retention_schedule()
        )
    engine.dispose()
    url = f"sqlite:///{path}"

    def encoded(byte: int) -> str:
        return base64.b64encode(bytes([byte]) * 32).decode()

    monkeypatch.setenv("FENGKONG_DATA_KEYS", f"k1:{encoded(ord('1'))},k2:{encoded(ord('2'))}")
    monkeypatch.setenv("FENGKONG_DATA_KEY_ACTIVE", "k2")
    monkeypatch.setenv("FENGKONG_PSEUDONYM_KEY", f"p1:{encoded(7)}")
    runner = CliRunner()
    rotated = runner.invoke(app, ["privacy", "rotate", "--database-url", url])
    assert rotated.exit_code == 0, rotated.output
    assert json.loads(rotated.stdout) == {"resealed": 9, "rows_by_key": {"k2": 9}}
    purged = runner.invoke(
        app, ["privacy", "purge", "--database-url", url, "--purge-id", "p-1", "--date", "2026-03-01"]
    )
    assert purged.exit_code == 0 and json.loads(purged.stdout)["party_ids"] == ["bob"]
    assert "李四" not in purged.stdout
    out = tmp_path / "alice.json"
    exported = runner.invoke(
        app, ["privacy", "export", "--database-url", url, "--party-id", "alice", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text(encoding="utf-8"))["personal_data"]["phone"]["value"] == "+8613800000001"
    bad = runner.invoke(
        app, ["privacy", "purge", "--database-url", url, "--purge-id", "p-2", "--date", "soon"]
    )
    assert bad.exit_code == 2 and "date" in bad.output and "Traceback" not in bad.output
    nobody = runner.invoke(
        app, ["privacy", "export", "--database-url", url, "--party-id", "nobody", "--out", str(out)]
    )
    assert nobody.exit_code == 2
