"""Use cases of personal data: register a party's identity, find parties by ID or phone, reveal values for a
use (refused without consent), record consent, rotate keys, end a relationship and purge after retention,
export a borrower's own data, and mask.

Plaintext exists only in memory between :func:`register_identity` (or :func:`reveal`) and the caller; rows
hold AES-GCM ciphertexts and blind indexes (:mod:`fengkong.compliance.privacy`). Every change also writes an
``audit`` outbox message in the same transaction (drained to the chain log's audit trail by the outbox
worker): it carries the party ID, the fields, salted commitments and key IDs, never a value.

Keys come from the environment (:func:`keyring_from_environment`): ``FENGKONG_DATA_KEYS`` (``id:base64`` of
32 bytes, comma-separated; retired keys stay listed until :func:`rotate_keys` reports none left under them),
``FENGKONG_DATA_KEY_ACTIVE`` and ``FENGKONG_PSEUDONYM_KEY`` (``id:base64``, at least 32 bytes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock, SystemClock, format_timestamp, require_utc
from fengkong.compliance import privacy
from fengkong.compliance.privacy import (
    INDEXED_FIELDS,
    ConsentAction,
    ConsentEvent,
    ConsentRefused,
    Field,
    Keyring,
    RetentionSchedule,
    Sealed,
    Use,
)
from fengkong.errors import ConflictError, IdempotencyConflictError, InputError, NotFoundError
from fengkong.money import Money
from fengkong.services.database import resolve_database_url
from fengkong.store.config import make_engine
from fengkong.store.privacy import PrivacyRepository
from fengkong.store.repositories import OutboxRepository

AUDIT_TOPIC: Final = "audit"
ENV_DATA_KEYS: Final = "FENGKONG_DATA_KEYS"
ENV_ACTIVE_KEY: Final = "FENGKONG_DATA_KEY_ACTIVE"
ENV_PSEUDONYM_KEY: Final = "FENGKONG_PSEUDONYM_KEY"


def keyring_from_environment(environ: Mapping[str, str] | None = None) -> Keyring:
    """The keyring named by the environment (see the module docstring); InputError naming what is missing."""
    source = os.environ if environ is None else environ
    missing = [name for name in (ENV_DATA_KEYS, ENV_ACTIVE_KEY, ENV_PSEUDONYM_KEY) if not source.get(name)]
    if missing:
        raise InputError(f"set {', '.join(missing)} (see fengkong.services.privacy)", field=missing[0])
    return privacy.parse_keyring(source[ENV_DATA_KEYS], source[ENV_ACTIVE_KEY], source[ENV_PSEUDONYM_KEY])


def _text(value: str, field: str, length_max: int) -> str:
    if not isinstance(value, str) or not value or len(value) > length_max or not value.isprintable():
        raise InputError(f"must be 1 to {length_max} printable characters", field=field)
    return value


def _audit(
    connection: sa.Connection, clock: Clock, party_id: str, action: str, detail: Mapping[str, Any]
) -> None:
    OutboxRepository(clock).enqueue(
        connection,
        AUDIT_TOPIC,
        f"party:{party_id}",
        {"area": "privacy", "action": action, "party_id": party_id, **detail},
    )


def _field(name: str) -> Field:
    try:
        return Field(name)
    except ValueError as error:
        raise InputError(f"unknown field; one of {[f.value for f in Field]}", field="field") from error


# -- identities ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentityStored:
    party_id: str
    fields: tuple[str, ...]
    key_id: str


def register_identity(
    connection: sa.Connection,
    clock: Clock,
    keyring: Keyring,
    party_id: str,
    values: Mapping[str, str],
) -> IdentityStored:
    """Seal and store ``values`` (field name → value) for ``party_id``; ID and phone get blind indexes."""
    _text(party_id, "party_id", bounds.party_id_length_max)
    if not values:
        raise InputError("give at least one value", field="values")
    normalised: dict[Field, str] = {}
    for name, value in values.items():
        try:
            field_name = Field(name)
        except ValueError as error:
            raise InputError(f"unknown field; one of {[f.value for f in Field]}", field=str(name)) from error
        normalised[field_name] = privacy.normalise(field_name, value)
    repository = PrivacyRepository(clock)
    commitments: dict[str, str] = {}
    for field_name, value in sorted(normalised.items()):
        sealed = privacy.seal(value, keyring, party_id, field_name.value)
        index = (
            privacy.blind_index(field_name, value, keyring.pseudonym)
            if field_name in INDEXED_FIELDS
            else None
        )
        repository.put_value(
            connection,
            party_id,
            field_name.value,
            sealed.key_id,
            sealed.nonce,
            sealed.ciphertext,
            index,
            keyring.pseudonym.key_id if index else None,
        )
        commitments[field_name.value] = privacy.commitment(value, privacy.new_commitment_salt())
    _audit(
        connection,
        clock,
        party_id,
        "identity_stored",
        {"fields": sorted(commitments), "commitments": commitments, "key_id": keyring.active_key_id},
    )
    return IdentityStored(party_id, tuple(sorted(commitments)), keyring.active_key_id)


def parties_with(
    connection: sa.Connection, clock: Clock, keyring: Keyring, field: str, value: str
) -> list[str]:
    """Party IDs whose ``field`` (``id_number`` or ``phone``) equals ``value`` after normalising."""
    field_name = _field(field)
    if field_name not in INDEXED_FIELDS:
        raise InputError(f"only {sorted(f.value for f in INDEXED_FIELDS)} are indexed", field="field")
    index = privacy.blind_index(field_name, privacy.normalise(field_name, value), keyring.pseudonym)
    return PrivacyRepository(clock).parties_by_index(connection, field_name.value, index)


def _open_values(rows: Sequence[Mapping[str, Any]], keyring: Keyring) -> dict[str, str]:
    return {
        str(row["field"]): privacy.unseal(
            Sealed(str(row["key_id"]), bytes(row["nonce"]), bytes(row["ciphertext"])),
            keyring,
            str(row["party_id"]),
            str(row["field"]),
        )
        for row in rows
    }


def _consent_events(rows: Sequence[Mapping[str, Any]]) -> list[ConsentEvent]:
    return [
        ConsentEvent(
            str(row["event_id"]),
            str(row["party_id"]),
            Use(row["use"]),
            str(row["partner"]),
            ConsentAction(row["action"]),
            row["at"],
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class Revealed:
    """Values opened for one use; ``values`` holds only the fields asked for that are on file."""

    party_id: str
    use: Use
    partner: str
    values: Mapping[str, str]


def reveal(
    connection: sa.Connection,
    clock: Clock,
    keyring: Keyring,
    party_id: str,
    fields: Sequence[str],
    use: str,
    partner: str = "",
    at: datetime | None = None,
) -> Revealed | ConsentRefused:
    """Open ``fields`` of ``party_id`` for ``use`` (by ``partner``); the refusal when there is no consent."""
    try:
        purpose = Use(use)
    except ValueError as error:
        raise InputError(f"unknown use; one of {[u.value for u in Use]}", field="use") from error
    instant = require_utc(at) if at is not None else clock.now()
    repository = PrivacyRepository(clock)
    refusal = privacy.check_use(
        _consent_events(repository.consents_of(connection, party_id)), party_id, purpose, partner, instant
    )
    if refusal is not None:
        return refusal
    wanted = {_field(name).value for name in fields}
    rows = [row for row in repository.values_of(connection, party_id) if row["field"] in wanted]
    _audit(
        connection,
        clock,
        party_id,
        "revealed",
        {"fields": sorted(row["field"] for row in rows), "use": purpose.value, "partner": partner},
    )
    return Revealed(party_id, purpose, partner, _open_values(rows, keyring))


def masked_identity(
    connection: sa.Connection, clock: Clock, keyring: Keyring, party_id: str
) -> dict[str, str]:
    """The party's values masked for a screen or a log line (``138****0000``)."""
    rows = PrivacyRepository(clock).values_of(connection, party_id)
    return {name: privacy.mask(Field(name), value) for name, value in _open_values(rows, keyring).items()}


# -- consent -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsentRecorded:
    event_id: str
    created: bool  # False: a retry of an event recorded before


def record_consent(
    connection: sa.Connection,
    clock: Clock,
    event_id: str,
    party_id: str,
    use: str,
    action: str,
    at: datetime,
    partner: str = "",
) -> ConsentRecorded:
    """Record a grant or withdrawal, idempotent by ``event_id`` (the same ID with other content: conflict)."""
    _text(event_id, "event_id", bounds.privacy_consent_id_length_max)
    _text(party_id, "party_id", bounds.party_id_length_max)
    if partner:
        _text(partner, "partner", bounds.privacy_partner_id_length_max)
    try:
        purpose, kind = Use(use), ConsentAction(action)
    except ValueError as error:
        raise InputError(str(error), field="use" if use not in set(Use) else "action") from error
    instant = require_utc(at, "at")
    repository = PrivacyRepository(clock)
    if repository.add_consent(connection, event_id, party_id, purpose.value, partner, kind.value, instant):
        _audit(
            connection,
            clock,
            party_id,
            f"consent_{kind.value}",
            {"use": purpose.value, "partner": partner, "event_id": event_id},
        )
        return ConsentRecorded(event_id, created=True)
    stored = repository.consent(connection, event_id)
    same = stored is not None and (
        stored["party_id"],
        stored["use"],
        stored["partner"],
        stored["action"],
        stored["at"],
    ) == (party_id, purpose.value, partner, kind.value, instant)
    if not same:
        raise IdempotencyConflictError(f"consent event {event_id!r} was recorded with other content")
    return ConsentRecorded(event_id, created=False)


# -- key rotation --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RotationReport:
    resealed: int
    remaining_by_key: Mapping[str, int]  # rows per key ID afterwards; a retired key at 0 can be removed


def rotate_keys(engine: sa.Engine, clock: Clock, keyring: Keyring) -> RotationReport:
    """Re-seal every value not under the active key (and re-index any under an old pseudonym key), in
    transactions of ``privacy_rotation_batch_rows_max`` rows. The old keys must still be in the keyring."""
    repository = PrivacyRepository(clock)
    resealed = 0
    while True:
        with engine.begin() as connection:
            rows = repository.stale_values(
                connection,
                keyring.active_key_id,
                keyring.pseudonym.key_id,
                bounds.privacy_rotation_batch_rows_max,
            )
            for row in rows:
                party_id, field_name = str(row["party_id"]), str(row["field"])
                sealed = Sealed(str(row["key_id"]), bytes(row["nonce"]), bytes(row["ciphertext"]))
                value = privacy.unseal(sealed, keyring, party_id, field_name)
                fresh = privacy.seal(value, keyring, party_id, field_name)
                field_enum = Field(field_name)
                index = (
                    privacy.blind_index(field_enum, value, keyring.pseudonym)
                    if field_enum in INDEXED_FIELDS
                    else None
                )
                if not repository.replace_sealed(
                    connection,
                    party_id,
                    field_name,
                    sealed.key_id,
                    fresh.key_id,
                    fresh.nonce,
                    fresh.ciphertext,
                    index,
                    keyring.pseudonym.key_id if index else None,
                ):
                    raise ConflictError(
                        f"{field_name} of party {party_id!r} changed during rotation; run again"
                    )
            resealed += len(rows)
            if rows:
                _audit(
                    connection,
                    clock,
                    "-",
                    "keys_rotated",
                    {"rows": len(rows), "active_key_id": keyring.active_key_id},
                )
        if len(rows) < bounds.privacy_rotation_batch_rows_max:
            break
    with engine.connect() as connection:
        remaining = repository.count_by_key(connection)
    return RotationReport(resealed, remaining)


# -- retention and purge -------------------------------------------------------------------------------------


def end_relationship(
    connection: sa.Connection, clock: Clock, party_id: str, ended_on: date, schedule: RetentionSchedule
) -> dict[str, date]:
    """Set each stored value's ``retain_until`` from the schedule; the dates set, by field."""
    repository = PrivacyRepository(clock)
    dates: dict[str, date] = {}
    for row in repository.values_of(connection, party_id):
        until = schedule.retain_until(Field(row["field"]), ended_on)
        repository.set_retain_until(connection, party_id, str(row["field"]), until)
        dates[str(row["field"])] = until
    if not dates:
        raise NotFoundError(f"no personal data on file for party {party_id!r}")
    return dates


@dataclass(frozen=True, slots=True)
class PurgeReport:
    purge_id: str
    business_date: date
    counts: Mapping[str, int]  # values purged per field
    party_ids: tuple[str, ...]  # whose values were purged (IDs only)
    created: bool  # False: this purge ID ran before; its record is returned


def purge_expired(engine: sa.Engine, clock: Clock, purge_id: str, business_date: date) -> PurgeReport:
    """Delete every value whose retention ended before ``business_date`` and record what was purged, in one
    transaction; a second call with the same ``purge_id`` purges nothing and returns the first record."""
    _text(purge_id, "purge_id", 128)
    repository = PrivacyRepository(clock)
    with engine.begin() as connection:
        previous = repository.purge(connection, purge_id)
        if previous is not None:
            return PurgeReport(
                purge_id,
                previous["business_date"],
                json.loads(previous["counts"]),
                tuple(json.loads(previous["party_ids"])),
                created=False,
            )
        due = repository.due_for_purge(connection, business_date, bounds.privacy_purge_batch_rows_max)
        deleted = repository.delete_values(connection, due)
        if deleted != len(due):
            raise ConflictError("values changed during the purge; run again")
        counts: dict[str, int] = {}
        for _, field_name in due:
            counts[field_name] = counts.get(field_name, 0) + 1
        party_ids = tuple(sorted({party for party, _ in due}))
        repository.add_purge(connection, purge_id, business_date, counts, party_ids)
        for party_id in party_ids:
            _audit(
                connection,
                clock,
                party_id,
                "purged",
                {"fields": sorted(f for p, f in due if p == party_id), "purge_id": purge_id},
            )
    return PurgeReport(purge_id, business_date, counts, party_ids, created=True)


# -- the borrower's own data ---------------------------------------------------------------------------------


def export_subject(
    connection: sa.Connection, clock: Clock, keyring: Keyring, party_id: str
) -> dict[str, Any]:
    """Everything fengkong keeps about ``party_id`` that this area holds, as JSON-ready data: the values (in
    clear: this goes to the borrower themselves), consents, reasons told, review cases and loans."""
    repository = PrivacyRepository(clock)
    rows = repository.values_of(connection, party_id)
    consents = repository.consents_of(connection, party_id)
    told = repository.told_of(connection, party_id)
    cases = repository.cases_of(connection, party_id)
    loans = repository.loans_of(connection, party_id)
    if not (rows or consents or told or cases or loans):
        raise NotFoundError(f"no data on file for party {party_id!r}")
    _audit(connection, clock, party_id, "exported", {"fields": sorted(str(row["field"]) for row in rows)})

    def stamp(value: datetime | None) -> str | None:
        return None if value is None else format_timestamp(value)

    return {
        "party_id": party_id,
        "exported_at": format_timestamp(clock.now()),
        "personal_data": {
            name: {
                "value": value,
                "retain_until": next(
                    (
                        str(row["retain_until"])
                        for row in rows
                        if row["field"] == name and row["retain_until"]
                    ),
                    None,
                ),
            }
            for name, value in _open_values(rows, keyring).items()
        },
        "consents": [
            {
                "event_id": row["event_id"],
                "use": row["use"],
                "partner": row["partner"],
                "action": row["action"],
                "at": stamp(row["at"]),
            }
            for row in consents
        ],
        "reasons_told": [
            {
                "decision_id": row["decision_id"],
                "language": row["language"],
                "codes": row["codes"],
                "sentences": row["sentences"],
                "told_at": stamp(row["told_at"]),
            }
            for row in told
        ],
        "review_cases": [
            {
                "case_id": row["case_id"],
                "decision_id": row["decision_id"],
                "status": row["status"],
                "outcome": row["outcome"],
                "requested_at": stamp(row["requested_at"]),
                "closed_at": stamp(row["closed_at"]),
            }
            for row in cases
        ],
        "loans": [
            {
                "loan_id": row["loan_id"],
                "product": row["product"],
                "currency": row["currency"],
                "principal": Money(int(row["principal_fen"]), str(row["currency"])).format(),
                "disbursed_on": str(row["disbursed_on"]),
                "status": {0: "active", 1: "closed", 2: "written_off"}.get(int(row["status"]), "unknown"),
                "principal_outstanding": Money(
                    int(row["principal_outstanding_fen"]), str(row["currency"])
                ).format(),
                "days_past_due": int(row["days_past_due"]),
            }
            for row in loans
        ],
    }


# -- jobs on a database URL (the command line) ---------------------------------------------------------------


def rotate_keys_at(database_url: str | None, environ: Mapping[str, str] | None = None) -> RotationReport:
    """:func:`rotate_keys` on the database at ``database_url`` with the keyring from the environment."""
    keyring = keyring_from_environment(environ)
    engine = make_engine(resolve_database_url(database_url))
    try:
        return rotate_keys(engine, SystemClock(), keyring)
    finally:
        engine.dispose()


def purge_expired_at(database_url: str | None, purge_id: str, business_date: date) -> PurgeReport:
    """:func:`purge_expired` on the database at ``database_url`` (no keys needed: nothing is opened)."""
    engine = make_engine(resolve_database_url(database_url))
    try:
        return purge_expired(engine, SystemClock(), purge_id, business_date)
    finally:
        engine.dispose()


def export_subject_at(
    database_url: str | None, party_id: str, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """:func:`export_subject` on the database at ``database_url``, in its own transaction."""
    keyring = keyring_from_environment(environ)
    engine = make_engine(resolve_database_url(database_url))
    try:
        with engine.begin() as connection:
            return export_subject(connection, SystemClock(), keyring, party_id)
    finally:
        engine.dispose()
