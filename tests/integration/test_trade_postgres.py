"""Trade records and receivables on a real PostgreSQL: the contract (unique indexes included); concurrent
financings of one receivable part (exactly one succeeds, the others are refused); concurrent audit drains
(each outbox row covered once)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fengkong.chain.note import SignerKey
from fengkong.chain.receivables import Refusal, RefusalReason
from fengkong.clock import FixedClock
from fengkong.services import chain as chain_service
from fengkong.services import receivables as receivable_service
from fengkong.services.audit import AUDIT_ORIGIN, drain_audit, enqueue_decision, verify_database
from fengkong.services.trade import TradeStores
from fengkong.store import migrate, tables_trade
from fengkong.store.config import make_engine
from fengkong.store.repositories import OutboxRepository
from tests.unit.chain import trade_fixtures as fx
from tests.unit.chain.receivables_contract import ReceivablesContract

pytestmark = pytest.mark.integration

BARRIER_TIMEOUT_SECONDS = 30  # only reached if a worker is stuck
LENDERS = ("L00001", "L00002", "L00003", "L00004")


@pytest.fixture
def engine(postgres_url: str) -> Iterator[sa.Engine]:
    migrate.upgrade(postgres_url)
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


class TestReceivablesOnPostgres(ReceivablesContract):
    def test_concurrent_financings_of_one_part_finance_it_once(
        self, engine: sa.Engine, repositories: TradeStores
    ) -> None:
        self._confirmed(engine, repositories)
        barrier = threading.Barrier(len(LENDERS), timeout=BARRIER_TIMEOUT_SECONDS)
        key = fx.log_signer().verifier()

        def finance(lender: str) -> object:
            barrier.wait()
            with engine.begin() as connection:
                return receivable_service.finance_part(
                    connection,
                    repositories,
                    "R-1/0",
                    holder_party_id=fx.SUPPLIER,
                    lender_party_id=lender,
                    rate_annual=Decimal("0.04"),
                    on=fx.DAY,
                    log_key=key,
                    rounding="ROUND_HALF_UP",
                )

        with ThreadPoolExecutor(max_workers=len(LENDERS)) as pool:
            outcomes = list(pool.map(finance, LENDERS))
        financed = [o for o in outcomes if isinstance(o, receivable_service.Financing)]
        refused = [o for o in outcomes if isinstance(o, Refusal)]
        assert len(financed) == 1 and len(refused) == len(LENDERS) - 1
        assert {r.reason for r in refused} <= {RefusalReason.ALREADY_FINANCED, RefusalReason.NOT_ACTIVE}
        with engine.connect() as connection:
            rows = connection.execute(sa.select(tables_trade.receivable_financings)).mappings().all()
            events = [row.kind for row in repositories.receivables.events(connection)]
        assert len(rows) == 1 and rows[0]["lender_party_id"] == financed[0].lender_party_id
        assert events.count("finance") == 1


def test_concurrent_audit_drains_cover_each_outbox_row_once(engine: sa.Engine) -> None:

    clock = FixedClock(fx.AT)
    signer = SignerKey.from_seed(AUDIT_ORIGIN, hashlib.sha256(b"pg audit").digest())
    outbox = OutboxRepository(clock)
    with engine.begin() as connection:
        for index in range(300):
            enqueue_decision(connection, outbox, f"D-{index}", {"outcome": "approve"})
    stores = TradeStores.of(clock)
    with engine.begin() as connection:  # the log exists before the race, as after a first drain
        chain_service.create_log(connection, stores.chain, "audit")
    barrier = threading.Barrier(len(LENDERS), timeout=BARRIER_TIMEOUT_SECONDS)

    def drain(_worker: int) -> int:
        barrier.wait()
        return drain_audit(engine, stores, signer, clock, batch_rows=50).appended

    with ThreadPoolExecutor(max_workers=len(LENDERS)) as pool:
        appended = list(pool.map(drain, range(len(LENDERS))))
    assert sum(appended) == 300
    with engine.connect() as connection:
        covered = connection.execute(
            sa.select(sa.func.count()).select_from(tables_trade.audit_entries)
        ).scalar()
        assert covered == 300
        assert stores.chain.head(connection, "audit").tree_size == 300
    assert verify_database(engine, stores, [signer.verifier()]).intact
