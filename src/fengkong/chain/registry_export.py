"""Transfers and pledges of receivables in the shape of a public registration (CSV or JSON).

China registers security interests and transfers of receivables in the Unified Registration and Publicity
System for Movable Property Financing (动产融资统一登记公示系统, run by the PBOC Credit Reference Center).
A registration there names its type (receivable pledge 应收账款质押, or receivable transfer 应收账款转让 as in
factoring), the registrant, the pledgor or transferor, the pledgee or transferee, a description of the
collateral, the amount of the principal claim, and the registration's term. This module writes one row per
transfer or financing event in those terms; it does not file anything.

Mapping: a transfer down the tiers is a ``receivable_transfer`` (transferor → transferee, registered by the
transferee); a financing is a ``receivable_pledge`` of the part to the lender (pledgor: the holder who
discounted it; pledgee and registrant: the lender). The term runs from the event's date to the
receivable's maturity; ``term_months`` is that span rounded up to whole months, as the registry counts it.
Rows name parties by their platform IDs (businesses, no personal data) and point to the log: the leaf index
and the commitment of the event, so a reader can ask for its inclusion proof.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from fengkong import bounds
from fengkong.errors import BoundExceededError, InputError
from fengkong.money import Money


class RegistrationType(StrEnum):
    RECEIVABLE_TRANSFER = "receivable_transfer"  # 应收账款转让
    RECEIVABLE_PLEDGE = "receivable_pledge"  # 应收账款质押


@dataclass(frozen=True, slots=True)
class MovementForRegistration:
    """One transfer or financing, with what the registration needs from its receivable."""

    kind: str  # "transfer" or "finance"
    receivable_id: str
    part_path: str
    from_party_id: str
    to_party_id: str
    debtor_party_id: str
    amount_fen: int
    currency: str
    event_on: date
    due_on: date
    leaf_index: int
    commitment_hex: str


@dataclass(frozen=True, slots=True)
class RegistrationRow:
    registration_type: RegistrationType
    registrant: str
    pledgor_or_transferor: str
    pledgee_or_transferee: str
    collateral_description: str
    amount: str  # yuan as text, "1234.56"
    currency: str
    term_start: date
    term_end: date
    term_months: int
    receivable_id: str
    part_path: str
    log_leaf_index: int
    log_commitment: str

    def to_json(self) -> dict[str, object]:
        return {
            "registration_type": self.registration_type.value,
            "registrant": self.registrant,
            "pledgor_or_transferor": self.pledgor_or_transferor,
            "pledgee_or_transferee": self.pledgee_or_transferee,
            "collateral_description": self.collateral_description,
            "amount": self.amount,
            "currency": self.currency,
            "term_start": self.term_start.isoformat(),
            "term_end": self.term_end.isoformat(),
            "term_months": self.term_months,
            "receivable_id": self.receivable_id,
            "part_path": self.part_path,
            "log_leaf_index": self.log_leaf_index,
            "log_commitment": self.log_commitment,
        }


FIELDS: Final = tuple(RegistrationRow.__dataclass_fields__)


def months_between(start: date, end: date) -> int:
    """Whole months from ``start`` to ``end``, rounded up (at least 1)."""
    if end < start:
        raise InputError("the term ends before it starts", field="term_end")
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day > start.day:
        months += 1
    return max(1, months)


def registration_row(movement: MovementForRegistration) -> RegistrationRow:
    if movement.kind == "transfer":
        kind, registrant = RegistrationType.RECEIVABLE_TRANSFER, movement.to_party_id
    elif movement.kind == "finance":
        kind, registrant = RegistrationType.RECEIVABLE_PLEDGE, movement.to_party_id
    else:
        raise InputError(f"only transfers and financings are registered, not {movement.kind!r}", field="kind")
    description = (
        f"Accounts receivable {movement.receivable_id}, part {movement.part_path}: "
        f"{Money(movement.amount_fen, movement.currency).format()} {movement.currency} owed by "
        f"{movement.debtor_party_id}, due {movement.due_on.isoformat()}"
    )
    return RegistrationRow(
        registration_type=kind,
        registrant=registrant,
        pledgor_or_transferor=movement.from_party_id,
        pledgee_or_transferee=movement.to_party_id,
        collateral_description=description,
        amount=Money(movement.amount_fen, movement.currency).format(),
        currency=movement.currency,
        term_start=movement.event_on,
        term_end=movement.due_on,
        term_months=months_between(movement.event_on, movement.due_on),
        receivable_id=movement.receivable_id,
        part_path=movement.part_path,
        log_leaf_index=movement.leaf_index,
        log_commitment=movement.commitment_hex,
    )


def registration_rows(movements: Sequence[MovementForRegistration]) -> list[RegistrationRow]:
    if len(movements) > bounds.receivable_export_rows_max:
        raise BoundExceededError(
            "receivable_export_rows_max", bounds.receivable_export_rows_max, len(movements)
        )
    return [registration_row(movement) for movement in movements]


def to_csv(rows: Sequence[RegistrationRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.to_json())
    return buffer.getvalue()


def to_json(rows: Sequence[RegistrationRow]) -> str:
    return json.dumps([row.to_json() for row in rows], ensure_ascii=False, indent=1)
