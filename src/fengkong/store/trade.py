"""The SQL of trade records: registered party keys, signed documents, and stored checkpoint notes.

Every method takes the caller's connection, so documents and the log leaves that commit to them are written
in one transaction (``services/trade.py``). The unique constraints of ``trade_records`` (issuer and sequence,
nonce, commitment) refuse a replay even if the code above let one through.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.errors import BoundExceededError, ConflictError, InvariantError
from fengkong.store import tables_trade as t
from fengkong.store.dialect import insert_for as _insert


def _chunks(values: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass(frozen=True, slots=True)
class StoredKey:
    key_id: str
    party_id: str
    public_key: bytes


@dataclass(frozen=True, slots=True)
class TradeRow:
    """A signed document as stored, with its salt, commitment and leaf."""

    record_id: str
    trade_id: str
    kind: str
    issuer_party_id: str
    receiver_party_id: str
    amount_fen: int
    currency: str
    issued_on: date
    due_on: date | None
    issuer_sequence: int
    nonce: str
    issuer_key_id: str
    receiver_key_id: str
    canonical: bytes
    issuer_signature: bytes
    receiver_signature: bytes
    salt: bytes
    commitment: bytes
    leaf_index: int

    @classmethod
    def from_row(cls, row: sa.RowMapping) -> TradeRow:
        return cls(
            record_id=row["record_id"],
            trade_id=row["trade_id"],
            kind=row["kind"],
            issuer_party_id=row["issuer_party_id"],
            receiver_party_id=row["receiver_party_id"],
            amount_fen=int(row["amount_fen"]),
            currency=row["currency"],
            issued_on=row["issued_on"],
            due_on=row["due_on"],
            issuer_sequence=int(row["issuer_sequence"]),
            nonce=row["nonce"],
            issuer_key_id=row["issuer_key_id"],
            receiver_key_id=row["receiver_key_id"],
            canonical=bytes(row["canonical"]),
            issuer_signature=bytes(row["issuer_signature"]),
            receiver_signature=bytes(row["receiver_signature"]),
            salt=bytes(row["salt"]),
            commitment=bytes(row["commitment"]),
            leaf_index=int(row["leaf_index"]),
        )


class TradeRepository:
    """Party keys, trade records and checkpoint notes in SQL."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # -- keys ---------------------------------------------------------------------------------------------

    def register_key(self, connection: sa.Connection, key_id: str, party_id: str, public_key: bytes) -> bool:
        """Store a key (idempotent). True when it is new; ConflictError when the ID names another key."""
        table = t.trade_party_keys
        inserted = connection.execute(
            _insert(connection, table)
            .values(key_id=key_id, party_id=party_id, public_key=public_key, registered_at=self._clock.now())
            .on_conflict_do_nothing(index_elements=[table.c.key_id])
            .returning(table.c.key_id)
        ).first()
        if inserted is not None:
            return True
        stored = connection.execute(
            sa.select(table.c.party_id, table.c.public_key).where(table.c.key_id == key_id)
        ).one()
        if stored.party_id != party_id or bytes(stored.public_key) != public_key:
            raise ConflictError(f"key ID {key_id} is registered to another key")
        return False

    def keys(self, connection: sa.Connection, key_ids: Iterable[str]) -> dict[str, StoredKey]:
        wanted = sorted(set(key_ids))
        table = t.trade_party_keys
        found: dict[str, StoredKey] = {}
        for chunk in _chunks(wanted):
            for row in connection.execute(
                sa.select(table.c.key_id, table.c.party_id, table.c.public_key).where(
                    table.c.key_id.in_(chunk)
                )
            ):
                found[row.key_id] = StoredKey(row.key_id, row.party_id, bytes(row.public_key))
        return found

    # -- records ------------------------------------------------------------------------------------------

    def last_sequences(self, connection: sa.Connection, issuers: Iterable[str]) -> dict[str, int]:
        """Each issuer's highest stored sequence (issuers with none are absent)."""
        wanted = sorted(set(issuers))
        table = t.trade_records
        found: dict[str, int] = {}
        for chunk in _chunks(wanted):
            query = (
                sa.select(table.c.issuer_party_id, sa.func.max(table.c.issuer_sequence))
                .where(table.c.issuer_party_id.in_(chunk))
                .group_by(table.c.issuer_party_id)
            )
            found.update({row[0]: int(row[1]) for row in connection.execute(query)})
        return found

    def seen(
        self, connection: sa.Connection, nonces: Iterable[str], record_ids: Iterable[str]
    ) -> tuple[set[str], set[str]]:
        """The nonces and the record IDs among those given that are stored already."""
        table = t.trade_records
        nonce_list, record_list = sorted(set(nonces)), sorted(set(record_ids))
        found_nonces: set[str] = set()
        found_records: set[str] = set()
        for chunk in _chunks(nonce_list):
            found_nonces.update(
                connection.execute(sa.select(table.c.nonce).where(table.c.nonce.in_(chunk))).scalars()
            )
        for chunk in _chunks(record_list):
            found_records.update(
                connection.execute(sa.select(table.c.record_id).where(table.c.record_id.in_(chunk))).scalars()
            )
        return found_nonces, found_records

    def insert_records(self, connection: sa.Connection, rows: Sequence[dict[str, object]]) -> None:
        if len(rows) > bounds.trade_batch_documents_max:
            raise BoundExceededError("trade_batch_documents_max", bounds.trade_batch_documents_max, len(rows))
        if not rows:
            return
        now = self._clock.now()
        connection.execute(sa.insert(t.trade_records), [{**row, "recorded_at": now} for row in rows])

    def record(self, connection: sa.Connection, record_id: str) -> TradeRow | None:
        row = (
            connection.execute(sa.select(t.trade_records).where(t.trade_records.c.record_id == record_id))
            .mappings()
            .first()
        )
        return TradeRow.from_row(row) if row is not None else None

    def records_of_trade(self, connection: sa.Connection, trade_id: str) -> list[TradeRow]:
        table = t.trade_records
        rows = connection.execute(
            sa.select(table).where(table.c.trade_id == trade_id).order_by(table.c.leaf_index)
        ).mappings()
        return [TradeRow.from_row(row) for row in rows]

    def records_of_party(self, connection: sa.Connection, party_id: str) -> list[TradeRow]:
        """Every document the party issued or received, in log order (bounded)."""
        table = t.trade_records
        rows = (
            connection.execute(
                sa.select(table)
                .where(sa.or_(table.c.issuer_party_id == party_id, table.c.receiver_party_id == party_id))
                .order_by(table.c.leaf_index)
                .limit(bounds.supplier_history_records_max + 1)
            )
            .mappings()
            .all()
        )
        if len(rows) > bounds.supplier_history_records_max:
            raise BoundExceededError(
                "supplier_history_records_max", bounds.supplier_history_records_max, len(rows)
            )
        return [TradeRow.from_row(row) for row in rows]

    def all_records(self, connection: sa.Connection, after_leaf: int, limit: int) -> list[TradeRow]:
        """Records with ``leaf_index > after_leaf`` in leaf order, at most ``limit`` (for verification)."""
        table = t.trade_records
        rows = connection.execute(
            sa.select(table).where(table.c.leaf_index > after_leaf).order_by(table.c.leaf_index).limit(limit)
        ).mappings()
        return [TradeRow.from_row(row) for row in rows]

    # -- checkpoints --------------------------------------------------------------------------------------

    def store_checkpoint(self, connection: sa.Connection, log_id: int, tree_size: int, note: str) -> bool:
        """Keep a signed checkpoint note (idempotent per size); True when it is new."""
        table = t.chain_checkpoints
        inserted = connection.execute(
            _insert(connection, table)
            .values(log_id=log_id, tree_size=tree_size, note=note, signed_at=self._clock.now())
            .on_conflict_do_nothing(index_elements=[table.c.log_id, table.c.tree_size])
            .returning(table.c.tree_size)
        ).first()
        return inserted is not None

    def latest_checkpoint(self, connection: sa.Connection, log_id: int) -> tuple[int, str, datetime] | None:
        table = t.chain_checkpoints
        row = connection.execute(
            sa.select(table.c.tree_size, table.c.note, table.c.signed_at)
            .where(table.c.log_id == log_id)
            .order_by(table.c.tree_size.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return int(row.tree_size), row.note, row.signed_at

    def checkpoints(self, connection: sa.Connection, log_id: int) -> list[tuple[int, str]]:
        table = t.chain_checkpoints
        rows = connection.execute(
            sa.select(table.c.tree_size, table.c.note)
            .where(table.c.log_id == log_id)
            .order_by(table.c.tree_size)
        )
        return [(int(row.tree_size), row.note) for row in rows]


def require_one(rowcount: int, what: str) -> None:
    if rowcount != 1:
        raise InvariantError(f"{what}: expected one row to change, {rowcount} did")
