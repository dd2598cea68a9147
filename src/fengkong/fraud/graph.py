"""The identity graph: a bipartite graph of parties and the identifiers they used.

An *identifier* is a device ID, a phone number or a client IP address seen on a ``party_registered``,
``login``, ``loan_application``, ``order_placed`` or ``payment_made`` event. Each (party, identifier) pair
is one edge, dated by the earliest ``received_at`` at which fengkong saw the party use it: an edge exists
for a question asked at ``as_of`` only when it was received at or before ``as_of``. Because an edge keeps
the *minimum* receipt time, the graph does not depend on the order events are fed in: feeding events one by
one as they arrive gives exactly the graph a rebuild from the lake gives.

The graph keeps only what ring detection needs: integer indexes for parties and identifiers and, per edge,
its receipt time in microseconds since the Unix epoch (UTC). :meth:`IdentityGraph.edges_as_of` hands the
edges known at a date to :mod:`fengkong.fraud.rings` as numpy arrays.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Final

import numpy as np
import numpy.typing as npt

from fengkong import bounds
from fengkong.domain.events import Event
from fengkong.errors import InputError

IntArray = npt.NDArray[np.int64]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class IdentifierKind(IntEnum):
    """What an identifier is. The value is its code in arrays."""

    DEVICE = 0
    PHONE = 1
    IP = 2


#: Attribute column of each identifier kind on the events that carry it.
IDENTIFIER_ATTRIBUTES: Final[dict[IdentifierKind, str]] = {
    IdentifierKind.DEVICE: "device_id",
    IdentifierKind.PHONE: "phone",
    IdentifierKind.IP: "ip",
}

#: Event types that link a party to identifiers, and the subject role of that party.
IDENTITY_EVENT_ROLES: Final[dict[str, str]] = {
    "party_registered": "party",
    "login": "party",
    "loan_application": "applicant",
    "order_placed": "consumer",
    "payment_made": "payer",
}


def to_microseconds(moment: datetime, field: str = "received_at") -> int:
    """Microseconds since the Unix epoch of an aware datetime (exact, no float)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError("must be timezone-aware (UTC)", field=field)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, slots=True)
class IdentityObservation:
    """A party seen using an identifier, known to fengkong at ``received_at``."""

    party_id: str
    kind: IdentifierKind
    value: str
    received_at: datetime


def observations_of(event: Event) -> list[IdentityObservation]:
    """The (party, identifier) observations one event carries; none for event types without identifiers."""
    role = IDENTITY_EVENT_ROLES.get(event.event_type)
    if role is None:
        return []
    party_id = event.subject(role)
    if party_id is None:
        return []
    found = []
    for kind, attribute in IDENTIFIER_ATTRIBUTES.items():
        value = event.attributes.get(attribute)
        if isinstance(value, str) and value:
            found.append(IdentityObservation(party_id, kind, value, event.received_at))
    return found


@dataclass(frozen=True, slots=True)
class EdgeArrays:
    """Edges of the graph as parallel arrays (one row per edge) with the index → name tables."""

    party: IntArray  # party index per edge
    identifier: IntArray  # identifier index per edge
    received_us: IntArray  # earliest receipt of the edge, microseconds since the epoch (UTC)
    party_ids: tuple[str, ...]  # party index → party ID
    identifier_kinds: npt.NDArray[np.int8]  # identifier index → IdentifierKind code


class IdentityGraph:
    """The party–identifier graph, updated incrementally.

    ``observe`` and ``observe_event`` add one observation or event; ``add_columns`` adds a batch given as
    parallel sequences (how the lake is replayed). An observation of an edge already known only lowers its
    receipt time when the new one is earlier (a late copy of an old event); otherwise it changes nothing.
    """

    def __init__(self) -> None:
        self._party_index: dict[str, int] = {}
        self._party_ids: list[str] = []
        self._identifier_index: dict[tuple[int, str], int] = {}
        self._identifier_kinds: list[int] = []
        self._edge_index: dict[tuple[int, int], int] = {}
        self._edge_party: list[int] = []
        self._edge_identifier: list[int] = []
        self._edge_received_us: list[int] = []

    # -- updates ---------------------------------------------------------------------------------------
    def observe(self, party_id: str, kind: IdentifierKind, value: str, received_at: datetime) -> None:
        """Record that ``party_id`` used identifier ``value`` of ``kind``, known at ``received_at``."""
        self._observe(party_id, int(kind), value, to_microseconds(received_at))

    def observe_event(self, event: Event) -> int:
        """Record the identifiers of one event; returns how many observations it carried."""
        observations = observations_of(event)
        for item in observations:
            self.observe(item.party_id, item.kind, item.value, item.received_at)
        return len(observations)

    def add_columns(
        self,
        party_ids: Sequence[str | None],
        kinds: Sequence[int],
        values: Sequence[str | None],
        received_us: Sequence[int],
    ) -> int:
        """Record a batch of observations given as parallel columns, in their order.

        ``kinds`` holds :class:`IdentifierKind` codes and ``received_us`` microseconds since the epoch (UTC).
        Rows with a missing party or value are skipped. Returns the number of observations recorded.
        """
        if not (len(party_ids) == len(kinds) == len(values) == len(received_us)):
            raise InputError("party_ids, kinds, values and received_us differ in length", field="values")
        unknown = set(kinds) - {int(kind) for kind in IdentifierKind}
        if unknown:
            raise InputError(f"unknown identifier kind codes {sorted(unknown)}", field="kinds")
        observe = self._observe
        count = 0
        for party_id, kind, value, moment in zip(party_ids, kinds, values, received_us, strict=True):
            if party_id and value:
                observe(party_id, int(kind), value, int(moment))
                count += 1
        return count

    def _observe(self, party_id: str, kind: int, value: str, received_us: int) -> None:
        if len(value) > bounds.fraud_identifier_length_max:
            raise InputError(
                f"longer than {bounds.fraud_identifier_length_max} characters",
                field=IDENTIFIER_ATTRIBUTES[IdentifierKind(kind)],
            )
        party = self._party_index.get(party_id)
        if party is None:
            party = len(self._party_ids)
            self._party_index[party_id] = party
            self._party_ids.append(party_id)
        key = (kind, value)
        identifier = self._identifier_index.get(key)
        if identifier is None:
            identifier = len(self._identifier_kinds)
            self._identifier_index[key] = identifier
            self._identifier_kinds.append(kind)
        edge_key = (party, identifier)
        edge = self._edge_index.get(edge_key)
        if edge is None:
            self._edge_index[edge_key] = len(self._edge_party)
            self._edge_party.append(party)
            self._edge_identifier.append(identifier)
            self._edge_received_us.append(received_us)
        elif received_us < self._edge_received_us[edge]:
            self._edge_received_us[edge] = received_us

    # -- reads -----------------------------------------------------------------------------------------
    @property
    def party_count(self) -> int:
        return len(self._party_ids)

    @property
    def identifier_count(self) -> int:
        return len(self._identifier_kinds)

    @property
    def edge_count(self) -> int:
        return len(self._edge_party)

    def party_ids(self) -> tuple[str, ...]:
        return tuple(self._party_ids)

    def edges_as_of(self, as_of: datetime) -> EdgeArrays:
        """The edges received at or before ``as_of`` (never an edge from its future)."""
        return self._edges(to_microseconds(as_of, field="as_of"))

    def all_edges(self) -> EdgeArrays:
        """Every edge the graph holds, whatever its receipt time."""
        return self._edges(None)

    def _edges(self, as_of_us: int | None) -> EdgeArrays:
        party = np.fromiter(self._edge_party, dtype=np.int64, count=len(self._edge_party))
        identifier = np.fromiter(self._edge_identifier, dtype=np.int64, count=len(self._edge_identifier))
        received = np.fromiter(self._edge_received_us, dtype=np.int64, count=len(self._edge_received_us))
        if as_of_us is not None:
            known = received <= as_of_us
            party, identifier, received = party[known], identifier[known], received[known]
        return EdgeArrays(
            party=party,
            identifier=identifier,
            received_us=received,
            party_ids=tuple(self._party_ids),
            identifier_kinds=np.asarray(self._identifier_kinds, dtype=np.int8),
        )

    def identifiers_of(self, party_id: str, as_of: datetime) -> list[tuple[IdentifierKind, str]]:
        """The identifiers ``party_id`` was seen using, known at ``as_of``, sorted."""
        as_of_us = to_microseconds(as_of, field="as_of")
        party = self._party_index.get(party_id)
        if party is None:
            return []
        names = {index: key for key, index in self._identifier_index.items()}
        found = [
            (IdentifierKind(names[identifier][0]), names[identifier][1])
            for (source, identifier), edge in self._edge_index.items()
            if source == party and self._edge_received_us[edge] <= as_of_us
        ]
        return sorted(found)


def graph_from_observations(observations: Iterable[IdentityObservation]) -> IdentityGraph:
    """A graph built in one go from ``observations`` (in any order)."""
    graph = IdentityGraph()
    for item in observations:
        graph.observe(item.party_id, item.kind, item.value, item.received_at)
    return graph
