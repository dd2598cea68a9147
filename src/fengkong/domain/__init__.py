"""Frozen value types shared by every package, and the protocols that join them.

``domain/`` imports nothing from fengkong but the core modules (``money``, ``errors``, ``clock``,
``bounds``). Change a value with :func:`dataclasses.replace`, which makes a new one.
"""

from fengkong.domain.caps import CapEntry, CapTable
from fengkong.domain.decision import Decision, Outcome, Reason
from fengkong.domain.events import (
    EVENT_TYPE_NAMES,
    EVENT_TYPES,
    AttributeKind,
    AttributeSpec,
    Event,
    EventTypeSpec,
    Subject,
)
from fengkong.domain.features import FeatureReader, FeatureVector
from fengkong.domain.ledger import Posting, PostingLine
from fengkong.domain.party import Party, PartyKind, Role
from fengkong.domain.products import (
    AnnualisedRate,
    CashFlow,
    DayCount,
    Fee,
    Frequency,
    Installment,
    Offer,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
    Schedule,
)
from fengkong.domain.protocols import FraudCheck, FraudVerdict, Price, Pricer, Score, Scorer
from fengkong.domain.trade import TradeRecord, TradeRecordKind

__all__ = [
    "EVENT_TYPES",
    "EVENT_TYPE_NAMES",
    "AnnualisedRate",
    "AttributeKind",
    "AttributeSpec",
    "CapEntry",
    "CapTable",
    "CashFlow",
    "DayCount",
    "Decision",
    "Event",
    "EventTypeSpec",
    "FeatureReader",
    "FeatureVector",
    "Fee",
    "FraudCheck",
    "FraudVerdict",
    "Frequency",
    "Installment",
    "Offer",
    "Outcome",
    "Party",
    "PartyKind",
    "Posting",
    "PostingLine",
    "Price",
    "Pricer",
    "ProductKind",
    "ProductTerms",
    "Reason",
    "RepaymentMethod",
    "Role",
    "Schedule",
    "Score",
    "Scorer",
    "Subject",
    "TradeRecord",
    "TradeRecordKind",
]
