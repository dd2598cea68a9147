"""The fraud score: labels only as known at the date, features only as of each case's opening, a model
that separates planted fraud from ordinary parties, an anomaly score for the unseen, and the FraudCheck
answer. The world is synthetic and planted here (no simulator)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from fengkong.domain import FeatureVector, Outcome
from fengkong.errors import InputError
from fengkong.fraud.interceptions import FraudLabel
from fengkong.fraud.score import FraudScoreModel, training_set

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NAMES = (
    "device_accounts_distinct_30d",
    "consumer_loan_applications_24h",
    "consumer_orders_30d",
    "ring_size",
    "flagged_after_review",  # a value that exists only after a case: it must never reach training
)


class PlantedReader:
    """Feature values per party; ``flagged_after_review`` turns 1 for fraudsters after their case opened."""

    def __init__(self, seed: int, parties: int) -> None:
        rng = random.Random(seed)
        self.fraud: dict[str, bool] = {}
        self.opened: dict[str, datetime] = {}
        self.base: dict[str, dict[str, float]] = {}
        self.requests: list[tuple[str, datetime]] = []
        for index in range(parties):
            party = f"P{index:04d}"
            fraud = rng.random() < 0.2
            self.fraud[party] = fraud
            self.opened[party] = T0 + timedelta(hours=rng.randrange(24 * 60))
            self.base[party] = {
                "device_accounts_distinct_30d": rng.choice([3, 4, 6, 9])
                if fraud
                else rng.choice([1, 1, 1, 2, 3]),
                "consumer_loan_applications_24h": rng.randrange(2, 6) if fraud else rng.randrange(0, 3),
                "consumer_orders_30d": rng.randrange(0, 4) if fraud else rng.randrange(1, 40),
                "ring_size": rng.choice([0, 5, 12]) if fraud else rng.choice([0, 0, 0, 0, 3]),
            }

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector:
        self.requests.append((entity_id, as_of))
        values: dict[str, float | int | None] = dict(self.base[entity_id])
        values["flagged_after_review"] = int(self.fraud[entity_id] and as_of > self.opened[entity_id])
        return FeatureVector(entity_type, entity_id, as_of, values)

    def labels(self) -> list[FraudLabel]:
        rng = random.Random(7)
        return [
            FraudLabel(
                party,
                fraud,
                self.opened[party],
                self.opened[party] + timedelta(days=rng.randrange(1, 30)),
                f"c-{party}",
            )
            for party, fraud in self.fraud.items()
        ]


@pytest.fixture(scope="module")
def reader() -> PlantedReader:
    return PlantedReader(seed=11, parties=800)


def test_training_uses_labels_known_at_the_date_and_features_as_of_each_opening(
    reader: PlantedReader,
) -> None:
    labels = reader.labels()
    as_of = T0 + timedelta(days=40)
    reader.requests.clear()
    data = training_set(labels, as_of, reader, NAMES)
    assert 0 < len(data.labels) < len(labels)
    assert all(label.known_at <= as_of for label in data.labels)
    assert {party for party, _ in reader.requests} == {label.party_id for label in data.labels}
    assert all(at == reader.opened[party] for party, at in reader.requests)  # never after the opening
    assert not data.features[:, NAMES.index("flagged_after_review")].any()  # the leak stayed out
    assert data.is_fraud.tolist() == [label.is_fraud for label in data.labels]


def test_extra_features_are_joined_as_of_the_opening(reader: PlantedReader) -> None:
    seen: list[datetime] = []

    def ring(party: str, at: datetime) -> dict[str, float | int | None]:
        seen.append(at)
        return {"ring_size": 99}

    data = training_set(reader.labels()[:30], T0 + timedelta(days=200), reader, NAMES, extra=ring)
    assert (data.features[:, NAMES.index("ring_size")] == 99).all()
    assert seen == [label.observed_at for label in data.labels]


def test_the_model_separates_planted_fraud_and_repeats(reader: PlantedReader) -> None:
    labels = reader.labels()
    train = training_set(labels[:500], T0 + timedelta(days=200), reader, NAMES)
    test = training_set(labels[500:], T0 + timedelta(days=200), reader, NAMES)
    model = FraudScoreModel(NAMES, boost_rounds=60).fit(train.features, train.is_fraud)
    probability = model.fraud_probability(test.features)
    assert roc_auc_score(test.is_fraud, probability) > 0.9
    again = FraudScoreModel(NAMES, boost_rounds=60).fit(train.features, train.is_fraud)
    np.testing.assert_array_equal(again.fraud_probability(test.features), probability)


def test_the_anomaly_score_ranks_the_unseen_pattern_highest(reader: PlantedReader) -> None:
    data = training_set(reader.labels(), T0 + timedelta(days=200), reader, NAMES)
    model = FraudScoreModel(NAMES, boost_rounds=30).fit(data.features, data.is_fraud)
    ordinary = model.anomaly_score(data.features)
    assert 0.3 < float(np.median(ordinary)) < 0.7
    outlier = np.asarray([[60.0, 40.0, 0.0, 500.0, 0.0]])
    assert float(model.anomaly_score(outlier)[0]) >= 0.99


def test_check_answers_the_fraud_check_protocol(reader: PlantedReader) -> None:
    data = training_set(reader.labels(), T0 + timedelta(days=200), reader, NAMES)
    model = FraudScoreModel(NAMES, boost_rounds=60).fit(data.features, data.is_fraud)

    def vector(values: dict[str, float | int | None]) -> FeatureVector:
        return FeatureVector("consumer", "X", T0, values)

    ring_member = vector(
        {
            "device_accounts_distinct_30d": 9,
            "consumer_loan_applications_24h": 5,
            "consumer_orders_30d": 0,
            "ring_size": 12,
        }
    )
    verdict = model.check(ring_member)
    assert verdict.outcome is Outcome.DECLINE and verdict.fraud_score >= 0.8
    regular = vector(
        {
            "device_accounts_distinct_30d": 1,
            "consumer_loan_applications_24h": 0,
            "consumer_orders_30d": 25,
            "ring_size": 0,
        }
    )
    assert model.check(regular).outcome is Outcome.APPROVE
    unseen = vector({"device_accounts_distinct_30d": 60, "consumer_orders_30d": 30, "ring_size": 500})
    strange = model.check(unseen)
    assert strange.outcome.priority >= Outcome.REVIEW.priority
    assert "fraud_anomaly" in {r.code for r in strange.reasons}


def test_too_few_labels_of_a_class_or_wrong_columns_are_refused() -> None:
    features = np.zeros((30, len(NAMES)))
    with pytest.raises(InputError, match="at least"):
        FraudScoreModel(NAMES).fit(features, np.asarray([True] * 3 + [False] * 27))
    with pytest.raises(InputError) as raised:
        FraudScoreModel(NAMES).fit(np.zeros((30, 2)), np.asarray([True, False] * 15))
    assert raised.value.field == "features"
    with pytest.raises(InputError):
        training_set([], T0, PlantedReader(1, 1), ())
