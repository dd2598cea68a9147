"""Pins the public API of the shared contracts: removing or renaming a name must be a deliberate change."""

from __future__ import annotations

import fengkong.domain as domain
import fengkong.money as money

EXPECTED_DOMAIN = {
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
}


def test_domain_exports() -> None:
    assert set(domain.__all__) == EXPECTED_DOMAIN
    for name in domain.__all__:
        assert hasattr(domain, name)


def test_money_exports() -> None:
    for name in ("Money", "D", "allocate", "total", "CURRENCY_SCALES"):
        assert hasattr(money, name)
