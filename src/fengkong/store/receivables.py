"""The SQL of receivables: the receivable, its parts, financings and events (tables_trade.py).

The database keeps the two promises the rules cannot keep alone under concurrency:

* :meth:`ReceivableRepository.insert_receivable` is ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on the
  unique ``identity_digest`` (and ``invoice_record_id``): the same invoice presented twice, in any spelling,
  inserts nothing the second time (on PostgreSQL a concurrent second insert waits for the first, then
  inserts nothing);
* :meth:`ReceivableRepository.insert_financing` does the same on ``part_identity``, the financing table's
  primary key: a part is financed at most once.

Parts are read ``FOR UPDATE`` on PostgreSQL (:meth:`lock_part`) and changed by conditional UPDATEs (status and
holder as read), so a concurrent change makes the second caller's update touch no row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.errors import BoundExceededError
from fengkong.store import tables_trade as t
from fengkong.store.dialect import insert_for as _insert


@dataclass(frozen=True, slots=True)
class ReceivableRow:
    receivable_id: str
    identity_digest: str
    invoice_record_id: str
    seller_party_id: str
    debtor_party_id: str
    amount_fen: int
    currency: str
    issued_on: date
    due_on: date
    status: str  # a fengkong.chain.receivables.ReceivableStatus value

    @classmethod
    def from_row(cls, row: sa.RowMapping) -> ReceivableRow:
        return cls(
            receivable_id=row["receivable_id"],
            identity_digest=row["identity_digest"],
            invoice_record_id=row["invoice_record_id"],
            seller_party_id=row["seller_party_id"],
            debtor_party_id=row["debtor_party_id"],
            amount_fen=int(row["amount_fen"]),
            currency=row["currency"],
            issued_on=row["issued_on"],
            due_on=row["due_on"],
            status=row["status"],
        )


@dataclass(frozen=True, slots=True)
class PartRow:
    """A part as stored; ``status`` is a :class:`fengkong.chain.receivables.PartStatus` value."""

    part_id: str
    receivable_id: str
    path: str
    parent_part_id: str | None
    part_identity: str
    holder_party_id: str
    amount_fen: int
    status: str

    @classmethod
    def from_row(cls, row: sa.RowMapping) -> PartRow:
        return cls(
            part_id=row["part_id"],
            receivable_id=row["receivable_id"],
            path=row["path"],
            parent_part_id=row["parent_part_id"],
            part_identity=row["part_identity"],
            holder_party_id=row["holder_party_id"],
            amount_fen=int(row["amount_fen"]),
            status=row["status"],
        )


@dataclass(frozen=True, slots=True)
class EventRow:
    event_id: int
    receivable_id: str
    part_id: str | None
    kind: str
    from_party_id: str | None
    to_party_id: str | None
    amount_fen: int
    event_on: date
    canonical: bytes
    salt: bytes
    commitment: bytes
    leaf_index: int

    @classmethod
    def from_row(cls, row: sa.RowMapping) -> EventRow:
        return cls(
            event_id=int(row["event_id"]),
            receivable_id=row["receivable_id"],
            part_id=row["part_id"],
            kind=row["kind"],
            from_party_id=row["from_party_id"],
            to_party_id=row["to_party_id"],
            amount_fen=int(row["amount_fen"]),
            event_on=row["event_on"],
            canonical=bytes(row["canonical"]),
            salt=bytes(row["salt"]),
            commitment=bytes(row["commitment"]),
            leaf_index=int(row["leaf_index"]),
        )


class ReceivableRepository:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # -- receivables --------------------------------------------------------------------------------------

    def insert_receivable(self, connection: sa.Connection, row: ReceivableRow) -> bool:
        """Insert; False (nothing written) when its identity or invoice record is stored already."""
        now = self._clock.now()
        table = t.receivables
        inserted = connection.execute(
            _insert(connection, table)
            .values(
                receivable_id=row.receivable_id,
                identity_digest=row.identity_digest,
                invoice_record_id=row.invoice_record_id,
                seller_party_id=row.seller_party_id,
                debtor_party_id=row.debtor_party_id,
                amount_fen=row.amount_fen,
                currency=row.currency,
                issued_on=row.issued_on,
                due_on=row.due_on,
                status=row.status,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing()
            .returning(table.c.receivable_id)
        ).first()
        return inserted is not None

    def receivable(
        self, connection: sa.Connection, receivable_id: str, *, lock: bool
    ) -> ReceivableRow | None:
        table = t.receivables
        query = sa.select(table).where(table.c.receivable_id == receivable_id)
        if lock and connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = connection.execute(query).mappings().first()
        return ReceivableRow.from_row(row) if row is not None else None

    def holder_of_identity(self, connection: sa.Connection, identity_digest: str) -> str | None:
        table = t.receivables
        return connection.execute(
            sa.select(table.c.receivable_id).where(table.c.identity_digest == identity_digest)
        ).scalar_one_or_none()

    def set_status(
        self,
        connection: sa.Connection,
        receivable_id: str,
        expected: str,
        status: str,
    ) -> bool:
        table = t.receivables
        changed = connection.execute(
            sa.update(table)
            .where(table.c.receivable_id == receivable_id, table.c.status == expected)
            .values(status=status, updated_at=self._clock.now())
        )
        return int(changed.rowcount) == 1

    # -- parts --------------------------------------------------------------------------------------------

    def insert_parts(self, connection: sa.Connection, rows: Sequence[PartRow]) -> None:
        now = self._clock.now()
        connection.execute(
            sa.insert(t.receivable_parts),
            [
                {
                    "part_id": part.part_id,
                    "receivable_id": part.receivable_id,
                    "path": part.path,
                    "parent_part_id": part.parent_part_id,
                    "part_identity": part.part_identity,
                    "holder_party_id": part.holder_party_id,
                    "amount_fen": part.amount_fen,
                    "status": part.status,
                    "updated_at": now,
                }
                for part in rows
            ],
        )

    def lock_part(self, connection: sa.Connection, part_id: str) -> PartRow | None:
        """The part, locked until the transaction ends (PostgreSQL)."""
        table = t.receivable_parts
        query = sa.select(table).where(table.c.part_id == part_id)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = connection.execute(query).mappings().first()
        if row is None:
            return None
        return PartRow.from_row(row)

    def parts(self, connection: sa.Connection, receivable_id: str, *, lock: bool = False) -> list[PartRow]:
        table = t.receivable_parts
        query = sa.select(table).where(table.c.receivable_id == receivable_id).order_by(table.c.path)
        if lock and connection.dialect.name == "postgresql":
            query = query.with_for_update()
        rows = connection.execute(query).mappings().all()
        if len(rows) > bounds.receivable_parts_per_receivable_max:
            raise BoundExceededError(
                "receivable_parts_per_receivable_max", bounds.receivable_parts_per_receivable_max, len(rows)
            )
        return [PartRow.from_row(row) for row in rows]

    def move_part(
        self,
        connection: sa.Connection,
        part: PartRow,
        *,
        status: str | None = None,
        holder_party_id: str | None = None,
    ) -> bool:
        """Change the part's status and/or holder if it still has the status and holder it was read with."""
        table = t.receivable_parts
        values: dict[str, object] = {"updated_at": self._clock.now()}
        if status is not None:
            values["status"] = status
        if holder_party_id is not None:
            values["holder_party_id"] = holder_party_id
        changed = connection.execute(
            sa.update(table)
            .where(
                table.c.part_id == part.part_id,
                table.c.status == part.status,
                table.c.holder_party_id == part.holder_party_id,
            )
            .values(**values)
        )
        return int(changed.rowcount) == 1

    # -- financings ---------------------------------------------------------------------------------------

    def insert_financing(self, connection: sa.Connection, values: dict[str, object]) -> bool:
        """Insert a financing; False (nothing written) when the part identity is financed already."""
        table = t.receivable_financings
        inserted = connection.execute(
            _insert(connection, table)
            .values(**values, created_at=self._clock.now())
            .on_conflict_do_nothing()
            .returning(table.c.part_identity)
        ).first()
        return inserted is not None

    def financings(self, connection: sa.Connection, receivable_id: str) -> list[sa.RowMapping]:
        f, p = t.receivable_financings, t.receivable_parts
        return list(
            connection.execute(
                sa.select(f).join(p, p.c.part_id == f.c.part_id).where(p.c.receivable_id == receivable_id)
            )
            .mappings()
            .all()
        )

    # -- events -------------------------------------------------------------------------------------------

    def insert_event(self, connection: sa.Connection, values: dict[str, object]) -> None:
        connection.execute(sa.insert(t.receivable_events).values(**values, created_at=self._clock.now()))

    def events(
        self,
        connection: sa.Connection,
        *,
        kinds: Sequence[str] | None = None,
        after_event_id: int = 0,
        limit: int = bounds.receivable_export_rows_max,
    ) -> list[EventRow]:
        table = t.receivable_events
        query = sa.select(table).where(table.c.event_id > after_event_id)
        if kinds is not None:
            query = query.where(table.c.kind.in_(list(kinds)))
        rows = connection.execute(query.order_by(table.c.event_id).limit(limit)).mappings()
        return [EventRow.from_row(row) for row in rows]

    def event_of(self, connection: sa.Connection, receivable_id: str, kind: str) -> EventRow | None:
        table = t.receivable_events
        row = (
            connection.execute(
                sa.select(table)
                .where(table.c.receivable_id == receivable_id, table.c.kind == kind)
                .order_by(table.c.event_id)
                .limit(1)
            )
            .mappings()
            .first()
        )
        return EventRow.from_row(row) if row is not None else None

    def receivable_rows(self, connection: sa.Connection) -> list[ReceivableRow]:
        rows = connection.execute(sa.select(t.receivables).order_by(t.receivables.c.receivable_id)).mappings()
        return [ReceivableRow.from_row(row) for row in rows]

    # -- summaries for supplier credit --------------------------------------------------------------------

    def maturities(
        self, connection: sa.Connection, *, debtor_party_id: str, due_on_or_before: date
    ) -> list[tuple[int, date, date | None]]:
        """``(amount_fen, due_on, settled_on or None)`` of the debtor's confirmed or settled receivables
        due by a date (bounded)."""
        r, e = t.receivables, t.receivable_events
        rows = connection.execute(
            sa.select(r.c.amount_fen, r.c.due_on, sa.func.min(e.c.event_on))
            .select_from(
                r.outerjoin(e, sa.and_(e.c.receivable_id == r.c.receivable_id, e.c.kind == "settle"))
            )
            .where(
                r.c.debtor_party_id == debtor_party_id,
                r.c.due_on <= due_on_or_before,
                r.c.status.in_(("confirmed", "settled")),
            )
            .group_by(r.c.receivable_id, r.c.amount_fen, r.c.due_on)
            .limit(bounds.supplier_history_records_max)
        ).all()
        return [(int(row[0]), row[1], row[2]) for row in rows]

    def held_open_fen(self, connection: sa.Connection, holder_party_id: str) -> int:
        """Fen of active parts of confirmed receivables the party holds (what it could still finance)."""
        p, r = t.receivable_parts, t.receivables
        total = connection.execute(
            sa.select(sa.func.coalesce(sa.func.sum(p.c.amount_fen), 0))
            .select_from(p.join(r, r.c.receivable_id == p.c.receivable_id))
            .where(p.c.holder_party_id == holder_party_id, p.c.status == "active", r.c.status == "confirmed")
        ).scalar_one()
        return int(total)
