"""Personal data in SQL: sealed values with blind indexes, consent events, purge records, told reasons and
review cases (tables in ``tables_privacy.py``). Every function takes the caller's connection.

Only sealed values and blind indexes are stored: the plaintext never reaches this module. Writes that a
caller may retry are idempotent by their IDs (consent events, told reasons, review cases): an insert that
finds its ID taken writes nothing and the caller compares the stored row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.store import tables
from fengkong.store.dialect import insert_for as _insert
from fengkong.store.tables_privacy import (
    privacy_consents,
    privacy_purges,
    privacy_values,
    review_cases,
    told_reasons,
)


class PrivacyRepository:
    """Sealed values, consents, purges, told reasons and review cases."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # -- sealed values -------------------------------------------------------------------------------------
    def put_value(
        self,
        connection: sa.Connection,
        party_id: str,
        field: str,
        key_id: str,
        nonce: bytes,
        ciphertext: bytes,
        blind_index: str | None,
        pseudonym_key_id: str | None,
    ) -> None:
        """Insert or replace the sealed ``field`` of ``party_id`` (a new value clears ``retain_until``)."""
        now = self._clock.now()
        values = {
            "key_id": key_id,
            "nonce": nonce,
            "ciphertext": ciphertext,
            "blind_index": blind_index,
            "pseudonym_key_id": pseudonym_key_id,
            "retain_until": None,
            "updated_at": now,
        }
        statement = _insert(connection, privacy_values).values(
            party_id=party_id, field=field, created_at=now, **values
        )
        connection.execute(statement.on_conflict_do_update(index_elements=["party_id", "field"], set_=values))

    def values_of(self, connection: sa.Connection, party_id: str) -> list[dict[str, Any]]:
        table = privacy_values
        rows = connection.execute(
            sa.select(table).where(table.c.party_id == party_id).order_by(table.c.field)
        ).mappings()
        return [dict(row) for row in rows]

    def values_for_parties(self, connection: sa.Connection, party_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Sealed rows of every party in ``party_ids`` (queried in chunks), ordered by party and field."""
        table = privacy_values
        found: list[dict[str, Any]] = []
        ordered = sorted(set(party_ids))
        step = bounds.loan_lookup_ids_per_query_max
        for first in range(0, len(ordered), step):
            rows = connection.execute(
                sa.select(table)
                .where(table.c.party_id.in_(ordered[first : first + step]))
                .order_by(table.c.party_id, table.c.field)
            ).mappings()
            found += [dict(row) for row in rows]
        return found

    def parties_by_index(self, connection: sa.Connection, field: str, blind_index: str) -> list[str]:
        """Party IDs whose ``field`` has this blind index (the identity graph's join)."""
        table = privacy_values
        rows = connection.execute(
            sa.select(table.c.party_id)
            .where(table.c.field == field, table.c.blind_index == blind_index)
            .order_by(table.c.party_id)
        ).scalars()
        return [str(value) for value in rows]

    def stale_values(
        self, connection: sa.Connection, active_key_id: str, pseudonym_key_id: str, limit: int
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` rows sealed under another key or indexed under another pseudonym key."""
        table = privacy_values
        statement = (
            sa.select(table)
            .where(
                sa.or_(
                    table.c.key_id != active_key_id,
                    sa.and_(table.c.blind_index.is_not(None), table.c.pseudonym_key_id != pseudonym_key_id),
                )
            )
            .order_by(table.c.party_id, table.c.field)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            statement = statement.with_for_update(skip_locked=True)
        return [dict(row) for row in connection.execute(statement).mappings()]

    def replace_sealed(
        self,
        connection: sa.Connection,
        party_id: str,
        field: str,
        expected_key_id: str,
        key_id: str,
        nonce: bytes,
        ciphertext: bytes,
        blind_index: str | None,
        pseudonym_key_id: str | None,
    ) -> bool:
        """Re-sealed value written only if the row is still under ``expected_key_id`` (no lost update)."""
        table = privacy_values
        result = connection.execute(
            table.update()
            .where(table.c.party_id == party_id, table.c.field == field, table.c.key_id == expected_key_id)
            .values(
                key_id=key_id,
                nonce=nonce,
                ciphertext=ciphertext,
                blind_index=blind_index,
                pseudonym_key_id=pseudonym_key_id,
                updated_at=self._clock.now(),
            )
        )
        return result.rowcount == 1

    def count_by_key(self, connection: sa.Connection) -> dict[str, int]:
        table = privacy_values
        rows = connection.execute(sa.select(table.c.key_id, sa.func.count()).group_by(table.c.key_id))
        return {str(key_id): int(count) for key_id, count in rows}

    def set_retain_until(self, connection: sa.Connection, party_id: str, field: str, until: date) -> None:
        table = privacy_values
        connection.execute(
            table.update()
            .where(table.c.party_id == party_id, table.c.field == field)
            .values(retain_until=until, updated_at=self._clock.now())
        )

    def due_for_purge(
        self, connection: sa.Connection, business_date: date, limit: int
    ) -> list[tuple[str, str]]:
        """(party_id, field) of values whose retention ended before ``business_date``."""
        table = privacy_values
        rows = connection.execute(
            sa.select(table.c.party_id, table.c.field)
            .where(table.c.retain_until < business_date)
            .order_by(table.c.party_id, table.c.field)
            .limit(limit)
        )
        return [(str(party), str(field)) for party, field in rows]

    def delete_values(self, connection: sa.Connection, keys: Sequence[tuple[str, str]]) -> int:
        table = privacy_values
        deleted = 0
        for party_id, field in keys:
            result = connection.execute(
                table.delete().where(table.c.party_id == party_id, table.c.field == field)
            )
            deleted += result.rowcount
        return deleted

    def add_purge(
        self,
        connection: sa.Connection,
        purge_id: str,
        business_date: date,
        counts: dict[str, int],
        party_ids: Sequence[str],
    ) -> bool:
        """Record a purge run; False when ``purge_id`` was recorded before (nothing written)."""
        statement = (
            _insert(connection, privacy_purges)
            .values(
                purge_id=purge_id,
                business_date=business_date,
                values_purged=sum(counts.values()),
                counts=json.dumps(counts, sort_keys=True),
                party_ids=json.dumps(list(party_ids)),
                created_at=self._clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["purge_id"])
            .returning(privacy_purges.c.purge_id)
        )
        return connection.execute(statement).scalar_one_or_none() is not None

    def purge(self, connection: sa.Connection, purge_id: str) -> dict[str, Any] | None:
        table = privacy_purges
        row = connection.execute(sa.select(table).where(table.c.purge_id == purge_id)).mappings().first()
        return None if row is None else dict(row)

    # -- consent -------------------------------------------------------------------------------------------
    def add_consent(
        self,
        connection: sa.Connection,
        event_id: str,
        party_id: str,
        use: str,
        partner: str,
        action: str,
        at: datetime,
    ) -> bool:
        """Record a consent event; False when ``event_id`` is taken (the caller compares the stored row)."""
        statement = (
            _insert(connection, privacy_consents)
            .values(
                event_id=event_id,
                party_id=party_id,
                use=use,
                partner=partner,
                action=action,
                at=at,
                created_at=self._clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(privacy_consents.c.event_id)
        )
        return connection.execute(statement).scalar_one_or_none() is not None

    def consent(self, connection: sa.Connection, event_id: str) -> dict[str, Any] | None:
        table = privacy_consents
        row = connection.execute(sa.select(table).where(table.c.event_id == event_id)).mappings().first()
        return None if row is None else dict(row)

    def consents_of(self, connection: sa.Connection, party_id: str) -> list[dict[str, Any]]:
        table = privacy_consents
        rows = connection.execute(
            sa.select(table).where(table.c.party_id == party_id).order_by(table.c.at, table.c.event_id)
        ).mappings()
        return [dict(row) for row in rows]

    # -- told reasons and review cases -----------------------------------------------------------------------
    def add_told(
        self,
        connection: sa.Connection,
        decision_id: str,
        party_id: str,
        language: str,
        codes: Sequence[str],
        sentences: Sequence[str],
        told_at: datetime,
    ) -> bool:
        statement = (
            _insert(connection, told_reasons)
            .values(
                decision_id=decision_id,
                party_id=party_id,
                language=language,
                codes=json.dumps(list(codes), ensure_ascii=False),
                sentences=json.dumps(list(sentences), ensure_ascii=False),
                told_at=told_at,
                created_at=self._clock.now(),
            )
            .on_conflict_do_nothing(index_elements=["decision_id"])
            .returning(told_reasons.c.decision_id)
        )
        return connection.execute(statement).scalar_one_or_none() is not None

    def told(self, connection: sa.Connection, decision_id: str) -> dict[str, Any] | None:
        table = told_reasons
        row = (
            connection.execute(sa.select(table).where(table.c.decision_id == decision_id)).mappings().first()
        )
        return None if row is None else _told_row(row)

    def told_of(self, connection: sa.Connection, party_id: str) -> list[dict[str, Any]]:
        table = told_reasons
        rows = connection.execute(
            sa.select(table)
            .where(table.c.party_id == party_id)
            .order_by(table.c.told_at, table.c.decision_id)
        ).mappings()
        return [_told_row(row) for row in rows]

    def add_case(
        self,
        connection: sa.Connection,
        case_id: str,
        decision_id: str,
        party_id: str,
        statement_text: str | None,
        requested_at: datetime,
    ) -> bool:
        """Open a case; False when the case ID or the decision already has one (nothing written)."""
        statement = (
            _insert(connection, review_cases)
            .values(
                case_id=case_id,
                decision_id=decision_id,
                party_id=party_id,
                statement=statement_text,
                status="open",
                requested_at=requested_at,
            )
            .on_conflict_do_nothing()
            .returning(review_cases.c.case_id)
        )
        return connection.execute(statement).scalar_one_or_none() is not None

    def case(
        self, connection: sa.Connection, *, case_id: str | None = None, decision_id: str | None = None
    ) -> dict[str, Any] | None:
        table = review_cases
        condition = table.c.case_id == case_id if case_id is not None else table.c.decision_id == decision_id
        statement = sa.select(table).where(condition)
        if connection.dialect.name == "postgresql":
            statement = statement.with_for_update()
        row = connection.execute(statement).mappings().first()
        return None if row is None else dict(row)

    def cases_of(self, connection: sa.Connection, party_id: str) -> list[dict[str, Any]]:
        table = review_cases
        rows = connection.execute(
            sa.select(table).where(table.c.party_id == party_id).order_by(table.c.requested_at)
        ).mappings()
        return [dict(row) for row in rows]

    def open_cases(self, connection: sa.Connection, limit: int) -> list[dict[str, Any]]:
        table = review_cases
        rows = connection.execute(
            sa.select(table).where(table.c.status == "open").order_by(table.c.requested_at).limit(limit)
        ).mappings()
        return [dict(row) for row in rows]

    def close_case(
        self,
        connection: sa.Connection,
        case_id: str,
        outcome: str,
        reviewer: str,
        note: str | None,
        at: datetime,
    ) -> bool:
        """Close an open case; False when it is not open (closed before, or no such case)."""
        table = review_cases
        result = connection.execute(
            table.update()
            .where(table.c.case_id == case_id, table.c.status == "open")
            .values(status="closed", outcome=outcome, reviewer=reviewer, note=note, closed_at=at)
        )
        return result.rowcount == 1

    # -- the borrower's loans (read-only, for their own data export) ---------------------------------------
    def loans_of(self, connection: sa.Connection, party_id: str) -> list[dict[str, Any]]:
        table = tables.loans
        rows = connection.execute(
            sa.select(
                table.c.loan_id,
                table.c.product,
                table.c.currency,
                table.c.principal_fen,
                table.c.disbursed_on,
                table.c.status,
                table.c.principal_outstanding_fen,
                table.c.days_past_due,
            )
            .where(table.c.party_id == party_id)
            .order_by(table.c.loan_number)
        ).mappings()
        return [dict(row) for row in rows]


def _told_row(row: sa.RowMapping) -> dict[str, Any]:
    item = dict(row)
    item["codes"] = json.loads(item["codes"])
    item["sentences"] = json.loads(item["sentences"])
    return item
