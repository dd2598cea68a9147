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
from fengkong.clock import FixedClock, start_of_business_day
from fengkong.errors import InputError, InvariantError, require
from fengkong.money import Money
from fengkong.services.baseline_policy import BaselinePolicy, DecisionRecord, ObservedBook, merge_actions
from fengkong.services.ingest_events import IngestReport, ingest_file, open_seen_events
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

QUICK_SCALE: Final = "tiny"
QUICK_DAYS: Final = 120
#: the quick world of the default scenario: large enough for a few hundred loans, small enough for CI
QUICK_SIZE: Final = {
    "consumers": 1_500,
    "riders": 150,
    "merchants": 100,
    "core_enterprises": 5,
    "suppliers_per_enterprise": 6,
    "days": QUICK_DAYS,
}
FULL_SCALE: Final = "small"
DEFAULT_SEED: Final = 7
#: loans younger than this at the end of the run are left out of the realised bad rate and the AUCs
#: (too young for a 30+ days-past-due outcome after their first due date; DOMAIN.md "indeterminate")
BAD_WINDOW_DAYS_MIN: Final = 60
#: The response model's calibration for the demo. The scenario's risk logits put the mean consumer at about
#: 1 % a month of going 30+ days past due; with that, the booked book's 30+ share of balance comes out near
#: 6 % after six months, four times the prime embedded BNPL figure of CALIBRATION.md (about 1.5 %). The shift
#: of −1.2 logit brings it back; it is reported in summary.json (simulation.response_parameters).
DEMO_RESPONSE_PARAMETERS: Final = ResponseParameters(hazard_logit_shift=-1.2)
STAGES: Final = ("simulate", "ingest", "decide", "respond", "scoreboard")
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
    seed: int = DEFAULT_SEED
    scenario_path: Path | None = None
    quick: bool = False
    days: int | None = None  # None: QUICK_DAYS when quick, else the scenario's horizon

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
    days_past_due: list[npt.NDArray[np.int16]] = field(default_factory=list)
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


def _auc(scores: npt.ArrayLike, labels: npt.ArrayLike) -> float | None:
    """Area under the ROC curve by ranks (ties share their average rank); None without both classes."""
    score_array = np.asarray(scores, dtype=np.float64)
    label_array = np.asarray(labels, dtype=bool)
    positives = int(label_array.sum())
    negatives = len(label_array) - positives
    if positives == 0 or negatives == 0:
        return None
    order = np.argsort(score_array, kind="mergesort")
    sorted_scores = score_array[order]
    ranks = np.empty(len(score_array), dtype=np.float64)
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(sorted_scores)]])
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    rank_sum = float(ranks[label_array].sum())
    return (rank_sum - positives * (positives + 1) / 2.0) / (positives * negatives)


def _ingest(
    batches: list[dict[str, pa.Table]], staging: Path, lake: Path, seen: Any, today: date, tally: _IngestTally
) -> None:
    """Ingest event tables through the ingestion use case (validation, dedup, lake), one call per day.

    The use case reads files, so the tables are staged as uncompressed Parquet first, one file per batch and
    event type (in order: the ingestion keeps file order).
    """
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    written = 0
    for number, tables in enumerate(batches):
        for event_type, table in sorted(tables.items()):
            if table.num_rows:
                pq.write_table(table, staging / f"{number:02d}-{event_type}.parquet", compression="none")
                written += 1
    if written:
        clock = FixedClock(start_of_business_day(today + timedelta(days=2)))
        tally.add(ingest_file(staging, lake, None, seen, clock))
    shutil.rmtree(staging)


def _scenario(config: DemoConfig) -> Scenario:
    """The world to run: the scenario's small scale, or for ``quick`` its tiny one over QUICK_DAYS days
    (the default scenario's tiny world is enlarged to :data:`QUICK_SIZE`)."""
    if not config.quick:
        return load_scenario(config.scenario_path, seed=config.seed, scale=FULL_SCALE, days=config.days)
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
    for stale in ("lake", "truth", ".staging"):
        if (out / stale).exists():
            shutil.rmtree(out / stale)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    scenario = _scenario(config)
    ecosystem = Ecosystem(scenario)
    days = int(scenario.days)
    response = BorrowerResponse(seed=config.seed, params=DEMO_RESPONSE_PARAMETERS)
    book = ObservedBook()
    policy = BaselinePolicy()
    tally = _IngestTally()
    truth_log = _TruthLog()
    events_by_type: Counter[str] = Counter()
    pending_applications: pa.Table | None = None
    unsent: list[dict[str, pa.Table]] = []  # borrower events not yet ingested
    lake, staging = out / "lake", out / ".staging"
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
                _ingest([*unsent, ecosystem_tables], staging, lake, seen, today, tally)
                unsent = []
                book.observe(ecosystem_tables)
            with timings.stage("decide"):
                decided = (
                    policy.decide(book, pending_applications)
                    if pending_applications is not None
                    else LenderActions()
                )
                actions = merge_actions(decided, policy.review(book, today))
            with timings.stage("respond"):
                answered = response.step(ecosystem.state, actions, day, today)
            with timings.stage("ingest"):
                unsent.append(answered.events)
                book.observe(answered.events)
                policy.observe_draws(answered.events["draw"])
            pending_applications = answered.events["loan_application"]
            for tables in (ecosystem_tables, answered.events):
                for event_type, table in tables.items():
                    events_by_type[event_type] += table.num_rows
            _keep_truth(truth_log, answered.truth, out)
            if on_progress is not None:
                on_progress("days simulated", day + 1, days)
        with timings.stage("ingest"):
            _ingest(unsent, staging, lake, seen, ecosystem.current_date(), tally)
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
            config, scenario, days, first_date or date.min, tally, events_by_type, policy, book, response
        )
        truth = _scoreboard_from_truth(ecosystem.state, truth_log, policy.log.decisions, days)
        # truth-derived figures join their sections; they come only from _scoreboard_from_truth
        summary["simulation"].update(truth.pop("simulation"))
        summary["decisions"].update(truth.pop("decisions"))
        summary.update(truth)
    if on_progress is not None:
        on_progress("scoreboard", 1, 1)
    timings.seconds["total"] = time.perf_counter() - started
    summary["timings"] = {name: round(seconds, 3) for name, seconds in sorted(timings.seconds.items())}
    summary = _plain(summary)
    path = out / "summary.json"
    path.write_text(
        json.dumps(summary, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return DemoResult(summary=summary, summary_path=path)


def _keep_truth(log: _TruthLog, truth: ResponseTruth, out: Path) -> None:
    log.last = truth
    log.days_past_due.append(np.minimum(truth.days_past_due, 30_000).astype(np.int16))
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
            "seed": config.seed,
            "quick": config.quick,
            "days": days,
            "first_business_date": first_date.isoformat(),
            "response_parameters": {
                "hazard_logit_shift": response.params.hazard_logit_shift,
                "beta_debt_burden": response.params.beta_debt_burden,
                "acceptance_probability": response.params.acceptance_probability,
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
            "lines_offered": policy.log.lines_offered,
            "lines_booked": policy.log.lines_booked,
            "lines_raised": policy.log.lines_raised,
            "lines_cut": policy.log.lines_cut,
            "holds_placed": policy.log.holds,
            "observed_outstanding_fen": _money(observed_outstanding),
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
    state: LatentState, log: _TruthLog, decisions: list[DecisionRecord], days: int
) -> dict[str, Any]:
    """The figures that need ground truth: the only place the demo reads the latent state or the truth."""
    last = log.last
    if last is None:
        raise InvariantError("no truth was recorded")
    kinds = ("consumer", "rider", "merchant", "supplier")
    parties_by_kind = {kinds[kind]: int((state.kind == kind).sum()) for kind in range(len(kinds))}
    position = {party: index for index, party in enumerate(state.party_id.tolist())}
    fraud_decisions = [record for record in decisions if state.fraud[position[record.party_id]]]
    attack_names = (
        "none",
        "ring_member",
        "synthetic_identity",
        "bust_out",
        "device_rotation",
        "account_takeover",
    )
    by_attack: dict[str, dict[str, int]] = {}
    for record in decisions:
        attack = int(state.attack_kind[position[record.party_id]])
        if attack == 0:
            continue
        name = attack_names[attack] if attack < len(attack_names) else f"kind_{attack}"
        entry = by_attack.setdefault(name, {"applications": 0, "approved": 0})
        entry["applications"] += 1
        entry["approved"] += int(record.approved)
    scam_decisions = [record for record in decisions if state.scam_day[position[record.party_id]] >= 0]
    originations = pa.concat_tables(log.originations) if log.originations else empty_originations()
    loan_book = _loan_book(last, originations, log, days, state.fraud)
    evaluation = _evaluation(originations, decisions, last, position, state.fraud, days)
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
        "loan_book": loan_book,
        "ground_truth_evaluation": evaluation,
    }


def _loan_book(
    last: ResponseTruth, originations: pa.Table, log: _TruthLog, days: int, fraud: npt.NDArray[np.bool_]
) -> dict[str, Any]:
    balance = last.balance_fen
    dpd = last.days_past_due
    buckets = {}
    for name, low, high in DPD_BUCKETS:
        mask = (dpd >= low) & (dpd <= high) if high is not None else dpd >= low
        buckets[name] = {
            "borrowers": int((mask & (balance > 0)).sum()),
            "outstanding_fen": _money(int(balance[mask].sum())),
        }
    total = int(balance.sum())
    past_30 = int(balance[dpd >= 30].sum())
    by_product = {}
    for code, product in enumerate(PRODUCTS):
        product_balance = last.balance_by_product_fen[:, code]
        product_total = int(product_balance.sum())
        by_product[product] = {
            "outstanding_fen": _money(product_total),
            "share_30_plus_of_balance": (
                round(int(product_balance[dpd >= 30].sum()) / product_total, 4) if product_total else None
            ),
            "share_30_plus_of_balance_non_fraud": (
                round(
                    int(product_balance[(dpd >= 30) & ~fraud].sum()) / int(product_balance[~fraud].sum()), 4
                )
                if int(product_balance[~fraud].sum())
                else None
            ),
        }
    booked = sorted(set(originations.column("party_id").to_pylist()))
    index = {party: i for i, party in enumerate(last.party_id.tolist())}
    first_day: dict[str, int] = {}
    for party, day in zip(
        originations.column("party_id").to_pylist(), originations.column("day").to_pylist(), strict=True
    ):
        first_day[party] = min(day, first_day.get(party, day))
    mature = [index[party] for party in booked if days - 1 - first_day[party] >= BAD_WINDOW_DAYS_MIN]
    mature_rows = np.asarray(mature, dtype=np.int64)
    everyone = np.ones(len(fraud), dtype=bool)
    return {
        "source": "ground truth of the borrower-response model (fengkong's own ledger does not exist yet)",
        "outstanding_fen": _money(total),
        "by_days_past_due": buckets,
        "share_30_plus_of_balance": round(past_30 / total, 4) if total else None,
        "by_product": by_product,
        "written_off_borrowers": int(last.written_off.sum()),
        "borrowers_booked": len(booked),
        "accounts_booked": originations.num_rows,
        "accounts_booked_by_product": dict(
            sorted(Counter(originations.column("product").to_pylist()).items())
        ),
        "booked_fen": _money(
            int(np.asarray(originations.column("amount_fen").to_numpy(), dtype=np.int64).sum())
        ),
        "mature_borrowers": len(mature),
        "realised_bad_rate": (round(float(last.ever_30[mature_rows].mean()), 4) if len(mature) else None),
        "realised_bad_rate_non_fraud": (
            round(float(last.ever_30[mature_rows][~fraud[mature_rows]].mean()), 4)
            if (~fraud[mature_rows]).any()
            else None
        ),
        "share_30_plus_of_balance_non_fraud": (
            round(int(balance[(dpd >= 30) & ~fraud].sum()) / int(balance[~fraud].sum()), 4)
            if int(balance[~fraud].sum())
            else None
        ),
        "bad_definition": f"ever 30+ days past due by the end of the run, borrowers booked at least "
        f"{BAD_WINDOW_DAYS_MIN} days before the end",
        "first_payment_default_rate": _first_payment_default(originations, log, days, everyone),
        "first_payment_default_rate_non_fraud": _first_payment_default(originations, log, days, ~fraud),
    }


def _first_payment_default(
    originations: pa.Table, log: _TruthLog, days: int, rows: npt.NDArray[np.bool_]
) -> float | None:
    """Share of accounts (of borrowers where ``rows`` is True) whose first due date — the 8th after the
    first statement — went 30+ days past due. Accounts whose first due date is not 30 days old are left out.
    """
    last = log.last
    if last is None or not originations.num_rows:
        return None
    index = {party: i for i, party in enumerate(last.party_id.tolist())}
    start = last.business_date - timedelta(days=days - 1)
    defaults = measured = 0
    for party, day in zip(
        originations.column("party_id").to_pylist(), originations.column("day").to_pylist(), strict=True
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
        measured += 1
        defaults += int(log.days_past_due[judged][index[party]] == 30)
    return round(defaults / measured, 4) if measured else None


def _evaluation(
    originations: pa.Table,
    decisions: list[DecisionRecord],
    last: ResponseTruth,
    position: dict[str, int],
    fraud: npt.NDArray[np.bool_],
    days: int,
) -> dict[str, Any]:
    """AUC of the baseline score and of the true PD against the realised bad flag, on mature bookings."""
    score_of = {record.application_id: record.score for record in decisions}
    scores, oracle, labels, is_fraud = [], [], [], []
    seen: set[str] = set()
    for row in originations.to_pylist():
        party = row["party_id"]
        if party in seen or row["application_id"] not in score_of:
            continue
        seen.add(party)
        if days - 1 - row["day"] < BAD_WINDOW_DAYS_MIN:
            continue
        scores.append(score_of[row["application_id"]])
        oracle.append(row["true_pd_6m"])
        labels.append(bool(last.ever_30[position[party]]))
        is_fraud.append(bool(fraud[position[party]]))
    honest = ~np.asarray(is_fraud, dtype=bool)
    score_array, oracle_array, label_array = (np.asarray(values) for values in (scores, oracle, labels))
    figures: dict[str, Any] = {
        "population": "first booking per borrower, at least "
        f"{BAD_WINDOW_DAYS_MIN} days before the end; label: ever 30+ days past due by the end",
        "borrowers": len(labels),
        "bads": int(sum(labels)),
        "bads_fraud": int(np.sum(label_array[~honest])) if len(labels) else 0,
    }
    for name, values, rows in (
        ("baseline_score_auc", score_array, np.ones(len(labels), dtype=bool)),
        ("oracle_true_pd_auc", oracle_array, np.ones(len(labels), dtype=bool)),
        ("baseline_score_auc_non_fraud", score_array, honest),
        ("oracle_true_pd_auc_non_fraud", oracle_array, honest),
    ):
        auc = _auc(values[rows], label_array[rows]) if len(labels) else None
        figures[name] = round(auc, 4) if auc is not None else None
    return figures
