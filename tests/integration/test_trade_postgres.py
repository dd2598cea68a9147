"""Trade records and receivables on a real PostgreSQL: the contract (unique indexes included), and two
concurrent financings of the same receivable part — exactly one succeeds, the other is refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fengkong.chain.receivables import Refusal, RefusalReason
from fengkong.services import receivables as receivable_service
from fengkong.services.trade import TradeStores
from fengkong.store import migrate, tables_trade
from fengkong.store.config import make_engine
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
