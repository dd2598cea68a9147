"""Days past due, delinquency buckets and the five-tier asset classification, vectorised over loans.

Thresholds are configuration (:class:`DelinquencyPolicy`), never constants in code: DOMAIN.md gives the
commonly used days-past-due lines (over 90 substandard, over 270 doubtful, over 360 loss) and asks that they
be verified against the primary text, so a caller may pass others.

* Days past due on business date *D*: ``D − overdue_since`` where ``overdue_since`` is the due date of the
  oldest amount still unpaid, else 0. An amount falling due on *D* is not past due on *D*.
* Buckets: current (0 days), M1 (1–30), M2 (31–60), M3+ (61 and more).
* Classification: normal (0 days), special mention (1 up to the substandard line), substandard (over
  ``substandard_days_over``), doubtful (over ``doubtful_days_over``), loss (over ``loss_days_over``).
  A loan is non-accrual once substandard or worse.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Final

import numpy as np
import numpy.typing as npt

from fengkong.errors import InputError

DaysArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int8]


class Bucket(IntEnum):
    CURRENT = 0
    M1 = 1
    M2 = 2
    M3_PLUS = 3


class AssetClass(IntEnum):
    """五级分类, ordered from best to worst."""

    NORMAL = 0
    SPECIAL_MENTION = 1
    SUBSTANDARD = 2
    DOUBTFUL = 3
    LOSS = 4


BUCKET_NAMES: Final = {Bucket.CURRENT: "current", Bucket.M1: "M1", Bucket.M2: "M2", Bucket.M3_PLUS: "M3+"}


@dataclass(frozen=True, slots=True)
class DelinquencyPolicy:
    """Day thresholds for buckets, classification and write-off (all configuration)."""

    m1_days_max: int = 30
    m2_days_max: int = 60
    substandard_days_over: int = 90
    doubtful_days_over: int = 270
    loss_days_over: int = 360
    write_off_days: int | None = 180  # write off when days past due reach this; None: never automatically

    def __post_init__(self) -> None:
        ordered = (
            ("m1_days_max", self.m1_days_max),
            ("m2_days_max", self.m2_days_max),
        )
        if not 0 < self.m1_days_max < self.m2_days_max:
            raise InputError(f"need 0 < m1_days_max < m2_days_max, got {ordered}", field="m2_days_max")
        if not 0 < self.substandard_days_over < self.doubtful_days_over < self.loss_days_over:
            raise InputError(
                "need 0 < substandard_days_over < doubtful_days_over < loss_days_over",
                field="loss_days_over",
            )
        if self.write_off_days is not None and self.write_off_days < 1:
            raise InputError("must be at least 1 day, or None", field="write_off_days")


def days_past_due(business_ordinal: int, overdue_since_ordinal: DaysArray) -> DaysArray:
    """Days past due per loan; ``overdue_since_ordinal`` is a date ordinal, or 0 when nothing is overdue."""
    return np.where(overdue_since_ordinal > 0, business_ordinal - overdue_since_ordinal, 0).astype(np.int64)


def buckets(days: DaysArray, policy: DelinquencyPolicy) -> CodeArray:
    result = np.zeros(days.shape, dtype=np.int8)
    result[days > 0] = Bucket.M1
    result[days > policy.m1_days_max] = Bucket.M2
    result[days > policy.m2_days_max] = Bucket.M3_PLUS
    return result


def classify(days: DaysArray, policy: DelinquencyPolicy) -> CodeArray:
    result = np.zeros(days.shape, dtype=np.int8)
    result[days > 0] = AssetClass.SPECIAL_MENTION
    result[days > policy.substandard_days_over] = AssetClass.SUBSTANDARD
    result[days > policy.doubtful_days_over] = AssetClass.DOUBTFUL
    result[days > policy.loss_days_over] = AssetClass.LOSS
    return result


def non_accrual(classes: CodeArray) -> npt.NDArray[np.bool_]:
    """True where the loan is substandard or worse."""
    return classes >= AssetClass.SUBSTANDARD
