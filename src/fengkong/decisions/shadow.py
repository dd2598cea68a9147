"""Challenger models scored in shadow: off the decision's path, on a bounded queue, never deciding.

A decision hands its feature snapshot to :meth:`ShadowScoring.submit` and goes on; one worker thread scores
every challenger on it and hands the results to a sink (a list in tests, the trace lake or a monitoring table
in a service). The queue holds at most ``bounds.decision_shadow_queue_max`` decisions: when it is full a
submission is *dropped and counted*, never waited for, so a slow challenger cannot slow a decision down.
:meth:`close` lets the worker finish what is queued (at most ``decision_shadow_join_seconds_max``).

A challenger that raises is recorded as an error for that decision; the worker keeps going.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fengkong import bounds
from fengkong.domain.features import FeatureVector
from fengkong.domain.protocols import Scorer
from fengkong.errors import InputError, InvariantError


@dataclass(frozen=True, slots=True)
class ShadowScore:
    """A challenger's probability of default for one decision (or the error it raised)."""

    decision_id: str
    model: str
    model_version: str
    probability_of_default: float | None
    error: str = ""


ShadowSink = Callable[[ShadowScore], None]


class ShadowScoring:
    """A bounded queue and one worker scoring ``challengers`` (name → scorer, each with a ``version``)."""

    def __init__(
        self,
        challengers: Mapping[str, Scorer],
        sink: ShadowSink,
        *,
        capacity: int = bounds.decision_shadow_queue_max,
    ) -> None:
        if not 1 <= capacity <= bounds.decision_shadow_queue_max:
            raise InputError(f"must be between 1 and {bounds.decision_shadow_queue_max}", field="capacity")
        if len(challengers) > bounds.decision_challengers_max:
            raise InputError(f"at most {bounds.decision_challengers_max} challengers", field="challengers")
        self.challengers = dict(challengers)
        self._sink = sink
        self._queue: queue.Queue[tuple[str, FeatureVector] | None] = queue.Queue(maxsize=capacity)
        self.submitted = 0
        self.dropped = 0
        self.scored = 0
        self._closed = False
        self._worker = threading.Thread(target=self._run, name="fengkong-shadow-scoring", daemon=True)
        self._worker.start()

    def submit(self, decision_id: str, features: FeatureVector) -> bool:
        """Queue a decision's snapshot for the challengers; False (and counted) when the queue is full."""
        if self._closed:
            raise InvariantError("shadow scoring is closed")
        try:
            self._queue.put_nowait((decision_id, features))
        except queue.Full:
            self.dropped += 1
            return False
        self.submitted += 1
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                decision_id, features = item
                for name, scorer in self.challengers.items():
                    version = str(getattr(scorer, "version", name))
                    try:
                        score = scorer.score(features)
                    except Exception as error:
                        self._sink(
                            ShadowScore(decision_id, name, version, None, f"{type(error).__name__}: {error}")
                        )
                        continue
                    self._sink(
                        ShadowScore(decision_id, name, score.model_version, score.probability_of_default)
                    )
                self.scored += 1
            finally:
                self._queue.task_done()

    def close(self) -> None:
        """Score what is queued, then stop the worker (waits at most ``decision_shadow_join_seconds_max``)."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None, timeout=bounds.decision_shadow_join_seconds_max)
        self._worker.join(timeout=bounds.decision_shadow_join_seconds_max)
        if self._worker.is_alive():
            raise InvariantError("the shadow worker did not stop in time")
