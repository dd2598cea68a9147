"""Shared set-up for the trade and receivable tests: fictitious parties, their keys, a signed trade.

Every party, tax ID and invoice number here is made up: ``E`` core enterprises, ``S`` suppliers, ``L`` a
lender; tax IDs start ``91000000`` followed by zeros and a counter and belong to nobody.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from fengkong.chain.note import SignerKey
from fengkong.chain.trade import PartySigner, SignedTradeDocument, sign_both
from fengkong.clock import FixedClock
from fengkong.domain.trade import TradeRecord, TradeRecordKind
from fengkong.money import Money
from fengkong.services import trade as trade_service
from fengkong.services.trade import TRADE_LOG, TRADE_ORIGIN, TradeStores
from fengkong.store import migrate

__all__ = ["TRADE_ORIGIN"]

AT = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)
DUE = DAY + timedelta(days=60)
CORE = "E00001"
SUPPLIER = "S000001"
TIER2 = "S000002"
LENDER = "L00001"
SELLER_TAX_ID = "910000000000000001"  # fictitious
BUYER_TAX_ID = "910000000000000002"  # fictitious
INVOICE_NUMBER = "26000000000000000001"  # fictitious 20-digit e-invoice number


def signer(party_id: str) -> PartySigner:
    return PartySigner.from_seed(party_id, hashlib.sha256(party_id.encode()).digest())


def log_signer() -> SignerKey:
    return SignerKey.from_seed(TRADE_ORIGIN, hashlib.sha256(b"trade log key").digest())


def record(
    record_id: str,
    kind: TradeRecordKind,
    amount_fen: int,
    trade_id: str = "T-1",
    issued_on: date = DAY,
) -> TradeRecord:
    from_core = kind is not TradeRecordKind.INVOICE
    return TradeRecord(
        record_id=record_id,
        trade_id=trade_id,
        kind=kind,
        issuer_party_id=CORE if from_core else SUPPLIER,
        receiver_party_id=SUPPLIER if from_core else CORE,
        amount=Money(amount_fen),
        issued_on=issued_on,
        due_on=issued_on + timedelta(days=60) if kind is TradeRecordKind.INVOICE else None,
    )


def signed(record_value: TradeRecord, sequence: int) -> SignedTradeDocument:
    return sign_both(
        record_value, signer(record_value.issuer_party_id), signer(record_value.receiver_party_id), sequence
    )


def stores() -> TradeStores:
    return TradeStores.of(FixedClock(AT))


def set_up_parties(engine: sa.Engine, repositories: TradeStores) -> None:
    with engine.begin() as connection:
        trade_service.ensure_log(connection, repositories, TRADE_LOG)
        for party in (CORE, SUPPLIER, TIER2, LENDER):
            trade_service.register_party_key(connection, repositories, signer(party).public())


def record_full_trade(engine: sa.Engine, repositories: TradeStores, amount_fen: int = 10_000_001) -> None:
    """PO and receipt by the core enterprise, invoice by the supplier, all counter-signed and recorded."""
    batch = [
        signed(record("PO-1", TradeRecordKind.PURCHASE_ORDER, amount_fen), 1),
        signed(record("DR-1", TradeRecordKind.DELIVERY_RECEIPT, amount_fen), 2),
        signed(record("INV-1", TradeRecordKind.INVOICE, amount_fen), 1),
    ]
    with engine.begin() as connection:
        result = trade_service.record_documents(connection, repositories, batch, atomic=True)
    if len(result.accepted) != 3:
        raise AssertionError(f"the fixture trade was refused: {result.rejected}")


def checkpoint(engine: sa.Engine, repositories: TradeStores) -> str:
    with engine.begin() as connection:
        _, note = trade_service.sign_and_store_checkpoint(
            connection, repositories, log_signer(), TRADE_LOG, TRADE_ORIGIN
        )
    return note


def migrated_template(directory: Path) -> Path:
    """A SQLite file migrated to the newest revision, to be copied for each test (migrating takes seconds)."""
    path = directory / "template.sqlite"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def copy_of(template: Path, directory: Path) -> str:
    """The URL of a fresh copy of ``template`` (with its WAL files, if any) in ``directory``."""
    target = directory / "copy.sqlite"
    for suffix in ("", "-wal", "-shm"):
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copyfile(source, target.with_name(target.name + suffix))
    return f"sqlite:///{target}"
