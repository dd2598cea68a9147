"""The SQL of the audit trail: outbox rows not yet in the audit log, the entries that cover them, and the raw
reads ``fengkong audit verify`` recomputes the logs from.

Coverage is a row per outbox row in ``audit_entries`` (primary key ``outbox_id``), written in the same
transaction as the log leaf and the signed checkpoint. The drainer finds uncovered rows by an anti-join rather
than a high-water mark: on PostgreSQL outbox IDs are handed out at INSERT but become visible at COMMIT, so a
row with a lower ID can appear after a higher one; a mark would skip it for ever, the anti-join does not.
The outbox's own ``published_at`` is left to the publishers that own it (Redis, partner notifications).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.errors import InputError
from fengkong.store import tables
from fengkong.store import tables_trade as t


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """The immutable fields of an outbox row: what the audit log commits to."""

    outbox_id: int
    topic: str
    key: str
    payload: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CoverageRow:
    outbox_id: int
    leaf_index: int
    committed_at: datetime
    covered_at: datetime


def _outbox_row(row: Any) -> OutboxRow:
    return OutboxRow(int(row[0]), row[1], row[2], row[3], row[4])


class AuditRepository:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def uncovered(self, connection: sa.Connection, limit: int) -> list[OutboxRow]:
        """Outbox rows no audit entry covers yet, oldest ID first."""
        if not 1 <= limit <= bounds.audit_drain_batch_rows_max:
            raise InputError(f"must be between 1 and {bounds.audit_drain_batch_rows_max}", field="limit")
        outbox, entries = tables.outbox, t.audit_entries
        covered = sa.select(entries.c.outbox_id).where(entries.c.outbox_id == outbox.c.id).exists()
        rows = connection.execute(
            sa.select(outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.payload, outbox.c.created_at)
            .where(~covered)
            .order_by(outbox.c.id)
            .limit(limit)
        ).all()
        return [_outbox_row(row) for row in rows]

    def cover(
        self,
        connection: sa.Connection,
        log_id: int,
        first_leaf: int,
        rows: Sequence[OutboxRow],
        covered_at: datetime,
    ) -> None:
        if not rows:
            return
        connection.execute(
            sa.insert(t.audit_entries),
            [
                {
                    "outbox_id": row.outbox_id,
                    "log_id": log_id,
                    "leaf_index": first_leaf + offset,
                    "committed_at": row.created_at,
                    "covered_at": covered_at,
                }
                for offset, row in enumerate(rows)
            ],
        )

    def coverage(
        self, connection: sa.Connection, log_id: int, after_leaf: int, limit: int
    ) -> list[CoverageRow]:
        entries = t.audit_entries
        rows = connection.execute(
            sa.select(entries.c.outbox_id, entries.c.leaf_index, entries.c.committed_at, entries.c.covered_at)
            .where(entries.c.log_id == log_id, entries.c.leaf_index > after_leaf)
            .order_by(entries.c.leaf_index)
            .limit(limit)
        ).all()
        return [CoverageRow(int(row[0]), int(row[1]), row[2], row[3]) for row in rows]

    def outbox_rows(self, connection: sa.Connection, outbox_ids: Sequence[int]) -> dict[int, OutboxRow]:
        outbox = tables.outbox
        found: dict[int, OutboxRow] = {}
        for start in range(0, len(outbox_ids), 500):
            chunk = list(outbox_ids[start : start + 500])
            for row in connection.execute(
                sa.select(
                    outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.payload, outbox.c.created_at
                ).where(outbox.c.id.in_(chunk))
            ):
                found[int(row[0])] = _outbox_row(row)
        return found

    # -- raw reads for verification -----------------------------------------------------------------------

    def logs(self, connection: sa.Connection) -> list[tuple[int, str, int, bytes, bytes]]:
        """Every log: ``(log_id, name, tree_size, root_hash, frontier)``."""
        logs = tables.chain_logs
        rows = connection.execute(
            sa.select(
                logs.c.log_id, logs.c.name, logs.c.tree_size, logs.c.root_hash, logs.c.frontier
            ).order_by(logs.c.log_id)
        ).all()
        return [(int(r[0]), r[1], int(r[2]), bytes(r[3]), bytes(r[4])) for r in rows]

    def leaves(
        self, connection: sa.Connection, log_id: int, after_index: int, limit: int
    ) -> list[tuple[int, bytes, bytes]]:
        """``(leaf_index, leaf_hash, entry)`` after ``after_index``, in order, at most ``limit``."""
        leaves = tables.chain_leaves
        rows = connection.execute(
            sa.select(leaves.c.leaf_index, leaves.c.leaf_hash, leaves.c.entry)
            .where(leaves.c.log_id == log_id, leaves.c.leaf_index > after_index)
            .order_by(leaves.c.leaf_index)
            .limit(limit)
        ).all()
        return [(int(r[0]), bytes(r[1]), bytes(r[2])) for r in rows]

    def nodes(
        self, connection: sa.Connection, log_id: int, after: tuple[int, int], limit: int
    ) -> list[tuple[int, int, bytes]]:
        """Stored nodes ``(level, node_index, hash)`` after ``after`` in (level, index) order."""
        nodes = tables.chain_nodes
        level, index = after
        rows = connection.execute(
            sa.select(nodes.c.level, nodes.c.node_index, nodes.c.node_hash)
            .where(
                nodes.c.log_id == log_id,
                sa.or_(nodes.c.level > level, sa.and_(nodes.c.level == level, nodes.c.node_index > index)),
            )
            .order_by(nodes.c.level, nodes.c.node_index)
            .limit(limit)
        ).all()
        return [(int(r[0]), int(r[1]), bytes(r[2])) for r in rows]

    def heads(self, connection: sa.Connection, log_id: int) -> list[tuple[int, bytes]]:
        heads = tables.chain_heads
        rows = connection.execute(
            sa.select(heads.c.tree_size, heads.c.root_hash)
            .where(heads.c.log_id == log_id)
            .order_by(heads.c.tree_size)
        ).all()
        return [(int(r[0]), bytes(r[1])) for r in rows]
