"""Fairness: approval and price disparity by protected group, at equal risk band.

Protected attributes (age band, gender, region) are never model inputs (the dataset keeps them apart and a
test proves no model sees them); they are used only here, to ask: *among applicants of the same risk, does
one group get approved less often, or pay more?* Comparing raw approval rates would blame the model for
real differences in risk; comparing within a risk band does not.

For each attribute and band: per group, applicants, approval rate and mean price of the approved. Per
attribute, the band-weighted **approval ratio** of each group (its approval rate over the band's best
group's, averaged over bands with the group's applicants as weights; the four-fifths rule flags a ratio
below 0.8) and the band-weighted **price gap** (its mean price minus the band's lowest group mean, in the
price's own unit). An attribute the data does not record is reported as not recorded, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from fengkong import bounds
from fengkong.errors import InputError

FOUR_FIFTHS: Final = 0.8
GROUP_ROWS_MIN: Final = 20  # groups smaller than this in a band are listed but not compared


@dataclass(frozen=True, slots=True)
class GroupFigures:
    group: str
    applicants: int
    approval_ratio: float | None  # band-weighted, against the band's best group
    price_gap: float | None  # band-weighted, against the band's cheapest group
    flagged: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "applicants": self.applicants,
            "approval_ratio": self.approval_ratio,
            "price_gap": self.price_gap,
            "flagged": self.flagged,
        }


@dataclass(frozen=True, slots=True)
class AttributeFairness:
    attribute: str
    recorded: bool
    groups: tuple[GroupFigures, ...]
    by_band: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "recorded": self.recorded,
            "groups": [group.to_dict() for group in self.groups],
            "by_band": list(self.by_band),
        }


def fairness_report(
    groups: Mapping[str, npt.ArrayLike | None],
    risk_band: npt.ArrayLike,
    approved: npt.ArrayLike,
    price: npt.ArrayLike,
) -> list[AttributeFairness]:
    """Disparity per protected attribute (``groups``: attribute → group label per row, or None when the
    data does not record it), at equal ``risk_band``. ``price`` is read for approved rows only."""
    band = np.asarray(risk_band, dtype=object)
    accepted = np.asarray(approved, dtype=bool)
    prices = np.asarray(price, dtype=np.float64)
    if not band.shape == accepted.shape == prices.shape:
        raise InputError("risk_band, approved and price need one entry per row", field="risk_band")
    out = []
    for attribute, labels in groups.items():
        if labels is None:
            out.append(AttributeFairness(attribute, False, (), ()))
            continue
        values = np.asarray(labels, dtype=object).astype(str)
        if values.shape != band.shape:
            raise InputError("needs one group label per row", field=f"groups.{attribute}")
        if len(set(values.tolist())) > bounds.fairness_groups_max:
            raise InputError(
                f"more than fairness_groups_max={bounds.fairness_groups_max} groups",
                field=f"groups.{attribute}",
            )
        out.append(_attribute(attribute, values, band, accepted, prices))
    return out


def _attribute(
    attribute: str,
    labels: npt.NDArray[np.str_],
    band: npt.NDArray[np.object_],
    accepted: npt.NDArray[np.bool_],
    prices: npt.NDArray[np.float64],
) -> AttributeFairness:
    frame = pd.DataFrame({"group": labels, "band": band.astype(str), "approved": accepted, "price": prices})
    frame["approved_price"] = frame["price"].where(frame["approved"])
    cells = (
        frame.groupby(["band", "group"])
        .agg(
            applicants=("approved", "size"),
            approval_rate=("approved", "mean"),
            price=("approved_price", "mean"),
        )
        .reset_index()
    )
    ratio_parts: dict[str, list[tuple[float, int]]] = {}
    gap_parts: dict[str, list[tuple[float, int]]] = {}
    by_band = []
    for band_name, cell in cells.groupby("band"):
        comparable = cell[cell["applicants"] >= GROUP_ROWS_MIN]
        best = float(comparable["approval_rate"].max()) if len(comparable) else float("nan")
        cheapest = float(comparable["price"].min()) if comparable["price"].notna().any() else float("nan")
        for row in comparable.to_dict("records"):
            if best > 0:
                ratio_parts.setdefault(str(row["group"]), []).append(
                    (float(row["approval_rate"]) / best, int(row["applicants"]))
                )
            if np.isfinite(cheapest) and pd.notna(row["price"]):
                gap_parts.setdefault(str(row["group"]), []).append(
                    (float(row["price"]) - cheapest, int(row["applicants"]))
                )
        by_band.append(
            {
                "band": str(band_name),
                "groups": [
                    {
                        "group": str(row["group"]),
                        "applicants": int(row["applicants"]),
                        "approval_rate": float(row["approval_rate"]),
                        "mean_price": None if pd.isna(row["price"]) else float(row["price"]),
                    }
                    for row in cell.to_dict("records")
                ],
            }
        )
    figures = []
    for group in sorted(set(labels.tolist())):
        ratio = _weighted(ratio_parts.get(group))
        gap = _weighted(gap_parts.get(group))
        figures.append(
            GroupFigures(
                group=group,
                applicants=int((labels == group).sum()),
                approval_ratio=ratio,
                price_gap=gap,
                flagged=ratio is not None and ratio < FOUR_FIFTHS,
            )
        )
    return AttributeFairness(attribute, True, tuple(figures), tuple(by_band))


def _weighted(parts: list[tuple[float, int]] | None) -> float | None:
    if not parts:
        return None
    values = np.asarray([value for value, _ in parts])
    weights = np.asarray([weight for _, weight in parts], dtype=np.float64)
    return float(np.sum(values * weights) / weights.sum())
