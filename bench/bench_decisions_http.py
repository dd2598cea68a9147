"""The decision routes over HTTP under uvicorn: authorisations and onboarding decisions per second, p50/p99.

    OMP_NUM_THREADS=1 .venv/bin/python bench/bench_decisions_http.py [--requests 600] [--connections 8]

Set-up (not timed): the world, online features and models of ``bench_decisions.py`` (tiny scale); the app of
``fengkong serve`` (``create_app`` over a migrated SQLite file) with the decision routes installed
(``routes_decisions.install``), served by uvicorn in a thread of this process on 127.0.0.1.

Load generator: ``httpx.Client`` in this same process — client and server share the interpreter (one GIL) and
the machine's two cores, so read the figures as a floor, not a capacity. Two modes:

* **closed loop**: ``--connections`` threads, each with its own keep-alive connection, send the next request
  when the answer arrives;
* **paced** (open loop): requests leave at a fixed rate (half the closed-loop throughput) from the same
  threads, and latency counts from the scheduled send time, so queueing behind a slow request is counted
  (no coordinated omission).

Each request is a whole write: the idempotency key, the decision (features, rules, models, pricing), the
trace file (one per decision on this path), the header, the offer or the hold, one commit. Printed per
endpoint: requests/s, p50/p99 and CPU milliseconds per request (this process: client and server together),
with ``GET /healthz`` as the reference in the same run. Goals (issue 8): 1,500 authorisations/s and 500
onboarding decisions/s at 8 connections, p99 at most 25 ms, CPU at most 2.5 ms per decision.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import numpy as np
import uvicorn
from bench_api import free_port
from bench_decisions import POLICY, build_models, build_world

from fengkong.api import routes_decisions
from fengkong.api.app import create_app
from fengkong.api.settings import ApiSettings
from fengkong.clock import FixedClock
from fengkong.decisions.engine import DecisionEngine
from fengkong.decisions.policy import load_policy
from fengkong.services.api_decisions import DecisionDesk
from fengkong.services.decisions import SqlExposure, TraceLake
from fengkong.store import exposure as exposure_store
from fengkong.store import migrate

STARTUP_SECONDS_MAX = 30
FAILURES: list[str] = []  # responses other than 201, printed at the end (a bench that hides errors lies)
GOALS = {"authorisations": 1_500, "applications": 500}


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def closed_loop(
    base: str, connections: int, bodies: list[tuple[str, dict[str, Any]]]
) -> tuple[list[float], float, float]:
    """Latencies (s), wall seconds, CPU seconds for ``bodies`` sent by ``connections`` threads."""
    chunks = [bodies[i::connections] for i in range(connections)]

    def worker(chunk: list[tuple[str, dict[str, Any]]]) -> list[float]:
        out = []
        with httpx.Client(base_url=base, timeout=60.0) as client:
            for path, body in chunk:
                key = body.get("authorisation_id") or body.get("application_id") or "k"
                started = time.perf_counter()
                response = client.post(path, json=body, headers={"Idempotency-Key": str(key)})
                out.append(time.perf_counter() - started)
                if response.status_code != 201:
                    FAILURES.append(f"{path}: {response.status_code} {response.text[:200]}")
        return out

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        latencies = [value for part in pool.map(worker, chunks) for value in part]
    return latencies, time.perf_counter() - wall, time.process_time() - cpu


def paced(
    base: str, connections: int, bodies: list[tuple[str, dict[str, Any]]], rate: float
) -> tuple[list[float], float, float]:
    """Open loop at ``rate`` requests/s; latency from each request's scheduled send time."""
    start = time.perf_counter() + 0.2
    schedule = [start + n / rate for n in range(len(bodies))]
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))

    def worker(_: int) -> list[float]:
        out = []
        with httpx.Client(base_url=base, timeout=60.0) as client:
            while True:
                with lock:
                    index = next(cursor, None)
                if index is None:
                    return out
                delay = schedule[index] - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                path, body = bodies[index]
                key = body.get("authorisation_id") or body.get("application_id") or "k"
                response = client.post(path, json=body, headers={"Idempotency-Key": f"p-{key}"})
                out.append(time.perf_counter() - schedule[index])
                if response.status_code != 201:
                    FAILURES.append(f"{path}: {response.status_code} {response.text[:200]}")

    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(connections) as pool:
        latencies = [value for part in pool.map(worker, range(connections)) for value in part]
    return latencies, time.perf_counter() - wall, time.process_time() - cpu


def show(name: str, measured: tuple[list[float], float, float], goal: int | None = None) -> float:
    latencies, wall, cpu = measured
    rate = len(latencies) / wall
    goal_text = "" if goal is None else f" (goal ≥ {goal:,}/s: {'met' if rate >= goal else 'NOT met'})"
    print(
        f"  {name:46s} {rate:7.0f} req/s{goal_text}, p50 {pct(latencies, 50) * 1000:6.2f} ms, "
        f"p99 {pct(latencies, 99) * 1000:7.2f} ms (goal ≤ 25), CPU {cpu / len(latencies) * 1000:5.2f} ms/req",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--connections", type=int, default=8)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the API logs an internal error's traceback
    with tempfile.TemporaryDirectory(prefix="fengkong-bench-decisions-http-") as scratch:
        folder = Path(scratch)
        features, latest, logins = build_world("tiny", folder / "world")
        scorecard, gbm = build_models(features, latest, logins)
        url = f"sqlite:///{folder / 'api.sqlite'}"
        migrate.upgrade(url)
        clock = FixedClock(latest + timedelta(seconds=1))
        app = create_app(ApiSettings(database_url=url, lake_dir=folder / "lake"), clock=clock)
        sql = app.state.context.engine
        engine = DecisionEngine(
            load_policy(POLICY),
            reader=features,
            models={"scorecard": scorecard, "gbm": gbm},
            exposure=SqlExposure(sql),
            clock=clock,
        )
        routes_decisions.install(app, DecisionDesk(engine, TraceLake(folder / "traces", fsync=False), clock))
        rng = np.random.default_rng(9)
        count = arguments.requests
        picks = [logins[int(i)] for i in rng.integers(0, len(logins), 4 * count)]
        with sql.begin() as connection:
            for login in {str(p["party_id"]) for p in picks}:
                exposure_store.set_party_limit(connection, login, "bnpl", 10_000_000, clock.now())
                exposure_store.set_household_cap(connection, f"h-{login}", 20_000_000, clock.now())

        def application(n: int, login: dict[str, Any], tag: str) -> tuple[str, dict[str, Any]]:
            return "/v1/applications", {
                "application_id": f"{tag}-app-{n}",
                "party_id": str(login["party_id"]),
                "household_id": f"h-{login['party_id']}",
                "product": "installment",
                "amount": f"{int(rng.integers(500, 3000))}.00",
                "installments": int(rng.choice([3, 6, 12])),
                "age_years": int(rng.integers(18, 60)),
                "identity_verified": True,
                "monthly_income": f"{int(rng.integers(3000, 30000))}.00",
                "monthly_debt_payments": "500.00",
                "device_id": str(login["device_id"]),
                "ip": str(login["ip"]),
            }

        def authorisation(n: int, login: dict[str, Any], tag: str) -> tuple[str, dict[str, Any]]:
            return "/v1/authorisations", {
                "authorisation_id": f"{tag}-auth-{n}",
                "party_id": str(login["party_id"]),
                "household_id": f"h-{login['party_id']}",
                "product": "bnpl",
                "amount": f"{int(rng.integers(1, 50))}.00",
                "merchant_category": "food",
                "device_id": str(login["device_id"]),
                "ip": str(login["ip"]),
            }

        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS_MAX
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            print(
                f"{count} requests per measurement, {arguments.connections} connections, load generator "
                f"in the same process; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
                flush=True,
            )
            with httpx.Client(base_url=base, timeout=30.0) as client:
                health: list[float] = []
                cpu = time.process_time()
                wall = time.perf_counter()
                for _ in range(min(count, 300)):
                    started = time.perf_counter()
                    client.get("/healthz")
                    health.append(time.perf_counter() - started)
                show(
                    "GET /healthz (reference, one connection)",
                    (health, time.perf_counter() - wall, time.process_time() - cpu),
                )
            make: dict[str, Callable[[int, dict[str, Any], str], tuple[str, dict[str, Any]]]] = {
                "authorisations": authorisation,
                "applications": application,
            }
            for name, build in make.items():
                closed = [build(n, picks[n], "c") for n in range(count)]
                rate = show(
                    f"POST /v1/{name}, closed loop",
                    closed_loop(base, arguments.connections, closed),
                    GOALS[name],
                )
                open_bodies = [build(n, picks[count + n], "o") for n in range(count)]
                show(
                    f"POST /v1/{name}, paced at {rate / 2:.0f}/s",
                    paced(base, arguments.connections, open_bodies, max(rate / 2, 1.0)),
                )
        finally:
            server.should_exit = True
            thread.join(STARTUP_SECONDS_MAX)
            engine.close()
        print(f"responses other than 201: {len(FAILURES)}" + "".join(f"\n  {f}" for f in FAILURES[:5]))


if __name__ == "__main__":
    main()
