"""The credit models behind the :class:`~fengkong.domain.Scorer` protocol, one applicant at a time.

The scoring package serves models over frames (``ScorecardTable.points_matrix``, ``GBMServing.matrix``),
which is right for batches and costs a pandas frame per call. A decision scores one applicant, so:

* :class:`ScorecardScorer` reads the same bin table into plain lists once and finds each value's bin by
  bisection — the rule of :mod:`fengkong.scoring.table` (numeric bins ``[lower, upper)``, missing takes the
  Missing bin's points, an unseen category takes ``unknown_points``) — with its ranked reason codes (points
  lost against each characteristic's best bin);
* :class:`GBMScorer` fills one preallocated row and asks the LightGBM Booster for the raw score (one thread),
  then the calibration. Its reasons (SHAP contributions) cost more than the score, so they are computed
  only when the scorer was built with ``with_reasons=True``.

The tests check both against the frame-based serving, value for value.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from fengkong import bounds
from fengkong.domain.decision import Reason
from fengkong.domain.features import FeatureVector
from fengkong.domain.protocols import Score
from fengkong.errors import InputError
from fengkong.scoring.gbm import GBMServing
from fengkong.scoring.table import ScorecardTable

REASONS_DEFAULT: Final = 4


@dataclass(frozen=True, slots=True)
class _Characteristic:
    name: str
    numeric: bool
    splits: tuple[float, ...]
    points: tuple[int, ...]
    categories: Mapping[str, int]
    missing_points: int
    unknown_points: int
    best_points: int

    def points_of(self, value: float | int | None) -> int:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return self.missing_points
        if self.numeric:
            return self.points[min(bisect_right(self.splits, float(value)), len(self.points) - 1)]
        return self.categories.get(str(value), self.unknown_points)


class ScorecardScorer:
    """The scorecard bin table as a one-applicant :class:`~fengkong.domain.Scorer`."""

    def __init__(self, table: ScorecardTable, version: str, *, reasons: int = REASONS_DEFAULT) -> None:
        if not 0 <= reasons <= bounds.scoring_reason_codes_max:
            raise InputError(f"must be between 0 and {bounds.scoring_reason_codes_max}", field="reasons")
        self.table = table
        self.version = version
        self.reasons_count = reasons
        self._characteristics = tuple(
            _Characteristic(
                name=c.name,
                numeric=c.kind == "numeric",
                splits=tuple(float(s) for s in c.splits) if c.kind == "numeric" else (),
                points=tuple(b.points for b in c.bins),
                categories={category: b.points for b in c.bins for category in b.categories},
                missing_points=c.missing_points,
                unknown_points=c.unknown_points,
                best_points=c.best_points,
            )
            for c in table.characteristics
        )

    @property
    def names(self) -> tuple[str, ...]:
        return self.table.names

    def points(self, features: FeatureVector) -> tuple[int, ...]:
        values = features.values
        return tuple(c.points_of(values.get(c.name)) for c in self._characteristics)

    def score(self, features: FeatureVector) -> Score:
        points = self.points(features)
        total = sum(points)
        probability = 1.0 / (1.0 + math.exp((total - self.table.offset) / self.table.factor))
        lost = [
            (c.best_points - p, position, c.name)
            for position, (c, p) in enumerate(zip(self._characteristics, points, strict=True))
            if c.best_points - p > 0
        ]
        lost.sort(key=lambda item: (-item[0], item[1]))
        reasons = tuple(
            Reason(name, f"{cost} points") for cost, _position, name in lost[: self.reasons_count]
        )
        return Score(probability, reasons, self.version)


class GBMScorer:
    """A LightGBM Booster with its calibration as a one-applicant :class:`~fengkong.domain.Scorer`."""

    def __init__(
        self, serving: GBMServing, version: str, *, with_reasons: bool = False, reasons: int = REASONS_DEFAULT
    ) -> None:
        if not 1 <= reasons <= bounds.scoring_reason_codes_max:
            raise InputError(f"must be between 1 and {bounds.scoring_reason_codes_max}", field="reasons")
        self.serving = serving
        self.version = version
        self.with_reasons = with_reasons
        self.reasons_count = reasons
        self._numeric = serving.numeric
        self._codes = {
            name: {category: float(code) for code, category in enumerate(serving.categories[name])}
            for name in serving.categorical
        }

    @property
    def names(self) -> tuple[str, ...]:
        return self.serving.names

    def row(self, features: FeatureVector) -> npt.NDArray[np.float64]:
        values = features.values
        row = np.empty((1, len(self.serving.names)), dtype=np.float64)
        for column, name in enumerate(self._numeric):
            value = values.get(name)
            row[0, column] = math.nan if value is None else float(value)
        offset = len(self._numeric)
        for column, name in enumerate(self.serving.categorical, start=offset):
            value = values.get(name)
            row[0, column] = math.nan if value is None else self._codes[name].get(str(value), math.nan)
        return row

    def score(self, features: FeatureVector) -> Score:
        row = self.row(features)
        probability = float(self.serving.calibration.apply(self.serving.raw(row))[0])
        reasons: tuple[Reason, ...] = ()
        if self.with_reasons:
            index, contribution = self.serving.reasons(row, self.reasons_count)
            reasons = tuple(
                Reason(self.serving.names[int(i)], f"{float(c):+.4f} log-odds")
                for i, c in zip(index[0], contribution[0], strict=True)
                if i >= 0
            )
        return Score(probability, reasons, self.version)
