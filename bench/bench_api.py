"""The HTTP API under uvicorn: latency and throughput of a read, a first-time write and a replayed write, with
``GET /healthz`` (one ``SELECT 1``) as the reference in the same run.

Set-up: ``fengkong.api.app.create_app`` over a migrated SQLite file (and, when it answers, a scratch schema of
``FENGKONG_BENCH_POSTGRES_URL``), served by uvicorn (one process, its event loop in a thread of this process)
on 127.0.0.1; one loan of 10 million yuan booked through the API. The load generator is an ``httpx.Client``
in the main thread of the same process: one keep-alive connection, closed loop (the next request leaves when
the answer arrives), so client and server share the interpreter and the machine's two cores — read the
figures as a floor, not a capacity.

Measured, ``--requests`` each: ``GET /healthz``; ``GET /v1/loans/{id}``; ``POST /v1/repayments`` with a new
key and repayment each time (the whole write: key row, loan row lock, allocation, ledger posting, remembered
response, commit); the same ``POST`` replayed with one key (a read of the remembered response). Printed: p50,
p99, requests per second, CPU milliseconds per request (this process: client and server together; less
sensitive than wall time to other load on the machine) and each p50 as a multiple of the reference's. The run
ends by checking that the loan's outstanding principal fell by exactly the repayments posted.

Run: ``.venv/bin/python bench/bench_api.py [--requests N]``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import httpx
import uvicorn
from _databases import postgres_display, postgres_reachable, postgres_schema_url

from fengkong.api.app import create_app
from fengkong.api.settings import ApiSettings
from fengkong.clock import FixedClock
from fengkong.compliance.apr import annualised_rate
from fengkong.domain.products import DayCount, Offer, ProductKind, ProductTerms, RepaymentMethod
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money
from fengkong.services.api_lending import save_offer
from fengkong.store import migrate

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # business date 2026-03-02 in Shanghai
TODAY = date(2026, 3, 2)
PRINCIPAL_FEN = 1_000_000_000  # 10 million yuan: a run of 1-yuan repayments never closes it
STARTUP_SECONDS_MAX = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(database_url: str, lake: Path) -> Iterator[str]:
    """The app over ``database_url`` under uvicorn in a thread; yields its base URL."""
    app = create_app(ApiSettings(database_url=database_url, lake_dir=lake), clock=FixedClock(NOW))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS_MAX
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_SECONDS_MAX)


def keep_offer(database_url: str) -> None:
    from fengkong.store.config import make_engine

    terms = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=Decimal("0.18"),
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        day_count=DayCount.THIRTY_360,
        installments=12,
    )
    schedule = build_schedule(terms, Money(PRINCIPAL_FEN), TODAY, rounding="ROUND_HALF_EVEN")
    offer = Offer(
        "OF-BENCH", "P-BENCH", terms, Money(PRINCIPAL_FEN), annualised_rate(schedule, fees=()),
        NOW - timedelta(hours=1), NOW + timedelta(days=1), schedule,
    )  # fmt: skip
    engine = make_engine(database_url)
    try:
        save_offer(engine, FixedClock(NOW), offer)
    finally:
        engine.dispose()


def timed(count: int, call: Callable[[int], httpx.Response], expected: int) -> tuple[list[float], float]:
    """Wall seconds of each call, and the process's CPU seconds per call (client and server together)."""
    seconds: list[float] = []
    cpu_started = time.process_time()
    for number in range(count):
        started = time.perf_counter()
        response = call(number)
        seconds.append(time.perf_counter() - started)
        if response.status_code != expected:
            raise RuntimeError(f"expected {expected}, got {response.status_code}: {response.text[:200]}")
    return seconds, (time.process_time() - cpu_started) / count


def report(name: str, measured: tuple[list[float], float], reference_p50: float | None) -> float:
    seconds, cpu = measured
    ordered = sorted(seconds)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    ratio = "" if reference_p50 is None else f"  p50 x{p50 / reference_p50:5.1f} of /healthz"
    print(
        f"  {name:34s} p50 {p50 * 1000:6.2f} ms  p99 {p99 * 1000:6.2f} ms  "
        f"{len(seconds) / sum(seconds):7.0f} req/s  CPU {cpu * 1000:5.2f} ms/req{ratio}",
        flush=True,
    )
    return p50


def run(database_url: str, label: str, requests: int, lake: Path) -> None:
    keep_offer(database_url)
    print(f"{label}: {requests} requests each, one connection, closed loop", flush=True)
    with served(database_url, lake) as base, httpx.Client(base_url=base, timeout=30.0) as client:
        booked = client.post(
            "/v1/offers/OF-BENCH/accept", json={"loan_id": "LN-BENCH"}, headers={"Idempotency-Key": "accept"}
        )
        if booked.status_code != 201:
            raise RuntimeError(f"could not book the loan: {booked.text}")
        reference = report(
            "GET /healthz (reference)", timed(requests, lambda _: client.get("/healthz"), 200), None
        )
        report(
            "GET /v1/loans/{id}", timed(requests, lambda _: client.get("/v1/loans/LN-BENCH"), 200), reference
        )

        def repay(number: int) -> httpx.Response:
            body = {"repayment_id": f"R-{number}", "loan_id": "LN-BENCH", "amount": "1.00"}
            return client.post("/v1/repayments", json=body, headers={"Idempotency-Key": f"pay-{number}"})

        report("POST /v1/repayments (first time)", timed(requests, repay, 201), reference)
        report("POST /v1/repayments (replayed key)", timed(requests, lambda _: repay(0), 201), reference)
        outstanding = Money.parse(client.get("/v1/loans/LN-BENCH").json()["principal_outstanding"])
        if outstanding.amount_minor != PRINCIPAL_FEN - 100 * requests:
            raise RuntimeError(f"outstanding {outstanding} after {requests} repayments of 1.00: not exact")
        print(
            f"  check: outstanding principal {outstanding.format()} = 10000000.00 - {requests} x 1.00",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite'}"
        migrate.upgrade(url)
        run(url, "SQLite", args.requests, Path(folder) / "lake")
        if postgres_reachable():
            with postgres_schema_url() as pg_url:
                migrate.upgrade(pg_url)
                run(pg_url, "PostgreSQL", args.requests, Path(folder) / "lake-pg")
        else:
            print(f"PostgreSQL: skipped, nothing answers at {postgres_display()}")


if __name__ == "__main__":
    main()
