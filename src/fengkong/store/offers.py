"""Offers in SQL: the ``offers`` table (:mod:`fengkong.store.tables_offers`) and the Offer ↔ JSON conversion.

An :class:`~fengkong.domain.products.Offer` is stored whole as JSON text with every amount in integer fen
and every rate as a decimal string (never a float), so that the offer read back equals the offer stored:
:func:`offer_from_json` ``(`` :func:`offer_to_json` ``(offer)) == offer``. Adding an offer is idempotent on
``offer_id`` (the same offer again is a no-op; a different offer under a known ID is a
:class:`~fengkong.errors.ConflictError`).

Concurrency: :meth:`OffersRepository.get` with ``lock=True`` takes the offer's row lock on PostgreSQL
(``FOR UPDATE``), so draws on one line are serialised and cannot together pass the line's limit; SQLite's
``BEGIN IMMEDIATE`` already serialises writers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock, require_utc
from fengkong.domain.products import (
    AnnualisedRate,
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
from fengkong.errors import ConflictError, InputError, InvariantError, NotFoundError
from fengkong.money import Money
from fengkong.store import tables
from fengkong.store.dialect import insert_for as _insert
from fengkong.store.tables_offers import offers as offers_table

JsonObject = dict[str, Any]


# -- Offer <-> JSON ----------------------------------------------------------------------------------------


def _money(amount: Money) -> JsonObject:
    return {"fen": amount.amount_minor, "currency": amount.currency}


def _money_from(value: Mapping[str, Any]) -> Money:
    return Money(int(value["fen"]), str(value["currency"]))


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal_from(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def terms_to_json(terms: ProductTerms) -> JsonObject:
    return {
        "product": terms.product.value,
        "annual_rate": str(terms.annual_rate),
        "method": terms.method.value,
        "day_count": terms.day_count.value,
        "frequency": terms.frequency.value,
        "installments": terms.installments,
        "principal_grace_periods": terms.principal_grace_periods,
        "interest_grace_periods": terms.interest_grace_periods,
        "interest_free_periods": terms.interest_free_periods,
        "statement_day": terms.statement_day,
        "due_day": terms.due_day,
        "penalty_rate_annual": _decimal(terms.penalty_rate_annual),
        "fees": [
            {"name": fee.name, "amount": _money(fee.amount), "due": fee.due.isoformat()} for fee in terms.fees
        ],
        "tags": sorted(terms.tags),
        "currency": terms.currency,
    }


def terms_from_json(value: Mapping[str, Any]) -> ProductTerms:
    return ProductTerms(
        product=ProductKind(value["product"]),
        annual_rate=Decimal(value["annual_rate"]),
        method=RepaymentMethod(value["method"]),
        day_count=DayCount(value["day_count"]),
        frequency=Frequency(value["frequency"]),
        installments=int(value["installments"]),
        principal_grace_periods=int(value["principal_grace_periods"]),
        interest_grace_periods=int(value["interest_grace_periods"]),
        interest_free_periods=int(value["interest_free_periods"]),
        statement_day=value["statement_day"],
        due_day=value["due_day"],
        penalty_rate_annual=_decimal_from(value["penalty_rate_annual"]),
        fees=tuple(
            Fee(str(fee["name"]), _money_from(fee["amount"]), date.fromisoformat(fee["due"]))
            for fee in value["fees"]
        ),
        tags=frozenset(str(tag) for tag in value["tags"]),
        currency=str(value["currency"]),
    )


def schedule_to_json(schedule: Schedule) -> JsonObject:
    return {
        "principal": _money(schedule.principal),
        "disbursed_on": schedule.disbursed_on.isoformat(),
        "installments": [
            [
                line.number,
                line.due.isoformat(),
                line.principal.amount_minor,
                line.interest.amount_minor,
                line.fee.amount_minor,
                line.balance_after.amount_minor,
            ]
            for line in schedule.installments
        ],
    }


def schedule_from_json(value: Mapping[str, Any]) -> Schedule:
    principal = _money_from(value["principal"])
    currency = principal.currency
    return Schedule(
        principal=principal,
        disbursed_on=date.fromisoformat(value["disbursed_on"]),
        installments=tuple(
            Installment(
                number=int(number),
                due=date.fromisoformat(due),
                principal=Money(int(part), currency),
                interest=Money(int(interest), currency),
                fee=Money(int(fee), currency),
                balance_after=Money(int(balance), currency),
            )
            for number, due, part, interest, fee, balance in value["installments"]
        ),
    )


def offer_to_json(offer: Offer) -> JsonObject:
    """The offer as a JSON object (amounts in fen, rates as decimal strings, instants in ISO 8601 UTC)."""
    rate = offer.annualised_rate
    return {
        "offer_id": offer.offer_id,
        "party_id": offer.party_id,
        "terms": terms_to_json(offer.terms),
        "amount": _money(offer.amount),
        "annualised_rate": {
            "annual_rate_pct": str(rate.annual_rate_pct),
            "method": rate.method,
            "periodic_irr": _decimal(rate.periodic_irr),
            "effective_annual_rate_pct": _decimal(rate.effective_annual_rate_pct),
        },
        "valid_from": require_utc(offer.valid_from, "valid_from").isoformat(),
        "valid_until": require_utc(offer.valid_until, "valid_until").isoformat(),
        "schedule": None if offer.schedule is None else schedule_to_json(offer.schedule),
        "versions": [list(pair) for pair in offer.versions],
    }


def offer_from_json(value: Mapping[str, Any]) -> Offer:
    """The :class:`Offer` of :func:`offer_to_json`'s object."""
    rate = value["annualised_rate"]
    annual = _decimal_from(rate["annual_rate_pct"])
    if annual is None:
        raise InvariantError("a stored offer has no annualised rate")
    return Offer(
        offer_id=str(value["offer_id"]),
        party_id=str(value["party_id"]),
        terms=terms_from_json(value["terms"]),
        amount=_money_from(value["amount"]),
        annualised_rate=AnnualisedRate(
            annual_rate_pct=annual,
            method=str(rate["method"]),
            periodic_irr=_decimal_from(rate["periodic_irr"]),
            effective_annual_rate_pct=_decimal_from(rate["effective_annual_rate_pct"]),
        ),
        valid_from=datetime.fromisoformat(value["valid_from"]),
        valid_until=datetime.fromisoformat(value["valid_until"]),
        schedule=None if value["schedule"] is None else schedule_from_json(value["schedule"]),
        versions=tuple((str(component), str(version)) for component, version in value["versions"]),
    )


# -- the repository ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredOffer:
    """An offer as stored: the offer, the line it was drawn on (draws only) and when a line was accepted."""

    offer: Offer
    line_offer_id: str | None
    accepted_at: datetime | None

    @property
    def is_line(self) -> bool:
        return self.offer.schedule is None


def _check_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise InputError("must be a non-empty string", field=field)
    if len(value) > bounds.offer_id_length_max:
        raise InputError(f"longer than offer_id_length_max={bounds.offer_id_length_max}", field=field)
    return value


class OffersRepository:
    """Offers by ``offer_id`` (see the module docstring)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def add(self, connection: sa.Connection, offer: Offer, *, line_offer_id: str | None = None) -> bool:
        """Store ``offer``; True when new, False when the identical offer was stored before."""
        _check_id(offer.offer_id, "offer_id")
        if line_offer_id is not None:
            _check_id(line_offer_id, "line_offer_id")
        if offer.amount.amount_minor <= 0:
            raise InputError("must be more than zero", field="amount")
        text = json.dumps(offer_to_json(offer), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if len(text.encode("utf-8")) > bounds.api_offer_body_bytes_max:
            raise InputError(
                f"the offer is larger than api_offer_body_bytes_max={bounds.api_offer_body_bytes_max} bytes",
                field="offer",
            )
        table = offers_table
        row = {
            "offer_id": offer.offer_id,
            "party_id": offer.party_id,
            "kind": "line" if offer.schedule is None else "loan",
            "product": offer.terms.product.value,
            "currency": offer.amount.currency,
            "amount_fen": offer.amount.amount_minor,
            "valid_from": offer.valid_from,
            "valid_until": offer.valid_until,
            "line_offer_id": line_offer_id,
            "accepted_at": None,
            "body": text,
            "created_at": self._clock.now(),
        }
        statement = (
            _insert(connection, table)
            .values(row)
            .on_conflict_do_nothing(index_elements=[table.c.offer_id])
            .returning(table.c.offer_id)
        )
        if connection.execute(statement).first() is not None:
            return True
        stored = self.get(connection, offer.offer_id)
        if stored.offer != offer or stored.line_offer_id != line_offer_id:
            raise ConflictError(f"offer {offer.offer_id!r} is already stored with different terms")
        return False

    def get(self, connection: sa.Connection, offer_id: str, *, lock: bool = False) -> StoredOffer:
        """The offer ``offer_id``; :class:`NotFoundError` when there is none. ``lock``: its row lock."""
        table = offers_table
        statement = sa.select(table.c.body, table.c.line_offer_id, table.c.accepted_at).where(
            table.c.offer_id == offer_id
        )
        if lock and connection.dialect.name == "postgresql":
            statement = statement.with_for_update()
        row = connection.execute(statement).first()
        if row is None:
            raise NotFoundError(f"offer {offer_id!r} not found")
        return StoredOffer(offer_from_json(json.loads(row.body)), row.line_offer_id, row.accepted_at)

    def mark_accepted(self, connection: sa.Connection, offer_id: str, at: datetime) -> datetime:
        """Record that a line was accepted at ``at``; the first acceptance's instant is kept and returned."""
        table = offers_table
        connection.execute(
            sa.update(table)
            .where(table.c.offer_id == offer_id, table.c.accepted_at.is_(None))
            .values(accepted_at=require_utc(at, "at"))
        )
        value = connection.execute(
            sa.select(table.c.accepted_at).where(table.c.offer_id == offer_id)
        ).scalar_one_or_none()
        if value is None:
            raise NotFoundError(f"offer {offer_id!r} not found")
        return value  # type: ignore[no-any-return]

    def drawn_principal_outstanding_fen(self, connection: sa.Connection, line_offer_id: str) -> int:
        """Principal not yet repaid on the loans drawn on line ``line_offer_id`` (all but closed loans)."""
        draws = offers_table
        loans = tables.loans
        total = connection.execute(
            sa.select(sa.func.coalesce(sa.func.sum(loans.c.principal_outstanding_fen), 0))
            .select_from(loans.join(draws, loans.c.offer_id == draws.c.offer_id))
            .where(draws.c.line_offer_id == line_offer_id, loans.c.status != 1)
        ).scalar_one()
        return int(total)
