"""Early-performance indicators with alert thresholds, because the bad label takes six months to mature.

Each indicator is a value, a threshold and a status (``ok`` / ``alert``; ``no data`` when nothing could be
measured — a figure that was not computed is absent, never invented):

* **first-payment default** — share of booked accounts whose first due payment went 30+ days past due
  (CALIBRATION.md: at most 1 % of originations, Lexin [p]);
* **ever 30+ at month on book 3** — share of bookings 30+ days past due within 90 days of booking;
* **approval rate** — share of applications booked, inside a band (CALIBRATION.md: about 0.6 for
  pre-qualified embedded users, sweep 0.4–0.8);
* **score PSI** and the **worst feature PSI** (0.25 and above is a shift).

:func:`early_indicators` measures them on one population; :func:`indicators_by_cohort` per cohort (for
example the booking month), so a deterioration shows before the label does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from fengkong.errors import InputError
from fengkong.monitoring.psi import PSI_SHIFT

STATUS_OK: Final = "ok"
STATUS_ALERT: Final = "alert"
STATUS_NO_DATA: Final = "no data"


@dataclass(frozen=True, slots=True)
class AlertThresholds:
    """Where each indicator raises an alert. Shares in [0, 1]."""

    first_payment_default_max: float = 0.01
    ever_30_mob3_max: float = 0.03
    approval_rate_min: float = 0.40
    approval_rate_max: float = 0.80
    score_psi_max: float = PSI_SHIFT
    feature_psi_max: float = PSI_SHIFT

    def __post_init__(self) -> None:
        for name in (
            "first_payment_default_max",
            "ever_30_mob3_max",
            "approval_rate_min",
            "approval_rate_max",
        ):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InputError("must be a share in [0, 1]", field=name)
        if self.approval_rate_min > self.approval_rate_max:
            raise InputError("the band's lower end is above its upper end", field="approval_rate_min")


@dataclass(frozen=True, slots=True)
class Indicator:
    name: str
    value: float | None
    rows: int
    threshold: str
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "rows": self.rows,
            "threshold": self.threshold,
            "status": self.status,
        }


def _share(flags: npt.ArrayLike | None) -> tuple[float | None, int]:
    """Mean of the measured flags (NaN = not measured) and how many were measured."""
    if flags is None:
        return None, 0
    values = np.asarray(flags, dtype=np.float64)
    measured = values[~np.isnan(values)]
    if not np.isin(measured, (0.0, 1.0)).all():
        raise InputError("flags must be 0, 1 or NaN (not measured)", field="flags")
    return (float(measured.mean()) if measured.size else None), int(measured.size)


def _at_most(name: str, value: float | None, rows: int, bound: float) -> Indicator:
    if value is None:
        return Indicator(name, None, rows, f"<= {bound:g}", STATUS_NO_DATA)
    return Indicator(name, value, rows, f"<= {bound:g}", STATUS_OK if value <= bound else STATUS_ALERT)


@dataclass(frozen=True, slots=True)
class IndicatorInputs:
    """Per-row flags (1, 0, or NaN when not yet measurable) and the stability figures."""

    first_payment_default: npt.ArrayLike | None = None
    ever_30_mob3: npt.ArrayLike | None = None
    approved: npt.ArrayLike | None = None
    score_psi: float | None = None
    feature_psi: Mapping[str, float] = field(default_factory=dict)


def early_indicators(inputs: IndicatorInputs, thresholds: AlertThresholds | None = None) -> list[Indicator]:
    """The indicators of one population, each with its status."""
    limits = thresholds or AlertThresholds()
    fpd, fpd_rows = _share(inputs.first_payment_default)
    mob3, mob3_rows = _share(inputs.ever_30_mob3)
    approval, approval_rows = _share(inputs.approved)
    out = [
        _at_most("first_payment_default_rate", fpd, fpd_rows, limits.first_payment_default_max),
        _at_most("ever_30_mob3_rate", mob3, mob3_rows, limits.ever_30_mob3_max),
    ]
    band = f"in [{limits.approval_rate_min:g}, {limits.approval_rate_max:g}]"
    if approval is None:
        out.append(Indicator("approval_rate", None, 0, band, STATUS_NO_DATA))
    else:
        inside = limits.approval_rate_min <= approval <= limits.approval_rate_max
        out.append(
            Indicator("approval_rate", approval, approval_rows, band, STATUS_OK if inside else STATUS_ALERT)
        )
    out.append(_at_most("score_psi", inputs.score_psi, 0, limits.score_psi_max))
    if inputs.feature_psi:
        worst = max(inputs.feature_psi, key=lambda name: (inputs.feature_psi[name], name))
        item = _at_most(f"feature_psi_max ({worst})", inputs.feature_psi[worst], 0, limits.feature_psi_max)
        out.append(item)
    return out


def indicators_by_cohort(
    cohorts: Sequence[str],
    first_payment_default: npt.ArrayLike,
    ever_30_mob3: npt.ArrayLike,
    approved: npt.ArrayLike,
    thresholds: AlertThresholds | None = None,
) -> dict[str, list[Indicator]]:
    """:func:`early_indicators` per cohort label (rows aligned with ``cohorts``), cohorts in sorted order."""
    labels = np.asarray(cohorts, dtype=object)
    fpd = np.asarray(first_payment_default, dtype=np.float64)
    mob3 = np.asarray(ever_30_mob3, dtype=np.float64)
    booked = np.asarray(approved, dtype=np.float64)
    if not labels.shape == fpd.shape == mob3.shape == booked.shape:
        raise InputError("cohorts and flags must have one entry per row", field="cohorts")
    out = {}
    for cohort in sorted(set(labels.tolist())):
        rows = labels == cohort
        out[str(cohort)] = early_indicators(IndicatorInputs(fpd[rows], mob3[rows], booked[rows]), thresholds)[
            :3
        ]
    return out
