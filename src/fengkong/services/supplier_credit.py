"""Supplier credit: a supplier's verified trade history as feature inputs for its financing offer.

Only what is in the trade log counts: documents signed by both parties and recorded (forged, altered and
replayed documents never got there), receivables its core enterprise confirmed. From them, as of a date and
over a look-back window:

* volume — trades the supplier was ordered (purchase orders it received), fen invoiced and fen delivered;
* delivery — the share of its purchase orders (old enough to judge) whose delivery receipt, signed by the
  buyer, came within ``on_time_days``; in basis points;
* the core enterprise's standing — for the buyer it sells most to: receivables due by the date, the share
  paid by their due date (basis points), and the buyer's count of confirmed receivables;
* what it could finance now — fen of active parts of confirmed receivables it holds.

The result is a :class:`~fengkong.domain.FeatureVector` (entity ``party``, feature set
``supplier_credit_v1``), the input a financing-offer policy reads; values are integers (fen, counts,
basis points), a feature with no history is None. The feature specs of the features package (event-driven)
are not changed by this service.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import start_of_business_day
from fengkong.domain.features import FeatureValue, FeatureVector
from fengkong.domain.trade import TradeRecordKind
from fengkong.errors import InputError
from fengkong.services.trade import TradeStores

FEATURE_SET_VERSION: Final = "supplier_credit_v1"
BASIS_POINTS: Final = 10_000
FEATURE_NAMES: Final = (
    "supplier_trades_count",
    "supplier_invoiced_fen",
    "supplier_delivered_fen",
    "supplier_on_time_delivery_bp",
    "supplier_buyers_count",
    "supplier_open_confirmed_fen",
    "core_enterprise_due_count",
    "core_enterprise_paid_on_time_bp",
)


@dataclass(frozen=True, slots=True)
class SupplierCreditInputs:
    supplier_party_id: str
    main_buyer_party_id: str | None
    features: FeatureVector


def supplier_credit_inputs(
    connection: sa.Connection,
    stores: TradeStores,
    supplier_party_id: str,
    as_of: date,
    *,
    window_days: int = 90,
    on_time_days: int = 10,
) -> SupplierCreditInputs:
    """The supplier's feature inputs as of ``as_of`` (module docstring)."""
    if not 1 <= window_days <= bounds.supplier_history_window_days_max:
        raise InputError(f"must be 1 to {bounds.supplier_history_window_days_max}", field="window_days")
    if not 1 <= on_time_days <= window_days:
        raise InputError("must be between 1 and the window", field="on_time_days")
    start = as_of - timedelta(days=window_days)
    rows = [
        row
        for row in stores.trade.records_of_party(connection, supplier_party_id)
        if start < row.issued_on <= as_of
    ]
    orders = {
        row.trade_id: row
        for row in rows
        if row.kind == TradeRecordKind.PURCHASE_ORDER.value and row.receiver_party_id == supplier_party_id
    }
    receipts = {
        row.trade_id: row
        for row in rows
        if row.kind == TradeRecordKind.DELIVERY_RECEIPT.value and row.receiver_party_id == supplier_party_id
    }
    invoices = [
        row
        for row in rows
        if row.kind == TradeRecordKind.INVOICE.value and row.issuer_party_id == supplier_party_id
    ]
    judged = on_time = 0
    for trade_id, order in orders.items():
        receipt = receipts.get(trade_id)
        late_by_now = (as_of - order.issued_on).days > on_time_days
        if receipt is None and not late_by_now:
            continue  # too young to judge
        judged += 1
        if receipt is not None and (receipt.issued_on - order.issued_on).days <= on_time_days:
            on_time += 1
    buyers = Counter(row.receiver_party_id for row in invoices)
    buyers.update(order.issuer_party_id for order in orders.values())
    main_buyer = max(sorted(buyers), key=lambda party: buyers[party]) if buyers else None
    due_count: int | None = None
    paid_on_time_bp: int | None = None
    if main_buyer is not None:
        maturities = stores.receivables.maturities(
            connection, debtor_party_id=main_buyer, due_on_or_before=as_of
        )
        due_count = len(maturities)
        if maturities:
            paid = sum(
                1 for _, due_on, settled_on in maturities if settled_on is not None and settled_on <= due_on
            )
            paid_on_time_bp = paid * BASIS_POINTS // len(maturities)
    values: dict[str, FeatureValue] = {
        "supplier_trades_count": len(orders),
        "supplier_invoiced_fen": sum(row.amount_fen for row in invoices),
        "supplier_delivered_fen": sum(row.amount_fen for row in receipts.values()),
        "supplier_on_time_delivery_bp": on_time * BASIS_POINTS // judged if judged else None,
        "supplier_buyers_count": len(buyers),
        "supplier_open_confirmed_fen": stores.receivables.held_open_fen(connection, supplier_party_id),
        "core_enterprise_due_count": due_count,
        "core_enterprise_paid_on_time_bp": paid_on_time_bp,
    }
    vector = FeatureVector(
        entity_type="party",
        entity_id=supplier_party_id,
        as_of=start_of_business_day(as_of + timedelta(days=1)),
        values=values,
        feature_set_version=FEATURE_SET_VERSION,
    )
    return SupplierCreditInputs(supplier_party_id, main_buyer, vector)
