"""Bureau files exported from a real loan book on SQLite: loans booked, serviced day by day (close of
business, repayments, an early payoff, a reversal) through the loan services, identities sealed in the
privacy store, notices recorded; then the monthly files, what they record as reported, the correction a
reversal causes, and the command line.

All people are fictitious (placeholder names, made-up ID numbers with a valid check character).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import fengkong.cli.bureau  # noqa: F401 - registers the command
from fengkong.cli.main import app
from fengkong.clock import FixedClock
from fengkong.compliance.caps import default_cap_policy
from fengkong.compliance.privacy import DataKey, Keyring, PseudonymKey
from fengkong.domain.products import (
    AnnualisedRate,
    DayCount,
    Offer,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
)
from fengkong.errors import IdempotencyConflictError, InputError
from fengkong.lending.delinquency import DelinquencyPolicy
from fengkong.lending.schedule import build_schedule
from fengkong.money import Money
from fengkong.services import bureau
from fengkong.services import ledger as ledger_service
from fengkong.services import loans as loans_service
from fengkong.services import privacy as privacy_service
from fengkong.store import migrate
from fengkong.store.config import make_engine
from fengkong.store.ledger import LedgerRepository

START = date(2026, 1, 31)
T0 = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)
GENERATED_AT = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)
KEYRING = Keyring((DataKey("k1", b"\x01" * 32),), "k1", PseudonymKey("p1", b"\x07" * 32))
PEOPLE = {  # fictitious
    "P-A": {"name": "张三", "name_latin": "ZHANG SAN", "id_number": "11010519491231002X"},
    "P-B": {"name": "李四", "name_latin": "LI SI", "id_number": "110101199003071233"},
    "P-C": {"name": "王五", "id_number": "440304198511204567"},  # no Latin name: Metro 2 holds it back
}


def offer(party: str, number: int) -> Offer:
    terms = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=Decimal("0.18"),
        method=RepaymentMethod.EQUAL_INSTALLMENT,
        day_count=DayCount.THIRTY_360,
        installments=6,
        penalty_rate_annual=Decimal("0.18"),
        fees=(),
    )
    schedule = build_schedule(terms, Money(600_000), START, rounding="ROUND_HALF_EVEN")
    rate = AnnualisedRate(Decimal("18"), "irr-periodic")
    return Offer(f"OF-{number}", party, terms, Money(600_000), rate, T0, T0 + timedelta(days=7), schedule)


@pytest.fixture(scope="module")
def serviced_book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, sa.Engine, FixedClock]]:
    """Three loans from 31 January to 30 April 2026: L-A pays every installment on its due day, L-B never
    pays, L-C pays the first installment and then pays off on 20 March."""
    path = tmp_path_factory.mktemp("bureau") / "book.sqlite"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    clock = FixedClock(T0)
    with engine.begin() as connection:
        ledger_service.install_chart(connection, LedgerRepository(clock))
        for party, values in PEOPLE.items():
            privacy_service.register_identity(connection, clock, KEYRING, party, values)
    for number, party in enumerate(("P-A", "P-B", "P-C")):
        booked = loans_service.accept_offer(engine, clock, offer(party, number), T0, f"L-{party[-1]}", START)
        assert isinstance(booked, loans_service.LoanBooked)
    dues = {item.due: item for item in loans_service.loan_view(engine, clock, "L-A").installments}
    policy, caps = DelinquencyPolicy(), default_cap_policy()
    day = START + timedelta(days=1)
    while day <= date(2026, 4, 30):
        clock.set(datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC))
        if day in dues:
            item = dues[day]
            for loan in ("L-A", "L-C") if item.number == 1 else ("L-A",):
                amount = item.principal + item.interest + item.fee
                loans_service.post_repayment(engine, clock, loan, f"R-{loan}-{item.number}", amount, day)
        if day == date(2026, 3, 20):
            total = loans_service.payoff_quote(engine, clock, "L-C", day).total
            result = loans_service.post_repayment(engine, clock, "L-C", "R-L-C-payoff", total, day)
            assert result.paid_off
        loans_service.close_business_day(engine, clock, day, policy, caps)
        day += timedelta(days=1)
    yield url, engine, clock
    engine.dispose()


def months(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        fields = line.split("|")
        found.setdefault(fields[0], []).append(line)
    return found


def test_monthly_files_follow_the_book_and_record_what_they_reported(
    serviced_book: tuple[str, sa.Engine, FixedClock],
) -> None:
    _, engine, clock = serviced_book
    with engine.begin() as connection:
        bureau.record_notice(connection, clock, "N-B-1", "L-B", "delinquency", date(2026, 3, 5), "sms")
    january = bureau.export_month(engine, clock, KEYRING, "2026-01", "pboc", generated_at=GENERATED_AT)
    records = months(january.text)
    assert [line.split("|")[1] for line in records["A"]] == ["L-A", "L-B", "L-C"]
    assert [line.split("|")[3] for line in records["P"]] == ["*", "*", "*"]  # opened 31 January, nothing due
    february = bureau.export_month(engine, clock, KEYRING, "2026-02", "pboc", generated_at=GENERATED_AT)
    # every first installment falls due on 28 February: not yet past due on that day, even L-B's
    assert {line.split("|")[1]: line.split("|")[3] for line in months(february.text)["P"]} == {
        "L-A": "N",
        "L-B": "N",
        "L-C": "N",
    }
    assert "A" not in months(february.text) and february.summary()["held_back"] == []

    march = bureau.export_month(engine, clock, KEYRING, "2026-03", "pboc", generated_at=GENERATED_AT)
    codes = {line.split("|")[1]: line.split("|")[3] for line in months(march.text)["P"]}
    assert codes == {"L-A": "N", "L-B": "2", "L-C": "C"}
    assert [line.split("|")[2] for line in months(march.text)["E"]] == ["early_settlement"]
    assert "X" not in months(march.text)

    again = bureau.export_month(engine, clock, KEYRING, "2026-03", "pboc", generated_at=GENERATED_AT)
    assert again.text == march.text  # a retry: same records, nothing new recorded
    with engine.connect() as connection:
        revisions = connection.execute(
            sa.text(
                "SELECT loan_id, month, revision, code FROM bureau_reported WHERE file_format = 'pboc' "
                "ORDER BY loan_id, month, revision"
            )
        ).all()
    assert [tuple(row) for row in revisions] == [
        ("L-A", "2026-01", 1, "*"), ("L-A", "2026-02", 1, "N"), ("L-A", "2026-03", 1, "N"),
        ("L-B", "2026-01", 1, "*"), ("L-B", "2026-02", 1, "N"), ("L-B", "2026-03", 1, "2"),
        ("L-C", "2026-01", 1, "*"), ("L-C", "2026-02", 1, "N"), ("L-C", "2026-03", 1, "C"),
    ]  # fmt: skip


def test_a_reversal_after_reporting_becomes_a_correction_once_the_borrower_was_told(
    serviced_book: tuple[str, sa.Engine, FixedClock],
) -> None:
    _, engine, clock = serviced_book
    with engine.begin() as connection:
        bureau.record_notice(connection, clock, "N-B-1", "L-B", "delinquency", date(2026, 3, 5), "sms")
    march = bureau.export_month(engine, clock, KEYRING, "2026-03", "pboc", generated_at=GENERATED_AT)
    assert march.month.refused == ()
    # the February installment's payment bounces in April: March, reported normal, was 31 days late
    loans_service.reverse_repayment(engine, clock, "R-L-A-1", "REV-L-A-1", date(2026, 4, 30))
    held = bureau.export_month(engine, clock, KEYRING, "2026-04", "pboc", generated_at=GENERATED_AT)
    assert [(item.loan_id, item.field) for item in held.month.refused] == [("L-A", "notice")]
    with engine.begin() as connection:
        bureau.record_notice(connection, clock, "N-A-1", "L-A", "delinquency", date(2026, 4, 20), "app")
    april = bureau.export_month(engine, clock, KEYRING, "2026-04", "pboc", generated_at=GENERATED_AT)
    corrections = months(april.text)["X"]
    # February keeps its code (due on its last day) but its balance was overstated by the bounced payment
    assert [line.split("|")[1:6] for line in corrections] == [
        ["L-A", "2026-02", "N", "N", "6090.00"],
        ["L-A", "2026-03", "N", "2", "5112.40"],  # 6000 - 977.60 paid + 90.00 interest due,
    ]
    assert {line.split("|")[1]: line.split("|")[3] for line in months(april.text)["P"]} == {
        "L-A": "3",
        "L-B": "3",
    }
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT revision, code, reported_in FROM bureau_reported WHERE loan_id = 'L-A' "
                "AND month = '2026-03' AND file_format = 'pboc' ORDER BY revision"
            )
        ).all()
    assert [tuple(row) for row in rows] == [(1, "N", "2026-03"), (2, "2", "2026-04")]


def test_the_metro2_file_holds_back_a_borrower_without_a_latin_name(
    serviced_book: tuple[str, sa.Engine, FixedClock],
) -> None:
    _, engine, clock = serviced_book
    exported = bureau.export_month(engine, clock, KEYRING, "2026-02", "metro2", generated_at=GENERATED_AT)
    assert [(item.loan_id, item.field) for item in exported.month.refused] == [("L-C", "name_latin")]
    lines = exported.text.splitlines()
    assert all(len(line) == 426 for line in lines)
    assert [line[42:72].strip() for line in lines[1:-1]] == ["L-A", "L-B"]


def test_notices_are_idempotent_and_bad_requests_name_the_field(
    serviced_book: tuple[str, sa.Engine, FixedClock],
) -> None:
    _, engine, clock = serviced_book
    with engine.begin() as connection:
        first = bureau.record_notice(connection, clock, "N-X", "L-B", "write_off", date(2026, 4, 1), "letter")
        second = bureau.record_notice(
            connection, clock, "N-X", "L-B", "write_off", date(2026, 4, 1), "letter"
        )
        assert (first.created, second.created) == (True, False)
        with pytest.raises(IdempotencyConflictError):
            bureau.record_notice(connection, clock, "N-X", "L-B", "write_off", date(2026, 4, 2), "letter")
        with pytest.raises(InputError) as caught:
            bureau.record_notice(connection, clock, "N-Y", "L-B", "rumour", date(2026, 4, 2), "letter")
        assert caught.value.field == "kind"
    for month, file_format, field in (("2026-13", "pboc", "month"), ("2026-03", "csv", "format")):
        with pytest.raises(InputError) as caught:
            bureau.export_month(engine, clock, KEYRING, month, file_format)
        assert caught.value.field == field


def test_the_command_writes_the_file_and_refuses_bad_input_without_a_trace(
    serviced_book: tuple[str, sa.Engine, FixedClock], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, _ = serviced_book
    key = base64.b64encode(b"\x01" * 32).decode()
    monkeypatch.setenv("FENGKONG_DATA_KEYS", f"k1:{key}")
    monkeypatch.setenv("FENGKONG_DATA_KEY_ACTIVE", "k1")
    pseudonym = base64.b64encode(b"\x07" * 32).decode()
    monkeypatch.setenv("FENGKONG_PSEUDONYM_KEY", f"p1:{pseudonym}")
    out = tmp_path / "pboc.txt"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "bureau",
            "export",
            "--database-url",
            url,
            "--month",
            "2026-02",
            "--format",
            "pboc",
            "--out",
            str(out),
            "--output",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["monthly_records"] == 3 and summary["out"] == str(out)
    assert out.read_text(encoding="utf-8").startswith("H|FKPBOC|1|")
    bad = runner.invoke(
        app,
        [
            "bureau",
            "export",
            "--database-url",
            url,
            "--month",
            "2026-2",
            "--format",
            "pboc",
            "--out",
            str(out),
        ],
    )
    assert bad.exit_code == 2 and "month" in bad.output and "Traceback" not in bad.output
    monkeypatch.delenv("FENGKONG_PSEUDONYM_KEY")
    missing = runner.invoke(
        app,
        [
            "bureau",
            "export",
            "--database-url",
            url,
            "--month",
            "2026-02",
            "--format",
            "pboc",
            "--out",
            str(out),
        ],
    )
    assert missing.exit_code == 2 and "FENGKONG_PSEUDONYM_KEY" in missing.output


def test_the_command_exits_1_when_accounts_are_held_back_and_records_notices(
    serviced_book: tuple[str, sa.Engine, FixedClock], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _, _ = serviced_book
    monkeypatch.setenv("FENGKONG_DATA_KEYS", f"k1:{base64.b64encode(bytes([1]) * 32).decode()}")
    monkeypatch.setenv("FENGKONG_DATA_KEY_ACTIVE", "k1")
    monkeypatch.setenv("FENGKONG_PSEUDONYM_KEY", f"p1:{base64.b64encode(bytes([7]) * 32).decode()}")
    out = tmp_path / "metro2.txt"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "bureau",
            "export",
            "--database-url",
            url,
            "--month",
            "2026-02",
            "--format",
            "metro2",
            "--out",
            str(out),
            "--output",
            "json",
            "--furnisher-id",
            "FK-TEST",
        ],
    )
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout)
    assert summary["held_back"] == [
        {"account": "L-C", "field": "name_latin", "reason": summary["held_back"][0]["reason"]}
    ]
    assert all(len(line) == 426 for line in out.read_text(encoding="ascii").splitlines())
    table = runner.invoke(
        app,
        [
            "bureau",
            "export",
            "--database-url",
            url,
            "--month",
            "2026-02",
            "--format",
            "metro2",
            "--out",
            str(out),
        ],
    )
    assert table.exit_code == 1 and "held back" in table.stdout and "name_latin" in table.stdout
    notice = runner.invoke(
        app,
        [
            "bureau",
            "notify",
            "--database-url",
            url,
            "--notice-id",
            "N-CLI",
            "--loan-id",
            "L-B",
            "--on",
            "2026-03-03",
            "--channel",
            "sms",
        ],
    )
    assert notice.exit_code == 0 and json.loads(notice.stdout) == {"notice_id": "N-CLI", "created": True}
    bad = runner.invoke(
        app,
        [
            "bureau",
            "notify",
            "--database-url",
            url,
            "--notice-id",
            "N-CLI2",
            "--loan-id",
            "L-B",
            "--on",
            "03/03",
            "--channel",
            "sms",
        ],
    )
    assert bad.exit_code == 2 and "Traceback" not in bad.output
