"""Scam-victim protection: each coerced-borrowing signal on its own and together, the hold's call-back
through the official channel only, parameters checked as data, and the hold as an interception-log entry.
Brands and numbers are the fictitious ones of official_channels.yaml."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.errors import InputError
from fengkong.fraud.interceptions import InterceptionAction, InterceptionKind
from fengkong.fraud.numbers import load_channels
from fengkong.fraud.protection import (
    PROTECTION_RULES,
    ProtectionParameters,
    ProtectionSignals,
    assess,
)

NOW = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
ON = date(2026, 3, 1)
BOOK = load_channels()
LENDER = "风控示例金融"


def signals(**change: object) -> ProtectionSignals:
    """An ordinary draw: a third of a 10,000-yuan line, from a phone used for a year, to a known account."""
    base = ProtectionSignals(
        party_id="P1",
        product="revolving",
        amount_fen=300_000,
        limit_fen=1_000_000,
        used_before_fen=0,
        requested_at=NOW,
        device_first_seen_at=NOW - timedelta(days=365),
    )
    return dataclasses.replace(base, **change)  # type: ignore[arg-type]


COERCED = {
    "amount_fen": 1_000_000,
    "device_first_seen_at": NOW - timedelta(minutes=40),
    "products_borrowed_24h": ("installment", "bnpl"),
    "destination_known": False,
}


def codes(decision: object) -> set[str]:
    return {r.code for r in decision.reasons}  # type: ignore[attr-defined]


def test_an_ordinary_draw_is_not_held() -> None:
    decision = assess(signals(), BOOK, LENDER, ON)
    assert not decision.hold and decision.reasons == () and decision.hold_until is None


def test_the_whole_script_is_held_with_a_call_back_from_the_official_number() -> None:
    decision = assess(signals(**COERCED), BOOK, LENDER, ON)
    assert decision.hold
    assert codes(decision) == {
        "max_out_after_new_device_login",
        "several_products_at_once",
        "transfer_to_unknown_account",
        "cooling_off_callback",
    }
    assert decision.hold_until == NOW + timedelta(hours=24)
    assert set(decision.callback_numbers) == {"4000000000", "95002"}  # the lender's channels in force


@pytest.mark.parametrize(
    ("change", "fired"),
    [
        ({"amount_fen": 950_000, "device_first_seen_at": None}, {"max_out_after_new_device_login"}),
        ({"amount_fen": 950_000}, set()),  # maxed out, but on a device used for a year
        ({"device_first_seen_at": NOW - timedelta(hours=1)}, set()),  # a new device, a modest draw
        ({"products_borrowed_24h": ("bnpl",)}, {"several_products_at_once"}),
        ({"destination_known": False}, {"transfer_to_unknown_account"}),
        (
            {"drawn_24h_fen": 500_000, "transferred_to_unknown_24h_fen": 700_000},
            {"transfer_to_unknown_account"},
        ),
        ({"drawn_24h_fen": 500_000, "transferred_to_unknown_24h_fen": 100_000}, set()),
    ],
)
def test_each_signal_fires_on_its_own_and_alone_holds_nothing(
    change: dict[str, object], fired: set[str]
) -> None:
    decision = assess(signals(**change), BOOK, LENDER, ON)
    assert codes(decision) == fired
    assert not decision.hold


def test_a_transfer_to_an_unknown_account_with_one_other_signal_is_held() -> None:
    decision = assess(signals(destination_known=False, products_borrowed_24h=("bnpl",)), BOOK, LENDER, ON)
    assert decision.hold


def test_two_weak_signals_without_a_transfer_are_held() -> None:
    decision = assess(
        signals(amount_fen=1_000_000, device_first_seen_at=None, products_borrowed_24h=("bnpl",)),
        BOOK,
        LENDER,
        ON,
    )
    assert decision.hold and "transfer_to_unknown_account" not in codes(decision)


def test_a_hold_becomes_an_interception_log_entry() -> None:
    coerced = signals(**COERCED)
    decision = assess(coerced, BOOK, LENDER, ON)
    entry = decision.interception(coerced, "icp-9", "draw-9", InterceptionKind.DRAW)
    assert entry.action is InterceptionAction.HELD and entry.amount_fen == 1_000_000
    assert entry.reason_code.startswith("max_out_after_new_device_login+")
    with pytest.raises(InputError):
        assess(signals(), BOOK, LENDER, ON).interception(signals(), "icp-1", "draw-1", InterceptionKind.DRAW)


def test_a_lender_without_an_official_channel_cannot_promise_a_call_back() -> None:
    with pytest.raises(InputError) as raised:
        assess(signals(**COERCED), BOOK, "风控示例金融", date(2025, 12, 31))  # channels start 2026-01-01
    assert raised.value.field == "lender_brand"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"cooling_off_hours": 0}, "cooling_off_hours"),
        ({"cooling_off_hours": 73}, "cooling_off_hours"),  # protection_hold_hours_max
        ({"max_out_utilisation_bp": 10_001}, "max_out_utilisation_bp"),
        ({"products_at_once_min": 1}, "products_at_once_min"),
        ({"hold_points_min": True}, "hold_points_min"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(change: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as raised:
        ProtectionParameters(**change)  # type: ignore[arg-type]
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_fen": 0}, "amount_fen"),
        ({"limit_fen": -1}, "limit_fen"),
        ({"drawn_24h_fen": 1.5}, "drawn_24h_fen"),
        ({"requested_at": NOW.replace(tzinfo=None)}, "requested_at"),
    ],
)
def test_bad_signals_are_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as raised:
        signals(**change)
    assert raised.value.field == field


@given(
    amount=st.integers(1, 2_000_000),
    used=st.integers(0, 2_000_000),
    device_hours=st.one_of(st.none(), st.integers(0, 24 * 400)),
    products=st.lists(st.sampled_from(["bnpl", "installment", "merchant"]), max_size=3),
    known=st.booleans(),
)
def test_more_signals_never_lift_a_hold(
    amount: int, used: int, device_hours: int | None, products: list[str], known: bool
) -> None:
    """Adding a signal (an unknown destination) to any disbursement never turns a hold into no hold."""
    seen = None if device_hours is None else NOW - timedelta(hours=device_hours)
    base = signals(
        amount_fen=amount,
        used_before_fen=used,
        device_first_seen_at=seen,
        products_borrowed_24h=tuple(products),
    )
    with_known = assess(dataclasses.replace(base, destination_known=known), BOOK, LENDER, ON)
    worse = assess(dataclasses.replace(base, destination_known=False), BOOK, LENDER, ON)
    assert worse.points >= with_known.points
    assert worse.hold or not with_known.hold
    assert len(PROTECTION_RULES) == 3
