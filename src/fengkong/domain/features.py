"""Feature vectors and the reader protocol every engine (offline, online) implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

FeatureValue = float | int | None


@dataclass(frozen=True, slots=True)
class FeatureVector:
    """Feature values of one entity as known at ``as_of`` (events received after it never count).

    ``values`` maps feature name to a number, or None when the feature is undefined (no events).
    ``feature_set_version`` names the spec set that produced it, so a decision can be reproduced.
    """

    entity_type: str
    entity_id: str
    as_of: datetime
    values: Mapping[str, FeatureValue] = field(default_factory=dict)
    feature_set_version: str = "unversioned"

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def get(self, name: str) -> FeatureValue:
        return self.values.get(name)


class FeatureReader(Protocol):
    """Reads point-in-time feature vectors; implemented by the offline and online engines."""

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector: ...
