"""Green loans (绿色贷款): a discounted rate for eligible purposes, tagged for portfolio reporting.

Eligible purposes (:class:`GreenPurpose`) and who may borrow for them (:class:`GreenPolicy`, configuration):

* ``e-bike`` — an electric two-wheeler for a delivery rider (borrower role ``rider``);
* ``energy-saving-kitchen`` — energy-saving kitchen equipment for a restaurant (role ``merchant`` or
  ``merchant_owner``).

:func:`green_terms` turns the terms a product would otherwise get into green terms: ``ProductKind.GREEN``, the
rate lowered by the configured discount but never below the configured floor (and never raised: a base rate
already under the floor stays as it is), and the tags ``green`` and ``green:<purpose>`` carried on
:attr:`~fengkong.domain.ProductTerms.tags`, so that every loan booked on them can be counted in the green
portfolio (:func:`green_purpose_of`). A purpose outside the list, or a borrower without an eligible role, is a
:class:`GreenRefused` value with a reason code and a sentence saying what would be eligible — an expected
outcome, not an exception. The discounted price is still checked against the cap like any other
(``compliance``); a discount only lowers it.

The default policy (:data:`DEFAULT_GREEN_POLICY`: 2 percentage points off, floor 6 % a year) is a judgement
to configure, not a published figure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum
from typing import Final

from fengkong.domain.party import Role
from fengkong.domain.products import ProductKind, ProductTerms
from fengkong.errors import InputError

GREEN_TAG: Final = "green"
PURPOSE_TAG_PREFIX: Final = "green:"


class GreenPurpose(StrEnum):
    E_BIKE = "e-bike"  # an electric two-wheeler for a delivery rider
    ENERGY_SAVING_KITCHEN = "energy-saving-kitchen"  # energy-saving kitchen equipment for a restaurant


class GreenRefusal(StrEnum):
    PURPOSE_NOT_ELIGIBLE = "purpose-not-eligible"
    BORROWER_NOT_ELIGIBLE = "borrower-not-eligible"


DEFAULT_ELIGIBLE_ROLES: Final[Mapping[GreenPurpose, frozenset[Role]]] = {
    GreenPurpose.E_BIKE: frozenset({Role.RIDER}),
    GreenPurpose.ENERGY_SAVING_KITCHEN: frozenset({Role.MERCHANT, Role.MERCHANT_OWNER}),
}


@dataclass(frozen=True, slots=True)
class GreenPolicy:
    """The green discount (a fraction off the annual rate), the floor it never goes below, and the roles
    eligible for each purpose."""

    discount_annual: Decimal
    rate_floor_annual: Decimal
    eligible_roles: tuple[tuple[GreenPurpose, frozenset[Role]], ...] = field(
        default=tuple(DEFAULT_ELIGIBLE_ROLES.items())
    )

    def __post_init__(self) -> None:
        for name in ("discount_annual", "rate_floor_annual"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite() or not 0 <= value < 1:
                raise InputError("must be a Decimal fraction in [0, 1)", field=name)
        purposes = [purpose for purpose, _ in self.eligible_roles]
        if len(set(purposes)) != len(purposes) or not purposes:
            raise InputError("each purpose once, at least one", field="eligible_roles")
        for purpose, roles in self.eligible_roles:
            if not isinstance(purpose, GreenPurpose) or not roles:
                raise InputError(
                    f"{purpose!r} needs a known purpose and at least one role", field="eligible_roles"
                )

    def roles_for(self, purpose: GreenPurpose) -> frozenset[Role] | None:
        for known, roles in self.eligible_roles:
            if known is purpose:
                return roles
        return None

    def discounted(self, base_rate: Decimal) -> Decimal:
        """``base_rate`` less the discount, never below the floor, never above ``base_rate``."""
        return min(base_rate, max(base_rate - self.discount_annual, self.rate_floor_annual))


DEFAULT_GREEN_POLICY: Final = GreenPolicy(discount_annual=Decimal("0.02"), rate_floor_annual=Decimal("0.06"))


@dataclass(frozen=True, slots=True)
class GreenApproved:
    terms: ProductTerms  # product GREEN, discounted rate, tagged
    purpose: GreenPurpose
    base_rate: Decimal
    discount_applied: Decimal  # base_rate - terms.annual_rate


@dataclass(frozen=True, slots=True)
class GreenRefused:
    """An expected outcome: no green terms for this purpose or this borrower; ``reason`` says why and what
    would be eligible."""

    purpose: str
    code: GreenRefusal
    reason: str


def green_terms(
    base: ProductTerms, purpose: str, borrower_roles: Iterable[Role], policy: GreenPolicy
) -> GreenApproved | GreenRefused:
    """Green terms for ``purpose`` from the ``base`` terms, or a refusal value."""
    known = {item.value: item for item in GreenPurpose}
    chosen = known.get(purpose)
    roles = policy.roles_for(chosen) if chosen is not None else None
    if chosen is None or roles is None:
        eligible = ", ".join(item.value for item, _ in policy.eligible_roles)
        return GreenRefused(
            purpose,
            GreenRefusal.PURPOSE_NOT_ELIGIBLE,
            f"{purpose!r} is not an eligible green purpose (eligible: {eligible})",
        )
    if not roles & frozenset(borrower_roles):
        needed = " or ".join(sorted(role.value for role in roles))
        return GreenRefused(
            purpose,
            GreenRefusal.BORROWER_NOT_ELIGIBLE,
            f"a green {chosen.value} loan is for a borrower who is a {needed}",
        )
    rate = policy.discounted(base.annual_rate)
    terms = replace(
        base,
        product=ProductKind.GREEN,
        annual_rate=rate,
        tags=base.tags | {GREEN_TAG, f"{PURPOSE_TAG_PREFIX}{chosen.value}"},
    )
    return GreenApproved(terms, chosen, base.annual_rate, base.annual_rate - rate)


def green_purpose_of(terms: ProductTerms) -> GreenPurpose | None:
    """The green purpose a loan's terms carry (for the green portfolio), or None for a loan that is not
    green."""
    if GREEN_TAG not in terms.tags:
        return None
    for tag in terms.tags:
        if tag.startswith(PURPOSE_TAG_PREFIX):
            try:
                return GreenPurpose(tag.removeprefix(PURPOSE_TAG_PREFIX))
            except ValueError:
                raise InputError(f"unknown green purpose tag {tag!r}", field="tags") from None
    raise InputError("tagged green without a purpose", field="tags")
