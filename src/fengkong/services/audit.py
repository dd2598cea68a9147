"""The audit trail: decisions and ledger-posting batches reach a verifiable log through the outbox; and the
check that recomputes every stored log and reports tampering.

Producers write an outbox row in the transaction that commits the decision or the postings
(:func:`enqueue_decision`, :func:`enqueue_ledger_batch`; any other outbox row is audited the same way).
The drainer (:func:`drain_audit`) then, in ONE transaction per batch: locks the audit log's head, reads outbox
rows no audit entry covers yet, appends one leaf per row — ``prefix || SHA-256(canonical JSON of the row's
immutable fields)``, a hash, never the payload — signs a checkpoint of the new head, keeps the note, and
records which leaf covers which row. A crash anywhere before the commit leaves nothing behind and the next
drain does the whole batch; a second drainer (or a retry) finds the rows covered and appends nothing. The
audit lag of a row is ``covered_at - committed_at``: from its commit to the signed checkpoint that covers it.

:func:`verify_database` recomputes each log from its stored leaves and compares everything stored with it
(leaf hashes, stored subtree nodes, every recorded head, the log's root and frontier, every checkpoint note
and its signature when the key is given), then checks the records behind the leaves: trade documents (their
commitment, both signatures), receivable events (their commitment), and audited outbox rows (their hash).
Each discrepancy is a :class:`Finding`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.chain import merkle
from fengkong.chain.checkpoint import Checkpoint, verify_checkpoint
from fengkong.chain.note import SignerKey, VerifierKey
from fengkong.chain.trade import (
    PartyKey,
    canonical_json,
    commit,
    commitment_entry,
    issuer_message,
    receiver_message,
)
from fengkong.clock import Clock, format_timestamp
from fengkong.errors import InputError
from fengkong.services import chain as chain_service
from fengkong.services.trade import TRADE_LOG, TradeStores, sign_and_store_checkpoint
from fengkong.store.audit import OutboxRow
from fengkong.store.repositories import OutboxRepository

AUDIT_LOG: Final = "audit"
AUDIT_ORIGIN: Final = "fengkong.example/audit"
AUDIT_ENTRY_PREFIX: Final = b"fengkong/audit/v1\n"
TOPIC_DECISION: Final = "audit.decision"
TOPIC_LEDGER_BATCH: Final = "audit.ledger_batch"


def audit_entry(row: OutboxRow) -> bytes:
    """The leaf of an outbox row: a prefix and the SHA-256 of its immutable fields as canonical JSON."""
    fields = {
        "id": row.outbox_id,
        "topic": row.topic,
        "key": row.key,
        "payload": row.payload,
        "created_at": format_timestamp(row.created_at),
    }
    return AUDIT_ENTRY_PREFIX + hashlib.sha256(canonical_json(fields)).digest()


def enqueue_decision(
    connection: sa.Connection, outbox: OutboxRepository, decision_id: str, payload: Mapping[str, object]
) -> int:
    """Put a decision on the audit trail, in the caller's transaction (the one that stores the decision)."""
    return outbox.enqueue(connection, TOPIC_DECISION, decision_id, {"decision_id": decision_id, **payload})


#: Posting IDs per outbox row: half an outbox payload of IDs at their longest.
LEDGER_IDS_PER_ROW: Final = bounds.outbox_payload_bytes_max // (bounds.ledger_posting_id_length_max + 8) // 2


def enqueue_ledger_batch(
    connection: sa.Connection, outbox: OutboxRepository, batch_id: str, transfer_ids: Sequence[str]
) -> list[int]:
    """Put a batch of ledger postings (their transfer IDs) on the audit trail, in the posting transaction:
    one outbox row per :data:`LEDGER_IDS_PER_ROW` IDs, each naming its part of the batch."""
    if not transfer_ids:
        raise InputError("a batch names at least one transfer", field="transfer_ids")
    parts = range(0, len(transfer_ids), LEDGER_IDS_PER_ROW)
    return [
        outbox.enqueue(
            connection,
            TOPIC_LEDGER_BATCH,
            batch_id,
            {
                "batch_id": batch_id,
                "part": number,
                "parts": len(parts),
                "transfer_ids": list(transfer_ids[start : start + LEDGER_IDS_PER_ROW]),
            },
        )
        for number, start in enumerate(parts)
    ]


@dataclass(frozen=True, slots=True)
class AuditDrainReport:
    appended: int
    batches: int
    tree_size: int
    checkpoint: str | None  # the last signed checkpoint note
    lags_ms: tuple[int, ...]  # per covered row: commit → covered by a signed checkpoint

    def to_json(self) -> dict[str, object]:
        ordered = sorted(self.lags_ms)
        return {
            "appended": self.appended,
            "batches": self.batches,
            "tree_size": self.tree_size,
            "lag_ms_max": ordered[-1] if ordered else None,
            "lag_ms_p50": ordered[len(ordered) // 2] if ordered else None,
        }


def drain_audit(
    engine: sa.Engine,
    stores: TradeStores,
    signer: SignerKey,
    clock: Clock,
    *,
    origin: str = AUDIT_ORIGIN,
    batch_rows: int = bounds.audit_drain_batch_rows_max,
    batches_max: int = bounds.outbox_drain_batches_max,
) -> AuditDrainReport:
    """Cover every uncovered outbox row by the audit log under a signed checkpoint (module docstring)."""
    if not 1 <= batches_max <= bounds.outbox_drain_batches_max:
        raise InputError(f"must be between 1 and {bounds.outbox_drain_batches_max}", field="batches_max")
    with engine.begin() as connection:
        head = chain_service.create_log(connection, stores.chain, AUDIT_LOG)
    appended = batches = 0
    note: str | None = None
    lags: list[int] = []
    tree_size = head.tree_size
    while batches < batches_max:
        with engine.begin() as connection:
            stored = stores.chain.lock_head(connection, AUDIT_LOG)
            rows = stores.audit.uncovered(connection, batch_rows)
            if not rows:
                break
            first = stored.head.tree_size
            new_head = chain_service.append_entries(
                connection, stores.chain, AUDIT_LOG, first, [audit_entry(row) for row in rows]
            )
            tree_size, note = sign_and_store_checkpoint(connection, stores, signer, AUDIT_LOG, origin)
            covered_at = clock.now()
            stores.audit.cover(connection, new_head.log_id, first, rows, covered_at)
        batches += 1
        appended += len(rows)
        lags.extend(audit_lag_ms(row.created_at, covered_at) for row in rows)
        if len(rows) < batch_rows:
            break
    return AuditDrainReport(appended, batches, tree_size, note, tuple(lags))


# -- verification ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    log: str
    kind: str  # deleted_leaf, altered_leaf, altered_node, changed_head, changed_root, changed_checkpoint,
    # bad_checkpoint_signature, altered_record, missing_record
    message: str

    def to_json(self) -> dict[str, str]:
        return {"log": self.log, "kind": self.kind, "message": self.message}


@dataclass(frozen=True, slots=True)
class LogSummary:
    name: str
    tree_size: int
    root_hash: str  # base64
    checkpoints: int
    records_checked: int


@dataclass(frozen=True, slots=True)
class AuditVerifyReport:
    logs: tuple[LogSummary, ...]
    findings: tuple[Finding, ...] = field(default=())

    @property
    def intact(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, object]:
        return {
            "intact": self.intact,
            "logs": [
                {
                    "name": log.name,
                    "tree_size": log.tree_size,
                    "root_hash": log.root_hash,
                    "checkpoints": log.checkpoints,
                    "records_checked": log.records_checked,
                }
                for log in self.logs
            ],
            "findings": [finding.to_json() for finding in self.findings],
        }


def verify_database(
    engine: sa.Engine, stores: TradeStores, keys: Sequence[VerifierKey] = ()
) -> AuditVerifyReport:
    """Recompute every log and check what is stored against it (module docstring). ``keys`` verify the
    checkpoint notes whose key names they carry; without a key a note is checked against the recomputed
    roots only."""
    by_name = {key.name: key for key in keys}
    summaries: list[LogSummary] = []
    findings: list[Finding] = []
    with engine.connect() as connection:
        for log_id, name, tree_size, root_hash, frontier in stores.audit.logs(connection):
            checkpoints = stores.trade.checkpoints(connection, log_id)
            roots, entries_by_leaf = _recompute(
                connection,
                stores,
                log_id,
                name,
                tree_size,
                root_hash,
                frontier,
                sizes={size for size, _ in checkpoints},
                findings=findings,
            )
            for size, note in checkpoints:
                findings.extend(_check_checkpoint(name, size, note, roots, by_name))
            records = 0
            if name == TRADE_LOG:
                records = _check_trade_records(connection, stores, name, entries_by_leaf, findings)
            if name == AUDIT_LOG:
                records = _check_audit_entries(connection, stores, log_id, name, entries_by_leaf, findings)
            summaries.append(
                LogSummary(
                    name, tree_size, base64.b64encode(root_hash).decode("ascii"), len(checkpoints), records
                )
            )
    return AuditVerifyReport(tuple(summaries), tuple(findings))


def _recompute(
    connection: sa.Connection,
    stores: TradeStores,
    log_id: int,
    name: str,
    tree_size: int,
    root_hash: bytes,
    frontier_bytes: bytes,
    *,
    sizes: set[int],
    findings: list[Finding],
) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """Stream the leaves, recomputing the tree; the roots at every head and checkpoint size, and the entries
    (kept for the record checks)."""
    heads = stores.audit.heads(connection, log_id)
    wanted = sorted(sizes | {size for size, _ in heads} | {tree_size})
    roots: dict[int, bytes] = {0: merkle.EMPTY_TREE_ROOT}
    computed_nodes: dict[tuple[int, int], bytes] = {}
    entries: dict[int, bytes] = {}

    def keep(node: merkle.NodeId, node_hash: bytes) -> None:
        computed_nodes[(node.level, node.node_index)] = node_hash

    frontier = merkle.Frontier.empty()
    expected = 0
    after = -1
    step = bounds.audit_verify_leaves_per_read_max
    next_size = iter(wanted)
    target = next(next_size, None)
    while True:
        chunk = stores.audit.leaves(connection, log_id, after, step)
        if not chunk:
            break
        for leaf_index, stored_hash, entry in chunk:
            if leaf_index != expected:
                findings.append(
                    Finding(name, "deleted_leaf", f"leaves {expected} to {leaf_index - 1} are missing")
                )
                expected = leaf_index
            computed = merkle.leaf_hash(entry)
            if computed != stored_hash:
                findings.append(
                    Finding(name, "altered_leaf", f"leaf {leaf_index}: its hash is not its entry's")
                )
            entries[leaf_index] = entry
            frontier = merkle.extend(frontier, [computed], keep)
            expected += 1
            while target is not None and target <= frontier.size:
                if target == frontier.size:
                    roots[target] = frontier.root
                target = next(next_size, None)
        after = chunk[-1][0]
    if frontier.size != tree_size:
        findings.append(
            Finding(name, "deleted_leaf", f"the log says {tree_size} leaves; {frontier.size} are stored")
        )
    if frontier.root != root_hash or frontier.to_bytes() != frontier_bytes:
        findings.append(Finding(name, "changed_root", "the log's root or frontier is not its leaves' tree"))
    for size, stored_root in heads:
        if roots.get(size) != stored_root:
            findings.append(Finding(name, "changed_head", f"the head at size {size} is not the leaves' root"))
    stored_nodes: dict[tuple[int, int], bytes] = {}
    position = (0, -1)
    while True:
        nodes = stores.audit.nodes(connection, log_id, position, step)
        if not nodes:
            break
        stored_nodes.update({(level, index): node_hash for level, index, node_hash in nodes})
        position = (nodes[-1][0], nodes[-1][1])
    if stored_nodes != computed_nodes:
        altered = sorted(set(stored_nodes.items()) ^ set(computed_nodes.items()))
        where = ", ".join(f"level {level} index {index}" for (level, index), _ in altered[:5])
        findings.append(
            Finding(name, "altered_node", f"stored subtree hashes differ from the leaves': {where}")
        )
    return roots, entries


def _check_checkpoint(
    name: str, size: int, note: str, roots: Mapping[int, bytes], keys: Mapping[str, VerifierKey]
) -> list[Finding]:
    split = note.rfind("\n\n")
    parsed = Checkpoint.parse_text(note[: split + 1]) if split >= 0 else "no signature block"
    if isinstance(parsed, str):
        return [Finding(name, "changed_checkpoint", f"checkpoint at {size} does not parse: {parsed}")]
    found: list[Finding] = []
    key = keys.get(parsed.origin)
    if key is not None:
        verdict = verify_checkpoint(note, key)
        if not verdict.verified:
            found.append(Finding(name, "bad_checkpoint_signature", f"checkpoint at {size}: {verdict.reason}"))
    if parsed.tree_size != size or roots.get(size) != parsed.root_hash:
        found.append(
            Finding(
                name, "changed_checkpoint", f"checkpoint at {size} does not sign the leaves' root at {size}"
            )
        )
    return found


def _check_trade_records(
    connection: sa.Connection,
    stores: TradeStores,
    name: str,
    entries: Mapping[int, bytes],
    findings: list[Finding],
) -> int:
    checked = 0
    after = -1
    keys: dict[str, PartyKey] = {}
    while True:
        rows = stores.trade.all_records(connection, after, bounds.audit_verify_leaves_per_read_max)
        if not rows:
            break
        wanted = {row.issuer_key_id for row in rows} | {row.receiver_key_id for row in rows}
        for key_id, stored in stores.trade.keys(connection, wanted - set(keys)).items():
            keys[key_id] = PartyKey(stored.party_id, stored.key_id, stored.public_key)
        for row in rows:
            checked += 1
            entry = entries.get(row.leaf_index)
            if entry is None:
                findings.append(Finding(name, "missing_record", f"record {row.record_id}: its leaf is gone"))
                continue
            if commit(row.salt, row.canonical) != row.commitment or entry != commitment_entry(row.commitment):
                findings.append(
                    Finding(name, "altered_record", f"record {row.record_id} does not open its leaf")
                )
                continue
            issuer, receiver = keys.get(row.issuer_key_id), keys.get(row.receiver_key_id)
            signed = (
                issuer is not None
                and receiver is not None
                and issuer.verifies(issuer_message(row.canonical), row.issuer_signature)
                and receiver.verifies(
                    receiver_message(row.canonical, row.receiver_key_id, row.issuer_signature),
                    row.receiver_signature,
                )
            )
            if not signed:
                findings.append(
                    Finding(name, "altered_record", f"record {row.record_id}: a signature does not verify")
                )
        after = rows[-1].leaf_index
    after_event = 0
    while True:
        events = stores.receivables.events(
            connection, after_event_id=after_event, limit=bounds.audit_verify_leaves_per_read_max
        )
        if not events:
            break
        for event_row in events:
            checked += 1
            entry = entries.get(event_row.leaf_index)
            opened = commit(event_row.salt, event_row.canonical) == event_row.commitment
            if entry is None or not opened or entry != commitment_entry(event_row.commitment):
                message = f"receivable event {event_row.event_id} does not open its leaf"
                findings.append(Finding(name, "altered_record", message))
        after_event = events[-1].event_id
    return checked


def _check_audit_entries(
    connection: sa.Connection,
    stores: TradeStores,
    log_id: int,
    name: str,
    entries: Mapping[int, bytes],
    findings: list[Finding],
) -> int:
    checked = 0
    after = -1
    while True:
        coverage = stores.audit.coverage(connection, log_id, after, bounds.audit_verify_leaves_per_read_max)
        if not coverage:
            break
        rows = stores.audit.outbox_rows(connection, [row.outbox_id for row in coverage])
        for covered in coverage:
            checked += 1
            outbox_row = rows.get(covered.outbox_id)
            if outbox_row is None:
                findings.append(
                    Finding(name, "missing_record", f"outbox row {covered.outbox_id} was deleted")
                )
                continue
            if entries.get(covered.leaf_index) != audit_entry(outbox_row):
                findings.append(
                    Finding(
                        name,
                        "altered_record",
                        f"outbox row {covered.outbox_id} is not what leaf {covered.leaf_index} committed to",
                    )
                )
        after = coverage[-1].leaf_index
    return checked


def audit_lag_ms(committed_at: datetime, covered_at: datetime) -> int:
    """Milliseconds from a row's commit to the signed checkpoint covering it."""
    return max(0, (covered_at - committed_at) // timedelta(milliseconds=1))
