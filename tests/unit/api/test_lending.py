"""The lending API on a migrated SQLite file: accept, draw, repay, read, quote; outcomes and errors."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from fengkong.clock import FixedClock, start_of_business_day
from fengkong.compliance.caps import default_cap_policy
from fengkong.ledger.accounts import CASH_CLEARING
from fengkong.lending.delinquency import DelinquencyPolicy
from fengkong.money import Money
from fengkong.services import ledger as ledger_service
from fengkong.services import loans as loans_service
from fengkong.store.ledger import LedgerRepository
from tests.unit.api.offers import NOW, TODAY, keep, line_offer, loan_offer
from tests.unit.api.testclient import TestClient

_keys = itertools.count()


def post(client: TestClient, path: str, body: dict[str, Any], key: str | None = None) -> Any:
    return client.post(path, json=body, headers={"Idempotency-Key": key or f"key-{next(_keys)}"})


def fen(text: str) -> int:
    return Money.parse(text).amount_minor


def trial_balance_is_zero(engine: sa.Engine, clock: FixedClock) -> bool:
    with engine.connect() as connection:
        return ledger_service.current_trial_balance(connection, LedgerRepository(clock)).is_balanced


def cash_net_fen(engine: sa.Engine, clock: FixedClock) -> int:
    """Cash clearing, debit minus credit: repayments received minus principal paid out."""
    with engine.connect() as connection:
        rows = ledger_service.totals(connection, LedgerRepository(clock))
    return sum(row.debit_minor - row.credit_minor for row in rows if row.code == CASH_CLEARING)


def test_accepting_a_loan_offer_books_and_disburses_the_loan(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    offer = loan_offer("OF-1", 1_200_000)
    keep(engine, clock, offer)
    response = post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-1"})
    assert response.status_code == 201
    assert response.json()["outcome"] == "booked"
    assert response.json()["loan_id"] == "LN-1"

    loan = client.get("/v1/loans/LN-1").json()
    assert loan["principal"] == "12000.00"
    assert loan["principal_outstanding"] == "12000.00"
    assert loan["status"] == "active"
    assert loan["party_id"] == "P-1"
    assert loan["disbursed_on"] == TODAY.isoformat()
    assert offer.schedule is not None
    assert loan["next_due_on"] == offer.schedule.installments[0].due.isoformat()

    schedule = client.get("/v1/loans/LN-1/schedule").json()
    rows = schedule["rows"]
    assert len(rows) == len(offer.schedule.installments)
    assert sum(fen(row["principal"]) for row in rows) == 1_200_000
    for row, line in zip(rows, offer.schedule.installments, strict=True):
        assert fen(row["interest"]) == line.interest.amount_minor
        assert fen(row["installment"]) == fen(row["principal"]) + fen(row["interest"]) + fen(row["fee"])
    assert fen(schedule["total_due"]) == 1_200_000 + fen(schedule["total_interest"])
    assert all(isinstance(value, str) for row in rows for name, value in row.items() if name != "number")


def test_an_offer_accepted_twice_with_new_keys_books_one_loan(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, loan_offer("OF-1"))
    first = post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-1"})
    again = post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-1"})
    assert first.status_code == 201 and first.json()["created"] is True
    assert again.status_code == 200 and again.json()["created"] is False
    other = post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-2"})
    assert other.status_code == 409
    assert "accepted before as loan 'LN-1'" in other.json()["message"]
    assert client.get("/v1/loans/LN-2").status_code == 404


def test_an_offer_accepted_again_on_a_later_day_returns_its_loan(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, loan_offer("OF-1"))
    assert post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-1"}).status_code == 201
    clock.advance(timedelta(days=1))  # still within the offer's window, no longer its schedule's start day
    again = post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-1"})
    assert again.status_code == 200
    assert (again.json()["outcome"], again.json()["created"]) == ("booked", False)
    assert post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-2"}).status_code == 409


def test_an_expired_offer_is_an_answer_not_an_error(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, loan_offer("OF-OLD", valid_from=NOW - timedelta(days=8), valid_for=timedelta(days=7)))
    response = post(client, "/v1/offers/OF-OLD/accept", {"loan_id": "LN-1"})
    assert response.status_code == 200
    assert response.json()["outcome"] == "not-accepted"
    assert response.json()["reason"] == "expired"
    assert client.get("/v1/loans/LN-1").status_code == 404


def test_an_offer_whose_schedule_starts_another_day_is_refused_naming_the_offer(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, loan_offer("OF-LATER", start=TODAY + timedelta(days=3)))
    response = post(client, "/v1/offers/OF-LATER/accept", {"loan_id": "LN-1"})
    assert response.status_code == 422
    assert response.json()["field"] == "offer_id"
    assert "2026-03-05" in response.json()["message"]


def test_a_loan_offer_needs_a_loan_id(client: TestClient, engine: sa.Engine, clock: FixedClock) -> None:
    keep(engine, clock, loan_offer("OF-1"))
    response = post(client, "/v1/offers/OF-1/accept", {})
    assert response.status_code == 422
    assert response.json() == {
        "code": "input",
        "message": "required to accept an offer with a schedule",
        "field": "loan_id",
    }


def test_unknown_offer_and_loan_are_404(client: TestClient) -> None:
    assert post(client, "/v1/offers/NOPE/accept", {"loan_id": "LN-1"}).status_code == 404
    for response in (
        client.get("/v1/loans/NOPE"),
        client.get("/v1/loans/NOPE/schedule"),
        post(client, "/v1/loans/NOPE/payoff-quote", {}),
        post(client, "/v1/repayments", {"repayment_id": "R-1", "loan_id": "NOPE", "amount": "1.00"}),
        post(
            client, "/v1/draws", {"draw_id": "D-1", "line_offer_id": "NOPE", "amount": "1", "installments": 1}
        ),
    ):
        assert response.status_code == 404, response.json()
        assert response.json()["code"] == "not_found"


def test_repayments_allocate_and_a_payoff_closes_the_loan(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, loan_offer("OF-1", 600_000))
    post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-1"})
    paid = post(client, "/v1/repayments", {"repayment_id": "R-1", "loan_id": "LN-1", "amount": "1000.00"})
    assert paid.status_code == 201
    body = paid.json()
    assert body["outcome"] == "applied"
    assert sum(fen(amount) for amount in body["parts"].values()) == 100_000
    assert client.get("/v1/loans/LN-1").json()["principal_outstanding"] == "5000.00"

    quote = post(client, "/v1/loans/LN-1/payoff-quote", {}).json()
    assert quote["on"] == TODAY.isoformat()
    parts = ("penalty", "fees", "interest", "principal")
    assert fen(quote["total"]) == sum(fen(quote[name]) for name in parts)
    assert quote["principal"] == "5000.00"

    too_much = fen(quote["total"]) + 1
    refused = post(
        client,
        "/v1/repayments",
        {"repayment_id": "R-2", "loan_id": "LN-1", "amount": Money(too_much).format()},
    )
    assert refused.status_code == 200
    assert refused.json()["outcome"] == "refused"
    assert refused.json()["reason"]

    payoff = post(
        client, "/v1/repayments", {"repayment_id": "R-3", "loan_id": "LN-1", "amount": quote["total"]}
    )
    assert payoff.status_code == 201
    assert payoff.json()["paid_off"] is True
    loan = client.get("/v1/loans/LN-1").json()
    assert loan["status"] == "closed"
    assert loan["principal_outstanding"] == "0.00"
    assert trial_balance_is_zero(engine, clock)
    assert cash_net_fen(engine, clock) == 100_000 + fen(quote["total"]) - 600_000


def test_a_payoff_quote_before_the_last_closed_day_is_refused(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, loan_offer("OF-1"))
    post(client, "/v1/offers/OF-1/accept", {"loan_id": "LN-1"})
    response = post(client, "/v1/loans/LN-1/payoff-quote", {"on": (TODAY - timedelta(days=1)).isoformat()})
    assert response.status_code == 422
    assert response.json()["field"] == "on"


def test_a_line_is_accepted_then_drawn_within_its_amount(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, line_offer("LINE-1", 1_000_000))
    draw = {"draw_id": "D-1", "line_offer_id": "LINE-1", "amount": "3000.00", "installments": 3}
    before = post(client, "/v1/draws", draw)
    assert before.status_code == 200
    assert before.json()["reason"] == "line-not-accepted"

    accepted = post(client, "/v1/offers/LINE-1/accept", {})
    assert accepted.status_code == 200
    assert accepted.json()["outcome"] == "line-accepted"
    assert accepted.json()["line"] == "10000.00"

    booked = post(client, "/v1/draws", draw)
    assert booked.status_code == 201
    body = booked.json()
    assert body["outcome"] == "booked"
    assert body["loan_id"] == "D-1"
    assert body["available"] == "7000.00"
    loan = client.get("/v1/loans/D-1").json()
    assert loan["principal"] == "3000.00"
    assert loan["product"] == "revolving"
    assert len(client.get("/v1/loans/D-1/schedule").json()["rows"]) == 3

    over = post(client, "/v1/draws", {**draw, "draw_id": "D-2", "amount": "7000.01"})
    assert over.status_code == 200
    assert over.json()["reason"] == "insufficient-available-credit"
    assert over.json()["available"] == "7000.00"
    exact = post(client, "/v1/draws", {**draw, "draw_id": "D-3", "amount": "7000.00"})
    assert exact.json()["outcome"] == "booked"
    assert exact.json()["available"] == "0.00"

    # repaying a draw frees the line again
    quote = post(client, "/v1/loans/D-1/payoff-quote", {}).json()
    post(client, "/v1/repayments", {"repayment_id": "R-D1", "loan_id": "D-1", "amount": quote["total"]})
    again = post(client, "/v1/draws", {**draw, "draw_id": "D-4", "amount": "3000.00"})
    assert again.json()["outcome"] == "booked"
    assert trial_balance_is_zero(engine, clock)


def test_a_draw_id_reused_for_another_draw_is_a_conflict(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, line_offer("LINE-1"))
    post(client, "/v1/offers/LINE-1/accept", {})
    draw = {"draw_id": "D-1", "line_offer_id": "LINE-1", "amount": "100.00", "installments": 3}
    assert post(client, "/v1/draws", draw).status_code == 201
    retried = post(client, "/v1/draws", draw)  # a new key, the same draw: the draw booked first
    assert retried.status_code == 200
    assert retried.json()["created"] is False
    conflict = post(client, "/v1/draws", {**draw, "amount": "200.00"})
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_conflict"


def test_a_draw_over_the_rate_cap_is_refused(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, line_offer("LINE-DEAR", rate="0.40"))
    post(client, "/v1/offers/LINE-DEAR/accept", {})
    draw = {"draw_id": "D-1", "line_offer_id": "LINE-DEAR", "amount": "100.00", "installments": 6}
    response = post(client, "/v1/draws", draw)
    assert response.status_code == 200
    assert response.json()["reason"] == "over-rate-cap"
    assert "cap" in response.json()["detail"]
    assert client.get("/v1/loans/D-1").status_code == 404


def test_drawing_on_a_loan_offer_or_accepting_a_draw_is_refused(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    keep(engine, clock, loan_offer("OF-1"), line_offer("LINE-1"))
    response = post(
        client, "/v1/draws", {"draw_id": "D-1", "line_offer_id": "OF-1", "amount": "1", "installments": 1}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "line_offer_id"
    post(client, "/v1/offers/LINE-1/accept", {})
    post(client, "/v1/draws", {"draw_id": "D-1", "line_offer_id": "LINE-1", "amount": "1", "installments": 1})
    accept_draw = post(client, "/v1/offers/draw:D-1/accept", {"loan_id": "X"})
    assert accept_draw.status_code == 422
    assert accept_draw.json()["field"] == "offer_id"


def test_a_drawn_loan_is_serviced_by_the_close_of_business_and_repaid_through_the_api(
    client: TestClient, engine: sa.Engine, clock: FixedClock
) -> None:
    """A draw is an ordinary loan: closing days makes its first installment due and then overdue; the API
    shows the dues and the days past due, and a repayment pays them in the allocation order."""
    keep(engine, clock, line_offer("LINE-1", 1_000_000))
    post(client, "/v1/offers/LINE-1/accept", {})
    post(
        client,
        "/v1/draws",
        {"draw_id": "D-1", "line_offer_id": "LINE-1", "amount": "3000.00", "installments": 3},
    )
    first_due = date.fromisoformat(client.get("/v1/loans/D-1").json()["next_due_on"])
    last = first_due + timedelta(days=3)
    closed = loans_service.close_business_days(
        engine, clock, TODAY + timedelta(days=1), last, DelinquencyPolicy(), default_cap_policy()
    )
    assert closed[-1].business_date == last
    clock.set(start_of_business_day(last) + timedelta(hours=10))

    loan = client.get("/v1/loans/D-1").json()
    assert loan["closed_through"] == last.isoformat()
    assert loan["days_past_due"] == 3
    owed = fen(loan["due"]["principal"]) + fen(loan["due"]["interest"]) + fen(loan["penalty_outstanding"])
    first_row = client.get("/v1/loans/D-1/schedule").json()["rows"][0]
    assert fen(loan["due"]["principal"]) == fen(first_row["principal"])
    assert fen(loan["penalty_outstanding"]) > 0  # three days of penalty interest on the overdue principal

    paid = post(
        client, "/v1/repayments", {"repayment_id": "R-1", "loan_id": "D-1", "amount": Money(owed).format()}
    )
    parts = {name: fen(amount) for name, amount in paid.json()["parts"].items()}
    assert parts["penalty"] == fen(loan["penalty_outstanding"])
    assert parts["interest"] == fen(loan["due"]["interest"])
    assert parts["principal"] == fen(loan["due"]["principal"])
    after = client.get("/v1/loans/D-1").json()
    assert after["due"] == {"principal": "0.00", "interest": "0.00", "fee": "0.00"}
    assert after["penalty_outstanding"] == "0.00"
    assert trial_balance_is_zero(engine, clock)
