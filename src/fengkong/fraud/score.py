"""The fraud score: a supervised model trained on case labels as known at a date, plus an anomaly score.

Training (:func:`training_set`) is point in time twice over:

* **labels** are the case-queue outcomes reviewed at or before ``as_of``
  (:func:`fengkong.fraud.interceptions.labels_known_at`): a case reviewed later gives no label, so a model
  fitted "as of" a date has exactly the labels the lender had then, with their real delay;
* **features** of each labelled party are read as of the moment its case was *opened* (``observed_at``)
  through a :class:`~fengkong.domain.features.FeatureReader` — behavioural features from the feature engine,
  ring features (size, density, members known past due) joined as of the same moment — never what happened
  after the interception.

:class:`FraudScoreModel` follows the scikit-learn contract (``fit`` returns ``self``, learned state ends in
``_``, ``random_state`` makes fits repeat): a LightGBM classifier (one thread, deterministic) gives the
probability of fraud, and an :class:`~sklearn.ensemble.IsolationForest` fitted on every row, labelled or not,
gives an anomaly score for patterns no label has shown yet. The anomaly score is the share of the fitted
rows that look less anomalous than the row scored (0: ordinary, near 1: stranger than almost everything
seen).

:meth:`FraudScoreModel.check` answers the :class:`~fengkong.domain.FraudCheck` protocol: ``decline`` at a
high probability, ``review`` at a middling one or for a strong anomaly, ``approve`` (no objection) otherwise.
Scores are floats: this is a fraud score, never money.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Self

import lightgbm
import numpy as np
from numpy.typing import NDArray
from sklearn.ensemble import IsolationForest

from fengkong import bounds
from fengkong.clock import require_utc
from fengkong.domain import FeatureReader, FeatureVector, FraudVerdict, Outcome, Reason
from fengkong.errors import InputError
from fengkong.fraud.interceptions import FraudLabel

CHECK_VERSION: Final = "fraud-score-1"
DECLINE_PROBABILITY_MIN: Final = 0.8
REVIEW_PROBABILITY_MIN: Final = 0.5
REVIEW_ANOMALY_MIN: Final = 0.99

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Rows (one per label), the feature names in column order, and the labels behind them."""

    features: FloatArray
    is_fraud: NDArray[np.bool_]
    feature_names: tuple[str, ...]
    labels: tuple[FraudLabel, ...]


def _row(vector: Mapping[str, float | int | None], names: Sequence[str]) -> list[float]:
    """Values in ``names`` order; an undefined feature is NaN (LightGBM treats it as missing)."""
    values = []
    for name in names:
        value = vector.get(name)
        values.append(float("nan") if value is None else float(value))
    return values


def training_set(
    labels: Sequence[FraudLabel],
    as_of: datetime,
    reader: FeatureReader,
    feature_names: Sequence[str],
    entity_type: str = "consumer",
    extra: Callable[[str, datetime], Mapping[str, float | int | None]] | None = None,
) -> TrainingSet:
    """Labels known at ``as_of`` with each party's features as of its case's opening.

    ``extra(party_id, at)`` adds features the reader does not hold (ring features joined as of ``at``); its
    names must be in ``feature_names``. A label reviewed after ``as_of`` is left out, whoever passed it in."""
    as_of = require_utc(as_of, "as_of")
    if not feature_names:
        raise InputError("needs at least one feature", field="feature_names")
    known = tuple(label for label in labels if label.known_at <= as_of)
    if len(known) > bounds.fraud_score_training_rows_max:
        raise InputError(
            f"{len(known)} labels; at most {bounds.fraud_score_training_rows_max} "
            "(fraud_score_training_rows_max)",
            field="labels",
        )
    rows = []
    for label in known:
        vector = dict(reader.read(entity_type, label.party_id, label.observed_at).values)
        if extra is not None:
            vector.update(extra(label.party_id, label.observed_at))
        rows.append(_row(vector, feature_names))
    features = np.asarray(rows, dtype=np.float64).reshape(len(known), len(feature_names))
    return TrainingSet(
        features, np.asarray([label.is_fraud for label in known], dtype=bool), tuple(feature_names), known
    )


class FraudScoreModel:
    """Supervised probability of fraud plus an IsolationForest anomaly score (scikit-learn contract)."""

    def __init__(
        self,
        feature_names: Sequence[str],
        boost_rounds: int = 200,
        learning_rate: float = 0.05,
        leaves: int = 15,
        anomaly_trees: int = 200,
        random_state: int = 0,
    ) -> None:
        self.feature_names = tuple(feature_names)
        self.boost_rounds = boost_rounds
        self.learning_rate = learning_rate
        self.leaves = leaves
        self.anomaly_trees = anomaly_trees
        self.random_state = random_state

    def fit(
        self, features: FloatArray, is_fraud: NDArray[np.bool_], unlabelled: FloatArray | None = None
    ) -> Self:
        """Fit on labelled rows; the anomaly model also sees ``unlabelled`` rows (the population)."""
        features = np.asarray(features, dtype=np.float64)
        labels = np.asarray(is_fraud, dtype=bool)
        if features.ndim != 2 or features.shape[1] != len(self.feature_names):
            raise InputError(f"features need {len(self.feature_names)} columns", field="features")
        if features.shape[0] != labels.shape[0]:
            raise InputError("one label per row", field="is_fraud")
        frauds = int(labels.sum())
        if min(frauds, len(labels) - frauds) < bounds.scoring_class_rows_min:
            raise InputError(
                f"needs at least {bounds.scoring_class_rows_min} fraud and non-fraud labels "
                f"(got {frauds} and {len(labels) - frauds})",
                field="is_fraud",
            )
        if not 1 <= self.boost_rounds <= bounds.gbm_boost_rounds_max:
            raise InputError(f"must be from 1 to {bounds.gbm_boost_rounds_max}", field="boost_rounds")
        self.classifier_ = lightgbm.LGBMClassifier(
            n_estimators=self.boost_rounds,
            learning_rate=self.learning_rate,
            num_leaves=self.leaves,
            min_child_samples=max(2, min(20, len(labels) // 20)),
            random_state=self.random_state,
            n_jobs=1,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )
        self.classifier_.fit(features, labels)
        population = (
            features
            if unlabelled is None
            else np.vstack([features, np.asarray(unlabelled, dtype=np.float64)])
        )
        filled = np.nan_to_num(population, nan=0.0)
        self.anomaly_ = IsolationForest(
            n_estimators=self.anomaly_trees, random_state=self.random_state, n_jobs=1
        )
        self.anomaly_.fit(filled)
        # score_samples: higher is more normal. Kept sorted to turn a score into a share of the population.
        self.normality_sorted_ = np.sort(self.anomaly_.score_samples(filled))
        return self

    def fraud_probability(self, features: FloatArray) -> FloatArray:
        probabilities = np.asarray(self.classifier_.predict_proba(np.asarray(features, dtype=np.float64)))
        column = list(self.classifier_.classes_).index(True)
        return np.asarray(probabilities[:, column], dtype=np.float64)

    def anomaly_score(self, features: FloatArray) -> FloatArray:
        """Share of the fitted rows more normal than each row (higher: more anomalous), in [0, 1]."""
        normality = self.anomaly_.score_samples(
            np.nan_to_num(np.asarray(features, dtype=np.float64), nan=0.0)
        )
        more_normal = len(self.normality_sorted_) - np.searchsorted(
            self.normality_sorted_, normality, side="right"
        )
        return np.asarray(more_normal / len(self.normality_sorted_), dtype=np.float64)

    def check(self, features: FeatureVector) -> FraudVerdict:
        """The :class:`~fengkong.domain.FraudCheck` answer for one feature vector."""
        row = np.asarray([_row(features.values, self.feature_names)], dtype=np.float64)
        probability = float(self.fraud_probability(row)[0])
        anomaly = float(self.anomaly_score(row)[0])
        reasons: list[Reason] = []
        if probability >= DECLINE_PROBABILITY_MIN:
            outcome = Outcome.DECLINE
            reasons.append(Reason("fraud_score_high", f"probability of fraud {probability:.2f}"))
        elif probability >= REVIEW_PROBABILITY_MIN:
            outcome = Outcome.REVIEW
            reasons.append(Reason("fraud_score_review", f"probability of fraud {probability:.2f}"))
        else:
            outcome = Outcome.APPROVE
        if anomaly >= REVIEW_ANOMALY_MIN:
            outcome = Outcome.strictest([outcome, Outcome.REVIEW])
            reasons.append(Reason("fraud_anomaly", f"more unusual than {anomaly:.1%} of parties seen"))
        return FraudVerdict(outcome, tuple(reasons), probability, CHECK_VERSION)
