"""Domain values are frozen, validate themselves, and carry the event schema."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from fengkong.domain import (
    EVENT_TYPES,
    AttributeKind,
    CapEntry,
    CapTable,
    DayCount,
    Event,
    FeatureVector,
    Installment,
    Outcome,
    Party,
    PartyKind,
    Posting,
    PostingLine,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
    Role,
    Schedule,
    Subject,
    TradeRecord,
    TradeRecordKind,
)
from fengkong.domain.events import attribute_column, column_layout
from fengkong.errors import InputError, NotFoundError
from fengkong.money import Money

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_party_roles_must_fit_its_kind() -> None:
    person = Party("P1", PartyKind.PERSON, frozenset({Role.CONSUMER, Role.RIDER}), household_id="H1")
    assert person.has_role(Role.RIDER)
    with pytest.raises(InputError, match="do not fit"):
        Party("P2", PartyKind.PERSON, frozenset({Role.MERCHANT}))
    with pytest.raises(InputError, match="no household"):
        Party("B1", PartyKind.BUSINESS, frozenset({Role.MERCHANT}), household_id="H1")
    with pytest.raises(InputError, match="at least one role"):
        Party("P3", PartyKind.PERSON, frozenset())
    with pytest.raises(dataclasses.FrozenInstanceError):
        person.party_id = "X"  # type: ignore[misc]


def test_event_attributes_are_read_only() -> None:
    event = Event(
        "e1", "review_posted", NOW, NOW, (Subject("consumer", "C1"), Subject("merchant", "M1")), {"stars": 5}
    )
    assert event.subject("merchant") == "M1"
    assert event.subject("rider") is None
    with pytest.raises(TypeError):
        event.attributes["stars"] = 1  # type: ignore[index]
    assert event.spec.attribute("stars").kind is AttributeKind.INTEGER


def test_every_event_type_has_a_consistent_layout() -> None:
    for name, spec in EVENT_TYPES.items():
        layout = column_layout(name)
        columns = [column for column, _ in layout]
        assert len(columns) == len(set(columns)), f"{name} has duplicate columns"
        assert columns[:5] == ["event_id", "event_type", "occurred_at", "received_at", "source"]
        for attribute in spec.attributes:
            assert attribute_column(attribute) in columns
            if attribute.kind is AttributeKind.MONEY:
                assert attribute_column(attribute).endswith("_fen")
        assert spec.subject_roles, f"{name} has no subject"


def test_feature_vector_is_read_only() -> None:
    vector = FeatureVector("consumer", "C1", NOW, {"orders_30d": 4})
    assert vector.get("orders_30d") == 4 and vector.get("missing") is None
    with pytest.raises(TypeError):
        vector.values["orders_30d"] = 5  # type: ignore[index]


def _terms(**overrides: object) -> ProductTerms:
    base: dict[str, object] = {
        "product": ProductKind.INSTALLMENT,
        "annual_rate": Decimal("0.18"),
        "method": RepaymentMethod.EQUAL_INSTALLMENT,
        "day_count": DayCount.THIRTY_360,
        "installments": 12,
    }
    base.update(overrides)
    return ProductTerms(**base)  # type: ignore[arg-type]


def test_product_terms_validate() -> None:
    assert _terms().installments == 12
    with pytest.raises(InputError, match="annual_rate"):
        _terms(annual_rate=0.18)
    with pytest.raises(InputError, match="installments"):
        _terms(installments=0)
    with pytest.raises(InputError, match="principal_grace_periods"):
        _terms(principal_grace_periods=12)


def test_schedule_principal_must_add_up() -> None:
    line = Installment(1, date(2026, 2, 1), Money(10_000), Money(150), Money(0), Money(0))
    schedule = Schedule(Money(10_000), date(2026, 1, 1), (line,))
    flows = schedule.cash_flows()
    assert flows[0].amount == Money(-10_000) and flows[1].amount == Money(10_150)
    with pytest.raises(InputError, match="principal repaid"):
        Schedule(Money(10_001), date(2026, 1, 1), (line,))


def test_outcomes_are_ordered() -> None:
    assert Outcome.strictest([Outcome.APPROVE, Outcome.REVIEW]) is Outcome.REVIEW
    assert Outcome.strictest([Outcome.DECLINE, Outcome.APPROVE, Outcome.REVIEW]) is Outcome.DECLINE
    assert [o.label for o in sorted(Outcome, key=lambda o: o.priority)] == ["approve", "review", "decline"]
    with pytest.raises(ValueError, match="no outcomes"):
        Outcome.strictest([])


def test_posting_must_balance() -> None:
    lines = (PostingLine("loans_receivable", Money(100)), PostingLine("cash", Money(-100)))
    assert Posting("p1", date(2026, 1, 1), "disbursement", lines).lines == lines
    with pytest.raises(InputError, match="debits and credits differ"):
        Posting("p2", date(2026, 1, 1), "bad", (PostingLine("a", Money(100)), PostingLine("b", Money(-99))))
    with pytest.raises(InputError, match="at least two"):
        Posting("p3", date(2026, 1, 1), "one", (PostingLine("a", Money(0)),))


def test_cap_table_picks_the_entry_in_force() -> None:
    table = CapTable(
        (
            CapEntry("cash", date(2020, 8, 20), Decimal("0.154"), "4xLPR"),
            CapEntry("cash", date(2025, 10, 1), Decimal("0.24"), "platform rule"),
        )
    )
    assert table.cap_on("cash", date(2025, 9, 30)).annual_rate_cap == Decimal("0.154")
    assert table.cap_on("cash", date(2025, 10, 1)).annual_rate_cap == Decimal("0.24")
    with pytest.raises(NotFoundError):
        table.cap_on("cash", date(2019, 1, 1))
    with pytest.raises(InputError, match="two caps"):
        CapTable((table.entries[0], table.entries[0]))


def test_trade_record_signing_bytes_are_canonical() -> None:
    record = TradeRecord(
        "INV-1", "T-1", TradeRecordKind.INVOICE, "E1", "S1", Money(123456), date(2026, 1, 5), date(2026, 3, 5)
    )
    assert record.signing_bytes() == b"INV-1|T-1|invoice|E1|S1|1234.56|CNY|2026-01-05|2026-03-05"
