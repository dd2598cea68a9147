"""What the flows need from the outside, as protocols: blocklists and exposure (limits and holds).

The flows never import ``store/``: a service adapts ``store/exposure.py`` (atomic SQL reservations) to
:class:`ExposurePort`, and tests and benchmarks use :class:`InMemoryExposure`, which keeps the same rules
(a hold needs room under the party's limit and the household cap; a hold ID is idempotent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from fengkong.errors import IdempotencyConflictError

BlocklistKind = Literal["party", "device", "phone", "ip"]


class Blocklist(Protocol):
    def contains(self, kind: str, value: str) -> bool: ...


class StaticBlocklist:
    """A blocklist held in memory: ``(kind, value)`` pairs."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self._entries = frozenset(entries)

    def contains(self, kind: str, value: str) -> bool:
        return (kind, value) in self._entries


@dataclass(frozen=True, slots=True)
class LineExposure:
    """A party's line for one product: the limit and the room left (limit − held − outstanding, ≥ 0)."""

    limit_fen: int
    available_fen: int


@dataclass(frozen=True, slots=True)
class HoldRequest:
    hold_id: str  # the authorisation's ID: a retry places no second hold
    party_id: str
    household_id: str
    product: str
    amount_fen: int
    expires_at: datetime
    now: datetime


@dataclass(frozen=True, slots=True)
class HoldPlaced:
    hold_id: str
    amount_fen: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class HoldRefused:
    """No room: ``cap`` is ``party_limit`` or ``household_cap``; ``available_fen`` the room left under it."""

    hold_id: str
    cap: str
    available_fen: int


class ExposurePort(Protocol):
    """Exposure as the authorisation flow sees it (the SQL lives in ``store/exposure.py``).

    ``line`` is the line as request ``hold_id`` sees it: the room its own hold already takes (when the request
    is a retry) counts as available, so a retry is decided on the line the first attempt saw.
    """

    def line(self, party_id: str, product: str, hold_id: str) -> LineExposure | None: ...

    def hold(self, request: HoldRequest) -> HoldPlaced | HoldRefused: ...


class InMemoryExposure:
    """Limits, household caps and holds in memory, for tests, benchmarks and the replay of a trace."""

    def __init__(self) -> None:
        self.limits: dict[tuple[str, str], int] = {}
        self.used: dict[tuple[str, str], int] = {}
        self.household_caps: dict[str, int] = {}
        self.household_used: dict[str, int] = {}
        self.holds: dict[str, tuple[HoldRequest, HoldPlaced | HoldRefused]] = {}

    def set_limit(self, party_id: str, product: str, limit_fen: int) -> None:
        self.limits[(party_id, product)] = limit_fen

    def set_household_cap(self, household_id: str, cap_fen: int) -> None:
        self.household_caps[household_id] = cap_fen

    def line(self, party_id: str, product: str, hold_id: str) -> LineExposure | None:
        key = (party_id, product)
        if key not in self.limits:
            return None
        limit = self.limits[key]
        own = 0
        earlier = self.holds.get(hold_id)
        if earlier is not None and isinstance(earlier[1], HoldPlaced) and earlier[0].party_id == party_id:
            own = earlier[1].amount_fen if earlier[0].product == product else 0
        return LineExposure(limit, max(0, limit - self.used.get(key, 0) + own))

    def hold(self, request: HoldRequest) -> HoldPlaced | HoldRefused:
        first = self.holds.get(request.hold_id)
        if first is not None:
            earlier, earlier_result = first
            same = (earlier.party_id, earlier.household_id, earlier.product, earlier.amount_fen) == (
                request.party_id,
                request.household_id,
                request.product,
                request.amount_fen,
            )
            if not same:
                raise IdempotencyConflictError(f"hold {request.hold_id} was placed for another request")
            return earlier_result
        key = (request.party_id, request.product)
        party_room = self.limits.get(key, 0) - self.used.get(key, 0)
        household_room = self.household_caps.get(request.household_id, 0) - self.household_used.get(
            request.household_id, 0
        )
        result: HoldPlaced | HoldRefused
        if party_room < request.amount_fen:
            result = HoldRefused(request.hold_id, "party_limit", max(0, party_room))
        elif household_room < request.amount_fen:
            result = HoldRefused(request.hold_id, "household_cap", max(0, household_room))
        else:
            self.used[key] = self.used.get(key, 0) + request.amount_fen
            self.household_used[request.household_id] = (
                self.household_used.get(request.household_id, 0) + request.amount_fen
            )
            result = HoldPlaced(request.hold_id, request.amount_fen, request.expires_at)
        self.holds[request.hold_id] = (request, result)
        return result
