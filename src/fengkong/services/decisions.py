"""Use cases of the decision engine: record decisions (header in SQL, trace body in the lake), explain one,
and the SQL exposure port the authorisation flow holds credit through.

The trace lake: ``<lake>/date=YYYY-MM-DD/part-NNNNNN.parquet`` (the Asia/Shanghai business date of the
decision), one file per recorded batch, written atomically by the event lake's writer
(:func:`fengkong.ingest.lake.write_parquet_atomically`); the API's one-decision files are
``part-u<random>.parquet`` (no folder scan per write) until :func:`compact_trace_day` merges them.
Columns: ``decision_id``, ``flow``, ``party_id``, ``outcome``, ``decided_at`` (``timestamp[us, UTC]``) and
``body`` (the trace as JSON text). A trace is read by ID from the file its SQL header names
(``trace_part``), or, without a header, by DuckDB over the lake.

Recording order: the batch's trace file first, then every header in one transaction. A header therefore
never points at a missing body; a body whose headers failed to commit is an orphan nobody reads.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock, SystemClock, business_date
from fengkong.compliance.reasons import default_reason_texts
from fengkong.decisions.engine import DecisionEngine
from fengkong.decisions.onboarding import Decided
from fengkong.decisions.policy import load_policy
from fengkong.decisions.ports import HoldPlaced, HoldRefused, HoldRequest, LineExposure
from fengkong.decisions.scorers import GBMScorer, ScorecardScorer
from fengkong.decisions.trace import Trace
from fengkong.domain.protocols import Scorer
from fengkong.errors import BoundExceededError, InputError, NotFoundError
from fengkong.ingest.lake import write_parquet_atomically
from fengkong.services.database import resolve_database_url
from fengkong.services.scoring import load_model
from fengkong.store import exposure as exposure_store
from fengkong.store.config import make_engine
from fengkong.store.decisions import DecisionHeader, get_header, held_by, move_trace_parts, record_headers

TRACE_SCHEMA: Final = pa.schema(
    [
        ("decision_id", pa.string()),
        ("flow", pa.string()),
        ("party_id", pa.string()),
        ("outcome", pa.string()),
        ("decided_at", pa.timestamp("us", tz="UTC")),
        ("body", pa.string()),
    ]
)


def _write_uniquely(table: pa.Table, directory: Path, *, fsync: bool) -> Path:
    """Write ``table`` as ``part-u<uuid>.parquet`` in ``directory``: under a temporary name, then renamed
    (atomic; the name is new, so nothing is overwritten)."""
    directory.mkdir(parents=True, exist_ok=True)
    name = uuid.uuid4().hex
    temporary = directory / f".tmp-{name}.parquet"
    final = directory / f"part-u{name}.parquet"
    try:
        with open(temporary, "wb") as sink:
            pq.write_table(table, sink, compression="zstd")
            sink.flush()
            if fsync:
                os.fsync(sink.fileno())
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    return final


class TraceLake:
    """Decision trace bodies in Parquet, appended one file per batch and business date."""

    def __init__(self, root: Path | str, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync

    def append(self, traces: Sequence[Trace], *, unique_names: bool = False) -> dict[str, str]:
        """Write ``traces``; returns each decision ID's file, relative to the lake's root.

        ``unique_names`` (one decision per request, as the API records) names each file
        ``part-u<random>.parquet`` instead of the next sequence number, so a writer never lists a folder that
        grows by one file per decision; :func:`compact_trace_day` merges them later."""
        if len(traces) > bounds.trace_lake_batch_traces_max:
            raise BoundExceededError(
                "trace_lake_batch_traces_max", bounds.trace_lake_batch_traces_max, len(traces)
            )
        by_day: dict[str, list[Trace]] = defaultdict(list)
        for trace in traces:
            by_day[business_date(trace.decided_at).isoformat()].append(trace)
        parts: dict[str, str] = {}
        for day, chosen in sorted(by_day.items()):
            table = pa.table(
                {
                    "decision_id": [t.decision_id for t in chosen],
                    "flow": [t.flow for t in chosen],
                    "party_id": [t.party_id for t in chosen],
                    "outcome": [t.outcome for t in chosen],
                    "decided_at": [t.decided_at for t in chosen],
                    "body": [t.to_text() for t in chosen],
                },
                schema=TRACE_SCHEMA,
            )
            directory = self.root / f"date={day}"
            if unique_names:
                path = _write_uniquely(table, directory, fsync=self.fsync)
            else:
                path = write_parquet_atomically(table, directory, fsync=self.fsync)
            relative = path.relative_to(self.root).as_posix()
            parts.update((t.decision_id, relative) for t in chosen)
        return parts

    def _part_path(self, part: str) -> Path:
        path = (self.root / part).resolve()
        if not path.is_relative_to(self.root.resolve()) or path.suffix != ".parquet":
            raise InputError(f"{part!r} is not a file of the trace lake", field="trace_part")
        if not path.is_file():
            raise NotFoundError(f"the trace lake has no {part}")
        return path

    def read(self, decision_id: str, part: str | None = None) -> Trace:
        """The trace of ``decision_id``: from ``part`` when its header named one, else searched by DuckDB."""
        if part is not None:
            table = pq.ParquetFile(self._part_path(part)).read(
                columns=["decision_id", "body"], use_threads=False
            )
            found = pc.equal(table.column("decision_id"), decision_id)
            bodies = table.filter(found).column("body").to_pylist()
        else:
            pattern = (self.root / "date=*" / "part-*.parquet").as_posix()
            if not any(self.root.glob("date=*/part-*.parquet")):
                raise NotFoundError(f"the trace lake {self.root} is empty")
            connection = duckdb.connect(config={"threads": 1})
            try:
                rows = connection.execute(
                    "SELECT body FROM read_parquet(?) WHERE decision_id = ?", [pattern, decision_id]
                ).fetchall()
            finally:
                connection.close()
            bodies = [row[0] for row in rows]
        if not bodies:
            raise NotFoundError(f"no trace of decision {decision_id!r}")
        return Trace.from_text(str(bodies[0]))


def compact_trace_day(engine: sa.Engine, lake: TraceLake, day: date) -> tuple[int, int]:
    """Merge one business date's trace files (the API writes one per decision) into files of up to
    ``trace_lake_batch_traces_max`` traces: the merged files are written first, the headers moved to them in
    one transaction, then the old files removed. Returns (files before, files written)."""
    folder = lake.root / f"date={day.isoformat()}"
    parts = sorted(folder.glob("part-*.parquet"))
    if len(parts) < 2:
        return len(parts), 0
    tables = [pq.ParquetFile(path).read(use_threads=False) for path in parts]
    relative = [path.relative_to(lake.root).as_posix() for path in parts]
    merged = pa.concat_tables(tables)
    seen: set[str] = set()
    first = []  # a batch recorded twice wrote its bodies twice: keep one of each
    for decision_id in merged.column("decision_id").to_pylist():
        first.append(decision_id not in seen)
        seen.add(decision_id)
    merged = merged.filter(pa.array(first)).sort_by(
        [("decided_at", "ascending"), ("decision_id", "ascending")]
    )
    new_part: dict[str, str] = {}
    written = 0
    step = bounds.trace_lake_batch_traces_max
    for start in range(0, merged.num_rows, step):
        chunk = merged.slice(start, step)
        path = write_parquet_atomically(chunk, folder, fsync=lake.fsync)
        name = path.relative_to(lake.root).as_posix()
        new_part.update(dict.fromkeys(chunk.column("decision_id").to_pylist(), name))
        written += 1
    moves = [
        (decision_id, old, new_part[decision_id])
        for table, old in zip(tables, relative, strict=True)
        for decision_id in table.column("decision_id").to_pylist()
    ]
    with engine.begin() as connection:
        move_trace_parts(connection, moves)
    for path in parts:
        path.unlink()
    return len(parts), written


def header_of(decided: Decided, trace_part: str) -> DecisionHeader:
    trace = decided.trace
    versions = dict(trace.versions)
    offer = trace.offer
    return DecisionHeader(
        decision_id=trace.decision_id,
        flow=trace.flow,
        party_id=trace.party_id,
        outcome=trace.outcome,
        decided_at=trace.decided_at,
        reasons=trace.reasons,
        policy_version=versions.get("policy", ""),
        model_versions=tuple(
            (name.removeprefix("model:"), version)
            for name, version in trace.versions
            if name.startswith("model:")
        ),
        feature_set_version=versions.get("features", ""),
        probability_of_default=decided.decision.score,
        risk_band=trace.risk_band,
        offer_amount_fen=None if offer is None else offer.amount_fen,
        annualised_rate_pct=None if offer is None else offer.annualised_rate_pct,
        trace_part=trace_part,
    )


class DecisionRecorder:
    """Records batches of decisions: trace bodies to the lake, headers to SQL."""

    def __init__(self, engine: sa.Engine, lake: TraceLake, clock: Clock | None = None) -> None:
        self.engine = engine
        self.lake = lake
        self.clock: Clock = clock if clock is not None else SystemClock()

    def record(self, decided: Sequence[Decided]) -> int:
        """Record ``decided``; returns how many headers were new (a retried batch adds none)."""
        if not decided:
            return 0
        parts = self.lake.append([item.trace for item in decided])
        headers = [header_of(item, parts[item.trace.decision_id]) for item in decided]
        with self.engine.begin() as connection:
            return record_headers(connection, headers, self.clock.now())

    def explain(self, decision_id: str) -> Explanation:
        with self.engine.connect() as connection:
            header = get_header(connection, decision_id)
        return Explanation(header, self.lake.read(decision_id, header.trace_part))


@dataclass(frozen=True, slots=True)
class Explanation:
    """A decision's header and trace, with the customer sentence of each reason."""

    header: DecisionHeader
    trace: Trace

    def reason_texts(self) -> list[dict[str, str]]:
        texts = default_reason_texts()
        out = []
        for code in self.trace.reasons:
            try:
                found = texts.lookup(code)
                out.append({"code": code, "zh-CN": found.zh_cn, "en": found.en})
            except InputError:
                out.append({"code": code, "zh-CN": "", "en": ""})
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "decision_id": self.header.decision_id,
            "flow": self.header.flow,
            "party_id": self.header.party_id,
            "outcome": self.header.outcome,
            "decided_at": self.trace.to_json()["decided_at"],
            "reasons": self.reason_texts(),
            "trace_part": self.header.trace_part,
            "trace": self.trace.to_json(),
        }


def explain_decision(decision_id: str, lake_dir: Path, url: str | None = None) -> Explanation:
    """The header (from the database at ``url``, default as ``fengkong db``) and trace of one decision."""
    engine = make_engine(resolve_database_url(url))
    try:
        return DecisionRecorder(engine, TraceLake(lake_dir)).explain(decision_id)
    finally:
        engine.dispose()


class ConnectionExposure:
    """The authorisation flow's exposure port on ``store/exposure.py``, inside the caller's transaction."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def line(self, party_id: str, product: str, hold_id: str) -> LineExposure | None:
        found = exposure_store.party_exposure(self.connection, party_id).get(product)
        if found is None:
            return None
        own = held_by(self.connection, hold_id, party_id, product)
        return LineExposure(found.limit_fen, min(found.limit_fen, found.available_fen + own))

    def hold(self, request: HoldRequest) -> HoldPlaced | HoldRefused:
        result = exposure_store.reserve(
            self.connection,
            request.party_id,
            request.household_id,
            request.product,
            request.amount_fen,
            request.hold_id,
            request.expires_at,
            request.now,
        )
        if isinstance(result, exposure_store.Refusal):
            return HoldRefused(result.reservation_id, result.cap, result.available_fen)
        return HoldPlaced(result.reservation_id, result.amount_fen, result.expires_at)


class SqlExposure:
    """The same port on an engine: the line read in one transaction, each hold in its own."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def line(self, party_id: str, product: str, hold_id: str) -> LineExposure | None:
        with self.engine.connect() as connection:
            return ConnectionExposure(connection).line(party_id, product, hold_id)

    def hold(self, request: HoldRequest) -> HoldPlaced | HoldRefused:
        with self.engine.begin() as connection:
            return ConnectionExposure(connection).hold(request)


def check_policy_file(path: Path) -> dict[str, Any]:
    """Load and compile the policy at ``path``: its version and rules (a bad file raises naming its line)."""
    policy = load_policy(path)
    return {
        "version": policy.version,
        "rules": [
            {
                "line": rule.line,
                "id": rule.rule_id,
                "stage": rule.stage.value,
                "flows": [flow.value for flow in rule.flows],
                "outcome": rule.outcome.label,
                "reason": rule.reason,
                "priority": rule.priority,
                "when": rule.expression,
            }
            for rule in policy.rules
        ],
    }


def models_from_directory(directory: Path) -> dict[str, Scorer]:
    """The scorecard and the GBM of a model directory (``fengkong scorecard fit``'s layout: manifest.json,
    scorecard.json, gbm/), as one-applicant scorers named as policies name them (``scorecard``, ``gbm``),
    each versioned by the SHA-256 of its reviewable file."""
    loaded = load_model(directory)
    table_text = (directory / "scorecard.json").read_text(encoding="utf-8")
    scorecard_version = "scorecard-" + hashlib.sha256(table_text.encode("utf-8")).hexdigest()[:12]
    gbm_version = "gbm-" + str(loaded.gbm.card.get("model_sha256", ""))[:12]
    return {
        "scorecard": ScorecardScorer(loaded.table, scorecard_version),
        "gbm": GBMScorer(loaded.gbm, gbm_version),
    }


def engine_from_files(policy_path: Path, model_directory: Path, **ports: Any) -> DecisionEngine:
    """The engine of a policy file and a model directory, with ``ports`` as
    :class:`~fengkong.decisions.engine.DecisionEngine` takes them (``reader`` is required)."""
    return DecisionEngine.from_policy_file(
        policy_path, models=models_from_directory(model_directory), **ports
    )
