"""The decision engine in-process: authorisation and onboarding latency with a per-stage budget.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_decisions.py [--decisions 3000] [--scale tiny]

Set-up (not timed): a simulated world (``fengkong simulate``, tiny scale by default) is replayed into the
in-process online feature engine (the whole standard set); the default policy is loaded and compiled; a
scorecard (optbinning, fitted on consumer features) and a LightGBM booster of 200 trees × 31 leaves on all 40
consumer features are trained on rows resampled from the world's consumer vectors with a synthetic target
(the model's quality is not measured here, only its cost). Applicants are the world's consumers with the
device, phone and IP of one of their logins.

Timed, one decision at a time on one thread, Python's garbage collector on:

* **onboarding**: features read (4 entities, every feature the rules and models read), the fraud, velocity
  and eligibility rules, the scorecard and the GBM, the credit rules, and for approvals the risk band, the
  price grid's cap check, the schedule, its IRR and the cap check, affordability and the offer; reason codes
  for the others. Goals (issue 8): p50 ≤ 2 ms, p99 ≤ 6 ms.
* **authorisation**: features read (consumer, device, IP), the line from the exposure port (in memory), the
  authorisation rules and the hold. Goals: p50 ≤ 0.5 ms, p99 ≤ 2 ms. Also printed: the same with the hold
  placed in SQLite through ``store/exposure.py`` (one transaction per hold).
* **stages**, each timed alone over the same applicants: features read, rules (CEL), scorecard, GBM, pricing
  (schedule + IRR + cap check), reasons.
* **reference** in the same process: the same onboarding rules compiled to Python bytecode by a mechanical
  translation of their CEL text and evaluated with ``eval`` (bench only, never product code); the ratio
  CEL / Python is printed.
* **recording**: traces to the Parquet lake and headers to SQLite, per decision, in batches of 1,000.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import lightgbm as lgb
import numpy as np
import pandas as pd
import pyarrow.compute as pc

from fengkong.clock import FixedClock, business_date
from fengkong.compliance.apr import annualised_rate
from fengkong.compliance.caps import check_price
from fengkong.decisions.authorisation import AuthorisationRequest
from fengkong.decisions.engine import DecisionEngine
from fengkong.decisions.evaluation import Fired, reasons_of, run_rules
from fengkong.decisions.onboarding import Application, OnboardingContext, grid_key
from fengkong.decisions.policy import Flow, Rule, load_policy
from fengkong.decisions.ports import InMemoryExposure
from fengkong.decisions.scorers import GBMScorer, ScorecardScorer
from fengkong.domain.features import FeatureVector
from fengkong.domain.products import ProductKind, ProductTerms
from fengkong.features.online import OnlineFeatureEngine
from fengkong.features.standard import STANDARD_FEATURES
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money
from fengkong.scoring.gbm import Calibration, GBMServing
from fengkong.scoring.scorecard import ScorecardModel
from fengkong.services.decisions import DecisionRecorder, SqlExposure, TraceLake
from fengkong.services.features import read_lake_events
from fengkong.services.simulate import prepare, run_simulation
from fengkong.store import exposure as exposure_store
from fengkong.store import migrate
from fengkong.store.config import make_engine

POLICY = Path(__file__).resolve().parents[1] / "src" / "fengkong" / "decisions" / "policies" / "default.yaml"
CONSUMER_FEATURES = tuple(spec.name for spec in STANDARD_FEATURES if spec.entity.value == "consumer")
SCORECARD_FEATURES = (
    "consumer_orders_30d",
    "consumer_order_amount_30d_fen",
    "consumer_merchants_distinct_30d",
    "consumer_refunds_30d",
    "consumer_logins_24h",
    "consumer_bureau_score_last",
    "consumer_bureau_delinquencies_24m_last",
    "consumer_bureau_inquiries_6m_last",
    "consumer_transfer_out_amount_24h_fen",
    "consumer_bnpl_order_share_30d",
)
GOALS_MS = {"onboarding": (2.0, 6.0), "authorisation": (0.5, 2.0)}


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def timed(function: Callable[..., Any], *arguments: Any, repeat: int = 1) -> float:
    start = time.perf_counter_ns()
    for _ in range(repeat):
        function(*arguments)
    return (time.perf_counter_ns() - start) / 1_000 / repeat  # µs


def rule_values(application: Application, snapshot: dict[str, Any]) -> dict[str, object]:
    values: dict[str, object] = {k: None if v is None else float(v) for k, v in snapshot.items()}
    values.update(
        requested_amount_fen=float(application.requested_amount_fen),
        installments=float(application.installments),
        age_years=float(application.age_years),
        identity_verified=application.identity_verified,
        monthly_income_fen=float(application.monthly_income_fen),
        monthly_debt_payments_fen=float(application.monthly_debt_payments_fen),
        product="installment",
        fraud_score=0.0,
        blocklisted=False,
        pd_champion=0.05,
        pd_scorecard=0.05,
        pd_gbm=0.05,
    )
    return values


def run_python(compiled: list[tuple[Rule, Any]], values: dict[str, object]) -> None:
    for rule, code in compiled:
        read = {name: values[name] for name in rule.variables}
        if any(value is None for value in read.values()):
            continue
        eval(code, {"__builtins__": {}}, read)  # bench reference only: the policy's own rule text


def price(context: OnboardingContext, terms: ProductTerms, band: str, amount_fen: int, on: date) -> None:
    key = grid_key(ProductKind.INSTALLMENT, band, terms.installments)
    check_price(context.caps, "installment", on, context.grid.rate(key), fees=())
    schedule = build_schedule(terms, Money(amount_fen, "CNY"), on, rounding="ROUND_HALF_EVEN")
    check_price(context.caps, "installment", on, annualised_rate(schedule, fees=()), fees=())


def reasons(scorer: ScorecardScorer, vector: FeatureVector, fired: list[Fired]) -> tuple[str, ...]:
    return reasons_of(fired, [reason.code for reason in scorer.score(vector).reasons])


def time_stages(
    engine: DecisionEngine,
    features: OnlineFeatureEngine,
    scorecard: ScorecardScorer,
    gbm: GBMScorer,
    applications: list[Application],
    latest: datetime,
) -> None:
    """Each stage alone over the same applicants; and the same rules as Python bytecode, the reference."""
    context = engine.onboarding
    policy = engine.policy
    rules = policy.rules_for(Flow.ONBOARDING)
    stage: dict[str, list[float]] = {
        name: [] for name in ("features", "rules", "scorecard", "gbm", "pricing", "reasons")
    }
    reference: list[float] = []
    compiled = [(rule, compile(cel_to_python(rule.expression), rule.rule_id, "eval")) for rule in rules]
    product = policy.products[ProductKind.INSTALLMENT]
    fired = [Fired(rule.outcome, rule.reason, rule.priority, n) for n, rule in enumerate(rules[:3])]
    on = business_date(latest)
    for number, application in enumerate(applications):
        ids = application.entity_ids
        stage["features"].append(timed(context.plan.read, features, ids, application.received_at))
        snapshot = context.plan.read(features, ids, application.received_at)
        vector = FeatureVector("application", application.application_id, latest, snapshot)
        values = rule_values(application, snapshot)
        stage["rules"].append(timed(run_rules, rules, values, [], []))
        reference.append(timed(run_python, compiled, values))
        stage["scorecard"].append(timed(scorecard.score, vector))
        stage["gbm"].append(timed(gbm.score, vector))
        band = policy.risk_bands[number % len(policy.risk_bands)]
        terms = ProductTerms(
            product=ProductKind.INSTALLMENT,
            annual_rate=band.annual_rate,
            method=product.method,
            day_count=product.day_count,
            installments=application.installments,
        )
        stage["pricing"].append(timed(price, context, terms, band.band, application.requested_amount_fen, on))
        stage["reasons"].append(timed(reasons, scorecard, vector, fired))
    print("per-stage budget (µs, each stage timed alone over the same applicants, wall clock):")
    for name, timings in stage.items():
        print(f"  {name:<10} p50 {pct(timings, 50):8.1f}   p99 {pct(timings, 99):8.1f}")
    cel_p50, python_p50 = pct(stage["rules"], 50), pct(reference, 50)
    print(
        f"reference: the {len(rules)} onboarding rules as Python bytecode (eval): p50 {python_p50:.1f} µs; "
        f"CEL p50 {cel_p50:.1f} µs; ratio CEL / Python {cel_p50 / python_p50:.2f}"
    )


def build_world(scale: str, folder: Path) -> tuple[OnlineFeatureEngine, datetime, list[dict[str, Any]]]:
    began = time.perf_counter()
    run_simulation(prepare(None, scale=scale), folder, lambda done, total: None)
    lake = folder / "events"
    event_types = sorted({t for spec in STANDARD_FEATURES for t in spec.event_types})
    tables = read_lake_events(lake, event_types, STANDARD_FEATURES)
    rows: list[tuple[str, dict[str, object]]] = []
    for event_type, table in tables.items():
        rows.extend((event_type, row) for row in table.to_pylist())
    rows.sort(key=lambda item: (item[1]["received_at"], item[1]["event_id"]))  # type: ignore[arg-type,return-value]
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    for event_type, row in rows:
        engine.apply_row(event_type, row)
    latest = max(pc.max(t.column("received_at")).as_py() for t in tables.values() if t.num_rows)
    logins = tables["login"].filter(
        pc.and_(pc.is_valid(tables["login"].column("device_id")), pc.is_valid(tables["login"].column("ip")))
    )
    applicants = {}
    for login in logins.select(["party_id", "device_id", "ip", "phone"]).to_pylist():
        applicants[str(login["party_id"])] = login
    print(
        f"world: {scale} scale, {len(rows):,} events replayed into the online engine, {len(applicants):,} "
        f"applicants with a device and an IP ({time.perf_counter() - began:.1f} s)",
        flush=True,
    )
    return engine, latest, list(applicants.values())


def build_models(
    engine: OnlineFeatureEngine, latest: datetime, applicants: list[dict[str, Any]]
) -> tuple[ScorecardScorer, GBMScorer]:
    began = time.perf_counter()
    base = pd.DataFrame(
        [
            dict(engine.read("consumer", str(a["party_id"]), latest, CONSUMER_FEATURES).values)
            for a in applicants
        ]
    ).astype("float64")
    rng = np.random.default_rng(11)
    frame = base.iloc[rng.integers(0, len(base), 20_000)].reset_index(drop=True)
    noise = rng.lognormal(0.0, 0.3, frame.shape)
    frame = frame * np.where(frame.notna(), noise, 1.0)
    bureau = frame["consumer_bureau_score_last"].fillna(600.0)
    logit = (
        -3.0
        - 0.012 * (bureau - 600.0)
        - 0.05 * frame["consumer_orders_30d"].fillna(0.0)
        + rng.normal(0, 1, len(frame))
    )
    target = (rng.uniform(size=len(frame)) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    scorecard = ScorecardModel().fit(frame[list(SCORECARD_FEATURES)], target)
    params = {
        "objective": "binary",
        "num_leaves": 31,
        "min_data_in_leaf": 5,
        "learning_rate": 0.05,
        "num_threads": 1,
        "deterministic": True,
        "verbosity": -1,
        "seed": 3,
    }
    booster = lgb.train(
        params, lgb.Dataset(frame[list(CONSUMER_FEATURES)].to_numpy(), target), num_boost_round=200
    )
    dump = booster.dump_model()
    leaves = [tree["num_leaves"] for tree in dump["tree_info"]]
    serving = GBMServing(booster, CONSUMER_FEATURES, (), {}, Calibration("platt", 1.0, 0.0), 200, {})
    print(
        f"models: scorecard of {len(scorecard.table_.characteristics)} characteristics; "
        f"GBM of {len(leaves)} trees (max {max(leaves)} leaves, mean {statistics.fmean(leaves):.1f}) "
        f"on {len(CONSUMER_FEATURES)} features "
        f"({time.perf_counter() - began:.1f} s)",
        flush=True,
    )
    return ScorecardScorer(scorecard.table_, "bench-scorecard"), GBMScorer(serving, "bench-gbm")


def cel_to_python(expression: str) -> str:
    text = expression.replace("&&", " and ").replace("||", " or ")
    text = re.sub(r"!(?!=)", " not ", text)
    return re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", text))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--decisions", type=int, default=3_000)
    parser.add_argument("--scale", default="tiny")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fengkong-bench-decisions-") as scratch:
        folder = Path(scratch)
        features, latest, logins = build_world(arguments.scale, folder / "world")
        scorecard, gbm = build_models(features, latest, logins)
        policy = load_policy(POLICY)
        exposure = InMemoryExposure()
        clock = FixedClock(latest + timedelta(seconds=1))
        engine = DecisionEngine(
            policy,
            reader=features,
            models={"scorecard": scorecard, "gbm": gbm},
            exposure=exposure,
            clock=clock,
        )
        print(
            f"policy {policy.version}: {len(policy.rules_for(Flow.ONBOARDING))} onboarding rules, "
            f"{len(policy.rules_for(Flow.AUTHORISATION))} authorisation rules; onboarding reads "
            f"{len(engine.onboarding.plan.names)} features, "
            f"authorisation {len(engine.authorisation.plan.names)}",
            flush=True,
        )
        rng = np.random.default_rng(5)
        picks = [logins[int(i)] for i in rng.integers(0, len(logins), arguments.decisions)]
        applications = [
            Application(
                application_id=f"app-{n}",
                party_id=str(login["party_id"]),
                household_id=f"h-{login['party_id']}",
                product=ProductKind.INSTALLMENT,
                requested_amount_fen=int(rng.integers(50, 300)) * 10_000,
                installments=int(rng.choice([3, 6, 12])),
                age_years=int(rng.integers(18, 70)),
                identity_verified=bool(rng.uniform() < 0.97),
                monthly_income_fen=int(rng.integers(3_000, 30_000)) * 100,
                monthly_debt_payments_fen=int(rng.integers(0, 3_000)) * 100,
                received_at=latest,
                device_id=str(login["device_id"]),
                phone=None if login.get("phone") is None else str(login["phone"]),
                ip=str(login["ip"]),
            )
            for n, login in enumerate(picks)
        ]
        for application in applications[:50]:  # warm caches (read plans, CEL programs, LightGBM)
            engine.decide_application(application, decision_id=f"warm-{application.application_id}")

        onboarding: list[float] = []
        onboarding_cpu: list[float] = []
        outcomes: dict[str, int] = {}
        decided = []
        cpu_began = time.process_time()
        for application in applications:
            start, cpu = time.perf_counter_ns(), time.thread_time_ns()
            result = engine.decide_application(application)
            onboarding.append((time.perf_counter_ns() - start) / 1_000_000)
            onboarding_cpu.append((time.thread_time_ns() - cpu) / 1_000_000)
            outcomes[result.decision.outcome.label] = outcomes.get(result.decision.outcome.label, 0) + 1
            decided.append(result)
        cpu_ms = (time.process_time() - cpu_began) * 1_000 / len(applications)

        for application in applications:
            exposure.set_limit(application.party_id, "bnpl", 500_000)
            exposure.set_household_cap(application.household_id, 20_000_000)
        requests = [
            AuthorisationRequest(
                f"auth-{n}",
                a.party_id,
                a.household_id,
                "bnpl",
                int(rng.integers(1, 60)) * 1_000,
                latest,
                "food",
                a.device_id,
                a.ip,
            )
            for n, a in enumerate(applications)
        ]
        authorisation: list[float] = []
        authorisation_cpu: list[float] = []
        held = 0
        auth_cpu_began = time.process_time()
        for request in requests:
            start, cpu = time.perf_counter_ns(), time.thread_time_ns()
            result = engine.authorise(request)
            authorisation.append((time.perf_counter_ns() - start) / 1_000_000)
            authorisation_cpu.append((time.thread_time_ns() - cpu) / 1_000_000)
            held += result.trace.hold is not None and result.trace.hold.placed
        auth_cpu_ms = (time.process_time() - auth_cpu_began) * 1_000 / len(requests)

        flows = (
            ("onboarding", onboarding, onboarding_cpu, cpu_ms),
            ("authorisation", authorisation, authorisation_cpu, auth_cpu_ms),
        )
        for flow, timings, thread_cpu, process_cpu in flows:
            p50_goal, p99_goal = GOALS_MS[flow]
            p50, p99 = pct(timings, 50), pct(timings, 99)
            print(
                f"{flow}: {len(timings):,} decisions, wall p50 {p50:.3f} ms (goal ≤ {p50_goal}: "
                f"{'met' if p50 <= p50_goal else 'NOT met'}), p99 {p99:.3f} ms (goal ≤ {p99_goal}: "
                f"{'met' if p99 <= p99_goal else 'NOT met'}), max {max(timings):.2f} ms; thread CPU "
                f"p50 {pct(thread_cpu, 50):.3f} ms, p99 {pct(thread_cpu, 99):.3f} ms; process CPU "
                f"{process_cpu:.3f} ms per decision"
            )
        print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(
            f"onboarding outcomes: {outcomes}; "
            f"authorisations with a hold placed: {held:,} of {len(requests):,}"
        )

        time_stages(engine, features, scorecard, gbm, applications, latest)

        # -- holds in SQLite, and recording ---------------------------------------------------------------
        url = f"sqlite:///{folder / 'bench.sqlite'}"
        migrate.upgrade(url)
        sql = make_engine(url)
        now = clock.now()
        with sql.begin() as connection:
            for application in applications:
                exposure_store.set_party_limit(connection, application.party_id, "bnpl", 500_000, now)
                exposure_store.set_household_cap(connection, application.household_id, 20_000_000, now)
        sql_engine = DecisionEngine(
            policy,
            reader=features,
            models={"scorecard": scorecard, "gbm": gbm},
            exposure=SqlExposure(sql),
            clock=clock,
        )
        sql_timings = []
        for request in requests[: min(1_000, len(requests))]:
            start = time.perf_counter_ns()
            sql_engine.authorise(request)
            sql_timings.append((time.perf_counter_ns() - start) / 1_000_000)
        print(
            f"authorisation with the line read and the hold placed in SQLite (one transaction each): "
            f"p50 {pct(sql_timings, 50):.3f} ms, p99 {pct(sql_timings, 99):.3f} ms over {len(sql_timings):,}"
        )
        recorder = DecisionRecorder(sql, TraceLake(folder / "traces", fsync=False), clock)
        began = time.perf_counter()
        for start_index in range(0, len(decided), 1_000):
            recorder.record(decided[start_index : start_index + 1_000])
        elapsed = time.perf_counter() - began
        size = sum(path.stat().st_size for path in (folder / "traces").rglob("*.parquet"))
        print(
            f"recording: {len(decided):,} traces in batches of 1,000: "
            f"{elapsed / len(decided) * 1e6:.0f} µs per decision (lake + SQLite headers), "
            f"{size / len(decided):,.0f} bytes of Parquet per trace"
        )
        probe = decided[len(decided) // 2].trace.decision_id
        explain_us = timed(recorder.explain, probe, repeat=20)
        print(f"explain by ID (header from SQLite, body from its Parquet file): {explain_us / 1_000:.2f} ms")
        sql.dispose()
        engine.close()
    print(f"finished at {datetime.now(UTC).isoformat(timespec='seconds')}")


if __name__ == "__main__":
    main()
