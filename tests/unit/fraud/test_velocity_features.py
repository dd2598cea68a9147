"""Velocity features (applications, draws, logins per party, device, phone and IP over 1 h and 24 h) in the
standard set, computed by the online engine on a burst of events: what left the window no longer counts.

Phone numbers here are fictitious (138-0000-xxxx); IPs are documentation ranges (RFC 5737)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fengkong.domain.events import Event, Subject
from fengkong.features.online import OnlineFeatureEngine
from fengkong.features.standard import STANDARD_FEATURES, VELOCITY

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
PHONE = "13800000077"
IP = "203.0.113.9"


def application(number: int, received: datetime, party: str) -> Event:
    return Event(
        event_id=f"a{number}",
        event_type="loan_application",
        occurred_at=received,
        received_at=received,
        subjects=(Subject("applicant", party),),
        attributes={
            "application_id": f"app-{number}",
            "product": "installment",
            "requested_amount": 500_000,
            "device_id": "D1",
            "ip": IP,
            "phone": PHONE,
        },
        source="test",
    )


def draw(number: int, received: datetime, party: str, amount_fen: int) -> Event:
    return Event(
        event_id=f"d{number}",
        event_type="draw",
        occurred_at=received,
        received_at=received,
        subjects=(Subject("borrower", party),),
        attributes={
            "account_id": f"acct-{party}",
            "draw_id": f"draw-{number}",
            "amount": amount_fen,
            "device_id": "D1",
            "ip": IP,
        },
        source="test",
    )


def login(number: int, received: datetime, party: str) -> Event:
    return Event(
        event_id=f"l{number}",
        event_type="login",
        occurred_at=received,
        received_at=received,
        subjects=(Subject("party", party),),
        attributes={"device_id": "D1", "ip": IP, "phone": PHONE, "method": "sms"},
        source="test",
    )


def test_velocity_specs_are_appended_to_the_standard_set() -> None:
    names = [spec.name for spec in STANDARD_FEATURES]
    assert names[-len(VELOCITY) :] == [spec.name for spec in VELOCITY]
    assert len(set(names)) == len(names)
    for prefix in ("consumer", "device", "phone", "ip"):
        assert any(n.startswith(prefix) and n.endswith("_1h") for n in names)


def test_a_burst_counts_in_the_hour_and_the_day_and_then_leaves_the_hour() -> None:
    engine = OnlineFeatureEngine(STANDARD_FEATURES)
    # A new device: two parties apply, one signs in three times and draws twice, all within 40 minutes;
    # one older application 5 hours earlier.
    events = [application(0, T0 - timedelta(hours=5), "P2")]
    events += [application(1, T0, "P1"), application(2, T0 + timedelta(minutes=5), "P2")]
    events += [login(i, T0 + timedelta(minutes=10 + i), "P1") for i in range(3)]
    events += [
        draw(1, T0 + timedelta(minutes=20), "P1", 300_000),
        draw(2, T0 + timedelta(minutes=40), "P1", 200_000),
    ]
    for event in events:
        assert engine.apply(event)
    now = T0 + timedelta(minutes=45)
    party = engine.read("consumer", "P1", now)
    assert party.get("consumer_loan_applications_1h") == 1
    assert party.get("consumer_draws_1h") == 2
    assert party.get("consumer_drawn_amount_24h_fen") == 500_000
    device = engine.read("device", "D1", now)
    assert device.get("device_loan_applications_1h") == 2
    assert device.get("device_loan_applications_24h") == 3
    assert device.get("device_draws_1h") == 2
    assert device.get("device_logins_1h") == 3
    phone = engine.read("phone", PHONE, now)
    assert phone.get("phone_loan_applications_24h") == 3
    assert phone.get("phone_logins_1h") == 3
    ip = engine.read("ip", IP, now)
    assert ip.get("ip_loan_applications_1h") == 2
    assert ip.get("ip_draws_24h") == 2
    assert ip.get("ip_logins_24h") == 3
    # Two hours later the burst has left the 1-hour window but not the 24-hour one.
    later = T0 + timedelta(hours=2)
    device = engine.read("device", "D1", later)
    assert device.get("device_loan_applications_1h") == 0
    assert device.get("device_loan_applications_24h") == 3
    assert engine.read("consumer", "P1", later).get("consumer_draws_1h") == 0
    assert engine.read("consumer", "P1", later).get("consumer_draws_24h") == 2
