"""Feature specs: validation of every part, naming the spec and the problem; the standard set."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from fengkong.errors import InputError
from fengkong.features.spec import (
    Aggregation,
    Entity,
    FeatureSet,
    FeatureSpec,
    FeatureSpecError,
    Filter,
    Measure,
    Operator,
    Source,
    Window,
    WindowKind,
    parse_entity,
)
from fengkong.features.standard import STANDARD_FEATURES

REVIEWS = Source("review_posted", "merchant_id")
STARS = Source("review_posted", "merchant_id", "stars")


def count_spec(**changes: Any) -> FeatureSpec:
    """A valid spec; ``changes`` replace its fields (measure parts via ``source`` and ``window``)."""
    source = changes.pop("source", REVIEWS)
    window = changes.pop("window", Window.rolling(days=7))
    aggregation = changes.pop("aggregation", Aggregation.COUNT)
    fields: dict[str, Any] = {
        "name": "merchant_reviews_7d",
        "entity": Entity.MERCHANT,
        "aggregation": aggregation,
        "description": "Reviews in 7 days.",
        "unit": "reviews",
        "measure": Measure(aggregation, (source,), window),
    }
    fields.update(changes)
    return FeatureSpec(**fields)


def test_a_valid_spec_builds_and_describes_itself() -> None:
    spec = count_spec()
    assert spec.window_label == "7d"
    assert spec.event_types == ("review_posted",)
    assert spec.measures == (Measure(Aggregation.COUNT, (REVIEWS,), Window.rolling(days=7)),)


# Each row: the change to a valid spec, the part named in the error, a fragment of the message.
BAD_SPECS: list[tuple[dict[str, Any], str, str]] = [
    ({"name": "Bad Name"}, "name", "lower_snake_case"),
    ({"name": "x" * 65}, "name", "feature_name_length_max"),
    ({"description": " "}, "description", "description"),
    ({"unit": ""}, "unit", "unit"),
    ({"source": Source("no_such_event", "merchant_id")}, "sources", "unknown event type"),
    ({"source": Source("review_posted", "rider_id")}, "sources", "not a string column"),
    ({"source": Source("review_posted", "stars")}, "sources", "not a string column"),
    ({"source": Source("review_posted", "merchant_id", "stars")}, "sources", "takes no value column"),
    ({"aggregation": Aggregation.SUM}, "sources", "needs a value column"),
    (
        {"aggregation": Aggregation.SUM, "source": Source("review_posted", "merchant_id", "order_id")},
        "sources",
        "needs an integer column",
    ),
    (
        {"aggregation": Aggregation.MEAN, "source": Source("review_posted", "merchant_id", "nope")},
        "sources",
        "not a column",
    ),
    ({"window": Window.rolling(days=401)}, "window", "feature_window_days_max"),
    ({"window": Window(WindowKind.ROLLING, 0)}, "window", "outside"),
    ({"window": Window.calendar_days(0)}, "window", "outside"),
    (
        {"source": Source("review_posted", "merchant_id", None, (Filter("stars", Operator.LE, "2"),))},
        "sources",
        "compares a int64 column with str",
    ),
    (
        {"source": Source("review_posted", "merchant_id", None, (Filter("stars", Operator.EQ, True),))},
        "sources",
        "with bool",
    ),
    (
        {"source": Source("review_posted", "merchant_id", None, (Filter("ghost", Operator.EQ, 1),))},
        "sources",
        "not a column",
    ),
    (
        {"source": Source("review_posted", "merchant_id", None, (Filter("stars", Operator.IN, 2),))},
        "sources",
        "'in' takes a tuple",
    ),
    (
        {"source": Source("review_posted", "merchant_id", None, (Filter("order_id", Operator.LT, "a"),))},
        "sources",
        "takes ==, != or in",
    ),
    (
        {"source": Source("order_placed", "merchant_id", None, (Filter("category", Operator.EQ, "cars"),))},
        "sources",
        "not one of the choices",
    ),
    ({"entity": Entity.DEVICE}, "sources", "keyed by 'device_id'"),
    ({"measure": None}, "measure", "takes one measure"),
    (
        {"measure": Measure(Aggregation.SUM, (STARS,), Window.rolling(days=1))},
        "measure",
        "the feature says count",
    ),
]


@pytest.mark.parametrize(("change", "part", "fragment"), BAD_SPECS)
def test_a_malformed_spec_names_itself_and_the_problem(
    change: dict[str, Any], part: str, fragment: str
) -> None:
    name = change.get("name", "merchant_reviews_7d")
    with pytest.raises(FeatureSpecError) as caught:
        count_spec(**change)
    assert caught.value.field == f"{name}.{part}"
    assert f"feature {name!r}" in str(caught.value)
    assert fragment in str(caught.value)
    assert isinstance(caught.value, InputError)


def test_a_measure_never_reads_one_event_type_twice() -> None:
    twice = (REVIEWS, Source("review_posted", "merchant_id", None, (Filter("stars", Operator.LE, 2),)))
    with pytest.raises(FeatureSpecError, match="different event types"):
        count_spec(measure=Measure(Aggregation.COUNT, twice, Window.rolling(days=1)))


def _ratio(numerator: Measure, denominator: Measure, aggregation: Aggregation) -> FeatureSpec:
    return FeatureSpec(
        "merchant_x", Entity.MERCHANT, aggregation, "d", "u", numerator=numerator, denominator=denominator
    )


def test_composites_take_a_numerator_and_a_denominator() -> None:
    week = Measure(Aggregation.COUNT, (REVIEWS,), Window.rolling(days=7))
    month = Measure(Aggregation.COUNT, (REVIEWS,), Window.rolling(days=30))
    assert _ratio(week, month, Aggregation.GROWTH).window_label == "7d vs 30d"
    with pytest.raises(FeatureSpecError, match="shorter"):
        _ratio(month, week, Aggregation.GROWTH)
    with pytest.raises(FeatureSpecError, match="same aggregation of the same sources"):
        _ratio(week, Measure(Aggregation.SUM, (STARS,), Window.rolling(days=30)), Aggregation.GROWTH)
    with pytest.raises(FeatureSpecError, match="rolling windows"):
        _ratio(Measure(Aggregation.COUNT, (REVIEWS,), Window.calendar_days(1)), month, Aggregation.GROWTH)
    mean = Measure(Aggregation.MEAN, (STARS,), Window.rolling(days=7))
    with pytest.raises(FeatureSpecError, match="counts or sums"):
        _ratio(mean, dataclasses.replace(mean, window=Window.rolling(days=30)), Aggregation.GROWTH)
    with pytest.raises(FeatureSpecError, match="a measure cannot be a ratio"):
        _ratio(Measure(Aggregation.RATIO, (REVIEWS,), Window.rolling(days=1)), month, Aggregation.RATIO)
    with pytest.raises(FeatureSpecError, match="numerator and a denominator"):
        FeatureSpec("merchant_x", Entity.MERCHANT, Aggregation.RATIO, "d", "u", measure=week)


def test_window_labels() -> None:
    assert Window.rolling(hours=24).label == "24h"
    assert Window.rolling(days=1).label == "24h"
    assert Window.rolling(days=30).label == "30d"
    assert Window.rolling(minutes=90).label == "90m"
    assert Window.rolling(seconds=45).label == "45s"
    assert Window.calendar_days(1).label == "1cd"


def test_unknown_entities_and_features_are_named() -> None:
    with pytest.raises(FeatureSpecError, match="unknown entity 'planet'; known: consumer"):
        parse_entity("planet")
    with pytest.raises(FeatureSpecError, match="unknown feature 'nope'"):
        STANDARD_FEATURES.get("nope")
    with pytest.raises(FeatureSpecError, match="describes a rider, not a merchant"):
        STANDARD_FEATURES.for_entity("merchant", ["rider_deliveries_7d"])
    with pytest.raises(FeatureSpecError, match="defined twice"):
        FeatureSet((count_spec(), count_spec()))


def test_the_standard_set_covers_the_issue() -> None:
    names = {spec.name for spec in STANDARD_FEATURES}
    assert len(STANDARD_FEATURES) >= 40
    assert set(STANDARD_FEATURES.entities) == set(Entity)
    for required in (
        "rider_deliveries_7d",
        "rider_deliveries_30d",
        "rider_delivery_growth_7d_30d",
        "rider_on_time_rate_30d",
        "merchant_bad_review_share_24h",
        "merchant_bad_review_share_7d",
        "merchant_revenue_growth_7d_30d",
        "merchant_refund_rate_30d",
        "consumer_orders_30d",
        "consumer_spend_growth_7d_30d",
        "consumer_repayments_90d",
        "device_accounts_distinct_30d",
        "phone_accounts_distinct_30d",
        "ip_accounts_distinct_24h",
        "consumer_logins_1h",
        "consumer_bureau_score_last",
    ):
        assert required in names
    aggregations = {spec.aggregation for spec in STANDARD_FEATURES}
    assert aggregations == set(Aggregation)
    assert any(m.window.kind is WindowKind.CALENDAR_DAYS for s in STANDARD_FEATURES for m in s.measures)


def test_the_version_hashes_the_definitions() -> None:
    specs = STANDARD_FEATURES.specs
    assert FeatureSet(specs).version == STANDARD_FEATURES.version
    changed = dataclasses.replace(specs[0], unit="trips")
    assert FeatureSet((changed, *specs[1:])).version != STANDARD_FEATURES.version
    assert FeatureSet(specs[1:]).version != STANDARD_FEATURES.version
