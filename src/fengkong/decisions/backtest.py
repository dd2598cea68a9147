"""Backtests: decide stored applications again under another policy and compare the two side by side.

Input: the traces of past onboarding decisions (their feature snapshots are point in time by construction:
read as of each application's receipt), two engines (the policy in force and a candidate, each with its
models), and the realised outcome of each party where it is known (True: went bad). Each application is
re-decided by both engines from its snapshot (:meth:`DecisionEngine.redecide`: the fraud answer as stored,
the models run again); a candidate that reads a feature the snapshot lacks needs a ``reader`` that can
supply it (the offline engine at the application's receipt), else the application is refused naming the
feature.

Per segment and overall, for each policy: applications, approvals, approval rate, volume offered (fen),
bad rate among approvals whose party's outcome is known (loans that were booked), and exposure at default
(the offered amounts of approvals that went bad — a loss before recoveries); and the swap sets (approved by
one policy only). An approval with no known outcome (the baseline declined it, so nothing was booked) is
counted in ``approvals`` but not in the bad rate: ``approvals - approvals_with_outcome`` says how many
(reject inference is not done here). Net margin is not computed (it needs funding costs and the servicing
ledger).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from fengkong.decisions.engine import DecisionEngine
from fengkong.decisions.trace import Trace
from fengkong.domain.decision import Outcome
from fengkong.domain.features import FeatureReader
from fengkong.errors import InputError

ALL: str = "all"


@dataclass(slots=True)
class PolicyFigures:
    applications: int = 0
    approvals: int = 0
    volume_fen: int = 0
    approvals_with_outcome: int = 0
    bads: int = 0
    exposure_at_default_fen: int = 0

    @property
    def approval_rate(self) -> float | None:
        return None if not self.applications else self.approvals / self.applications

    @property
    def bad_rate(self) -> float | None:
        return None if not self.approvals_with_outcome else self.bads / self.approvals_with_outcome

    def to_json(self) -> dict[str, object]:
        return {
            "applications": self.applications,
            "approvals": self.approvals,
            "approval_rate": self.approval_rate,
            "volume_fen": self.volume_fen,
            "approvals_with_outcome": self.approvals_with_outcome,
            "bad_rate": self.bad_rate,
            "exposure_at_default_fen": self.exposure_at_default_fen,
        }


@dataclass(slots=True)
class SegmentComparison:
    baseline: PolicyFigures = field(default_factory=PolicyFigures)
    candidate: PolicyFigures = field(default_factory=PolicyFigures)
    approved_by_candidate_only: int = 0
    approved_by_baseline_only: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "baseline": self.baseline.to_json(),
            "candidate": self.candidate.to_json(),
            "approved_by_candidate_only": self.approved_by_candidate_only,
            "approved_by_baseline_only": self.approved_by_baseline_only,
        }


@dataclass(frozen=True, slots=True)
class Backtest:
    baseline_version: str
    candidate_version: str
    segments: Mapping[str, SegmentComparison]

    def to_json(self) -> dict[str, object]:
        return {
            "baseline_version": self.baseline_version,
            "candidate_version": self.candidate_version,
            "segments": {name: comparison.to_json() for name, comparison in self.segments.items()},
        }


def _count(figures: PolicyFigures, trace: Trace, bad: bool | None) -> None:
    figures.applications += 1
    if trace.outcome != Outcome.APPROVE.label or trace.offer is None:
        return
    figures.approvals += 1
    figures.volume_fen += trace.offer.amount_fen
    if bad is None:
        return
    figures.approvals_with_outcome += 1
    if bad:
        figures.bads += 1
        figures.exposure_at_default_fen += trace.offer.amount_fen


def compare(
    traces: Sequence[Trace],
    baseline: DecisionEngine,
    candidate: DecisionEngine,
    went_bad: Mapping[str, bool],
    *,
    segment_of: Callable[[Trace], str] | None = None,
    reader: FeatureReader | None = None,
) -> Backtest:
    """Re-decide every onboarding trace under both engines and compare (see the module docstring)."""
    segments: dict[str, SegmentComparison] = {ALL: SegmentComparison()}
    for trace in traces:
        if trace.flow != "onboarding":
            raise InputError(f"{trace.decision_id} is an {trace.flow}, not an application", field="traces")
        first = baseline.redecide(trace, reader=reader).trace
        second = candidate.redecide(trace, reader=reader).trace
        bad = went_bad.get(trace.party_id)
        names = [ALL] if segment_of is None else [ALL, segment_of(trace)]
        for name in names:
            comparison = segments.setdefault(name, SegmentComparison())
            _count(comparison.baseline, first, bad)
            _count(comparison.candidate, second, bad)
            approved = (first.outcome == Outcome.APPROVE.label, second.outcome == Outcome.APPROVE.label)
            comparison.approved_by_baseline_only += approved == (True, False)
            comparison.approved_by_candidate_only += approved == (False, True)
    return Backtest(baseline.version, candidate.version, segments)
