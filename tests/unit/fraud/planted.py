"""Synthetic identity graphs with planted rings of known membership (test helpers)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fengkong.fraud.graph import IdentifierKind, IdentityObservation

START = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass(frozen=True)
class PlantedWorld:
    observations: list[IdentityObservation]  # in received_at order
    ring_of: dict[str, int]  # planted ring members -> planted ring number
    honest: list[str]


def planted_world(seed: int = 7, honest_count: int = 500) -> PlantedWorld:
    """Honest parties behind one shared office IP, a ring of 8 sharing 2 devices and a ring of 100.

    Every honest party has its own device and phone and signs in from home and from the office IP;
    households of two share a home IP and a phone. Ring members: the ring of 8 all use the same two
    devices; the ring of 100 shares 12 devices and 6 phones, each member using two devices and one phone.
    """
    rng = random.Random(seed)
    items: list[IdentityObservation] = []

    def at(minutes: int) -> datetime:
        return START + timedelta(minutes=minutes)

    honest = [f"H{index:05d}" for index in range(honest_count)]
    for index, party in enumerate(honest):
        household = index // 2
        moment = rng.randrange(0, 60 * 24 * 30)
        items.append(IdentityObservation(party, IdentifierKind.DEVICE, f"dv-h{index}", at(moment)))
        items.append(IdentityObservation(party, IdentifierKind.PHONE, f"+86-000-{household:06d}", at(moment)))
        items.append(
            IdentityObservation(
                party, IdentifierKind.IP, f"198.51.{household // 250}.{household % 250}", at(moment + 1)
            )
        )
        items.append(IdentityObservation(party, IdentifierKind.IP, "203.0.113.7", at(moment + 600)))  # office
    ring_of: dict[str, int] = {}
    small = [f"R8-{index}" for index in range(8)]
    for index, party in enumerate(small):
        ring_of[party] = 0
        moment = 60 * 24 * 10 + index * 30
        items.append(IdentityObservation(party, IdentifierKind.DEVICE, "dv-ring8-a", at(moment)))
        items.append(IdentityObservation(party, IdentifierKind.DEVICE, "dv-ring8-b", at(moment + 5)))
        items.append(
            IdentityObservation(party, IdentifierKind.IP, "203.0.113.7", at(moment + 9))
        )  # office too
    big = [f"R100-{index:03d}" for index in range(100)]
    for index, party in enumerate(big):
        ring_of[party] = 1
        moment = 60 * 24 * 12 + index * 20
        first = rng.randrange(12)
        second = (first + 1 + rng.randrange(11)) % 12
        items.append(IdentityObservation(party, IdentifierKind.DEVICE, f"dv-ring100-{first}", at(moment)))
        items.append(
            IdentityObservation(party, IdentifierKind.DEVICE, f"dv-ring100-{second}", at(moment + 3))
        )
        items.append(
            IdentityObservation(
                party, IdentifierKind.PHONE, f"+86-999-{rng.randrange(6):06d}", at(moment + 4)
            )
        )
    items.sort(key=lambda item: (item.received_at, item.party_id, item.kind, item.value))
    return PlantedWorld(items, ring_of, honest)
