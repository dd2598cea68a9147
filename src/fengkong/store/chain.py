"""The SQL side of the verifiable log: log heads, leaves, stored complete subtrees (see tables.py, "chain").

Every method takes the caller's connection; an append is atomic with the caller's transaction. An append

1. reads the log's head (:meth:`ChainRepository.lock_head`: ``SELECT ... FOR UPDATE`` on PostgreSQL;
   SQLite writers are serialised by ``BEGIN IMMEDIATE``); the service refuses the append unless the log has
   exactly the size the caller expects — an out-of-order or replayed append (``ConflictError``);
2. (in the service, :func:`fengkong.chain.log.prepare_append`) checks every entry before anything is
   written, hashes the entries and extends the frontier, collecting the complete subtrees to store;
3. moves the head forward with ``UPDATE ... WHERE tree_size = <expected>`` (a concurrent append that got
   there first leaves no row to update: ConflictError), then writes the leaves, the nodes and the new head —
   by ``executemany`` on SQLite and ``COPY`` on PostgreSQL.

The leaf, node and head primary keys make a second copy of any of them impossible, and triggers refuse
UPDATE and DELETE on them (migration 0003).

Reading: :class:`ChainReader` serves :class:`fengkong.chain.merkle.StoredHashes` for one log at one size;
:func:`fengkong.chain.merkle.node_hashes` asks for every range a proof needs in one call, answered with one
SELECT (per ``chain_stored_ranges_per_query_max`` ranges).

Sizes and indexes are stored as BIGINT, so a log holds at most 2**63 - 1 leaves here (RFC 9162 allows 2**64).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.errors import BoundExceededError, ConflictError, InputError, InvariantError, NotFoundError
from fengkong.store import tables

#: BIGINT columns: the largest size this store can hold.
STORED_TREE_SIZE_MAX: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class LogHead:
    """A log's current state: its name, size and root hash."""

    log_id: int
    name: str
    tree_size: int
    root_hash: bytes


@dataclass(frozen=True, slots=True)
class StoredHead:
    """A head locked for an append, with the log's frontier as stored (hashes concatenated)."""

    head: LogHead
    frontier: bytes


def _check_name(name: str) -> None:
    if not name or len(name) > bounds.chain_log_name_length_max or not name.isprintable():
        raise InputError(
            f"must be 1 to {bounds.chain_log_name_length_max} printable characters, got {name!r}",
            field="log_name",
        )


def _copy_rows(connection: sa.Connection, statement: str, rows: Sequence[tuple[Any, ...]]) -> None:
    cursor: Any = connection.connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


class ChainRepository:
    """Logs, their leaves and stored nodes in SQL."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    # -- logs -------------------------------------------------------------------------------------------

    def create_log(self, connection: sa.Connection, name: str, empty_root: bytes) -> LogHead:
        """Create an empty log called ``name`` (root ``empty_root``); when it exists already, its head."""
        _check_name(name)
        existing = self._head_row(connection, name, lock=False)
        if existing is not None:
            return existing
        now = self._clock.now()
        dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(
            dialect_insert(tables.chain_logs)
            .values(
                name=name, tree_size=0, root_hash=empty_root, frontier=b"", created_at=now, updated_at=now
            )
            .on_conflict_do_nothing(index_elements=["name"])  # created meanwhile by a concurrent caller
        )
        head = self._head_row(connection, name, lock=False)
        if head is None:
            raise InvariantError(f"the log {name!r} was inserted but cannot be read back")
        return head

    def head(self, connection: sa.Connection, name: str) -> LogHead:
        """The current head of log ``name`` (NotFoundError when there is no such log)."""
        head = self._head_row(connection, name, lock=False)
        if head is None:
            raise NotFoundError(f"no log named {name!r}")
        return head

    def _head_row(self, connection: sa.Connection, name: str, *, lock: bool) -> LogHead | None:
        logs = tables.chain_logs
        query = sa.select(logs.c.log_id, logs.c.name, logs.c.tree_size, logs.c.root_hash).where(
            logs.c.name == name
        )
        if lock and connection.dialect.name == "postgresql":
            query = query.with_for_update()
        row = connection.execute(query).first()
        if row is None:
            return None
        return LogHead(row.log_id, row.name, row.tree_size, bytes(row.root_hash))

    # -- appending --------------------------------------------------------------------------------------

    def lock_head(self, connection: sa.Connection, name: str) -> StoredHead:
        """The head and frontier of log ``name``, locked for an append until the transaction ends."""
        head = self._head_row(connection, name, lock=True)
        if head is None:
            raise NotFoundError(f"no log named {name!r}")
        packed = connection.execute(
            sa.select(tables.chain_logs.c.frontier).where(tables.chain_logs.c.log_id == head.log_id)
        ).scalar_one()
        return StoredHead(head, bytes(packed))

    def write_append(
        self,
        connection: sa.Connection,
        head: LogHead,
        leaves: Sequence[tuple[bytes, bytes]],
        nodes: Sequence[tuple[int, int, bytes]],
        frontier: bytes,
        root_hash: bytes,
    ) -> LogHead:
        """Write ``leaves`` (leaf hash, entry) after ``head``, the ``nodes`` they complete; move the head.

        Refused with ConflictError, writing nothing, when the log no longer has ``head.tree_size`` leaves.
        """
        if not leaves:
            raise InputError("an append needs at least one leaf", field="leaves")
        new_size = head.tree_size + len(leaves)
        if new_size > STORED_TREE_SIZE_MAX:
            raise BoundExceededError("stored_tree_size_max", STORED_TREE_SIZE_MAX, new_size)
        now = self._clock.now()
        logs = tables.chain_logs
        log_id = head.log_id
        moved = connection.execute(
            logs.update()
            .where(logs.c.log_id == log_id, logs.c.tree_size == head.tree_size)
            .values(tree_size=new_size, root_hash=root_hash, frontier=frontier, updated_at=now)
        )
        if moved.rowcount != 1:
            raise ConflictError(f"log {head.name!r} moved past {head.tree_size} leaves during this append")
        first = head.tree_size
        leaf_rows = [(log_id, first + offset, leaf, entry) for offset, (leaf, entry) in enumerate(leaves)]
        node_rows = [(log_id, level, index, node_hash) for level, index, node_hash in nodes]
        if connection.dialect.name == "postgresql":
            _copy_rows(
                connection, "COPY chain_leaves (log_id, leaf_index, leaf_hash, entry) FROM STDIN", leaf_rows
            )
            if node_rows:
                _copy_rows(
                    connection,
                    "COPY chain_nodes (log_id, level, node_index, node_hash) FROM STDIN",
                    node_rows,
                )
        else:
            connection.exec_driver_sql(
                "INSERT INTO chain_leaves (log_id, leaf_index, leaf_hash, entry) VALUES (?, ?, ?, ?)",
                leaf_rows,
            )
            if node_rows:
                connection.exec_driver_sql(
                    "INSERT INTO chain_nodes (log_id, level, node_index, node_hash) VALUES (?, ?, ?, ?)",
                    node_rows,
                )
        connection.execute(
            tables.chain_heads.insert().values(
                log_id=log_id, tree_size=new_size, root_hash=root_hash, created_at=now
            )
        )
        return LogHead(log_id, head.name, new_size, root_hash)

    # -- reading ----------------------------------------------------------------------------------------

    def reader(self, connection: sa.Connection, name: str, tree_size: int | None = None) -> ChainReader:
        """Stored hashes of log ``name`` as of ``tree_size`` leaves (default: its current size)."""
        head = self.head(connection, name)
        size = head.tree_size if tree_size is None else tree_size
        if not 0 <= size <= head.tree_size:
            raise InputError(
                f"must be between 0 and the log's size {head.tree_size}, got {size}", field="tree_size"
            )
        return ChainReader(connection, head.log_id, size)

    def entries(
        self, connection: sa.Connection, name: str, start: int, end: int
    ) -> list[tuple[bytes, bytes]]:
        """``(leaf_hash, entry)`` of leaves ``[start, end)`` of log ``name``, in order."""
        head = self.head(connection, name)
        if not 0 <= start <= end <= head.tree_size:
            raise InputError(f"[{start}, {end}) is not within [0, {head.tree_size})", field="range")
        if end - start > bounds.chain_append_batch_entries_max:
            raise BoundExceededError(
                "chain_append_batch_entries_max", bounds.chain_append_batch_entries_max, end - start
            )
        leaves = tables.chain_leaves
        rows = connection.execute(
            sa.select(leaves.c.leaf_hash, leaves.c.entry)
            .where(leaves.c.log_id == head.log_id, leaves.c.leaf_index >= start, leaves.c.leaf_index < end)
            .order_by(leaves.c.leaf_index)
        ).all()
        return [(bytes(row.leaf_hash), bytes(row.entry)) for row in rows]

    def heads(self, connection: sa.Connection, name: str) -> list[tuple[int, bytes]]:
        """Every ``(tree_size, root_hash)`` the log has had after an append, oldest first."""
        head = self.head(connection, name)
        stored = tables.chain_heads
        rows = connection.execute(
            sa.select(stored.c.tree_size, stored.c.root_hash)
            .where(stored.c.log_id == head.log_id)
            .order_by(stored.c.tree_size)
        ).all()
        return [(row.tree_size, bytes(row.root_hash)) for row in rows]


class ChainReader:
    """:class:`fengkong.chain.merkle.StoredHashes` over one log's rows, as of ``tree_size`` leaves.

    A range is ``(level, start, end)``: level 0 reads leaf hashes, any other level the stored nodes.
    """

    def __init__(self, connection: sa.Connection, log_id: int, tree_size: int) -> None:
        self._connection = connection
        self._log_id = log_id
        self.tree_size = tree_size

    def leaf_hash(self, leaf_index: int) -> bytes:
        if not 0 <= leaf_index < self.tree_size:
            raise InputError(f"must be in [0, {self.tree_size}), got {leaf_index}", field="leaf_index")
        found = self.stored_hashes([(0, leaf_index, leaf_index + 1)])
        return found[0][0]

    def stored_hashes(self, ranges: Sequence[tuple[int, int, int]]) -> list[list[bytes]]:
        for level, start, end in ranges:
            if level < 0 or not 0 <= start <= end or (end << level) > self.tree_size:
                raise InvariantError(f"{(level, start, end)} is not within a tree of {self.tree_size} leaves")
        found: dict[tuple[int, int], bytes] = {}
        step = bounds.chain_stored_ranges_per_query_max
        for begin in range(0, len(ranges), step):
            found.update(self._read(ranges[begin : begin + step]))
        try:
            return [[found[(level, index)] for index in range(start, end)] for level, start, end in ranges]
        except KeyError as missing:
            raise InvariantError(f"log {self._log_id} lacks the stored hash {missing.args[0]}") from None

    def _read(self, ranges: Sequence[tuple[int, int, int]]) -> dict[tuple[int, int], bytes]:
        # One SELECT per range glued by UNION ALL into one statement: each part is a range scan of a primary
        # key (an OR of ranges makes SQLite's planner scan the whole log). Level 0 is the leaf table.
        parameters: dict[str, int] = {"log_id": self._log_id}
        parts: list[str] = []
        for position, (level, start, end) in enumerate(ranges):
            parameters[f"s{position}"] = start
            parameters[f"e{position}"] = end
            if level == 0:
                parts.append(
                    "SELECT 0, leaf_index, leaf_hash FROM chain_leaves WHERE log_id = :log_id "
                    f"AND leaf_index >= :s{position} AND leaf_index < :e{position}"
                )
            else:
                parameters[f"l{position}"] = level
                parts.append(
                    "SELECT level, node_index, node_hash FROM chain_nodes WHERE log_id = :log_id "
                    f"AND level = :l{position} AND node_index >= :s{position} AND node_index < :e{position}"
                )
        rows = self._connection.execute(sa.text(" UNION ALL ".join(parts)), parameters).all()
        return {(int(row[0]), int(row[1])): bytes(row[2]) for row in rows}
