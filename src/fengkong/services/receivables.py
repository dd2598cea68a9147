"""Use cases of receivables: issue, confirm, split, transfer, finance against an inclusion proof, settle.

Each takes the caller's connection (one transaction: the caller commits, or nothing happened) and returns the
new state or a :class:`~fengkong.chain.receivables.Refusal` — an expected business outcome, never an
exception. Each locks the trade log's head first and the receivable or part second, the same order
everywhere, so two use cases never wait on each other in a cycle. Every change is one event: its canonical
bytes and salt in ``receivable_events``, its salted commitment a leaf of the trade log.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from fengkong import bounds
from fengkong.chain import merkle
from fengkong.chain.checkpoint import verify_checkpoint
from fengkong.chain.note import VerifierKey
from fengkong.chain.receivables import (
    ROOT_PATH,
    EventKind,
    Part,
    PartStatus,
    ReceivableIdentity,
    ReceivableStatus,
    Refusal,
    RefusalReason,
    check_confirmation,
    check_financing,
    check_transfer,
    discount_advance_fen,
    event,
    part_identity,
    plan_split,
    settlement_payees,
)
from fengkong.chain.registry_export import (
    MovementForRegistration,
    RegistrationRow,
    registration_rows,
)
from fengkong.chain.registry_export import to_csv as registration_csv
from fengkong.chain.registry_export import to_json as registration_json
from fengkong.chain.trade import commit, commitment_entry, new_salt, opens
from fengkong.domain.trade import TradeRecordKind
from fengkong.errors import BoundExceededError, ConflictError, InputError, InvariantError
from fengkong.money import D, Rounding
from fengkong.services import chain as chain_service
from fengkong.services.trade import TRADE_LOG, TradeStores, append_to_log, holds_batched_appends
from fengkong.store.receivables import PartRow, ReceivableRow


def _part(row: PartRow) -> Part:
    return Part(
        row.part_id, row.receivable_id, row.path, row.holder_party_id, row.amount_fen, PartStatus(row.status)
    )


def _log_event(
    connection: sa.Connection,
    stores: TradeStores,
    kind: EventKind,
    receivable_id: str,
    on: date,
    amount_fen: int,
    *,
    part_id: str | None = None,
    from_party_id: str | None = None,
    to_party_id: str | None = None,
    **fields: str | int | list[str] | None,
) -> int:
    """Write the event and append its commitment; the leaf index."""
    canonical = event(
        kind,
        receivable_id,
        on,
        part_id=part_id,
        from_party=from_party_id,
        to_party=to_party_id,
        amount_fen=amount_fen,
        **fields,
    )
    salt = new_salt()
    commitment = commit(salt, canonical)
    first, _ = append_to_log(connection, stores, TRADE_LOG, [commitment_entry(commitment)])
    stores.receivables.insert_event(
        connection,
        {
            "receivable_id": receivable_id,
            "part_id": part_id,
            "kind": kind.value,
            "from_party_id": from_party_id,
            "to_party_id": to_party_id,
            "amount_fen": amount_fen,
            "event_on": on,
            "canonical": canonical,
            "salt": salt,
            "commitment": commitment,
            "leaf_index": first,
        },
    )
    return first


def _lock_log(connection: sa.Connection, stores: TradeStores) -> None:
    if not holds_batched_appends(connection, TRADE_LOG):  # a batch holds the lock for its whole block
        stores.chain.lock_head(connection, TRADE_LOG)


def part_id_of(receivable_id: str, path: str) -> str:
    return f"{receivable_id}/{path}"


# -- issue and confirm -------------------------------------------------------------------------------------


def issue_receivable(
    connection: sa.Connection,
    stores: TradeStores,
    *,
    receivable_id: str,
    invoice_record_id: str,
    invoice_number: str,
    seller_tax_id: str,
    buyer_tax_id: str,
    amount: int | str,
    issued_on: date | str,
    on: date,
) -> ReceivableRow | Refusal:
    """A supplier presents its signed invoice as a receivable owed by the buyer (the debtor).

    The identity fields (as printed on the e-invoice, in any spelling) must match the signed record's amount
    and date. The same invoice presented again — under any spelling — is refused by the database's unique
    index on the normalised identity.
    """
    identity = ReceivableIdentity.of(invoice_number, seller_tax_id, buyer_tax_id, amount, issued_on)
    _lock_log(connection, stores)
    record = stores.trade.record(connection, invoice_record_id)
    if record is None or record.kind != TradeRecordKind.INVOICE.value:
        return Refusal(RefusalReason.NO_TRADE, f"{invoice_record_id} is not a recorded signed invoice")
    if record.amount_fen != identity.amount_fen or record.issued_on != identity.issued_on:
        return Refusal(RefusalReason.NO_TRADE, "the invoice's amount or date differs from the signed record")
    if record.due_on is None or record.due_on <= record.issued_on:
        return Refusal(RefusalReason.NO_TRADE, "the signed invoice has no due date after its issue date")
    digest = identity.digest()
    row = ReceivableRow(
        receivable_id=receivable_id,
        identity_digest=digest,
        invoice_record_id=invoice_record_id,
        seller_party_id=record.issuer_party_id,
        debtor_party_id=record.receiver_party_id,
        amount_fen=record.amount_fen,
        currency=record.currency,
        issued_on=record.issued_on,
        due_on=record.due_on,
        status=ReceivableStatus.ISSUED.value,
    )
    if not stores.receivables.insert_receivable(connection, row):
        earlier = stores.receivables.holder_of_identity(connection, digest)
        return Refusal(
            RefusalReason.DUPLICATE_INVOICE,
            f"this invoice (or its signed record) is receivable {earlier or 'already stored'}",
        )
    root_id = part_id_of(receivable_id, ROOT_PATH)
    stores.receivables.insert_parts(
        connection,
        [
            PartRow(
                root_id,
                receivable_id,
                ROOT_PATH,
                None,
                part_identity(digest, ROOT_PATH),
                record.issuer_party_id,
                record.amount_fen,
                PartStatus.ACTIVE.value,
            )
        ],
    )
    _log_event(
        connection,
        stores,
        EventKind.ISSUE,
        receivable_id,
        on,
        record.amount_fen,
        part_id=root_id,
        to_party_id=record.issuer_party_id,
        identity=digest,
        invoice_commitment=record.commitment.hex(),
    )
    return row


def confirm_receivable(
    connection: sa.Connection, stores: TradeStores, receivable_id: str, by_party_id: str, on: date
) -> ReceivableRow | Refusal:
    """The debtor confirms it owes the receivable (确权) — only when its own signed purchase order and
    delivery receipt for the same trade and amount are in the log."""
    _lock_log(connection, stores)
    receivable = stores.receivables.receivable(connection, receivable_id, lock=True)
    if receivable is None:
        return Refusal(RefusalReason.NO_TRADE, f"no receivable {receivable_id}")
    refused = check_confirmation(ReceivableStatus(receivable.status), receivable.debtor_party_id, by_party_id)
    if refused is not None:
        return refused
    invoice = stores.trade.record(connection, receivable.invoice_record_id)
    if invoice is None:
        return Refusal(RefusalReason.NO_TRADE, "the invoice record is missing")
    documents = stores.trade.records_of_trade(connection, invoice.trade_id)
    backing = {
        row.kind
        for row in documents
        if row.issuer_party_id == receivable.debtor_party_id
        and row.receiver_party_id == receivable.seller_party_id
        and row.amount_fen == receivable.amount_fen
    }
    missing = {TradeRecordKind.PURCHASE_ORDER.value, TradeRecordKind.DELIVERY_RECEIPT.value} - backing
    if missing:
        return Refusal(
            RefusalReason.NO_TRADE,
            f"trade {invoice.trade_id} has no signed {' or '.join(sorted(missing))} from the debtor",
        )
    if not stores.receivables.set_status(
        connection, receivable_id, ReceivableStatus.ISSUED.value, ReceivableStatus.CONFIRMED.value
    ):
        return Refusal(RefusalReason.MOVED_MEANWHILE, "the receivable changed meanwhile")
    _log_event(
        connection,
        stores,
        EventKind.CONFIRM,
        receivable_id,
        on,
        receivable.amount_fen,
        from_party_id=by_party_id,
        due_on=receivable.due_on.isoformat(),
    )
    return dataclasses.replace(receivable, status=ReceivableStatus.CONFIRMED.value)


# -- split and transfer ------------------------------------------------------------------------------------


def _movable(
    connection: sa.Connection, stores: TradeStores, part_id: str
) -> tuple[PartRow, ReceivableRow] | Refusal:
    part = stores.receivables.lock_part(connection, part_id)
    if part is None:
        return Refusal(RefusalReason.NOT_ACTIVE, f"no part {part_id}")
    receivable = stores.receivables.receivable(connection, part.receivable_id, lock=False)
    if receivable is None:
        return Refusal(RefusalReason.NOT_ACTIVE, f"no receivable {part.receivable_id}")
    return part, receivable


def split_part(
    connection: sa.Connection,
    stores: TradeStores,
    part_id: str,
    by_party_id: str,
    amounts_fen: Sequence[int],
    on: date,
) -> tuple[PartRow, ...] | Refusal:
    """Split a part its holder holds into parts of ``amounts_fen`` (which must add up to it)."""
    _lock_log(connection, stores)
    found = _movable(connection, stores, part_id)
    if isinstance(found, Refusal):
        return found
    part, receivable = found
    plan = plan_split(
        _part(part), ReceivableStatus(receivable.status), by_party_id, amounts_fen, on, receivable.due_on
    )
    if isinstance(plan, Refusal):
        return plan
    if not stores.receivables.move_part(connection, part, status=PartStatus.SPLIT.value):
        return Refusal(RefusalReason.MOVED_MEANWHILE, "the part changed meanwhile")
    children = tuple(
        PartRow(
            part_id_of(receivable.receivable_id, path),
            receivable.receivable_id,
            path,
            part.part_id,
            part_identity(receivable.identity_digest, path),
            part.holder_party_id,
            amount,
            PartStatus.ACTIVE.value,
        )
        for path, amount in plan
    )
    stores.receivables.insert_parts(connection, children)
    _log_event(
        connection,
        stores,
        EventKind.SPLIT,
        receivable.receivable_id,
        on,
        part.amount_fen,
        part_id=part.part_id,
        from_party_id=by_party_id,
        parts=[f"{child.path}:{child.amount_fen}" for child in children],
    )
    return children


def transfer_part(
    connection: sa.Connection,
    stores: TradeStores,
    part_id: str,
    from_party_id: str,
    to_party_id: str,
    on: date,
) -> PartRow | Refusal:
    """Transfer a part down the tiers; only its holder can."""
    _lock_log(connection, stores)
    found = _movable(connection, stores, part_id)
    if isinstance(found, Refusal):
        return found
    part, receivable = found
    refused = check_transfer(
        _part(part), ReceivableStatus(receivable.status), from_party_id, to_party_id, on, receivable.due_on
    )
    if refused is not None:
        return refused
    if not stores.receivables.move_part(connection, part, holder_party_id=to_party_id):
        return Refusal(RefusalReason.MOVED_MEANWHILE, "the part changed meanwhile")
    _log_event(
        connection,
        stores,
        EventKind.TRANSFER,
        receivable.receivable_id,
        on,
        part.amount_fen,
        part_id=part.part_id,
        from_party_id=from_party_id,
        to_party_id=to_party_id,
    )
    return dataclasses.replace(part, holder_party_id=to_party_id)


# -- financing ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Financing:
    part_id: str
    lender_party_id: str
    seller_party_id: str
    amount_fen: int
    advance_fen: int
    rate_annual: Decimal
    proof_leaf_index: int
    proof_tree_size: int


def prove_confirmation(
    connection: sa.Connection, stores: TradeStores, receivable_id: str, log_key: VerifierKey
) -> tuple[int, int] | Refusal:
    """The lender's check: the receivable's confirmation is in the trade log under a checkpoint signed by
    the log's key. ``(leaf_index, tree_size)`` of the verified inclusion proof, or the reason it failed."""
    confirmation = stores.receivables.event_of(connection, receivable_id, EventKind.CONFIRM.value)
    if confirmation is None:
        return Refusal(RefusalReason.NOT_CONFIRMED, "the receivable has no confirmation in the log")
    head = stores.chain.head(connection, TRADE_LOG)
    latest = stores.trade.latest_checkpoint(connection, head.log_id)
    if latest is None or latest[0] <= confirmation.leaf_index:
        return Refusal(RefusalReason.PROOF_REJECTED, "no signed checkpoint covers the confirmation yet")
    verdict = verify_checkpoint(latest[1], log_key)
    if verdict.checkpoint is None:
        return Refusal(RefusalReason.PROOF_REJECTED, f"the checkpoint does not verify: {verdict.reason}")
    checkpoint = verdict.checkpoint
    proof = chain_service.prove_inclusion(
        connection, stores.chain, TRADE_LOG, confirmation.leaf_index, checkpoint.tree_size
    )
    entry = commitment_entry(confirmation.commitment)
    if not opens(entry, confirmation.salt, confirmation.canonical):
        return Refusal(RefusalReason.PROOF_REJECTED, "the stored confirmation does not open its commitment")
    included = merkle.verify_inclusion(
        confirmation.leaf_index,
        checkpoint.tree_size,
        merkle.leaf_hash(entry),
        proof.proof,
        checkpoint.root_hash,
    )
    if not included.verified:
        return Refusal(RefusalReason.PROOF_REJECTED, f"the inclusion proof fails: {included.reason}")
    return confirmation.leaf_index, checkpoint.tree_size


def finance_part(
    connection: sa.Connection,
    stores: TradeStores,
    part_id: str,
    *,
    holder_party_id: str,
    lender_party_id: str,
    rate_annual: Decimal,
    on: date,
    log_key: VerifierKey,
    rounding: Rounding,
) -> Financing | Refusal:
    """A lender discounts a part its holder presents, after verifying the confirmation's inclusion proof.

    At most once per part: the financing row's primary key is the part's identity, so a second financing
    (concurrent or later, by any lender) inserts nothing and is refused.
    """
    rate = D(rate_annual)
    _lock_log(connection, stores)
    found = _movable(connection, stores, part_id)
    if isinstance(found, Refusal):
        return found
    part, receivable = found
    if part.status == PartStatus.FINANCED.value:
        return Refusal(RefusalReason.ALREADY_FINANCED, f"part {part.path} is financed already")
    refused = check_financing(
        _part(part), ReceivableStatus(receivable.status), holder_party_id, on, receivable.due_on
    )
    if refused is not None:
        return refused
    proven = prove_confirmation(connection, stores, receivable.receivable_id, log_key)
    if isinstance(proven, Refusal):
        return proven
    leaf_index, tree_size = proven
    advance = discount_advance_fen(part.amount_fen, rate, (receivable.due_on - on).days, rounding)
    if advance <= 0:
        raise InputError("the discount leaves nothing to advance", field="rate_annual")
    if not stores.receivables.insert_financing(
        connection,
        {
            "part_identity": part.part_identity,
            "part_id": part.part_id,
            "lender_party_id": lender_party_id,
            "seller_party_id": holder_party_id,
            "amount_fen": part.amount_fen,
            "advance_fen": advance,
            "rate_annual": str(rate),
            "financed_on": on,
            "proof_leaf_index": leaf_index,
            "proof_tree_size": tree_size,
        },
    ):
        return Refusal(RefusalReason.ALREADY_FINANCED, f"part {part.path} is financed already")
    if not stores.receivables.move_part(
        connection, part, status=PartStatus.FINANCED.value, holder_party_id=lender_party_id
    ):
        raise ConflictError(f"part {part.part_id} changed during its financing")
    _log_event(
        connection,
        stores,
        EventKind.FINANCE,
        receivable.receivable_id,
        on,
        part.amount_fen,
        part_id=part.part_id,
        from_party_id=holder_party_id,
        to_party_id=lender_party_id,
        advance_fen=advance,
        rate_annual=str(rate),
    )
    return Financing(
        part.part_id, lender_party_id, holder_party_id, part.amount_fen, advance, rate, leaf_index, tree_size
    )


# -- settlement --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Settlement:
    receivable_id: str
    amount_fen: int
    payees: tuple[tuple[str, int], ...]  # (party, fen), sorted by party


def settle_receivable(
    connection: sa.Connection, stores: TradeStores, receivable_id: str, by_party_id: str, on: date
) -> Settlement | Refusal:
    """The debtor pays at maturity: each open part's holder (a lender for a financed part) gets its amount."""
    _lock_log(connection, stores)
    receivable = stores.receivables.receivable(connection, receivable_id, lock=True)
    if receivable is None:
        return Refusal(RefusalReason.NO_TRADE, f"no receivable {receivable_id}")
    if by_party_id != receivable.debtor_party_id:
        return Refusal(RefusalReason.NOT_THE_DEBTOR, "only the debtor settles")
    if receivable.status != ReceivableStatus.CONFIRMED.value:
        return Refusal(RefusalReason.NOT_CONFIRMED, f"the receivable is {receivable.status}")
    if on < receivable.due_on:
        return Refusal(RefusalReason.NOT_MATURED, f"it matures on {receivable.due_on.isoformat()}")
    rows = stores.receivables.parts(connection, receivable_id, lock=True)
    payees = settlement_payees([_part(row) for row in rows])
    for row in rows:
        open_part = row.status in (PartStatus.ACTIVE.value, PartStatus.FINANCED.value)
        if open_part and not stores.receivables.move_part(connection, row, status=PartStatus.SETTLED.value):
            raise ConflictError(f"part {row.part_id} changed during settlement")
    if not stores.receivables.set_status(
        connection, receivable_id, ReceivableStatus.CONFIRMED.value, ReceivableStatus.SETTLED.value
    ):
        raise ConflictError(f"receivable {receivable_id} changed during settlement")
    ordered = tuple(sorted(payees.items()))
    _log_event(
        connection,
        stores,
        EventKind.SETTLE,
        receivable_id,
        on,
        receivable.amount_fen,
        from_party_id=by_party_id,
        payees=[f"{party}:{amount}" for party, amount in ordered],
    )
    return Settlement(receivable_id, receivable.amount_fen, ordered)


# -- registration export -----------------------------------------------------------------------------------


def registration_export(connection: sa.Connection, stores: TradeStores) -> list[RegistrationRow]:
    """Every transfer and financing so far as registration rows (:mod:`fengkong.chain.registry_export`)."""
    movements: list[MovementForRegistration] = []
    receivables: dict[str, ReceivableRow] = {}
    events = stores.receivables.events(
        connection, kinds=("transfer", "finance"), limit=bounds.receivable_export_rows_max + 1
    )
    if len(events) > bounds.receivable_export_rows_max:  # refused whole rather than cut short
        raise BoundExceededError("receivable_export_rows_max", bounds.receivable_export_rows_max, len(events))
    for row in events:
        receivable = receivables.get(row.receivable_id)
        if receivable is None:
            found = stores.receivables.receivable(connection, row.receivable_id, lock=False)
            if found is None:
                raise InvariantError(f"receivable event {row.event_id} names no stored receivable")
            receivable = receivables[row.receivable_id] = found
        if row.part_id is None or row.from_party_id is None or row.to_party_id is None:
            raise InvariantError(f"receivable event {row.event_id} lacks its part or parties")
        movements.append(
            MovementForRegistration(
                kind=row.kind,
                receivable_id=row.receivable_id,
                part_path=row.part_id.removeprefix(f"{row.receivable_id}/"),
                from_party_id=row.from_party_id,
                to_party_id=row.to_party_id,
                debtor_party_id=receivable.debtor_party_id,
                amount_fen=row.amount_fen,
                currency=receivable.currency,
                event_on=row.event_on,
                due_on=receivable.due_on,
                leaf_index=row.leaf_index,
                commitment_hex=row.commitment.hex(),
            )
        )
    return registration_rows(movements)


def write_registration_export(engine: sa.Engine, stores: TradeStores, path: Path) -> int:
    """Write :func:`registration_export` to ``path`` (JSON for ``.json``, else CSV); the rows written."""
    with engine.connect() as connection:
        rows = registration_export(connection, stores)
    text = registration_json(rows) if path.suffix == ".json" else registration_csv(rows)
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}", field="registry_out") from exc
    return len(rows)
