"""The demo's baseline policy: it decides from observed events only, and its rules do what they say."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from fengkong.services import baseline_policy
from fengkong.services.baseline_policy import BaselinePolicy, ObservedBook, PolicyParameters, merge_actions
from fengkong.sim.response import LenderActions, event_table

START = date(2026, 3, 1)
NOON = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)


def _common(event_type: str, count: int, day: int = 0) -> dict[str, list[object]]:
    at = NOON + timedelta(days=day)
    return {
        "event_id": [f"{event_type}-{day}-{i}" for i in range(count)],
        "event_type": [event_type] * count,
        "occurred_at": [at] * count,
        "received_at": [at] * count,
        "source": ["test"] * count,
    }


def registered(parties: list[str], devices: list[str], roles: str = "consumer", day: int = 0) -> pa.Table:
    return event_table(
        "party_registered",
        {
            **_common("party_registered", len(parties), day),
            "party_id": parties,
            "party_kind": ["person"] * len(parties),
            "roles": [roles] * len(parties),
            "declared_monthly_income_fen": [800_000] * len(parties),
            "device_id": devices,
        },
    )


def bureau(parties: list[str], scores: list[int], day: int = 0) -> pa.Table:
    count = len(parties)
    return event_table(
        "bureau_report",
        {
            **_common("bureau_report", count, day),
            "party_id": parties,
            "bureau_score": scores,
            "accounts_open": [2] * count,
            "delinquencies_24m": [0] * count,
            "inquiries_6m": [1] * count,
            "months_on_file": [40] * count,
            "total_debt_fen": [0] * count,
        },
    )


def orders(parties: list[str], day: int) -> pa.Table:
    count = len(parties)
    return event_table(
        "order_placed",
        {
            **_common("order_placed", count, day),
            "consumer_id": parties,
            "merchant_id": ["m1"] * count,
            "order_id": [f"o-{day}-{i}" for i in range(count)],
            "amount_fen": [3_000] * count,
            "category": ["food"] * count,
            "pay_method": ["wallet"] * count,
        },
    )


def applications(parties: list[str], products: list[str], day: int) -> pa.Table:
    count = len(parties)
    return event_table(
        "loan_application",
        {
            **_common("loan_application", count, day),
            "applicant_id": parties,
            "application_id": [f"app-{day}-{i}" for i in range(count)],
            "product": products,
            "requested_amount_fen": [500_000] * count,
            "term_months": [0] * count,
            "declared_monthly_income_fen": [800_000] * count,
        },
    )


def money(event_type: str, parties: list[str], amounts: list[int], day: int) -> pa.Table:
    count = len(parties)
    column = {"draw": "draw_id", "repayment": "repayment_id"}[event_type]
    extra = {"channel": ["auto_debit"] * count} if event_type == "repayment" else {}
    return event_table(
        event_type,
        {
            **_common(event_type, count, day),
            "borrower_id": parties,
            "account_id": [f"{party}:bnpl:1" for party in parties],
            column: [f"{event_type}-{day}-{i}" for i in range(count)],
            "amount_fen": amounts,
            **extra,
        },
    )


def a_month_of_history(book: ObservedBook, parties: list[str], devices: list[str]) -> None:
    for day in range(40):
        book.start_day(day, START + timedelta(days=day))
        tables = {"order_placed": orders(parties * 2, day)}
        if day == 0:
            tables["party_registered"] = registered(parties, devices)
        book.observe(tables)


def test_decides_from_bureau_and_devices_with_lines_in_bounds() -> None:
    parties = ["good", "poor", "ring-a", "ring-b", "ring-c"]
    devices = ["d-good", "d-poor", "d-ring", "d-ring", "d-ring"]
    book = ObservedBook()
    a_month_of_history(book, parties, devices)
    book.observe({"bureau_report": bureau(parties, [780, 520, 780, 780, 780], day=39)})
    policy = BaselinePolicy()
    actions = policy.decide(book, applications(parties, ["bnpl"] * 5, day=39))
    assert actions.offer_party.tolist() == ["good"]
    reasons = {record.party_id: record.reason for record in policy.log.decisions}
    assert reasons == {
        "good": "approved",
        "poor": "score",
        "ring-a": "fraud:shared_device",
        "ring-b": "fraud:shared_device",
        "ring-c": "fraud:shared_device",
    }
    params = PolicyParameters()
    line = int(actions.offer_amount_fen[0])
    assert params.line_min_fen <= line <= params.line_max_fen
    assert line % 10_000 == 0  # whole hundreds of yuan, integer fen
    assert actions.offer_amount_fen.dtype == np.int64


def test_many_applications_in_one_day_are_approved_under_a_hold() -> None:
    book = ObservedBook()
    a_month_of_history(book, ["p"], ["d-p"])
    book.observe({"bureau_report": bureau(["p"], [800], day=39)})
    policy = BaselinePolicy()
    actions = policy.decide(book, applications(["p", "p", "p"], ["bnpl", "revolving", "installment"], day=39))
    assert actions.hold_party.tolist() == ["p"]
    assert actions.hold_days.tolist() == [PolicyParameters().hold_days]
    assert all(record.held for record in policy.log.decisions if record.approved)


def test_review_cuts_a_past_due_line_and_keeps_a_paying_one() -> None:
    book = ObservedBook()
    parties = ["payer", "misser"]
    a_month_of_history(book, parties, ["d1", "d2"])
    book.observe({"bureau_report": bureau(parties, [800, 800], day=39)})
    policy = BaselinePolicy()
    policy.decide(book, applications(parties, ["bnpl", "bnpl"], day=39))
    day = 40  # 2026-04-10
    book.start_day(day, START + timedelta(days=day))
    draws = money("draw", parties, [100_000, 100_000], day)
    book.observe({"draw": draws})
    policy.observe_draws(draws)
    for day in range(41, 81):  # through 2026-05-01 (statement) and the 8th (due) to the 20th (review)
        today = START + timedelta(days=day)
        book.start_day(day, today)
        if today == date(2026, 5, 8):
            book.observe({"repayment": money("repayment", ["payer"], [100_000], day)})
        actions = policy.review(book, today)
        if today.day == PolicyParameters().review_day and today.month == 5:
            assert actions.line_party.tolist() == ["misser"]
            assert actions.line_new_fen.tolist() == [0]
    assert policy.log.lines_cut == 1
    assert policy.lines[("misser", "bnpl")] == 0
    assert policy.lines[("payer", "bnpl")] > 0


def test_merge_actions_keeps_every_part() -> None:
    offers = LenderActions(
        offer_party=np.array(["a"]),
        offer_product=np.array(["bnpl"]),
        offer_amount_fen=np.array([100_000]),
        offer_rate_bp=np.array([0]),
        offer_term_months=np.array([0]),
        offer_application_id=np.array(["x"]),
    )
    lines = LenderActions(
        line_party=np.array(["b"]), line_product=np.array(["bnpl"]), line_new_fen=np.array([0])
    )
    merged = merge_actions(offers, lines, LenderActions())
    assert merged.offer_party.tolist() == ["a"] and merged.line_party.tolist() == ["b"]
    assert merged.offer_amount_fen.dtype == np.int64


def test_the_policy_never_sees_the_latent_state_or_truth() -> None:
    source = Path(baseline_policy.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("fengkong.sim"):
            imported |= {alias.name for alias in node.names}
    assert imported <= {"LenderActions", "STATEMENT_AGE_DAYS_MIN"}
    assert "LatentState" not in source and "ResponseTruth" not in source
    # in the demo loop, only the scoreboard reads truth
    demo_source = Path(baseline_policy.__file__).with_name("demo.py").read_text(encoding="utf-8")
    tree = ast.parse(demo_source)
    readers = set()
    for function in [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]:
        for node in ast.walk(function):
            if isinstance(node, ast.Attribute) and node.attr in {
                "ever_30",
                "true_pd_6m",
                "fraud",
                "risk_logit",
            }:
                readers.add(function.name)
    assert readers <= {"_scoreboard_from_truth", "_loan_book", "_evaluation", "_first_payment_default"}
