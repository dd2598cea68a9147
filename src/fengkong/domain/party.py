"""Parties: the people and businesses of the ecosystem."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from fengkong.errors import InputError


class PartyKind(StrEnum):
    """A natural person or a business."""

    PERSON = "person"
    BUSINESS = "business"


class Role(StrEnum):
    """What a party does in the ecosystem. A person can be a consumer and a rider at once."""

    CONSUMER = "consumer"
    RIDER = "rider"
    MERCHANT_OWNER = "merchant_owner"
    MERCHANT = "merchant"  # the business itself (restaurant, hotel, shop)
    CORE_ENTERPRISE = "core_enterprise"
    SUPPLIER = "supplier"
    PARTNER_BANK = "partner_bank"


PERSON_ROLES = frozenset({Role.CONSUMER, Role.RIDER, Role.MERCHANT_OWNER})
BUSINESS_ROLES = frozenset({Role.MERCHANT, Role.CORE_ENTERPRISE, Role.SUPPLIER, Role.PARTNER_BANK})


@dataclass(frozen=True, slots=True)
class Party:
    """A person or business. ``household_id`` links people whose consumer credit shares a cap.

    Personal data (name, ID number, phone) never lives on this value: it is held encrypted by ``store/``
    and linked through keyed pseudonyms. ``party_id`` is an opaque identifier.
    """

    party_id: str
    kind: PartyKind
    roles: frozenset[Role]
    household_id: str | None = None
    owner_party_id: str | None = None  # for a business: the person who owns it
    attributes: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.party_id:
            raise InputError("must not be empty", field="party_id")
        if not self.roles:
            raise InputError("a party has at least one role", field="roles")
        allowed = PERSON_ROLES if self.kind is PartyKind.PERSON else BUSINESS_ROLES
        wrong = sorted(role.value for role in self.roles - allowed)
        if wrong:
            raise InputError(f"roles {wrong} do not fit a {self.kind.value}", field="roles")
        if self.kind is PartyKind.BUSINESS and self.household_id is not None:
            raise InputError("a business has no household", field="household_id")

    def has_role(self, role: Role) -> bool:
        return role in self.roles
