"""Offers in SQL: stored whole and read back equal, idempotent on offer_id, conflicts refused."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fengkong.clock import FixedClock
from fengkong.domain.products import Fee
from fengkong.errors import ConflictError, NotFoundError
from fengkong.money import Money
from fengkong.store.offers import OffersRepository, offer_from_json, offer_to_json
from tests.unit.api.offers import NOW, line_offer, loan_offer


def test_an_offer_survives_json_exactly() -> None:
    offer = loan_offer("OF-1", 1_234_567, rate="0.1799")
    with_fee = replace(
        offer,
        terms=replace(
            offer.terms, fees=(Fee("service", Money(1_000), date(2026, 4, 2)),), tags=frozenset({"g"})
        ),
        versions=(("policy", "v3"), ("model", "gbm-7")),
    )
    for value in (offer, with_fee, line_offer("LINE-1")):
        assert offer_from_json(offer_to_json(value)) == value
    text = str(offer_to_json(offer))
    assert "0.1799" in text
    assert offer.terms.annual_rate == Decimal("0.1799")


def test_adding_is_idempotent_and_a_different_offer_under_the_id_is_refused(
    migrated_sqlite_engine: sa.Engine, clock: FixedClock
) -> None:
    offers = OffersRepository(clock)
    offer = loan_offer("OF-1")
    with migrated_sqlite_engine.begin() as connection:
        assert offers.add(connection, offer) is True
        assert offers.add(connection, offer) is False
        with pytest.raises(ConflictError):
            offers.add(connection, replace(offer, amount=Money(1), schedule=None))
        stored = offers.get(connection, "OF-1")
    assert stored.offer == offer
    assert stored.line_offer_id is None and stored.accepted_at is None and not stored.is_line


def test_a_line_is_marked_accepted_once(migrated_sqlite_engine: sa.Engine, clock: FixedClock) -> None:
    offers = OffersRepository(clock)
    with migrated_sqlite_engine.begin() as connection:
        offers.add(connection, line_offer("LINE-1"))
        first = offers.mark_accepted(connection, "LINE-1", NOW)
        later = offers.mark_accepted(connection, "LINE-1", NOW.replace(hour=5))
        assert first == later == NOW
        assert offers.get(connection, "LINE-1").is_line
        assert offers.drawn_principal_outstanding_fen(connection, "LINE-1") == 0
        with pytest.raises(NotFoundError):
            offers.get(connection, "NOPE")
