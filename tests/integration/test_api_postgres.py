"""The API on a real PostgreSQL: many concurrent repayments of one loan, with retries (the same key again)
and duplicates (the same repayment under another key), end with exact balances and no double posting; draws
racing on one line never pass it."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from fengkong.api.app import create_app
from fengkong.api.settings import ApiSettings
from fengkong.clock import FixedClock
from fengkong.ledger.accounts import CASH_CLEARING
from fengkong.money import Money
from fengkong.services import ledger as ledger_service
from fengkong.store import migrate, tables
from fengkong.store.ledger import LedgerRepository
from tests.unit.api.offers import NOW, keep, line_offer, loan_offer
from tests.unit.api.testclient import TestClient

pytestmark = pytest.mark.integration

WORKERS = 8
REPAYMENTS = 40
PRINCIPAL_FEN = 1_200_000
BARRIER_TIMEOUT_SECONDS = 30  # only reached if a worker is stuck


@pytest.fixture
def app(postgres_url: str, tmp_path: Path) -> Iterator[FastAPI]:
    migrate.upgrade(postgres_url)
    app = create_app(
        ApiSettings(database_url=postgres_url, lake_dir=tmp_path / "lake"), clock=FixedClock(NOW)
    )
    with TestClient(app):  # runs the lifespan: the chart of accounts is installed
        yield app


def post(client: TestClient, path: str, body: dict[str, Any], key: str) -> Any:
    return client.post(path, json=body, headers={"Idempotency-Key": key})


def count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_concurrent_repayments_with_retries_and_duplicates_post_once(app: FastAPI) -> None:
    context = app.state.context
    engine: sa.Engine = context.engine
    keep(engine, context.clock, loan_offer("OF-1", PRINCIPAL_FEN))
    client = TestClient(app)
    assert post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-1"}, "accept").status_code == 201

    amounts = {f"R-{number}": 10_000 + 7 * number for number in range(REPAYMENTS)}
    requests: list[tuple[str, str, int]] = []  # (idempotency key, repayment id, amount)
    for repayment_id, amount in amounts.items():
        requests += [(f"key-{repayment_id}", repayment_id, amount)] * 2  # a client retrying
        requests.append((f"other-key-{repayment_id}", repayment_id, amount))  # the same repayment, new key
    random.Random(7).shuffle(requests)
    start = threading.Barrier(WORKERS, timeout=BARRIER_TIMEOUT_SECONDS)

    def worker(part: int) -> list[tuple[str, int, dict[str, Any]]]:
        own = TestClient(app)
        start.wait()
        answers = []
        for key, repayment_id, amount in requests[part::WORKERS]:
            body = {"repayment_id": repayment_id, "loan_id": "LN-1", "amount": Money(amount).format()}
            response = post(own, "/v1/repayments", body, key)
            answers.append((repayment_id, response.status_code, response.json()))
        return answers

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        answers = [answer for part in pool.map(worker, range(WORKERS)) for answer in part]

    assert len(answers) == len(requests)
    assert {status for _, status, _ in answers} == {201}
    by_repayment: dict[str, set[str]] = {}
    for repayment_id, _, body in answers:
        assert body["outcome"] == "applied"
        by_repayment.setdefault(repayment_id, set()).add(str(sorted(body.items())))
    assert all(len(bodies) == 1 for bodies in by_repayment.values())  # every copy got the same answer

    paid = sum(amounts.values())
    loan = client.get("/v1/loans/LN-1").json()
    assert Money.parse(loan["principal_outstanding"]).amount_minor == PRINCIPAL_FEN - paid
    assert count(engine, tables.loan_repayments) == REPAYMENTS
    assert count(engine, tables.idempotency_keys) == 1 + 2 * REPAYMENTS
    with engine.connect() as connection:
        repository = LedgerRepository(context.clock)
        assert ledger_service.current_trial_balance(connection, repository).is_balanced
        cash = [row for row in ledger_service.totals(connection, repository) if row.code == CASH_CLEARING]
    assert sum(row.debit_minor for row in cash) == paid  # each repayment received once
    assert sum(row.credit_minor for row in cash) == PRINCIPAL_FEN  # the loan disbursed once

    conflict = post(
        client, "/v1/repayments", {"repayment_id": "R-0", "loan_id": "LN-1", "amount": "1.00"}, "key-R-0"
    )
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_conflict"


def test_concurrent_draws_never_pass_the_line(app: FastAPI) -> None:
    context = app.state.context
    keep(context.engine, context.clock, line_offer("LINE-1", 1_000_000))
    client = TestClient(app)
    assert post(client, "/v1/offers/LINE-1/accept", {}, "line").status_code == 200
    start = threading.Barrier(WORKERS, timeout=BARRIER_TIMEOUT_SECONDS)

    def worker(number: int) -> str:
        own = TestClient(app)
        body = {"draw_id": f"D-{number}", "line_offer_id": "LINE-1", "amount": "3000.00", "installments": 3}
        start.wait()
        return str(post(own, "/v1/draws", body, f"draw-{number}").json()["outcome"])

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(worker, range(WORKERS)))
    assert sorted(outcomes) == ["booked"] * 3 + ["refused"] * (WORKERS - 3)
    assert count(context.engine, tables.loans) == 3
