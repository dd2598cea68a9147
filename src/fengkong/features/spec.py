"""Declarative feature specs: what a feature counts, over which events, in which window.

A :class:`FeatureSpec` names an entity (consumer, rider, merchant, device, phone, ip, enterprise), an
:class:`Aggregation` and the :class:`Measure` (s) it is built from. A measure reads one or more
:class:`Source` s — an event type, the column that holds the entity, optionally the column aggregated and
filters — over one :class:`Window`. Specs are frozen and validated on construction; a malformed spec raises
:class:`FeatureSpecError` naming the spec and the problem.

Window rules (both engines apply exactly these; ``docs/features.md`` says the same):

* **Time is ``received_at``.** An event counts for a read at instant ``t`` only once fengkong has received it.
  ``occurred_at`` never places an event in a window, so a late event (occurred yesterday, received now)
  counts from now, and events received out of order count in order of receipt.
* **Rolling windows** of length ``W`` (whole seconds): an event counts at ``t`` iff
  ``t - W < received_at <= t`` — open at the old edge, closed at the new edge. An event received exactly at
  ``t`` counts; one received exactly at ``t - W`` has just left.
* **Calendar-day windows** of ``N`` days in Asia/Shanghai: an event counts at ``t`` iff
  ``received_at <= t`` and the Shanghai business date of ``received_at`` is one of the ``N`` dates ending
  with the business date of ``t`` (``N = 1``: "today so far"). The old edge is 00:00 Shanghai, inclusive.
* **Duplicates**: the same ``event_id`` is one event; when copies carry different ``received_at`` the
  earliest counts (a retry never counts twice, whatever order the copies arrive in).
* **Nulls**: a row whose entity column is null belongs to no entity. A filter on a null value fails (as in
  SQL). Value aggregations (sum, mean, min, max, distinct count, last) skip null values; ``count`` and
  ``time_since_last`` count rows that pass the filters.
* **Empty windows**: ``count``, ``sum`` and ``distinct_count`` are 0; ``mean``, ``min``, ``max``, ``last``
  and ``time_since_last`` are None; ``ratio`` is None when the denominator is 0 or None; ``growth`` is
  None when the long window's rate is 0.
* **Ties**: ``last`` takes the event with the greatest ``(received_at, event_id)``.

Tiles: the online engine keeps *exact per-event state* for each entity over the longest window of its
specs (no tiles yet); see :mod:`fengkong.features.online` and ``docs/features.md`` for the tile design it
will move to and why exact state is what it keeps today.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from fengkong import bounds
from fengkong.domain.events import EVENT_TYPES, column_layout
from fengkong.errors import InputError

NAME_PATTERN: Final = re.compile(r"^[a-z][a-z0-9_]*$")
SECONDS_PER_DAY: Final = 86_400


class FeatureSpecError(InputError):
    """A feature spec, feature name or entity that cannot be used; ``field`` names the spec and its part."""


class Entity(StrEnum):
    """What a feature describes."""

    CONSUMER = "consumer"
    RIDER = "rider"
    MERCHANT = "merchant"
    DEVICE = "device"
    PHONE = "phone"
    IP = "ip"
    ENTERPRISE = "enterprise"


def parse_entity(text: str) -> Entity:
    """The entity named ``text``; an unknown name raises :class:`FeatureSpecError` listing the known ones."""
    try:
        return Entity(text)
    except ValueError:
        known = ", ".join(entity.value for entity in Entity)
        raise FeatureSpecError(f"unknown entity {text!r}; known: {known}", field="entity") from None


class Aggregation(StrEnum):
    """How a measure or feature turns events into one number."""

    COUNT = "count"
    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"
    DISTINCT_COUNT = "distinct_count"
    LAST = "last"
    TIME_SINCE_LAST = "time_since_last"  # seconds from the last counted event's received_at to the read
    RATIO = "ratio"  # numerator measure / denominator measure
    GROWTH = "growth"  # (short-window measure per day) / (long-window measure per day)


#: Aggregations a measure can have (ratio and growth combine measures).
MEASURE_AGGREGATIONS: Final = frozenset(
    {
        Aggregation.COUNT,
        Aggregation.SUM,
        Aggregation.MEAN,
        Aggregation.MIN,
        Aggregation.MAX,
        Aggregation.DISTINCT_COUNT,
        Aggregation.LAST,
        Aggregation.TIME_SINCE_LAST,
    }
)
_NEEDS_VALUE: Final = frozenset(
    {
        Aggregation.SUM,
        Aggregation.MEAN,
        Aggregation.MIN,
        Aggregation.MAX,
        Aggregation.DISTINCT_COUNT,
        Aggregation.LAST,
    }
)
_NUMERIC_VALUE: Final = frozenset(
    {Aggregation.SUM, Aggregation.MEAN, Aggregation.MIN, Aggregation.MAX, Aggregation.LAST}
)
#: Logical column types (``column_layout``) a filter may compare, with the Python type of the value.
_FILTER_TYPES: Final[Mapping[str, type]] = {"string": str, "int64": int, "bool": bool}
#: Entities held in an attribute column rather than a subject column.
_ATTRIBUTE_ENTITIES: Final[Mapping[Entity, str]] = {
    Entity.DEVICE: "device_id",
    Entity.PHONE: "phone",
    Entity.IP: "ip",
}


class Operator(StrEnum):
    EQ = "=="
    NE = "!="
    LT = "<"
    LE = "<="
    GT = ">"
    GE = ">="
    IN = "in"


FilterValue = str | int | bool


@dataclass(frozen=True, slots=True)
class Filter:
    """``column operator value``; ``in`` takes a tuple of values. Checked against the source's event type."""

    column: str
    operator: Operator
    value: FilterValue | tuple[FilterValue, ...]

    @property
    def values(self) -> tuple[FilterValue, ...]:
        return self.value if isinstance(self.value, tuple) else (self.value,)


class WindowKind(StrEnum):
    ROLLING = "rolling"
    CALENDAR_DAYS = "calendar_days"


@dataclass(frozen=True, slots=True)
class Window:
    """A rolling window of ``seconds`` or the last ``days`` Asia/Shanghai calendar days (see module doc)."""

    kind: WindowKind
    length: int  # seconds for rolling windows, days for calendar-day windows

    @classmethod
    def rolling(cls, *, days: int = 0, hours: int = 0, minutes: int = 0, seconds: int = 0) -> Window:
        return cls(WindowKind.ROLLING, ((days * 24 + hours) * 60 + minutes) * 60 + seconds)

    @classmethod
    def calendar_days(cls, days: int) -> Window:
        return cls(WindowKind.CALENDAR_DAYS, days)

    @property
    def label(self) -> str:
        """``7d``, ``24h``, ``90m``, ``45s`` for rolling windows; ``1cd`` (calendar days) otherwise."""
        if self.kind is WindowKind.CALENDAR_DAYS:
            return f"{self.length}cd"
        for unit, seconds in (("d", SECONDS_PER_DAY), ("h", 3_600), ("m", 60)):
            if self.length % seconds == 0 and (unit != "d" or self.length >= SECONDS_PER_DAY * 2):
                return f"{self.length // seconds}{unit}"
        return f"{self.length}s"

    @property
    def horizon_seconds(self) -> int:
        """How far back from a read this window can reach (calendar windows: up to one extra day)."""
        if self.kind is WindowKind.ROLLING:
            return self.length
        return self.length * SECONDS_PER_DAY

    def problems(self) -> list[str]:
        if self.kind is WindowKind.ROLLING:
            if not 1 <= self.length <= bounds.feature_window_days_max * SECONDS_PER_DAY:
                return [
                    f"rolling window of {self.length} s is outside 1 s to "
                    f"{bounds.feature_window_days_max} days (feature_window_days_max)"
                ]
            return []
        if not 1 <= self.length <= bounds.feature_window_days_max:
            return [
                f"calendar window of {self.length} days is outside 1 to "
                f"{bounds.feature_window_days_max} days (feature_window_days_max)"
            ]
        return []


@dataclass(frozen=True, slots=True)
class Source:
    """Rows of ``event_type`` filed under the entity in ``entity_column``; ``value_column`` is what value
    aggregations read; all ``filters`` must hold."""

    event_type: str
    entity_column: str
    value_column: str | None = None
    filters: tuple[Filter, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns this source reads besides the common ones, without repeats, in a stable order."""
        names = [self.entity_column]
        if self.value_column is not None:
            names.append(self.value_column)
        names.extend(f.column for f in self.filters)
        return tuple(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class Measure:
    """One aggregation over the union of ``sources`` in ``window``."""

    aggregation: Aggregation
    sources: tuple[Source, ...]
    window: Window


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One feature. ``measure`` for simple aggregations; ``numerator`` and ``denominator`` for ``ratio``
    and ``growth`` (growth: the same aggregation over the same sources in a shorter and a longer window)."""

    name: str
    entity: Entity
    aggregation: Aggregation
    description: str
    unit: str
    measure: Measure | None = None
    numerator: Measure | None = None
    denominator: Measure | None = None

    def __post_init__(self) -> None:
        problems = list(_spec_problems(self))
        if problems:
            part, problem = problems[0]
            raise FeatureSpecError(f"feature {self.name!r}: {problem}", field=f"{self.name}.{part}")

    @property
    def measures(self) -> tuple[Measure, ...]:
        if self.measure is not None:
            return (self.measure,)
        if self.numerator is None or self.denominator is None:
            raise FeatureSpecError(f"feature {self.name!r} has no measures", field=self.name)
        return (self.numerator, self.denominator)

    @property
    def window_label(self) -> str:
        if self.aggregation is Aggregation.GROWTH:
            return f"{self.measures[0].window.label} vs {self.measures[1].window.label}"
        labels = dict.fromkeys(m.window.label for m in self.measures)
        return "/".join(labels)

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s.event_type for m in self.measures for s in m.sources))

    def canonical(self) -> dict[str, object]:
        """A JSON-ready description; its hash versions a feature set."""

        def measure(m: Measure | None) -> object:
            if m is None:
                return None
            return {
                "aggregation": m.aggregation.value,
                "window": [m.window.kind.value, m.window.length],
                "sources": [
                    {
                        "event_type": s.event_type,
                        "entity_column": s.entity_column,
                        "value_column": s.value_column,
                        "filters": [[f.column, f.operator.value, list(f.values)] for f in s.filters],
                    }
                    for s in m.sources
                ],
            }

        return {
            "name": self.name,
            "entity": self.entity.value,
            "aggregation": self.aggregation.value,
            "unit": self.unit,
            "measure": measure(self.measure),
            "numerator": measure(self.numerator),
            "denominator": measure(self.denominator),
        }


def _filter_problems(source: Source, layout: Mapping[str, str]) -> Iterator[str]:
    choices = {a.name: a.choices for a in EVENT_TYPES[source.event_type].attributes if a.choices}
    for flt in source.filters:
        if not isinstance(flt.operator, Operator):
            yield f"filter on {flt.column!r} has unknown operator {flt.operator!r}"
            continue
        logical = layout.get(flt.column)
        if logical is None:
            yield f"filter column {flt.column!r} is not a column of {source.event_type}"
            continue
        python_type = _FILTER_TYPES.get(logical)
        if python_type is None:
            yield f"filter column {flt.column!r} has type {logical}, which filters cannot compare"
            continue
        if (flt.operator is Operator.IN) != isinstance(flt.value, tuple):
            yield f"filter on {flt.column!r}: 'in' takes a tuple of values, other operators one value"
            continue
        if not flt.values:
            yield f"filter on {flt.column!r}: 'in' needs at least one value"
        for value in flt.values:
            # bool is a subclass of int: an int column must not accept True, a bool column no 1.
            if type(value) is not python_type:
                yield (
                    f"filter on {flt.column!r} compares a {logical} column with "
                    f"{type(value).__name__} {value!r}"
                )
            elif flt.column in choices and value not in choices[flt.column]:
                yield f"filter value {value!r} is not one of the choices of {flt.column!r}"
        if logical in {"string", "bool"} and flt.operator not in {Operator.EQ, Operator.NE, Operator.IN}:
            yield f"filter on {flt.column!r}: a {logical} column takes ==, != or in"


def _source_problems(entity: Entity, aggregation: Aggregation, source: Source) -> Iterator[str]:
    if source.event_type not in EVENT_TYPES:
        yield f"unknown event type {source.event_type!r}"
        return
    layout = dict(column_layout(source.event_type))
    if layout.get(source.entity_column) != "string":
        yield f"entity column {source.entity_column!r} is not a string column of {source.event_type}"
    expected = _ATTRIBUTE_ENTITIES.get(entity)
    if expected is not None and source.entity_column != expected:
        yield f"a {entity.value} feature is keyed by {expected!r}, not {source.entity_column!r}"
    if aggregation in _NEEDS_VALUE:
        if source.value_column is None:
            yield f"{aggregation.value} needs a value column on {source.event_type}"
        elif source.value_column not in layout:
            yield f"value column {source.value_column!r} is not a column of {source.event_type}"
        elif aggregation in _NUMERIC_VALUE and layout[source.value_column] != "int64":
            yield (
                f"{aggregation.value} needs an integer column; {source.value_column!r} is "
                + (layout[source.value_column])
            )
        elif layout[source.value_column] not in _FILTER_TYPES:
            yield f"value column {source.value_column!r} has type {layout[source.value_column]}"
    elif source.value_column is not None:
        yield f"{aggregation.value} takes no value column (got {source.value_column!r})"
    if len(source.filters) > bounds.feature_filters_max:
        yield f"more than {bounds.feature_filters_max} filters (feature_filters_max)"
    yield from _filter_problems(source, layout)


def _measure_problems(entity: Entity, measure: Measure) -> Iterator[tuple[str, str]]:
    if measure.aggregation not in MEASURE_AGGREGATIONS:
        yield "aggregation", f"a measure cannot be a {measure.aggregation.value}"
        return
    if not measure.sources:
        yield "sources", "a measure needs at least one source"
    if len(measure.sources) > bounds.feature_sources_max:
        yield "sources", f"more than {bounds.feature_sources_max} sources (feature_sources_max)"
    for problem in measure.window.problems():
        yield "window", problem
    if len({s.event_type for s in measure.sources}) != len(measure.sources):
        # One event must never count twice in one measure: each source reads another event type.
        yield "sources", "the sources of one measure read different event types"
    for source in measure.sources:
        for problem in _source_problems(entity, measure.aggregation, source):
            yield "sources", problem


def _spec_problems(spec: FeatureSpec) -> Iterator[tuple[str, str]]:
    if not isinstance(spec.name, str) or not NAME_PATTERN.match(spec.name):
        yield "name", "a feature name is lower_snake_case, starting with a letter"
    elif len(spec.name) > bounds.feature_name_length_max:
        yield "name", f"longer than {bounds.feature_name_length_max} characters (feature_name_length_max)"
    if not isinstance(spec.entity, Entity):
        yield "entity", f"unknown entity {spec.entity!r}"
        return
    if not isinstance(spec.aggregation, Aggregation):
        yield "aggregation", f"unknown aggregation {spec.aggregation!r}"
        return
    if not spec.description.strip():
        yield "description", "every feature has a description"
    if not spec.unit.strip():
        yield "unit", "every feature has a unit"
    composite = spec.aggregation in {Aggregation.RATIO, Aggregation.GROWTH}
    if composite:
        if spec.measure is not None or spec.numerator is None or spec.denominator is None:
            yield "measure", f"{spec.aggregation.value} takes a numerator and a denominator, no measure"
            return
    elif spec.measure is None or spec.numerator is not None or spec.denominator is not None:
        yield "measure", f"{spec.aggregation.value} takes one measure, no numerator or denominator"
        return
    elif spec.measure.aggregation is not spec.aggregation:
        yield (
            "measure",
            (
                f"the measure aggregates {spec.measure.aggregation.value}, "
                f"the feature says {spec.aggregation.value}"
            ),
        )
    for measure in spec.measures:
        yield from _measure_problems(spec.entity, measure)
    if spec.aggregation is Aggregation.GROWTH and spec.numerator and spec.denominator:
        short, long = spec.numerator, spec.denominator
        if short.aggregation not in {Aggregation.COUNT, Aggregation.SUM}:
            yield "numerator", "growth compares counts or sums"
        if (short.aggregation, short.sources) != (long.aggregation, long.sources):
            yield "denominator", "growth compares the same aggregation of the same sources"
        if WindowKind.CALENDAR_DAYS in {short.window.kind, long.window.kind}:
            yield "window", "growth compares rolling windows"
        elif short.window.length >= long.window.length:
            yield "window", "growth needs the numerator's window shorter than the denominator's"


@dataclass(frozen=True)
class FeatureSet:
    """An ordered, named collection of specs; ``version`` is a hash of their definitions."""

    specs: tuple[FeatureSpec, ...]
    version: str = field(init=False)
    _by_name: Mapping[str, FeatureSpec] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.specs) > bounds.features_per_set_max:
            raise FeatureSpecError(
                f"{len(self.specs)} specs; at most {bounds.features_per_set_max} (features_per_set_max)",
                field="specs",
            )
        by_name: dict[str, FeatureSpec] = {}
        for spec in self.specs:
            if not isinstance(spec, FeatureSpec):
                raise FeatureSpecError(f"not a FeatureSpec: {spec!r}", field="specs")
            if spec.name in by_name:
                raise FeatureSpecError(f"feature {spec.name!r} is defined twice", field=spec.name)
            by_name[spec.name] = spec
        text = json.dumps([spec.canonical() for spec in self.specs], sort_keys=True)
        object.__setattr__(self, "version", "fs-" + hashlib.sha256(text.encode()).hexdigest()[:16])
        object.__setattr__(self, "_by_name", by_name)

    def __iter__(self) -> Iterator[FeatureSpec]:
        return iter(self.specs)

    def __len__(self) -> int:
        return len(self.specs)

    def get(self, name: str) -> FeatureSpec:
        spec = self._by_name.get(name)
        if spec is None:
            raise FeatureSpecError(f"unknown feature {name!r}", field="names")
        return spec

    def for_entity(self, entity: Entity | str, names: Sequence[str] | None = None) -> tuple[FeatureSpec, ...]:
        """The specs of ``entity`` (all, or those in ``names``, in set order); a name of another entity
        or an unknown name raises :class:`FeatureSpecError`."""
        chosen = entity if isinstance(entity, Entity) else parse_entity(entity)
        if names is None:
            return tuple(spec for spec in self.specs if spec.entity is chosen)
        picked = []
        for name in names:
            spec = self.get(name)
            if spec.entity is not chosen:
                raise FeatureSpecError(
                    f"feature {name!r} describes a {spec.entity.value}, not a {chosen.value}", field="names"
                )
            picked.append(spec)
        return tuple(picked)

    @property
    def entities(self) -> tuple[Entity, ...]:
        return tuple(dict.fromkeys(spec.entity for spec in self.specs))


def sources_of(specs: Iterable[FeatureSpec]) -> tuple[Source, ...]:
    """Every distinct source the specs read, in first-use order."""
    return tuple(dict.fromkeys(s for spec in specs for m in spec.measures for s in m.sources))


def entity_horizon_seconds(specs: Iterable[FeatureSpec]) -> int:
    """The longest reach back of any window in ``specs`` (0 when there are none)."""
    return max((m.window.horizon_seconds for spec in specs for m in spec.measures), default=0)
