"""Use cases of trade records: register party keys, record signed documents, sign the trade log's checkpoint.

:func:`record_documents` is one transaction's worth: it locks the trade log's head first (so concurrent
recorders are serialised and the sequence and replay checks see every committed document), judges the batch
with :func:`fengkong.chain.trade.verify_documents`, appends one commitment leaf per accepted document and
stores the documents with their salts. A rejected document writes nothing; with ``atomic=True`` one rejection
refuses the whole batch. The caller commits (or nothing is written at all).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from fengkong import bounds
from fengkong.chain.checkpoint import Checkpoint, sign_checkpoint
from fengkong.chain.note import SignerKey
from fengkong.chain.trade import (
    PartyKey,
    Rejection,
    SignedTradeDocument,
    commit,
    commitment_entry,
    new_salt,
    verify_documents,
)
from fengkong.clock import Clock
from fengkong.errors import BoundExceededError, InputError, InvariantError
from fengkong.services import chain as chain_service
from fengkong.store import migrate
from fengkong.store.audit import AuditRepository
from fengkong.store.chain import ChainRepository, LogHead
from fengkong.store.config import describe, make_engine
from fengkong.store.receivables import ReceivableRepository
from fengkong.store.trade import TradeRepository

TRADE_LOG = "trade"
TRADE_ORIGIN = "fengkong.example/trade"


@dataclass(frozen=True, slots=True)
class TradeStores:
    """The repositories the trade, receivable and audit use cases work through."""

    chain: ChainRepository
    trade: TradeRepository
    receivables: ReceivableRepository
    audit: AuditRepository

    @classmethod
    def of(cls, clock: Clock) -> TradeStores:
        return cls(
            ChainRepository(clock),
            TradeRepository(clock),
            ReceivableRepository(clock),
            AuditRepository(clock),
        )


def ensure_log(connection: sa.Connection, stores: TradeStores, name: str = TRADE_LOG) -> LogHead:
    return chain_service.create_log(connection, stores.chain, name)


_PENDING_KEY = "fengkong.services.trade.pending_appends"


@dataclass(slots=True)
class _PendingAppends:
    """Entries collected for one log inside :func:`batched_appends`, after ``base`` leaves."""

    base: int
    entries: list[bytes]


def append_to_log(
    connection: sa.Connection, stores: TradeStores, name: str, entries: Sequence[bytes]
) -> tuple[int, int]:
    """Append ``entries`` after the log's current head; the first new leaf index and the size after them.

    Inside :func:`batched_appends` for this log on this connection the entries are collected and written
    when the block ends (their leaf indexes are fixed now: the block holds the head's lock). Otherwise they
    are appended at once; the append locks the head and refuses (ConflictError) if another transaction moved
    it since it was read here — the use cases lock the head first, so under them that cannot happen.
    """
    pending: dict[str, _PendingAppends] | None = connection.info.get(_PENDING_KEY)
    if pending is not None and name in pending:
        batch = pending[name]
        if len(batch.entries) + len(entries) > bounds.chain_append_batch_entries_max:
            _flush(connection, stores, name, batch)
        first = batch.base + len(batch.entries)
        batch.entries.extend(entries)
        return first, first + len(entries)
    first = stores.chain.head(connection, name).tree_size
    head = chain_service.append_entries(connection, stores.chain, name, first, entries)
    return first, head.tree_size


def log_size(connection: sa.Connection, stores: TradeStores, name: str) -> int:
    """The log's size as this transaction sees it, appends collected by :func:`batched_appends` included."""
    pending: dict[str, _PendingAppends] | None = connection.info.get(_PENDING_KEY)
    if pending is not None and name in pending:
        return pending[name].base + len(pending[name].entries)
    return stores.chain.head(connection, name).tree_size


def holds_batched_appends(connection: sa.Connection, name: str) -> bool:
    pending: dict[str, _PendingAppends] | None = connection.info.get(_PENDING_KEY)
    return pending is not None and name in pending


def _flush(connection: sa.Connection, stores: TradeStores, name: str, batch: _PendingAppends) -> None:
    if batch.entries:
        chain_service.append_entries(connection, stores.chain, name, batch.base, batch.entries)
        batch.base += len(batch.entries)
        batch.entries = []


@contextmanager
def batched_appends(connection: sa.Connection, stores: TradeStores, name: str = TRADE_LOG) -> Iterator[None]:
    """Collect this block's appends to log ``name`` on ``connection`` and write them as one append when the
    block ends normally (one head update instead of one per entry). The head is locked for the block; if the
    block raises, nothing is written and the caller's transaction rolls back."""
    if holds_batched_appends(connection, name):
        raise InvariantError(f"appends to log {name!r} are already batched on this connection")
    stored = stores.chain.lock_head(connection, name)
    batch = _PendingAppends(stored.head.tree_size, [])
    pending: dict[str, _PendingAppends] = connection.info.setdefault(_PENDING_KEY, {})
    pending[name] = batch
    try:
        yield
    except BaseException:
        del pending[name]
        raise
    del pending[name]
    _flush(connection, stores, name, batch)


def register_party_key(connection: sa.Connection, stores: TradeStores, key: PartyKey) -> bool:
    """Register ``key`` for its party (idempotent); True when it is new."""
    checked = PartyKey.of(key.party_id, key.public_key)
    if checked.key_id != key.key_id:
        raise InputError("the key ID does not belong to this party and key", field="key_id")
    return stores.trade.register_key(connection, key.key_id, key.party_id, key.public_key)


@dataclass(frozen=True, slots=True)
class RecordResult:
    """What :func:`record_documents` did: record IDs stored (with their leaves) and the rejections."""

    accepted: tuple[str, ...]
    leaf_indexes: tuple[int, ...]
    rejected: tuple[Rejection, ...]
    tree_size: int

    def to_json(self) -> dict[str, object]:
        return {
            "accepted": list(self.accepted),
            "rejected": [rejection.to_json() for rejection in self.rejected],
            "tree_size": self.tree_size,
        }


def record_documents(
    connection: sa.Connection,
    stores: TradeStores,
    batch: Sequence[SignedTradeDocument],
    *,
    atomic: bool = False,
    log_name: str = TRADE_LOG,
) -> RecordResult:
    """Judge and store ``batch`` (module docstring)."""
    if not batch:
        raise InputError("a batch needs at least one document", field="batch")
    if len(batch) > bounds.trade_batch_documents_max:
        raise BoundExceededError("trade_batch_documents_max", bounds.trade_batch_documents_max, len(batch))
    if not holds_batched_appends(connection, log_name):  # a batch holds the head's lock already
        stores.chain.lock_head(connection, log_name)  # serialises recorders before any check
    key_ids = {signed.document.issuer_key_id for signed in batch} | {
        signed.receiver_key_id for signed in batch
    }
    keys = {
        key_id: PartyKey(stored.party_id, stored.key_id, stored.public_key)
        for key_id, stored in stores.trade.keys(connection, key_ids).items()
    }
    last = stores.trade.last_sequences(
        connection, (signed.document.record.issuer_party_id for signed in batch)
    )
    seen_nonces, seen_records = stores.trade.seen(
        connection,
        (signed.document.nonce for signed in batch),
        (signed.document.record.record_id for signed in batch),
    )
    verdicts = verify_documents(
        batch, keys, last, lambda nonce, record_id: nonce in seen_nonces or record_id in seen_records
    )
    if not verdicts.accepted or (atomic and verdicts.rejected):
        return RecordResult((), (), verdicts.rejected, log_size(connection, stores, log_name))
    accepted = [batch[position] for position in verdicts.accepted]
    salts = [new_salt() for _ in accepted]
    commitments = [commit(salt, signed.canonical) for salt, signed in zip(salts, accepted, strict=True)]
    first, tree_size = append_to_log(connection, stores, log_name, [commitment_entry(c) for c in commitments])
    rows: list[dict[str, object]] = []
    for offset, (signed, salt, commitment) in enumerate(zip(accepted, salts, commitments, strict=True)):
        record = signed.document.record
        rows.append(
            {
                "record_id": record.record_id,
                "trade_id": record.trade_id,
                "kind": record.kind.value,
                "issuer_party_id": record.issuer_party_id,
                "receiver_party_id": record.receiver_party_id,
                "amount_fen": record.amount.amount_minor,
                "currency": record.amount.currency,
                "issued_on": record.issued_on,
                "due_on": record.due_on,
                "issuer_sequence": signed.document.sequence,
                "nonce": signed.document.nonce,
                "issuer_key_id": signed.document.issuer_key_id,
                "receiver_key_id": signed.receiver_key_id,
                "canonical": signed.canonical,
                "issuer_signature": signed.issuer_signature,
                "receiver_signature": signed.receiver_signature,
                "salt": salt,
                "commitment": commitment,
                "leaf_index": first + offset,
            }
        )
    stores.trade.insert_records(connection, rows)
    return RecordResult(
        tuple(signed.document.record.record_id for signed in accepted),
        tuple(range(first, first + len(accepted))),
        verdicts.rejected,
        tree_size,
    )


def sign_and_store_checkpoint(
    connection: sa.Connection, stores: TradeStores, signer: SignerKey, name: str, origin: str
) -> tuple[int, str]:
    """Sign the log's current head as a checkpoint for ``origin`` and keep the note; ``(tree_size, note)``."""
    if holds_batched_appends(connection, name):
        raise InvariantError(f"sign a checkpoint of {name!r} after its batched appends are written")
    head = stores.chain.head(connection, name)
    note = sign_checkpoint(Checkpoint(origin, head.tree_size, head.root_hash), [signer])
    stores.trade.store_checkpoint(connection, head.log_id, head.tree_size, note)
    return head.tree_size, note


def open_engine(url: str, *, upgrade: bool = True) -> sa.Engine:
    """An engine on the database at ``url``: migrated to the newest revision first when ``upgrade``, else
    refused (InputError) unless it already has fengkong's tables — a verifier changes nothing."""
    if upgrade:
        migrate.upgrade(url)
    elif migrate.current_revision(url) is None:
        raise InputError(
            f"{describe(url)} has no fengkong tables (run `fengkong db upgrade`)", field="database_url"
        )
    return make_engine(url)
