"""The demo's feature path: the in-process online engine fed by ingestion, read by decisions, checked offline.

Every table the demo's ingestion accepts (validated, deduplicated: exactly what reaches the lake) is applied
to an :class:`~fengkong.features.online.OnlineFeatureEngine` holding :data:`DEMO_FEATURE_NAMES`, the
standard features the demo's policy reads. Decisions read through a
:class:`~fengkong.features.parity.RecordingReader`, as of each application's receipt — what a real-time
decision would have seen. At the end, parity (a) recomputes every logged read with the offline engine over
the lake at the logged key and time, and the scoreboard reports the agreement feature by feature.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pyarrow as pa

from fengkong.domain.features import FeatureVector
from fengkong.features.online import OnlineFeatureEngine
from fengkong.features.parity import RecordingReader, check_logged_reads
from fengkong.features.spec import FeatureSet
from fengkong.features.standard import STANDARD_FEATURES

#: the standard features the demo's policy reads (fraud and eligibility checks). The simulated applications
#: name no device, so the policy's device check (``device_accounts_distinct_30d`` when an application names
#: its device) falls back to the book's device map and the device feature is not held here.
DEMO_FEATURE_NAMES: Final = (
    "consumer_login_devices_distinct_7d",  # devices the applicant logged in from
    "consumer_orders_30d",
    "consumer_transfers_to_unknown_24h",
    "rider_deliveries_30d",
    "merchant_settled_amount_30d_fen",
)
DEMO_FEATURES: Final = FeatureSet(tuple(STANDARD_FEATURES.get(name) for name in DEMO_FEATURE_NAMES))
#: state older than this before the day decided is dropped (reads are at yesterday's applications)
EVICT_LAG: Final = timedelta(days=2)


@dataclass(slots=True)
class DemoFeatures:
    """The online engine, its recording reader, and what feeding and reading it cost."""

    engine: OnlineFeatureEngine = field(default_factory=lambda: OnlineFeatureEngine(DEMO_FEATURES))
    reader: RecordingReader = field(init=False)
    events_applied: int = 0
    apply_seconds: float = 0.0
    read_seconds: float = 0.0
    reads: int = 0

    def __post_init__(self) -> None:
        self.reader = RecordingReader(self.engine)

    def sink(self, event_type: str, table: pa.Table) -> None:
        """Ingestion's table sink: apply an accepted table to the online engine."""
        if not self.engine.columns(event_type)[2:]:  # no source of the demo's features reads this type
            return
        started = time.perf_counter()
        columns = [c for c in self.engine.columns(event_type) if c in table.column_names]
        self.events_applied += self.engine.apply_table(event_type, table.select(columns))
        self.apply_seconds += time.perf_counter() - started

    def evict_before(self, instant: datetime) -> None:
        started = time.perf_counter()
        self.engine.evict(instant - EVICT_LAG)
        self.apply_seconds += time.perf_counter() - started

    def read(
        self, entity_type: str, entity_id: str, as_of: datetime, names: Sequence[str] | None = None
    ) -> FeatureVector:
        """A ``FeatureReader``: read through the recording reader, timed."""
        started = time.perf_counter()
        vector = self.reader.read(entity_type, entity_id, as_of, names)
        self.read_seconds += time.perf_counter() - started
        self.reads += 1
        return vector

    def scoreboard(self, lake_dir: Path) -> tuple[dict[str, Any], dict[str, float]]:
        """The feature section of the scoreboard, with parity (a) on every logged read, and the seconds
        spent (kept apart: the section itself is the same on every run of one seed)."""
        started = time.perf_counter()
        logged = self.reader.reads
        results = check_logged_reads(DEMO_FEATURES, logged, lake_dir=lake_dir) if logged else []
        parity_seconds = time.perf_counter() - started
        by_feature = [
            {
                "feature": result.name,
                "compared": result.compared,
                "mismatches": result.mismatches,
                "exact": result.exact,
                "max_difference": result.max_difference,
            }
            for result in results
        ]
        section = {
            "engine": "in-process online engine, fed by ingestion, read as of each application's receipt",
            "features_read": list(DEMO_FEATURE_NAMES),
            "events_applied": self.events_applied,
            "entries_held_at_end": self.engine.entries,
            "reads": self.reads,
            "parity_logged_reads": {
                "reads_checked": len(logged),
                "values_compared": sum(r.compared for r in results),
                "mismatches": sum(r.mismatches for r in results),
                "agrees": all(r.agrees for r in results),
                "by_feature": by_feature,
            },
        }
        seconds = {
            "features_online_apply": round(self.apply_seconds, 3),
            "features_online_read": round(self.read_seconds, 3),
            "features_parity": round(parity_seconds, 3),
        }
        return section, seconds
