"""Supplier-credit inputs computed exactly on a hand-made history (fictitious parties)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengkong.domain.trade import TradeRecordKind
from fengkong.errors import InputError
from fengkong.services import trade as trade_service
from fengkong.services.supplier_credit import supplier_credit_inputs
from fengkong.store.config import make_engine
from tests.unit.chain import trade_fixtures as fx


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = make_engine(fx.copy_of(fx.migrated_template(tmp_path), tmp_path))
    yield engine
    engine.dispose()


def test_volume_on_time_delivery_and_buyers_from_recorded_documents(engine: sa.Engine) -> None:
    stores = fx.stores()
    fx.set_up_parties(engine, stores)
    day = fx.DAY
    documents = [
        # trade 1: receipt after 5 days (on time), invoiced
        fx.signed(fx.record("PO-1", TradeRecordKind.PURCHASE_ORDER, 1_000, "T-1", day), 1),
        fx.signed(fx.record("DR-1", TradeRecordKind.DELIVERY_RECEIPT, 1_000, "T-1", day + timedelta(5)), 2),
        fx.signed(fx.record("INV-1", TradeRecordKind.INVOICE, 1_000, "T-1", day + timedelta(6)), 1),
        # trade 2: receipt after 12 days (late at 10)
        fx.signed(fx.record("PO-2", TradeRecordKind.PURCHASE_ORDER, 2_000, "T-2", day), 3),
        fx.signed(fx.record("DR-2", TradeRecordKind.DELIVERY_RECEIPT, 2_000, "T-2", day + timedelta(12)), 4),
        # trade 3: no receipt 20 days on (late); trade 4: ordered 3 days ago (too young to judge)
        fx.signed(fx.record("PO-3", TradeRecordKind.PURCHASE_ORDER, 3_000, "T-3", day), 5),
        fx.signed(fx.record("PO-4", TradeRecordKind.PURCHASE_ORDER, 4_000, "T-4", day + timedelta(17)), 6),
    ]
    with engine.begin() as connection:
        assert len(trade_service.record_documents(connection, stores, documents, atomic=True).accepted) == 7
    with engine.connect() as connection:
        inputs = supplier_credit_inputs(connection, stores, fx.SUPPLIER, day + timedelta(20), on_time_days=10)
        nothing = supplier_credit_inputs(connection, stores, fx.TIER2, day + timedelta(20))
        with pytest.raises(InputError, match="window_days"):
            supplier_credit_inputs(connection, stores, fx.SUPPLIER, day, window_days=0)
    values = inputs.features.values
    assert inputs.main_buyer_party_id == fx.CORE
    assert values["supplier_trades_count"] == 4
    assert values["supplier_invoiced_fen"] == 1_000
    assert values["supplier_delivered_fen"] == 3_000
    assert values["supplier_on_time_delivery_bp"] == 3_333  # 1 of 3 judged trades, in basis points (floor)
    assert values["supplier_buyers_count"] == 1
    assert values["core_enterprise_due_count"] == 0 and values["core_enterprise_paid_on_time_bp"] is None
    assert inputs.features.feature_set_version == "supplier_credit_v1"
    assert nothing.features.values["supplier_trades_count"] == 0
    assert nothing.features.values["supplier_on_time_delivery_bp"] is None
