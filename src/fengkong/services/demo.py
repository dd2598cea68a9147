"""Use case: the demo loop — ecosystem → fengkong → borrower response, day by day — and its scoreboard.

Every simulated day:

1. the ecosystem steps (``sim/ecosystem.py``) and its events are ingested (validation, deduplication by event
   ID, the Parquet lake under ``<out>/lake``) and folded into the :class:`ObservedBook`;
2. fengkong's baseline policy (:mod:`fengkong.services.baseline_policy`) decides yesterday's applications
   and, once a month, reviews lines — from observed events only;
3. the borrower-response model (``sim/response.py``) answers those actions; its events (applications,
   draws, repayments, transfers) are ingested too, and its ground truth is kept apart under ``<out>/truth``.

The baseline policy stands in for the feature engine, the models and the decision engine until they exist;
``summary.json`` says so. Only :func:`_scoreboard_from_truth` reads the latent state and the truth, to score
the run; nothing that decides does.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from fengkong import __version__, bounds
from fengkong.clock import FixedClock, business_date, start_of_business_day
from fengkong.errors import InputError, InvariantError, require
from fengkong.ingest.dedup import SeenEvents
from fengkong.money import Money
from fengkong.monitoring import metrics
from fengkong.services.baseline_policy import BaselinePolicy, DecisionRecord, ObservedBook, merge_actions
from fengkong.services.database import upgrade_database
from fengkong.services.demo_features import DemoFeatures
from fengkong.services.ingest_events import IngestReport, ingest_tables, open_seen_events
from fengkong.services.model_report import train_evaluate_report
from fengkong.services.supply_chain import SupplyChainParameters, run_supply_chain
from fengkong.sim.ecosystem import Ecosystem
from fengkong.sim.latent import LatentState
from fengkong.sim.response import (
    DUE_DAY,
    PRODUCTS,
    STATEMENT_AGE_DAYS_MIN,
    BorrowerResponse,
    LenderActions,
    ResponseParameters,
    ResponseTruth,
    empty_originations,
)
from fengkong.sim.scenario import Scenario, load_scenario, scenario_from_mapping
from fengkong.store.config import make_engine

QUICK_SCALE: Final = "tiny"
QUICK_DAYS: Final = 150
#: the quick world of the default scenario: large enough for a few hundred loans, small enough for CI
QUICK_SIZE: Final = {
    "consumers": 4_000,
    "riders": 250,
    "merchants": 150,
    "core_enterprises": 5,
    "suppliers_per_enterprise": 6,
    "days": QUICK_DAYS,
}
FULL_SCALE: Final = "small"
FULL_DAYS: Final = 365  # a year: six-month outcome windows for the first half year of bookings
#: a borrower is bad if 30+ days past due within this many days of booking; bookings whose window has not
#: closed by the end of the run are indeterminate and left out (DOMAIN.md), as in a vintage analysis
BAD_WINDOW_DAYS: Final = 180  # DOMAIN.md "Bad": ever 30+ within 6 months on book
QUICK_BAD_WINDOW_DAYS: Final = 90  # shortened for the quick run
#: days the lender watches the ecosystem before it opens for applications (features need history)
WARM_UP_DAYS: Final = 30
QUICK_WARM_UP_DAYS: Final = 15
ATTACK_NAMES: Final = (
    "none",
    "ring_member",
    "synthetic_identity",
    "bust_out",
    "device_rotation",
    "account_takeover",
)
STAGES: Final = ("simulate", "ingest", "observe", "decide", "respond", "scoreboard")
DPD_BUCKETS: Final = (
    ("current", 0, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("90+", 91, None),
)


@dataclass(frozen=True, slots=True)
class DemoConfig:
    """What to run: ``quick`` is a small world and a short horizon for CI (well under 2 minutes)."""

    out_dir: Path
    seed: int | None = None  # None: the scenario file's own seed
    scenario_path: Path | None = None
    quick: bool = False
    days: int | None = None  # None: QUICK_DAYS when quick, else FULL_DAYS

    def __post_init__(self) -> None:
        if self.days is not None and not 0 < self.days <= bounds.sim_days_max:
            raise InputError(f"must be in [1, {bounds.sim_days_max}]", field="days")


@dataclass(slots=True)
class DemoResult:
    summary: dict[str, Any]
    summary_path: Path


ProgressCallback = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(slots=True)
class _Timings:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


@dataclass(slots=True)
class _IngestTally:
    read: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    accepted_by_type: Counter[str] = field(default_factory=Counter)
    rejection_examples: list[str] = field(default_factory=list)

    def add(self, report: IngestReport) -> None:
        self.read += report.read
        self.accepted += report.accepted
        self.duplicates += report.duplicates
        self.rejected += report.rejected
        self.accepted_by_type.update(report.accepted_by_type)
        for rejection in report.rejections[: max(0, 5 - len(self.rejection_examples))]:
            self.rejection_examples.append(str(rejection))


@dataclass(slots=True)
class _TruthLog:
    """Ground truth gathered during the run, for the scoreboard only."""

    originations: list[pa.Table] = field(default_factory=list)
    days_past_due: dict[int, npt.NDArray[np.int16]] = field(default_factory=dict)  # by day
    last: ResponseTruth | None = None
    ecosystem: dict[str, list[pa.Table]] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    """JSON-ready: numpy scalars to Python; figures that were not computed (None) are left out."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _money(amount_fen: int) -> str:
    return Money(int(amount_fen)).format()


def _ingest(
    batches: list[dict[str, pa.Table]],
    lake: Path,
    seen: SeenEvents,
    today: date,
    tally: _IngestTally,
    features: DemoFeatures,
) -> None:
    """Ingest the day's event tables through the ingestion use case (validation, dedup, lake), in memory.

    Tables of one type are concatenated in batch order (yesterday's borrower events, then today's ecosystem
    events), so each ingestion writes one lake file per type and business date. The demo's lake is scratch
    output, rebuilt on every run, so it is not flushed to disk (``fsync=False``): files stay atomic.
    """
    by_type: dict[str, list[pa.Table]] = {}
    for tables in batches:
        for event_type, table in tables.items():
            if table.num_rows:
                by_type.setdefault(event_type, []).append(table)
    if not by_type:
        return
    merged = {event_type: pa.concat_tables(tables) for event_type, tables in sorted(by_type.items())}
    clock = FixedClock(start_of_business_day(today + timedelta(days=2)))
    tally.add(ingest_tables(merged, lake, None, seen, clock, fsync=False, sink=features.sink))


def _scenario(config: DemoConfig) -> Scenario:
    """The world to run: the scenario's small scale over FULL_DAYS days, or for ``quick`` its tiny one over
    QUICK_DAYS days
    (the default scenario's tiny world is enlarged to :data:`QUICK_SIZE`)."""
    if not config.quick:
        days = config.days if config.days is not None else FULL_DAYS
        return load_scenario(config.scenario_path, seed=config.seed, scale=FULL_SCALE, days=days)
    days = config.days if config.days is not None else QUICK_DAYS
    if config.scenario_path is None:
        return scenario_from_mapping(
            {"scales": {QUICK_SCALE: QUICK_SIZE}},
            seed=config.seed,
            scale=QUICK_SCALE,
            days=days,
            name="default",
        )
    return load_scenario(config.scenario_path, seed=config.seed, scale=QUICK_SCALE, days=days)


def run_demo(config: DemoConfig, on_progress: ProgressCallback | None = None) -> DemoResult:
    """Run the loop and write ``<out>/summary.json`` (and the lake and the truth beside it)."""
    timings = _Timings()
    started = time.perf_counter()
    out = Path(config.out_dir)
    for stale in ("lake", "truth", ".staging"):  # .staging: left by older versions
        if (out / stale).exists():
            shutil.rmtree(out / stale)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    scenario = _scenario(config)
    # a short run (--days) still lends for three quarters of its days
    warm_up = min(QUICK_WARM_UP_DAYS if config.quick else WARM_UP_DAYS, int(scenario.days) // 4)
    ecosystem = Ecosystem(scenario)
    days = int(scenario.days)
    # the response model's calibration is the scenario's (its response section and risk levels)
    response = BorrowerResponse(seed=scenario.seed, params=ResponseParameters.from_scenario(scenario))
    book = ObservedBook()
    features = DemoFeatures()
    policy = BaselinePolicy()
    tally = _IngestTally()
    truth_log = _TruthLog()
    events_by_type: Counter[str] = Counter()
    pending_applications: pa.Table | None = None
    unsent: list[dict[str, pa.Table]] = []  # borrower events not yet ingested
    lake = out / "lake"
    first_date: date | None = None
    with open_seen_events(None, FixedClock(start_of_business_day(date(2000, 1, 1)))) as seen:
        for day in range(days):
            today = ecosystem.current_date()  # the date this step simulates
            first_date = first_date or today
            with timings.stage("simulate"):
                ecosystem_tables = ecosystem.step()
                for name, table in ecosystem.ground_truth_day().items():
                    truth_log.ecosystem.setdefault(name, []).append(table)
            book.start_day(day, today)
            with timings.stage("ingest"):
                # yesterday's borrower events and today's ecosystem events, in one ingestion
                _ingest([*unsent, ecosystem_tables], lake, seen, today, tally, features)
                unsent = []
                features.evict_before(start_of_business_day(today))
            with timings.stage("observe"):
                book.observe(ecosystem_tables)
            if day < warm_up:  # the lender is not open yet: it only watches
                _count(events_by_type, ecosystem_tables)
                if on_progress is not None:
                    on_progress("days simulated", day + 1, days)
                continue
            with timings.stage("decide"):
                decided = (
                    policy.decide(book, pending_applications, features)
                    if pending_applications is not None
                    else LenderActions()
                )
                actions = merge_actions(decided, policy.review(book, today))
            with timings.stage("respond"):
                answered = response.step(ecosystem.state, actions, day, today)
            with timings.stage("observe"):
                unsent.append(answered.events)
                book.observe(answered.events)
                policy.observe_draws(answered.events["draw"])
            pending_applications = answered.events["loan_application"]
            _count(events_by_type, ecosystem_tables)
            _count(events_by_type, answered.events)
            _keep_truth(truth_log, answered.truth, out)
            if on_progress is not None:
                on_progress("days simulated", day + 1, days)
        with timings.stage("ingest"):
            _ingest(unsent, lake, seen, ecosystem.current_date(), tally, features)
    require(truth_log.last is not None and first_date is not None, "the demo ran no day")
    for name, truth_tables in sorted(truth_log.ecosystem.items()):
        pq.write_table(
            pa.concat_tables(truth_tables, promote_options="default"),
            out / "truth" / f"ecosystem-{name}.parquet",
        )
    if truth_log.originations:
        pq.write_table(pa.concat_tables(truth_log.originations), out / "truth" / "originations.parquet")
    if on_progress is not None:
        on_progress("scoreboard", 0, 1)
    with timings.stage("scoreboard"):
        summary = _summary(
            config,
            scenario,
            days,
            warm_up,
            first_date or date.min,
            tally,
            events_by_type,
            policy,
            book,
            response,
        )
        window = QUICK_BAD_WINDOW_DAYS if config.quick else BAD_WINDOW_DAYS
        truth = _scoreboard_from_truth(ecosystem.state, truth_log, policy.log.decisions, days, window)
        # truth-derived figures join their sections; they come only from _scoreboard_from_truth
        summary["simulation"].update(truth.pop("simulation"))
        summary["decisions"].update(truth.pop("decisions"))
        summary.update(truth)
    summary["features"], feature_seconds = features.scoreboard(lake)
    with timings.stage("supply chain"):
        summary["supply_chain"] = _supply_chain_section(out)
    if on_progress is not None:
        on_progress("models", 0, 1)
    with timings.stage("models"):
        summary["models"] = _models_section(out, config.quick, ecosystem.current_date())
    if on_progress is not None:
        on_progress("models", 1, 1)
    if on_progress is not None:
        on_progress("scoreboard", 1, 1)
    timings.seconds["total"] = time.perf_counter() - started
    summary["timings"] = {name: round(seconds, 3) for name, seconds in sorted(timings.seconds.items())}
    summary["timings"].update(feature_seconds)
    summary = _plain(summary)
    path = out / "summary.json"
    path.write_text(
        json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return DemoResult(summary=summary, summary_path=path)


SUPPLY_CHAIN_DAYS: Final = 60  # the supply chain runs over the lake's first 60 business days of documents


def _supply_chain_section(out: Path) -> dict[str, Any]:
    """Run the simulated supply chain (its first :data:`SUPPLY_CHAIN_DAYS` days of documents) through the
    verifiable log on a fresh embedded database — issue, confirmation, split, transfer, financing against an
    inclusion proof, settlement, with injected forgeries, replays and double financing — and score what was
    caught against the simulator's own forged and double-presented records in that window."""
    if not (out / "lake" / "trade_record").is_dir():
        return {"skipped": "the run recorded no trade documents"}
    database = out / "supply_chain.db"
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        run = run_supply_chain(out / "lake", engine, SupplyChainParameters(days=SUPPLY_CHAIN_DAYS))
    finally:
        engine.dispose()
    documents = pq.read_table(
        out / "lake" / "trade_record", columns=["record_id", "trade_id", "occurred_at"]
    ).to_pylist()
    first = min(business_date(row["occurred_at"]) for row in documents)
    in_window = {
        row["record_id"]: row["trade_id"]
        for row in documents
        if (business_date(row["occurred_at"]) - first).days < SUPPLY_CHAIN_DAYS
    }
    truth_file = out / "truth" / "ecosystem-forged_records.parquet"  # absent when nothing was forged
    truth = pq.read_table(truth_file).to_pylist() if truth_file.exists() else []
    forged = {row["record_id"] for row in truth if row["kind"] == "forged" and row["record_id"] in in_window}
    doubled = {
        row["trade_id"]
        for row in truth
        if row["kind"] == "double_presented" and row["record_id"] in in_window
    }
    caught_forged = set(run.caught_record_ids.get("forged_invoice", ())) & forged
    # which copy of a double presentation is refused depends on processing order: match by trade
    caught_doubled = {
        in_window[record]
        for record in run.caught_record_ids.get("double_presented_invoice", ())
        if record in in_window
    } & doubled
    report = run.to_json()
    report.pop("caught_record_ids", None)
    for name in ("financed", "advanced", "settled"):
        report[f"{name}_yuan"] = report.pop(name)
    report["simulated_fraud_caught"] = {
        "forged_invoices": {"in_window": len(forged), "caught": len(caught_forged)},
        "double_presented_trades": {"in_window": len(doubled), "caught": len(caught_doubled)},
    }
    return report


def _models_section(out: Path, quick: bool, end: date) -> dict[str, Any]:
    """Train, evaluate and monitor the scorecard and the gradient-boosted challenger on the run's lake (out of
    time: early bookings train, later ones test), write ``<out>/models/report.html`` with the model cards,
    and return the headline figures. The quick world is too short for matured labels on both sides of the
    split, so it is skipped with that reason."""
    if quick:
        return {"skipped": "the quick world is too short for matured 180-day labels before and after a split"}
    as_of = start_of_business_day(end)
    try:
        result = train_evaluate_report(out / "lake", out / "models", now=as_of)
    except InputError as error:  # too few matured bookings or one class only: say so, keep the scoreboard
        return {"skipped": str(error)}
    figures = result.figures
    champion = figures["champion"]["name"]
    oracle = figures.get("oracle", {})
    return {
        "report": str(result.report_path.relative_to(out)),
        "cards": sorted(str(path.relative_to(out)) for path in result.card_paths.values()),
        "bad_definition": figures["bad_definition"],
        "split_date": figures["split_date"],
        "train_rows": figures["train"]["rows"],
        "test_rows": figures["test"]["rows"],
        "champion": champion,
        "champion_selection": figures["champion"]["selection"],
        "out_of_time": {
            name: {key: model[key] for key in ("auc", "ks", "gini", "brier", "ece")}
            for name, model in figures["models"].items()
        },
        "oracle_auc": oracle.get("auc"),
        "champion_auc_gap_to_oracle": figures.get("auc_gap_to_oracle"),
        "thin_file": {
            key: figures["segments"].get(key) for key in ("thin_file_auc", "thick_file_auc", "thin_file_rows")
        }
        | {"approval_gain_at_equal_bad_rate": figures["thin_file_approvals"].get("gain")},
        "score_psi": figures["psi"]["score"]["psi"],
    }


def _count(counts: Counter[str], tables: dict[str, pa.Table]) -> None:
    for event_type, table in tables.items():
        counts[event_type] += table.num_rows


def _keep_truth(log: _TruthLog, truth: ResponseTruth, out: Path) -> None:
    log.last = truth
    log.days_past_due[truth.day] = np.minimum(truth.days_past_due, 30_000).astype(np.int16)
    if truth.originations.num_rows:
        log.originations.append(truth.originations)
    if truth.month_end:
        pq.write_table(
            truth.to_table(), out / "truth" / f"borrowers-{truth.business_date.isoformat()}.parquet"
        )


def _summary(
    config: DemoConfig,
    scenario: Scenario,
    days: int,
    warm_up: int,
    first_date: date,
    tally: _IngestTally,
    events_by_type: Counter[str],
    policy: BaselinePolicy,
    book: ObservedBook,
    response: BorrowerResponse,
) -> dict[str, Any]:
    """The sections computed from what fengkong observed and did (no truth)."""
    decisions = policy.log.decisions
    approved = [record for record in decisions if record.approved]
    thin = [record for record in decisions if record.thin_file]
    by_product: dict[str, dict[str, int]] = {}
    for record in decisions:
        entry = by_product.setdefault(record.product, {"applications": 0, "approvals": 0})
        entry["applications"] += 1
        entry["approvals"] += int(record.approved)
    reasons = Counter(record.reason for record in decisions)
    observed_outstanding = int(book.balance_fen.sum())
    return {
        "note": (
            "Decisions come from a transparent baseline rule over observed events "
            "(services/baseline_policy.py) until the feature engine, models and decision engine exist."
        ),
        "simulation": {
            "scenario": scenario.name,
            "scale": scenario.scale,
            "seed": scenario.seed,
            "quick": config.quick,
            "days": days,
            "first_business_date": first_date.isoformat(),
            "warm_up_days": warm_up,
            "risk_logit_means": {
                "consumer": scenario.risk.consumer_logit_mean,
                "rider": scenario.risk.rider_logit_mean,
                "merchant": scenario.risk.merchant_logit_mean,
                "supplier": scenario.risk.supplier_logit_mean,
            },
            "response_parameters": {  # JSON carries amounts as yuan strings: "x_fen" becomes "x_yuan"
                (name.removesuffix("_fen") + "_yuan" if name.endswith("_fen") else name): (
                    _money(value) if name.endswith("_fen") else value
                )
                for name, value in scenario.response.model_dump(mode="json").items()
            },
            "events_by_type": dict(sorted(events_by_type.items())),
            "events_total": int(sum(events_by_type.values())),
        },
        "ingestion": {
            "read": tally.read,
            "accepted": tally.accepted,
            "duplicates": tally.duplicates,
            "rejected": tally.rejected,
            "accepted_by_type": dict(sorted(tally.accepted_by_type.items())),
            "rejection_examples": tally.rejection_examples,
        },
        "decisions": {
            "policy": "baseline rule (services/baseline_policy.py)",
            "applications": len(decisions),
            "approvals": len(approved),
            "approval_rate": round(len(approved) / len(decisions), 4) if decisions else None,
            "thin_file_applications": len(thin),
            "thin_file_approval_rate": (
                round(sum(record.approved for record in thin) / len(thin), 4) if thin else None
            ),
            "approved_with_hold": sum(record.held for record in approved),
            "by_product": dict(sorted(by_product.items())),
            "decline_reasons": dict(
                sorted((reason, count) for reason, count in reasons.items() if reason != "approved")
            ),
        },
        "credit_lines": {
            "scope": "BNPL and revolving lines; granted = offered and taken up (first draw seen)",
            "lines_offered": policy.log.lines_offered,
            "lines_granted": policy.log.lines_granted,
            "lines_raised": policy.log.lines_raised,
            "lines_cut": policy.log.lines_cut,
            "holds_placed": policy.log.holds,
            "observed_outstanding_yuan": _money(observed_outstanding),
        },
        "versions": {
            "fengkong": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pyarrow": pa.__version__,
            "products": list(PRODUCTS),
        },
    }


def _scoreboard_from_truth(
    state: LatentState, log: _TruthLog, decisions: list[DecisionRecord], days: int, window_days: int
) -> dict[str, Any]:
    """The figures that need ground truth: the only place the demo reads the latent state or the truth."""
    last = log.last
    if last is None:
        raise InvariantError("no truth was recorded")
    kinds = ("consumer", "rider", "merchant", "supplier")
    parties_by_kind = {kinds[kind]: int((state.kind == kind).sum()) for kind in range(len(kinds))}
    position = {party: index for index, party in enumerate(state.party_id.tolist())}
    fraud_decisions = [record for record in decisions if state.fraud[position[record.party_id]]]
    by_attack: dict[str, dict[str, int]] = {}
    for record in decisions:
        attack = int(state.attack_kind[position[record.party_id]])
        if attack == 0:
            continue
        name = ATTACK_NAMES[attack] if attack < len(ATTACK_NAMES) else f"kind_{attack}"
        entry = by_attack.setdefault(name, {"applications": 0, "approved": 0})
        entry["applications"] += 1
        entry["approved"] += int(record.approved)
    scam_decisions = [record for record in decisions if state.scam_day[position[record.party_id]] >= 0]
    originations = pa.concat_tables(log.originations) if log.originations else empty_originations()
    outcomes = _outcomes(originations, log, position, state.fraud, days, window_days)
    return {
        "simulation": {
            "parties_by_kind": parties_by_kind,
            "parties_registered_by_end": int((state.registered_day < days).sum()),
            "fraud_parties": int(state.fraud.sum()),
            "scam_victims": int(((state.scam_day >= 0) & (state.scam_day < days)).sum()),
        },
        "decisions": {
            "fraud_applications": len(fraud_decisions),
            "fraud_applications_approved": sum(record.approved for record in fraud_decisions),
            "fraud_applications_declined": sum(not record.approved for record in fraud_decisions),
            "attack_applications_by_kind": dict(sorted(by_attack.items())),
            "scam_victim_applications": len(scam_decisions),
            "scam_victim_applications_held": sum(record.held for record in scam_decisions),
        },
        "loan_book": _loan_book(last, originations, log, outcomes, state.fraud, days, window_days),
        "ground_truth_evaluation": _evaluation(outcomes, decisions, window_days),
    }


@dataclass(frozen=True, slots=True)
class _Outcomes:
    """First booking per borrower whose outcome window has closed, with its realised label."""

    party_row: npt.NDArray[np.int64]
    application_id: list[str]
    true_pd_6m: npt.NDArray[np.float64]
    bad: npt.NDArray[np.bool_]
    fraud: npt.NDArray[np.bool_]


def _outcomes(
    originations: pa.Table,
    log: _TruthLog,
    position: dict[str, int],
    fraud: npt.NDArray[np.bool_],
    days: int,
    window_days: int,
) -> _Outcomes:
    """Label each borrower's first booking: ever 30+ days past due within ``window_days`` of booking."""
    rows, applications, pds, bads = [], [], [], []
    seen: set[str] = set()
    for row in originations.to_pylist():
        party = row["party_id"]
        if party in seen:
            continue
        seen.add(party)
        booked = int(row["day"])
        if booked + window_days > days - 1:
            continue
        index = position[party]
        worst = max(int(log.days_past_due[day][index]) for day in range(booked, booked + window_days + 1))
        rows.append(index)
        applications.append(str(row["application_id"]))
        pds.append(float(row["true_pd_6m"]))
        bads.append(worst >= 30)
    party_row = np.asarray(rows, dtype=np.int64)
    return _Outcomes(
        party_row=party_row,
        application_id=applications,
        true_pd_6m=np.asarray(pds, dtype=np.float64),
        bad=np.asarray(bads, dtype=bool),
        fraud=np.asarray(fraud[party_row], dtype=bool),
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _loan_book(
    last: ResponseTruth,
    originations: pa.Table,
    log: _TruthLog,
    outcomes: _Outcomes,
    fraud: npt.NDArray[np.bool_],
    days: int,
    window_days: int,
) -> dict[str, Any]:
    balance = last.balance_fen
    dpd = last.days_past_due
    buckets = {}
    for name, low, high in DPD_BUCKETS:
        mask = (dpd >= low) & (dpd <= high) if high is not None else dpd >= low
        buckets[name] = {
            "borrowers": int((mask & (balance > 0)).sum()),
            "outstanding_yuan": _money(int(balance[mask].sum())),
        }
    late = dpd >= 30
    by_product = {}
    for code, product in enumerate(PRODUCTS):
        product_balance = last.balance_by_product_fen[:, code]
        by_product[product] = {
            "outstanding_yuan": _money(int(product_balance.sum())),
            "share_30_plus_of_balance": _share(int(product_balance[late].sum()), int(product_balance.sum())),
            "share_30_plus_of_balance_non_fraud": _share(
                int(product_balance[late & ~fraud].sum()), int(product_balance[~fraud].sum())
            ),
        }
    honest = ~outcomes.fraud
    return {
        "source": "ground truth of the borrower-response model (fengkong's own ledger does not exist yet)",
        "outstanding_yuan": _money(int(balance.sum())),
        "by_days_past_due": buckets,
        "share_30_plus_of_balance": _share(int(balance[late].sum()), int(balance.sum())),
        "share_30_plus_of_balance_non_fraud": _share(
            int(balance[late & ~fraud].sum()), int(balance[~fraud].sum())
        ),
        "by_product": by_product,
        "written_off_borrowers": int(last.written_off.sum()),
        "borrowers_booked": len(set(originations.column("party_id").to_pylist())),
        "accounts_booked": originations.num_rows,
        "accounts_booked_by_product": dict(
            sorted(Counter(originations.column("product").to_pylist()).items())
        ),
        "booked_yuan": _money(
            int(np.asarray(originations.column("amount_fen").to_numpy(), dtype=np.int64).sum())
        ),
        "bad_definition": f"ever 30+ days past due within {window_days} days of the borrower's first booking "
        "(a shortened window: DOMAIN.md's six months needs a longer run); "
        "bookings younger than that are left out",
        "borrowers_with_outcome": len(outcomes.bad),
        "realised_bad_rate": _share(int(outcomes.bad.sum()), len(outcomes.bad)),
        "realised_bad_rate_non_fraud": _share(int(outcomes.bad[honest].sum()), int(honest.sum())),
        "first_payment_default_rate": _first_payment_default(
            originations, log, days, np.ones(len(fraud), bool)
        ),
        "first_payment_default_rate_non_fraud": _first_payment_default(originations, log, days, ~fraud),
    }


def _first_payment_default(
    originations: pa.Table, log: _TruthLog, days: int, rows: npt.NDArray[np.bool_]
) -> dict[str, float | None]:
    """Share of accounts (of borrowers where ``rows`` is True), overall and by product, whose first due
    date — the 8th after the first statement — went 30+ days past due. Accounts whose first due date is not
    30 days old by the end are left out."""
    last = log.last
    if last is None or not originations.num_rows:
        return {}
    index = {party: i for i, party in enumerate(last.party_id.tolist())}
    start = last.business_date - timedelta(days=days - 1)
    defaults: Counter[str] = Counter()
    measured: Counter[str] = Counter()
    for party, day, product in zip(
        originations.column("party_id").to_pylist(),
        originations.column("day").to_pylist(),
        originations.column("product").to_pylist(),
        strict=True,
    ):
        if not rows[index[party]]:
            continue
        opened = start + timedelta(days=day)
        statement = (opened.replace(day=1) + timedelta(days=32)).replace(day=1)
        if (statement - opened).days < STATEMENT_AGE_DAYS_MIN:
            statement = (statement + timedelta(days=32)).replace(day=1)
        judged = (statement.replace(day=DUE_DAY) - start).days + 30
        if judged >= days:
            continue
        missed = int(log.days_past_due[judged][index[party]] == 30)
        for key in ("all", product):
            measured[key] += 1
            defaults[key] += missed
    return {key: _share(defaults[key], measured[key]) for key in sorted(measured)}


def _evaluation(outcomes: _Outcomes, decisions: list[DecisionRecord], window_days: int) -> dict[str, Any]:
    """AUC of the baseline score and of the true PD at booking against the realised bad flag."""
    score_of = {record.application_id: record.score for record in decisions}
    scored = np.asarray([application in score_of for application in outcomes.application_id], dtype=bool)
    scores = np.asarray(
        [score_of.get(application, np.nan) for application in outcomes.application_id], dtype=np.float64
    )
    honest = ~outcomes.fraud
    figures: dict[str, Any] = {
        "population": f"first booking per borrower with a closed {window_days}-day window; "
        f"label: ever 30+ days past due within {window_days} days of booking",
        "borrowers": int(scored.sum()),
        "bads": int(outcomes.bad[scored].sum()),
        "bads_fraud": int(outcomes.bad[scored & outcomes.fraud].sum()),
    }
    for name, values, rows in (
        ("baseline_score_auc", scores, scored),
        ("oracle_true_pd_auc", outcomes.true_pd_6m, scored),
        ("baseline_score_auc_non_fraud", scores, scored & honest),
        ("oracle_true_pd_auc_non_fraud", outcomes.true_pd_6m, scored & honest),
    ):
        labels = outcomes.bad[rows].astype(np.int8)
        if 0 < int(labels.sum()) < labels.size:  # an AUC needs goods and bads; otherwise it is absent
            figures[name] = round(metrics.auc(labels, values[rows]), 4)
    return figures
