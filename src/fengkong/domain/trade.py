"""Trade records between a core enterprise and its suppliers (the chain log holds only commitments)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fengkong.money import Money


class TradeRecordKind(StrEnum):
    PURCHASE_ORDER = "purchase_order"
    DELIVERY_RECEIPT = "delivery_receipt"
    INVOICE = "invoice"


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """A signed trade document. ``issuer_signature`` and ``receiver_signature`` are Ed25519 over
    :meth:`signing_bytes`; an unsigned record has empty signatures."""

    record_id: str
    trade_id: str
    kind: TradeRecordKind
    issuer_party_id: str
    receiver_party_id: str
    amount: Money
    issued_on: date
    due_on: date | None = None
    issuer_signature: bytes = b""
    receiver_signature: bytes = b""

    def signing_bytes(self) -> bytes:
        """Canonical bytes that both parties sign (fields in a fixed order, '|' separated)."""
        fields = (
            self.record_id,
            self.trade_id,
            self.kind.value,
            self.issuer_party_id,
            self.receiver_party_id,
            self.amount.format(),
            self.amount.currency,
            self.issued_on.isoformat(),
            self.due_on.isoformat() if self.due_on else "",
        )
        return "|".join(fields).encode()
