"""Calibration of a probability of default: the reliability curve, ECE and calibration in the large.

A PD is calibrated when, among applicants given about p, about p turn bad. :func:`calibration_report`
bins the PDs (``quantile`` bins by default, so every bin holds about as many rows and the ECE is not
dominated by a few extreme bins), and reports per bin the mean PD, the observed bad rate and the rows,
with the expected calibration error ``ECE = Σ (rows in bin / rows) · |observed − predicted|`` and the
overall mean PD against the overall bad rate. ``ece_max`` is the alert line (issue 6: at most 0.01).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from fengkong.monitoring import metrics

ECE_MAX: Final = 0.01  # issue 6: calibration ECE at most 0.01 on a world the model was not tuned on


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    """The reliability curve and its summaries (see the module docstring)."""

    predicted: tuple[float, ...]
    observed: tuple[float, ...]
    count: tuple[int, ...]
    ece: float
    mean_pd: float
    bad_rate: float
    brier: float
    bins: int
    strategy: str
    ece_max: float

    @property
    def within_bound(self) -> bool:
        return self.ece <= self.ece_max

    def to_dict(self) -> dict[str, Any]:
        return {
            "ece": self.ece,
            "ece_max": self.ece_max,
            "within_bound": self.within_bound,
            "mean_pd": self.mean_pd,
            "bad_rate": self.bad_rate,
            "brier": self.brier,
            "bins": self.bins,
            "strategy": self.strategy,
            "curve": [
                {"predicted": p, "observed": o, "count": c}
                for p, o, c in zip(self.predicted, self.observed, self.count, strict=True)
            ],
        }


def calibration_report(
    y: npt.ArrayLike,
    pd_bad: npt.ArrayLike,
    *,
    bins: int = 10,
    strategy: str = "quantile",
    ece_max: float = ECE_MAX,
) -> CalibrationReport:
    """The reliability curve, ECE, mean PD against bad rate and Brier score of ``pd_bad`` for ``y``."""
    curve = metrics.calibration_curve(y, pd_bad, bins=bins, strategy=strategy)
    labels = np.asarray(y, dtype=np.float64)
    values = np.asarray(pd_bad, dtype=np.float64)
    weights = curve.count / curve.count.sum()
    return CalibrationReport(
        predicted=tuple(float(v) for v in curve.predicted),
        observed=tuple(float(v) for v in curve.observed),
        count=tuple(int(v) for v in curve.count),
        ece=float(np.sum(weights * np.abs(curve.observed - curve.predicted))),
        mean_pd=float(values.mean()),
        bad_rate=float(labels.mean()),
        brier=metrics.brier(y, pd_bad),
        bins=bins,
        strategy=strategy,
        ece_max=ece_max,
    )
