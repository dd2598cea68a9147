"""The simulated supply chain through fengkong: a lake's trade documents become signed records, receivables,
splits, transfers, financings and settlements — with forgeries and double presentations to catch.

:func:`run_supply_chain` replays the ``trade_record`` events of a lake day by day (business dates). The
parties' behaviour is simulated here, seeded; every check is the product's:

1. each day's purchase orders, delivery receipts and invoices are signed by their issuers with Ed25519 keys
   (registered at the start) and counter-signed by their receivers, then recorded in one transaction
   (:func:`fengkong.services.trade.record_documents`). Injected with it: altered documents (amount changed
   after signing), replays of documents recorded earlier, documents with a skipped sequence, documents
   counter-signed with a key nobody registered;
2. each recorded invoice is presented as a receivable by its supplier, with an e-invoice number and tax IDs
   derived from the trade and the parties (fictitious); the lake's double presentations (a second invoice for
   one trade) and injected re-presentations of issued invoices *in other words* (full-width digits, lower
   case, spaces, another date format) are refused by the database's unique identity index;
3. the core enterprise confirms each receivable — refused when its own signed purchase order and delivery
   receipt for the trade are not in the log (how a forged invoice is caught);
4. after the day's checkpoint is signed, suppliers split some receivables, transfer a part to another of the
   buyer's suppliers (a lower tier), and offer parts for discounting; the lender verifies the confirmation's
   inclusion proof against the signed checkpoint and finances each part at most once. Injected: transfers by
   a party that does not hold the part, and a second lender trying to finance a financed part;
5. at maturity the core enterprise pays each open part's holder (a lender for a financed part).

The result (:class:`SupplyChainRun`) counts what each step did, what was injected and what was caught, by
kind. Ground truth is never read here: the demo's scoreboard compares ``caught_record_ids`` with it.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from fengkong.chain.note import SignerKey
from fengkong.chain.receivables import Refusal, RefusalReason, split_by_weights
from fengkong.chain.trade import (
    PartySigner,
    RejectionReason,
    SignedTradeDocument,
    countersign,
    issue_document,
    sign_both,
)
from fengkong.clock import FixedClock, business_date, start_of_business_day
from fengkong.domain.trade import TradeRecord, TradeRecordKind
from fengkong.errors import InputError, require
from fengkong.ingest.lake import read_lake_table
from fengkong.money import D, Money
from fengkong.services import receivables as receivable_service
from fengkong.services import trade as trade_service
from fengkong.services.trade import TRADE_LOG, TRADE_ORIGIN, TradeStores, batched_appends

LENDER: Final = "L-FENGKONG"  # the platform's lender
SECOND_LENDER: Final = "L-OTHER-BANK"  # the lender a double financing is tried with
DISCOUNT_RATE_ANNUAL: Final = D("0.036")
_KIND_ORDER = {
    TradeRecordKind.PURCHASE_ORDER.value: 0,
    TradeRecordKind.DELIVERY_RECEIPT.value: 1,
    TradeRecordKind.INVOICE.value: 2,
}
ATTACKS: Final = (
    "altered_document",
    "replayed_document",
    "out_of_order_document",
    "forged_signature",
    "reworded_presentation",
    "transfer_by_non_holder",
    "double_financing",
)


@dataclass(frozen=True, slots=True)
class SupplyChainParameters:
    seed: int = 7
    attack_rate: Decimal = Decimal("0.02")  # per eligible item, for each injected attack
    split_probability: Decimal = Decimal("0.3")
    transfer_probability: Decimal = Decimal("0.7")  # of a split receivable's second part, to another supplier
    finance_probability: Decimal = Decimal("0.5")  # per active part a supplier holds
    days: int | None = None  # only the lake's first ``days`` business days of documents (None: all)


@dataclass(frozen=True, slots=True)
class SupplyChainRun:
    """What a run did, injected and caught. Amounts in fen."""

    days: int
    documents_read: int
    documents_recorded: int
    receivables_issued: int
    receivables_confirmed: int
    parts_split: int
    parts_transferred: int
    parts_financed: int
    receivables_settled: int
    financed_fen: int
    advanced_fen: int
    settled_fen: int
    trade_log_size: int
    checkpoints_signed: int
    inclusion_proofs_verified: int
    registrations: int
    log_verifier_key: str  # the trade log's checkpoint key (note format), derived from the seed in this run
    injected: Mapping[str, int] = field(default_factory=dict)
    caught: Mapping[str, int] = field(default_factory=dict)
    refusals: Mapping[str, int] = field(default_factory=dict)  # every refusal and rejection, by reason
    caught_record_ids: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "days": self.days,
            "documents_read": self.documents_read,
            "documents_recorded": self.documents_recorded,
            "receivables_issued": self.receivables_issued,
            "receivables_confirmed": self.receivables_confirmed,
            "parts_split": self.parts_split,
            "parts_transferred": self.parts_transferred,
            "parts_financed": self.parts_financed,
            "receivables_settled": self.receivables_settled,
            "financed": Money(self.financed_fen).format(),
            "advanced": Money(self.advanced_fen).format(),
            "settled": Money(self.settled_fen).format(),
            "trade_log_size": self.trade_log_size,
            "checkpoints_signed": self.checkpoints_signed,
            "inclusion_proofs_verified": self.inclusion_proofs_verified,
            "registrations": self.registrations,
            "log_verifier_key": self.log_verifier_key,
            "injected": dict(sorted(self.injected.items())),
            "caught": dict(sorted(self.caught.items())),
            "refusals": dict(sorted(self.refusals.items())),
        }


@dataclass(frozen=True, slots=True)
class _LakeDocument:
    record: TradeRecord
    day: date


def fictitious_tax_id(party_id: str) -> str:
    """An 18-character unified social credit code shape (``91`` + 16 digits) derived from the party ID;
    fictitious, it belongs to nobody."""
    number = int.from_bytes(hashlib.sha256(f"tax/{party_id}".encode()).digest()[:8], "big") % 10**16
    return f"91{number:016d}"


def invoice_number(trade_id: str) -> str:
    """A 20-digit e-invoice number derived from the trade ID (fictitious)."""
    number = int.from_bytes(hashlib.sha256(f"invoice/{trade_id}".encode()).digest()[:8], "big") % 10**18
    return f"26{number:018d}"


def reworded(text: str) -> str:
    """The same code as a clerk might type it again: full-width, lower case, spaced every four."""
    spaced = " ".join(text[index : index + 4] for index in range(0, len(text), 4))
    return spaced.lower().translate({code: code + 0xFEE0 for code in range(0x21, 0x7F)})


def read_documents(lake_dir: Path) -> list[_LakeDocument]:
    """The lake's trade documents in business-date order (orders, receipts, invoices within a day)."""
    table = read_lake_table(lake_dir, "trade_record")
    if table.num_rows == 0:
        raise InputError(
            f"{lake_dir} holds no trade_record events (expected <lake>/trade_record/date=*/)", field="lake"
        )
    table = table.sort_by([("occurred_at", "ascending"), ("record_id", "ascending")])
    documents: list[_LakeDocument] = []
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    for index in range(table.num_rows):
        day = business_date(columns["occurred_at"][index])
        documents.append(
            _LakeDocument(
                TradeRecord(
                    record_id=columns["record_id"][index],
                    trade_id=columns["trade_id"][index],
                    kind=TradeRecordKind(columns["record_kind"][index]),
                    issuer_party_id=columns["issuer_id"][index],
                    receiver_party_id=columns["receiver_id"][index],
                    amount=Money(int(columns["amount_fen"][index])),
                    issued_on=day,
                    due_on=columns["due_date"][index],
                ),
                day,
            )
        )
    documents.sort(key=lambda document: (document.day, _KIND_ORDER[document.record.kind.value]))
    return documents


class _Run:
    """The mutable state of one run (counters, keys, sequences); the database holds everything else."""

    def __init__(self, engine: sa.Engine, parameters: SupplyChainParameters, clock: FixedClock) -> None:
        self.engine = engine
        self.parameters = parameters
        self.clock = clock
        self.stores = TradeStores.of(clock)
        self.rng = random.Random(parameters.seed)
        self.log_key = SignerKey.from_seed(TRADE_ORIGIN, self.seed_bytes(f"log/{TRADE_ORIGIN}"))
        self.signers: dict[str, PartySigner] = {}
        self.sequences: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.caught: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.caught_ids: defaultdict[str, list[str]] = defaultdict(list)
        self.recorded: list[SignedTradeDocument] = []
        self.suppliers_of: defaultdict[str, set[str]] = defaultdict(set)
        self.confirmed_on: dict[str, date] = {}
        self.due: defaultdict[date, list[tuple[str, str]]] = defaultdict(list)  # (receivable, debtor)

    def seed_bytes(self, label: str) -> bytes:
        return hashlib.sha256(f"{self.parameters.seed}/{label}".encode()).digest()

    def chance(self, probability: Decimal) -> bool:
        return self.rng.random() < float(probability)  # a coin for the simulated parties, not money

    def signer(self, party_id: str) -> PartySigner:
        found = self.signers.get(party_id)
        if found is None:
            found = self.signers[party_id] = PartySigner.from_seed(
                party_id, self.seed_bytes(f"party/{party_id}")
            )
        return found

    def next_sequence(self, party_id: str) -> int:
        self.sequences[party_id] += 1
        return self.sequences[party_id]

    def refused(self, reason: str) -> None:
        self.refusals[reason] += 1


def run_supply_chain(
    lake_dir: Path,
    engine: sa.Engine,
    parameters: SupplyChainParameters | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SupplyChainRun:
    """Run the supply chain of the lake at ``lake_dir`` through the (migrated) database behind ``engine``."""
    chosen = parameters or SupplyChainParameters()
    documents = read_documents(lake_dir)
    first_day = documents[0].day
    if chosen.days is not None:
        if chosen.days < 1:
            raise InputError("must be at least 1", field="days")
        documents = [document for document in documents if (document.day - first_day).days < chosen.days]
    clock = FixedClock(start_of_business_day(first_day))
    run = _Run(engine, chosen, clock)
    parties = sorted(
        {document.record.issuer_party_id for document in documents}
        | {document.record.receiver_party_id for document in documents}
        | {LENDER, SECOND_LENDER}
    )
    with engine.begin() as connection:
        trade_service.ensure_log(connection, run.stores, TRADE_LOG)
        for party in parties:
            trade_service.register_party_key(connection, run.stores, run.signer(party).public())
    for document in documents:
        if document.record.kind is TradeRecordKind.PURCHASE_ORDER:
            run.suppliers_of[document.record.issuer_party_id].add(document.record.receiver_party_id)
    by_day: defaultdict[date, list[_LakeDocument]] = defaultdict(list)
    for document in documents:
        by_day[document.day].append(document)
    horizon = max(
        [documents[-1].day] + [document.record.due_on for document in documents if document.record.due_on]
    )
    day = first_day
    days = 0
    signed_size = 0
    total_days = (horizon - first_day).days + 1
    while day <= horizon:
        clock.set(start_of_business_day(day))
        todays = by_day.get(day, [])
        if todays:
            _record_day(run, todays, day)
        _lifecycle(run, day)
        _settle(run, day)
        with engine.begin() as connection:
            size = run.stores.chain.head(connection, TRADE_LOG).tree_size
            if size > signed_size:  # a quiet day adds nothing to sign
                signed_size, _ = trade_service.sign_and_store_checkpoint(
                    connection, run.stores, run.log_key, TRADE_LOG, TRADE_ORIGIN
                )
                run.counts["checkpoints"] += 1
        days += 1
        if progress is not None:
            progress(days, total_days)
        day += timedelta(days=1)
    with engine.connect() as connection:
        tree_size = run.stores.chain.head(connection, TRADE_LOG).tree_size
        registrations = len(receivable_service.registration_export(connection, run.stores))
    counts = run.counts
    return SupplyChainRun(
        days=days,
        documents_read=len(documents),
        documents_recorded=counts["recorded"],
        receivables_issued=counts["issued"],
        receivables_confirmed=counts["confirmed"],
        parts_split=counts["split"],
        parts_transferred=counts["transferred"],
        parts_financed=counts["financed"],
        receivables_settled=counts["settled"],
        financed_fen=counts["financed_fen"],
        advanced_fen=counts["advanced_fen"],
        settled_fen=counts["settled_fen"],
        trade_log_size=tree_size,
        checkpoints_signed=counts["checkpoints"],
        inclusion_proofs_verified=counts["financed"],
        registrations=registrations,
        log_verifier_key=run.log_key.verifier().to_text(),
        injected=dict(run.injected),
        caught=dict(run.caught),
        refusals=dict(run.refusals),
        caught_record_ids={kind: tuple(ids) for kind, ids in run.caught_ids.items()},
    )


# -- day steps ---------------------------------------------------------------------------------------------


def _record_day(run: _Run, todays: Sequence[_LakeDocument], day: date) -> None:
    batch: list[SignedTradeDocument] = []
    attacks: dict[int, str] = {}
    for document in todays:
        record = document.record
        signed = sign_both(
            record,
            run.signer(record.issuer_party_id),
            run.signer(record.receiver_party_id),
            run.next_sequence(record.issuer_party_id),
        )
        batch.append(signed)
    genuine = len(batch)
    rate = run.parameters.attack_rate
    for signed in batch[:genuine]:
        record = signed.document.record
        if run.chance(rate):  # an amount changed after both signed
            bigger = replace(record, record_id=f"{record.record_id}-ALT", amount=record.amount * 2)
            altered = replace(signed.document, record=bigger)
            attacks[len(batch)] = "altered_document"
            batch.append(replace(signed, document=altered, canonical=altered.canonical_bytes()))
        if run.chance(rate):  # a sequence skipped
            skipped = replace(record, record_id=f"{record.record_id}-SKIP")
            sequence = run.sequences[record.issuer_party_id] + 2
            unsigned, canonical, signature = issue_document(
                skipped, run.signer(record.issuer_party_id), sequence
            )
            attacks[len(batch)] = "out_of_order_document"
            batch.append(countersign(unsigned, canonical, signature, run.signer(record.receiver_party_id)))
        if run.chance(rate):  # counter-signed with a key nobody registered
            forged = replace(record, record_id=f"{record.record_id}-FORGED")
            impostor = PartySigner.from_seed(
                record.receiver_party_id, run.seed_bytes(f"impostor/{record.record_id}")
            )
            unsigned, canonical, signature = issue_document(
                forged, run.signer(record.issuer_party_id), run.sequences[record.issuer_party_id] + 1
            )
            attacks[len(batch)] = "forged_signature"
            batch.append(countersign(unsigned, canonical, signature, impostor))
    for earlier in run.recorded[-200:]:
        if run.chance(rate / 4):
            attacks[len(batch)] = "replayed_document"
            batch.append(earlier)
    for attack in attacks.values():
        run.injected[attack] += 1
    expected_reason = {
        "altered_document": RejectionReason.BAD_ISSUER_SIGNATURE,
        "out_of_order_document": RejectionReason.OUT_OF_ORDER,
        "forged_signature": RejectionReason.UNKNOWN_KEY,
        "replayed_document": RejectionReason.REPLAY,
    }
    with run.engine.begin() as connection, batched_appends(connection, run.stores):
        for start in range(0, len(batch), 5_000):
            chunk = batch[start : start + 5_000]
            result = trade_service.record_documents(connection, run.stores, chunk)
            run.counts["recorded"] += len(result.accepted)
            for rejection in result.rejected:
                run.refused(rejection.reason.value)
                injected = attacks.get(start + rejection.position)
                if injected is not None and rejection.reason is expected_reason[injected]:
                    run.caught[injected] += 1
            accepted = set(result.accepted)
            for position, signed in enumerate(chunk):
                if start + position not in attacks and signed.document.record.record_id in accepted:
                    run.recorded.append(signed)
    invoices = [
        signed.document.record
        for signed in batch[:genuine]
        if signed.document.record.kind is TradeRecordKind.INVOICE
    ]
    with run.engine.begin() as connection, batched_appends(connection, run.stores):
        for record in invoices:
            _present(run, connection, record, day)


def _present(run: _Run, connection: sa.Connection, record: TradeRecord, day: date) -> None:
    receivable_id = f"R-{record.record_id}"
    number = invoice_number(record.trade_id)
    seller_tax, buyer_tax = (
        fictitious_tax_id(record.issuer_party_id),
        fictitious_tax_id(record.receiver_party_id),
    )
    outcome = receivable_service.issue_receivable(
        connection,
        run.stores,
        receivable_id=receivable_id,
        invoice_record_id=record.record_id,
        invoice_number=number,
        seller_tax_id=seller_tax,
        buyer_tax_id=buyer_tax,
        amount=record.amount.amount_minor,
        issued_on=record.issued_on,
        on=day,
    )
    if isinstance(outcome, Refusal):
        run.refused(outcome.reason.value)
        if outcome.reason is RefusalReason.DUPLICATE_INVOICE:
            run.caught["double_presented_invoice"] += 1
            run.caught_ids["double_presented_invoice"].append(record.record_id)
        return
    run.counts["issued"] += 1
    if run.chance(run.parameters.attack_rate):
        run.injected["reworded_presentation"] += 1
        again = receivable_service.issue_receivable(
            connection,
            run.stores,
            receivable_id=f"{receivable_id}-AGAIN",
            invoice_record_id=record.record_id,
            invoice_number=reworded(number),
            seller_tax_id=reworded(seller_tax),
            buyer_tax_id=reworded(buyer_tax),
            amount=f"{record.amount.to_decimal():,}",
            issued_on=f"{record.issued_on.year}年{record.issued_on.month}月{record.issued_on.day}日",
            on=day,
        )
        if isinstance(again, Refusal):
            run.refused(again.reason.value)
            if again.reason is RefusalReason.DUPLICATE_INVOICE:
                run.caught["reworded_presentation"] += 1
    confirmed = receivable_service.confirm_receivable(
        connection, run.stores, receivable_id, record.receiver_party_id, day
    )
    if isinstance(confirmed, Refusal):
        run.refused(confirmed.reason.value)
        if confirmed.reason is RefusalReason.NO_TRADE:
            run.caught["forged_invoice"] += 1
            run.caught_ids["forged_invoice"].append(record.record_id)
        return
    run.counts["confirmed"] += 1
    run.confirmed_on[receivable_id] = day
    run.due[confirmed.due_on].append((receivable_id, confirmed.debtor_party_id))


def _lifecycle(run: _Run, day: date) -> None:
    """Split, transfer and finance receivables confirmed the day before (a checkpoint covers them)."""
    ready = [receivable_id for receivable_id, on in run.confirmed_on.items() if on == day - timedelta(days=1)]
    if not ready:
        return
    parameters = run.parameters
    with run.engine.begin() as connection, batched_appends(connection, run.stores):
        for receivable_id in ready:
            receivable = run.stores.receivables.receivable(connection, receivable_id, lock=False)
            if receivable is None or receivable.due_on <= day:
                continue
            seller = receivable.seller_party_id
            holdings = [(f"{receivable_id}/0", seller)]
            if run.chance(parameters.split_probability):
                share = run.rng.randint(20, 80)
                amounts = split_by_weights(receivable.amount_fen, [share, 100 - share])
                parts = receivable_service.split_part(
                    connection, run.stores, f"{receivable_id}/0", seller, list(amounts), day
                )
                if isinstance(parts, Refusal):
                    run.refused(parts.reason.value)
                else:
                    run.counts["split"] += 1
                    holdings = [(part.part_id, seller) for part in parts]
                    tiers = sorted(run.suppliers_of[receivable.debtor_party_id] - {seller})
                    if tiers and run.chance(parameters.transfer_probability):
                        holdings[1] = _transfer(
                            run, connection, holdings[1][0], seller, run.rng.choice(tiers), day
                        )
            for part_id, holder in holdings:
                if run.chance(parameters.finance_probability):
                    _finance(run, connection, part_id, holder, day)


def _transfer(
    run: _Run, connection: sa.Connection, part_id: str, holder: str, target: str, day: date
) -> tuple[str, str]:
    if run.chance(
        run.parameters.attack_rate * 5
    ):  # the lower tier tries to pass on what it does not hold yet
        run.injected["transfer_by_non_holder"] += 1
        stolen = receivable_service.transfer_part(connection, run.stores, part_id, target, LENDER, day)
        if isinstance(stolen, Refusal):
            run.refused(stolen.reason.value)
            if stolen.reason is RefusalReason.NOT_THE_HOLDER:
                run.caught["transfer_by_non_holder"] += 1
    moved = receivable_service.transfer_part(connection, run.stores, part_id, holder, target, day)
    if isinstance(moved, Refusal):
        run.refused(moved.reason.value)
        return part_id, holder
    run.counts["transferred"] += 1
    return part_id, target


def _finance(run: _Run, connection: sa.Connection, part_id: str, holder: str, day: date) -> None:
    key = run.log_key.verifier()
    financed = receivable_service.finance_part(
        connection,
        run.stores,
        part_id,
        holder_party_id=holder,
        lender_party_id=LENDER,
        rate_annual=DISCOUNT_RATE_ANNUAL,
        on=day,
        log_key=key,
        rounding="ROUND_HALF_UP",
    )
    if isinstance(financed, Refusal):
        run.refused(financed.reason.value)
        return
    run.counts["financed"] += 1
    run.counts["financed_fen"] += financed.amount_fen
    run.counts["advanced_fen"] += financed.advance_fen
    if run.chance(run.parameters.attack_rate * 5):  # the holder presents the same part to another bank
        run.injected["double_financing"] += 1
        again = receivable_service.finance_part(
            connection,
            run.stores,
            part_id,
            holder_party_id=holder,
            lender_party_id=SECOND_LENDER,
            rate_annual=DISCOUNT_RATE_ANNUAL,
            on=day,
            log_key=key,
            rounding="ROUND_HALF_UP",
        )
        if isinstance(again, Refusal):
            run.refused(again.reason.value)
            if again.reason is RefusalReason.ALREADY_FINANCED:
                run.caught["double_financing"] += 1


def _settle(run: _Run, day: date) -> None:
    due = run.due.pop(day, [])
    if not due:
        return
    with run.engine.begin() as connection, batched_appends(connection, run.stores):
        for receivable_id, debtor in due:
            settled = receivable_service.settle_receivable(connection, run.stores, receivable_id, debtor, day)
            if isinstance(settled, Refusal):
                run.refused(settled.reason.value)
                continue
            paid = sum(amount for _, amount in settled.payees)
            require(
                paid == settled.amount_fen,
                f"settlement of {receivable_id} pays {paid} of {settled.amount_fen}",
            )
            run.counts["settled"] += 1
            run.counts["settled_fen"] += settled.amount_fen
