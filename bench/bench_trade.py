"""Signed trade records per second on one core: signed by the issuer, counter-signed by the receiver, both
signatures verified, and recorded (a salted commitment appended to the trade log, the document stored).

Stages, each timed over the same ``--records`` documents (built before the clock starts), in one process:

* sign — :func:`fengkong.chain.trade.sign_both`: canonical JSON, the issuer's Ed25519 signature, the
  receiver's counter-signature over the bytes and the issuer's signature;
* verify — :func:`fengkong.chain.trade.verify_documents`: canonical bytes re-derived, both keys looked up and
  bound to their parties, both signatures verified, replay and sequence checks;
* record — :func:`fengkong.services.trade.record_documents` on SQLite (WAL, ``synchronous=NORMAL``) in
  batches of ``--batch``: the head locked, keys, sequences and seen nonces read, the batch verified, salts
  drawn, commitments appended as leaves, documents inserted; one transaction per batch;
* end to end — sign, then record (which verifies): the figure the goal (at least 5,000/s per core) is about.

Reference, in the same run: the Ed25519 floor — two signatures and two verifications of 300-byte messages by
the ``cryptography`` package with keys already loaded, per record. The ratio says how much of the time is
the cryptography itself. Threads are pinned to one (``OMP_NUM_THREADS=1``); Python runs this on one core.

Run: ``.venv/bin/python bench/bench_trade.py [--records N] [--batch N]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

os.environ.setdefault("OMP_NUM_THREADS", "1")

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import event

from fengkong import bounds
from fengkong.chain.trade import (
    PartyKey,
    PartySigner,
    SignedTradeDocument,
    TradeVerdicts,
    sign_both,
    verify_documents,
)
from fengkong.clock import FixedClock
from fengkong.domain.trade import TradeRecord, TradeRecordKind
from fengkong.money import Money
from fengkong.services import trade as trade_service
from fengkong.services.trade import TRADE_LOG, TradeStores
from fengkong.store import migrate
from fengkong.store.config import make_engine

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ENTERPRISES = 20
SUPPLIERS_PER_ENTERPRISE = 10
GOAL_PER_SECOND = 5_000


def parties() -> tuple[list[PartySigner], list[PartySigner]]:
    enterprises = [PartySigner.generate(f"E{number:05d}") for number in range(ENTERPRISES)]
    suppliers = [
        PartySigner.generate(f"S{number:06d}") for number in range(ENTERPRISES * SUPPLIERS_PER_ENTERPRISE)
    ]
    return enterprises, suppliers


def workload(count: int, enterprises: list[PartySigner], suppliers: list[PartySigner]) -> list[TradeRecord]:
    """Purchase orders from each enterprise to its suppliers, in turn (fictitious parties)."""
    records = []
    for index in range(count):
        supplier = index % len(suppliers)
        enterprise = enterprises[supplier // SUPPLIERS_PER_ENTERPRISE]
        records.append(
            TradeRecord(
                record_id=f"PO-{index}",
                trade_id=f"T-{index}",
                kind=TradeRecordKind.PURCHASE_ORDER,
                issuer_party_id=enterprise.party_id,
                receiver_party_id=suppliers[supplier].party_id,
                amount=Money(1_000_000 + index),
                issued_on=date(2026, 3, 1) + timedelta(days=index // 10_000),
            )
        )
    return records


def sign_all(records: list[TradeRecord], signers: dict[str, PartySigner]) -> list[SignedTradeDocument]:
    sequences: dict[str, int] = {}
    signed = []
    for record in records:
        sequence = sequences.get(record.issuer_party_id, 0) + 1
        sequences[record.issuer_party_id] = sequence
        signed.append(
            sign_both(record, signers[record.issuer_party_id], signers[record.receiver_party_id], sequence)
        )
    return signed


def _floor_workload(count: int) -> tuple[Any, Any, list[tuple[bytes, bytes, bytes]]]:
    issuer, receiver = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    messages = [index.to_bytes(8, "big") * 37 + b"...." for index in range(count)]  # 300 bytes
    signed = []
    for message in messages:
        first = issuer.sign(message)
        signed.append((message, first, receiver.sign(message + first)))
    return issuer, receiver, signed


def ed25519_floor(count: int) -> None:
    """Two signatures and two verifications per record: what signing and recording need at the least."""
    issuer, receiver = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    issuer_public, receiver_public = issuer.public_key(), receiver.public_key()
    messages = [index.to_bytes(8, "big") * 37 + b"...." for index in range(count)]  # 300 bytes
    for message in messages:
        first = issuer.sign(message)
        second = receiver.sign(message + first)
        issuer_public.verify(first, message)
        receiver_public.verify(second, message + first)


def verify_floor(issuer: Any, receiver: Any, signed: list[tuple[bytes, bytes, bytes]]) -> None:
    """Two verifications per record: what recording (which verifies, never signs) needs at the least."""
    issuer_public, receiver_public = issuer.public_key(), receiver.public_key()
    for message, first, second in signed:
        issuer_public.verify(first, message)
        receiver_public.verify(second, message + first)


def _synchronous_normal(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()


def fresh_database(folder: Path, name: str, keys: list[PartyKey]) -> tuple[sa.Engine, TradeStores]:
    url = f"sqlite:///{folder / name}"
    migrate.upgrade(url)
    engine = make_engine(url)
    _synchronous_normal(engine)
    stores = TradeStores.of(FixedClock(AT))
    with engine.begin() as connection:
        trade_service.ensure_log(connection, stores, TRADE_LOG)
        for key in keys:
            trade_service.register_party_key(connection, stores, key)
    return engine, stores


def record_all(engine: sa.Engine, stores: TradeStores, signed: list[SignedTradeDocument], batch: int) -> None:
    for start in range(0, len(signed), batch):
        with engine.begin() as connection:
            result = trade_service.record_documents(
                connection, stores, signed[start : start + batch], atomic=True
            )
        if len(result.accepted) != len(signed[start : start + batch]):
            raise SystemExit(f"a benchmark batch was refused: {result.rejected[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="trade documents per stage")
    parser.add_argument("--batch", type=int, default=1_000, help="documents recorded per transaction")
    arguments = parser.parse_args()
    if not 1 <= arguments.batch <= bounds.trade_batch_documents_max:
        parser.error(f"--batch must be between 1 and {bounds.trade_batch_documents_max}")
    count = arguments.records
    enterprises, suppliers = parties()
    signers = {signer.party_id: signer for signer in enterprises + suppliers}
    keys = [signer.public() for signer in signers.values()]
    records = workload(count, enterprises, suppliers)

    timings: dict[str, tuple[float, float]] = {}  # stage -> (wall seconds, CPU seconds of this process)

    def timed(stage: str, run: Callable[[], object]) -> object:
        wall, cpu = time.perf_counter(), time.process_time()
        result = run()
        timings[stage] = (time.perf_counter() - wall, time.process_time() - cpu)
        return result

    signed = cast(list[SignedTradeDocument], timed("sign", lambda: sign_all(records, signers)))
    by_id = {key.key_id: key for key in keys}
    verdicts = cast(
        TradeVerdicts, timed("verify", lambda: verify_documents(signed, by_id, {}, lambda _n, _r: False))
    )
    if len(verdicts.accepted) != count:
        raise SystemExit(f"verification refused {len(verdicts.rejected)} good documents")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        engine, stores = fresh_database(folder, "record.sqlite", keys)
        try:
            timed("record", lambda: record_all(engine, stores, signed, arguments.batch))
        finally:
            engine.dispose()
        engine, stores = fresh_database(folder, "end-to-end.sqlite", keys)
        try:
            timed(
                "end to end",
                lambda: record_all(engine, stores, sign_all(records, signers), arguments.batch),
            )
        finally:
            engine.dispose()
    timed("floor", lambda: ed25519_floor(count))
    issuer, receiver, pairs = _floor_workload(count)
    timed("verify floor", lambda: verify_floor(issuer, receiver, pairs))

    print(f"trade records: {count:,} documents, batches of {arguments.batch:,}, one process (one core)")
    print("  rates per CPU-second of this process (per core), and per wall-second:")
    labels = {
        "sign": "sign (issuer + receiver)",
        "verify": "verify (both signatures, rules)",
        "record": "record (verify, commit, append)",
        "end to end": "end to end (sign + record)",
        "floor": "Ed25519 floor (2 sign + 2 verify)",
        "verify floor": "Ed25519 floor (2 verify)",
    }
    for stage, label in labels.items():
        wall, cpu = timings[stage]
        print(f"  {label:36s} {count / cpu:9,.0f}/s CPU   {count / wall:9,.0f}/s wall   ({cpu:.2f} s CPU)")
    per_core = count / timings["end to end"][1]
    floor = count / timings["floor"][1]
    print(f"  ratio end-to-end / Ed25519 floor (2 sign + 2 verify): {per_core / floor:.2f}")
    recorded = count / timings["record"][1]
    print(f"  ratio record / Ed25519 floor (2 verify): {recorded / (count / timings['verify floor'][1]):.2f}")
    print(f"  goal >= {GOAL_PER_SECOND:,}/s per core: {'met' if per_core >= GOAL_PER_SECOND else 'NOT met'}")


if __name__ == "__main__":
    main()
