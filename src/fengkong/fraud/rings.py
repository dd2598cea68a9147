"""Fraud rings: communities of parties tied together by shared devices, phones and IPs, dated.

How a ring is found at a date ``as_of`` (:func:`ring_memberships`):

1. Take the identity graph's edges received at or before ``as_of`` — never one from its future.
2. Drop every identifier used by more than ``identifier_parties_max`` parties (a shared office IP, a
   public Wi-Fi, a popular phone model's default ID): it says nothing about who knows whom and would merge
   everyone. Identifiers of a single party link nobody and are dropped too.
3. Project to a party–party graph: two parties are tied when they share a device or a phone (the
   ``linking_kinds``; an IP is shared by every customer behind a carrier's NAT, and an IP's popularity is
   only known in hindsight, so an IP alone ties nobody); a tie weighs ``1 / ln(1 + d)`` for each
   identifier of degree ``d`` the two share, IPs included (a device shared by two weighs more than one
   shared by forty).
4. Find communities with igraph's Leiden algorithm under the Constant Potts Model: a group stays together
   when its internal weight beats ``resolution`` per pair of members, so ``resolution`` reads as the least
   weighted density of a ring. The random generator is seeded and vertices are ordered by party ID, so the
   answer repeats and does not depend on the order events arrived in.
5. Within each community, members linked to fewer than ``member_links_min`` other members are peeled off
   (the 2-core of the community by default): a ring member's spouse, tied to the ring only through their
   shared home, is not a ring member. What is left, if at least ``ring_size_min`` parties, is a ring; a
   pair is more often a household.

A ring is named by its smallest member ID, so a ring keeps its name as it grows with newer members.
Ring features (size, density, distinct devices, members known past due) are joined for a party at a
decision time with :func:`ring_features_of`, from the snapshot at that time and the delinquencies known
then.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Final

import igraph
import numpy as np

from fengkong import bounds
from fengkong.errors import BoundExceededError, InputError, require
from fengkong.fraud.graph import EdgeArrays, IdentifierKind, IdentityGraph, IntArray, to_microseconds

#: Seed of Leiden's random generator (fixed: the same graph gives the same rings).
LEIDEN_SEED: Final = 20_260_101


@dataclass(frozen=True, slots=True)
class RingParameters:
    """How rings are detected. Rules written as data check them (see :meth:`validate`)."""

    identifier_parties_max: int = bounds.fraud_identifier_parties_max
    ring_size_min: int = bounds.fraud_ring_size_min
    member_links_min: int = bounds.fraud_ring_member_links_min
    linking_kinds: tuple[IdentifierKind, ...] = (IdentifierKind.DEVICE, IdentifierKind.PHONE)
    resolution: float = (
        0.005  # least weighted density of a ring: a sparse 97-member simulated ring stays whole
    )
    seed: int = LEIDEN_SEED

    def validate(self) -> RingParameters:
        rules = (
            ("identifier_parties_max", self.identifier_parties_max >= 2, "must be at least 2"),
            ("ring_size_min", self.ring_size_min >= 2, "must be at least 2"),
            ("member_links_min", self.member_links_min >= 1, "must be at least 1"),
            ("linking_kinds", bool(self.linking_kinds), "must name at least one identifier kind"),
            ("resolution", 0.0 < self.resolution <= 1.0, "must be in (0, 1]"),
        )
        for name, holds, reason in rules:
            if not holds:
                raise InputError(reason, field=name)
        return self


@dataclass(frozen=True, slots=True)
class Ring:
    """One ring at a date: its members and what their links look like."""

    ring_id: str
    members: tuple[str, ...]  # sorted party IDs
    density: float  # linked member pairs / all member pairs, in the projected graph
    device_count: int  # distinct devices the members were seen using (popular ones included)

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass(frozen=True, slots=True)
class RingSnapshot:
    """The rings known at ``as_of_us`` (microseconds since the epoch, UTC) and who belongs to which."""

    as_of_us: int
    rings: tuple[Ring, ...]  # sorted by ring ID
    ring_of: Mapping[str, str] = field(default_factory=dict)  # party ID -> ring ID

    def __post_init__(self) -> None:
        object.__setattr__(self, "ring_of", MappingProxyType(dict(self.ring_of)))

    def ring(self, ring_id: str) -> Ring:
        for ring in self.rings:
            if ring.ring_id == ring_id:
                return ring
        raise KeyError(ring_id)

    def memberships(self) -> list[tuple[str, str]]:
        """(party ID, ring ID) pairs, sorted: the dated membership table at ``as_of_us``."""
        return sorted(self.ring_of.items())


@contextmanager
def _seeded_igraph(seed: int) -> Iterator[None]:
    """igraph draws from a generator of our own for the duration; the global one is restored after."""
    igraph.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        igraph.set_random_number_generator(random)


def project_parties(
    edges: EdgeArrays,
    identifier_parties_max: int,
    linking_kinds: tuple[IdentifierKind, ...] = (IdentifierKind.DEVICE, IdentifierKind.PHONE),
) -> tuple[IntArray, IntArray, IntArray, np.ndarray]:
    """The party–party projection of ``edges``.

    Returns (parties, source, target, weight): ``parties`` the party indexes with at least one link,
    sorted by party ID; ``source < target`` positions into ``parties``; ``weight`` the summed
    ``1 / ln(1 + d)`` over shared identifiers of degree ``2 <= d <= identifier_parties_max``, for the pairs
    that share at least one identifier of ``linking_kinds``.
    """
    identifier = edges.identifier
    party = edges.party
    degree = np.bincount(identifier, minlength=edges.identifier_kinds.shape[0])
    keep = (degree[identifier] >= 2) & (degree[identifier] <= identifier_parties_max)
    identifier, party = identifier[keep], party[keep]
    empty = np.zeros(0, dtype=np.int64)
    if identifier.size == 0:
        return empty, empty, empty, np.zeros(0, dtype=np.float64)
    order = np.lexsort((party, identifier))
    identifier, party = identifier[order], party[order]
    starts = np.flatnonzero(np.r_[True, identifier[1:] != identifier[:-1]])
    sizes = np.diff(np.r_[starts, identifier.size])
    group_start = np.repeat(starts, sizes)
    offset = np.arange(identifier.size) - group_start
    group_size = np.repeat(sizes, sizes)
    partners = group_size - 1 - offset  # pairs each edge opens with the later edges of its identifier
    total = int(partners.sum())
    if total > bounds.fraud_projected_pairs_max:
        raise BoundExceededError("fraud_projected_pairs_max", bounds.fraud_projected_pairs_max, total)
    left = np.repeat(np.arange(identifier.size), partners)
    step = np.arange(total) - np.repeat(np.cumsum(partners) - partners, partners)
    right = left + 1 + step
    pair_weight = 1.0 / np.log1p(group_size[left].astype(np.float64))
    # vertices: linked parties ordered by party ID, so the answer does not depend on arrival order
    linked = np.unique(party)
    names = np.asarray(edges.party_ids, dtype=object)[linked]
    by_name = np.argsort(names, kind="stable")
    parties = linked[by_name]
    position = np.empty(int(edges.party.max()) + 1 if edges.party.size else 0, dtype=np.int64)
    position[parties] = np.arange(parties.size)
    a, b = position[party[left]], position[party[right]]
    source, target = np.minimum(a, b), np.maximum(a, b)
    key = source * parties.size + target
    # only devices and phones (the linking kinds) tie two parties; an IP adds weight to a tie, never makes one
    linking = np.isin(edges.identifier_kinds[identifier[left]], np.asarray(linking_kinds, dtype=np.int8))
    tied = np.isin(key, np.unique(key[linking]))
    key, pair_weight = key[tied], pair_weight[tied]
    unique_key, inverse = np.unique(key, return_inverse=True)
    weight = np.bincount(inverse, weights=pair_weight, minlength=unique_key.size)
    return parties, unique_key // parties.size, unique_key % parties.size, weight


def detect_rings(edges: EdgeArrays, as_of_us: int, parameters: RingParameters | None = None) -> RingSnapshot:
    """Rings among ``edges`` (already restricted to those known at ``as_of_us``)."""
    settings = (parameters or RingParameters()).validate()
    parties, source, target, weight = project_parties(
        edges, settings.identifier_parties_max, settings.linking_kinds
    )
    if parties.size == 0:
        return RingSnapshot(as_of_us, (), {})
    graph = igraph.Graph(n=int(parties.size), edges=np.column_stack((source, target)).tolist())
    with _seeded_igraph(settings.seed):
        clustering = graph.community_leiden(
            objective_function="CPM",
            weights=weight.tolist(),
            resolution=settings.resolution,
            n_iterations=-1,
        )
    membership = np.asarray(clustering.membership, dtype=np.int64)
    sizes = np.bincount(membership)
    devices = _devices_per_party(edges)
    rings: list[Ring] = []
    ring_of: dict[str, str] = {}
    for community in np.flatnonzero(sizes >= settings.ring_size_min):
        vertices = np.flatnonzero(membership == community)
        inside = graph.induced_subgraph(vertices.tolist())
        core = np.asarray(inside.coreness(), dtype=np.int64)
        kept = core >= settings.member_links_min  # a member tied by one link only (a spouse) is peeled off
        if int(kept.sum()) < settings.ring_size_min:
            continue
        inside = inside.induced_subgraph(np.flatnonzero(kept).tolist())
        member_index = parties[vertices[kept]]
        members = tuple(sorted(edges.party_ids[int(index)] for index in member_index))
        size = len(members)
        density = inside.ecount() / (size * (size - 1) / 2)
        require(0.0 < density <= 1.0, f"ring density {density} outside (0, 1]")
        device_set: set[int] = set()
        for index in member_index:
            device_set.update(devices.get(int(index), ()))
        ring_id = f"ring:{members[0]}"
        rings.append(Ring(ring_id, members, density, len(device_set)))
        for member in members:
            ring_of[member] = ring_id
    rings.sort(key=lambda ring: ring.ring_id)
    return RingSnapshot(as_of_us, tuple(rings), ring_of)


def _devices_per_party(edges: EdgeArrays) -> dict[int, list[int]]:
    is_device = edges.identifier_kinds[edges.identifier] == IdentifierKind.DEVICE
    found: dict[int, list[int]] = {}
    for party, identifier in zip(
        edges.party[is_device].tolist(), edges.identifier[is_device].tolist(), strict=True
    ):
        found.setdefault(party, []).append(identifier)
    return found


def ring_memberships(
    graph: IdentityGraph, as_of: datetime, parameters: RingParameters | None = None
) -> RingSnapshot:
    """The rings and memberships known at ``as_of``, from edges received at or before it only."""
    return detect_rings(graph.edges_as_of(as_of), to_microseconds(as_of, field="as_of"), parameters)


# -- features joined at decision time ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KnownDelinquency:
    """A party known to be past due from ``known_at`` on (when fengkong learned it, not when it began)."""

    party_id: str
    known_at: datetime


class DelinquencyTable:
    """The delinquencies fengkong knew of, answerable as of any date."""

    def __init__(self, delinquencies: Iterable[KnownDelinquency] = ()) -> None:
        first_known: dict[str, int] = {}
        for item in delinquencies:
            moment = to_microseconds(item.known_at, field="known_at")
            if item.party_id not in first_known or moment < first_known[item.party_id]:
                first_known[item.party_id] = moment
        self._first_known_us = first_known

    def is_known_past_due(self, party_id: str, as_of_us: int) -> bool:
        moment = self._first_known_us.get(party_id)
        return moment is not None and moment <= as_of_us


@dataclass(frozen=True, slots=True)
class RingFeatures:
    """A party's ring features at a decision time; all zero when the party is in no ring."""

    in_ring: bool
    ring_size: int
    ring_density: float
    ring_device_count: int
    ring_past_due_members: int  # members (the party included) known past due at the decision time


NO_RING: Final = RingFeatures(False, 0, 0.0, 0, 0)


def ring_features_of(party_id: str, snapshot: RingSnapshot, delinquencies: DelinquencyTable) -> RingFeatures:
    """The ring features of ``party_id`` at the snapshot's date, with delinquencies known by then."""
    ring_id = snapshot.ring_of.get(party_id)
    if ring_id is None:
        return NO_RING
    ring = snapshot.ring(ring_id)
    past_due = sum(delinquencies.is_known_past_due(member, snapshot.as_of_us) for member in ring.members)
    return RingFeatures(True, ring.size, ring.density, ring.device_count, past_due)
