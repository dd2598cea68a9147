"""Bureau reporting as records: each month's status derived from the loan's own history, the records of a
month's file, notices before adverse data, corrections, refusals that name the account and the field, and
the two renderings compared with golden files (fictitious people only: see ``book.py``)."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.errors import InputError
from fengkong.reporting import metro2, pboc
from fengkong.reporting.bureau import (
    AccountOpened,
    BureauPolicy,
    Correction,
    EventKind,
    LoanFacts,
    MonthlyPerformance,
    Notice,
    PaymentLine,
    SpecialEvent,
    StatusCode,
    build_month,
    history,
    month_status,
    months_back,
    overdue_code,
    parse_month,
    statuses,
)
from tests.unit.reporting import book

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
UPDATE = os.environ.get("FENGKONG_UPDATE_GOLDEN") == "1"


def compare_with_golden(name: str, text: str) -> None:
    """Always compared; with FENGKONG_UPDATE_GOLDEN=1 the file is rewritten and the test fails so that the
    new file is reviewed before it is trusted."""
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
        pytest.fail(f"{path} rewritten: review the diff, then run again without FENGKONG_UPDATE_GOLDEN")
    assert path.is_file(), f"golden file {path} is missing"
    assert text == path.read_text(encoding="utf-8")


# -- months and statuses -------------------------------------------------------------------------------------


def test_months_parse_and_count_back_across_years() -> None:
    assert parse_month("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert months_back("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    assert len(months_back("2026-06", 60)) == 60 and months_back("2026-06", 60)[0] == "2021-07"
    for bad in ("2026-13", "2026-6", "June", ""):
        with pytest.raises(InputError) as caught:
            parse_month(bad)
        assert caught.value.field == "month"


def test_an_account_paid_on_time_is_normal_in_months_with_an_installment_and_starred_otherwise() -> None:
    assert month_status(book.ON_TIME, "2025-12").code is StatusCode.NOT_OPEN
    assert month_status(book.ON_TIME, "2026-01").code is StatusCode.NO_PAYMENT_DUE  # opened, nothing due
    june = month_status(book.ON_TIME, "2026-06")
    assert june.code is StatusCode.NORMAL and june.days_past_due == 0
    assert june.balance_fen == 100_000  # the last installment's principal; its interest is not due yet
    assert june.scheduled_fen == june.paid_in_month_fen == 105_000
    assert history(book.ON_TIME, "2026-06") == "/" * 54 + "*NNNNN"


def test_days_past_due_set_the_digit_from_the_oldest_unpaid_installment() -> None:
    # installment 2 was due 2026-04-10 and never paid
    assert month_status(book.LATE, "2026-04").code is StatusCode.OVERDUE_1  # 20 days
    assert month_status(book.LATE, "2026-05").code is StatusCode.OVERDUE_2  # 51 days
    june = month_status(book.LATE, "2026-06")
    assert (june.code, june.days_past_due, june.overdue_installments) == (StatusCode.OVERDUE_3, 81, 3)
    assert june.past_due_fen == 3 * 260_000 and june.first_delinquency_on == date(2026, 4, 11)
    assert history(book.LATE, "2026-06")[-5:] == "*N123"


@pytest.mark.parametrize(
    ("days", "digit"), [(1, "1"), (30, "1"), (31, "2"), (180, "6"), (181, "7"), (900, "7")]
)
def test_each_digit_covers_thirty_days_and_seven_is_over_180(days: int, digit: str) -> None:
    assert overdue_code(days).value == digit


def test_a_payment_on_the_due_day_is_on_time_and_an_amount_due_on_the_month_end_is_not_yet_late() -> None:
    loan = replace(book.NO_NOTICE, installments=book.monthly(date(2026, 4, 30), 1, 100_000, 0))
    assert month_status(loan, "2026-04").code is StatusCode.NORMAL
    assert month_status(loan, "2026-05").code is StatusCode.OVERDUE_2  # 31 days after 04-30


def test_settlement_and_write_off_end_the_account() -> None:
    assert month_status(book.EARLY, "2026-06").code is StatusCode.SETTLED
    assert month_status(book.EARLY, "2026-06").balance_fen == 0
    assert month_status(book.WRITTEN_OFF, "2026-06").code is StatusCode.ENDED
    assert month_status(book.WRITTEN_OFF, "2026-05").code is StatusCode.OVERDUE_7


def test_a_reversed_repayment_left_out_of_the_facts_turns_a_month_late() -> None:
    unpaid_may = replace(book.ON_TIME, payments=tuple(p for p in book.ON_TIME.payments if p.installment != 4))
    assert month_status(unpaid_may, "2026-05").code is StatusCode.OVERDUE_1  # due 05-15, 16 days
    assert month_status(unpaid_may, "2026-06").code is StatusCode.OVERDUE_2


# -- the month's file ----------------------------------------------------------------------------------------


def test_the_month_has_opened_monthly_special_and_correction_records() -> None:
    built = build_month(book.MONTH, book.LOANS, book.IDENTITIES, book.NOTICES, book.REPORTED, BureauPolicy())
    opened = [r.loan.loan_id for r in built.records if isinstance(r, AccountOpened)]
    monthly = {
        r.status.loan_id: r.status.code.value for r in built.records if isinstance(r, MonthlyPerformance)
    }
    events = [(r.loan_id, r.kind) for r in built.records if isinstance(r, SpecialEvent)]
    corrections = [
        (r.status.loan_id, r.status.month, r.previous.code, r.status.code.value)
        for r in built.records
        if isinstance(r, Correction)
    ]
    assert opened == ["L-NEW"]
    assert monthly == {"L-EARLY": "C", "L-LATE": "3", "L-NEW": "*", "L-ONTIME": "N", "L-WO": "G"}
    assert events == [("L-EARLY", EventKind.EARLY_SETTLEMENT), ("L-WO", EventKind.WRITE_OFF)]
    assert corrections == [("L-ONTIME", "2026-05", "1", "N")]
    assert "L-OLD" not in monthly  # settled in January: its last record went in January's file


def test_accounts_missing_mandatory_fields_or_notice_are_held_back_naming_account_and_field() -> None:
    built = build_month(book.MONTH, book.LOANS, book.IDENTITIES, book.NOTICES, book.REPORTED, BureauPolicy())
    refused = {(item.loan_id, item.field) for item in built.refused}
    assert refused == {("L-NOID", "name"), ("L-NONOTICE", "notice")}
    assert "account L-NOID: name:" in str(next(r for r in built.refused if r.loan_id == "L-NOID"))
    bad_id = {**book.IDENTITIES, "P-2": replace(book.IDENTITIES["P-2"], id_number="110101199003071234")}
    built = build_month(book.MONTH, [book.LATE], bad_id, book.NOTICES, {}, BureauPolicy())
    assert [(r.loan_id, r.field) for r in built.refused] == [("L-LATE", "id_number")]
    no_latin = {**book.IDENTITIES, "P-1": replace(book.IDENTITIES["P-1"], name_latin=None)}
    built = build_month(book.MONTH, [book.ON_TIME], no_latin, {}, {}, BureauPolicy(require_latin_name=True))
    assert [(r.loan_id, r.field) for r in built.refused] == [("L-ONTIME", "name_latin")]


def test_a_notice_too_recent_or_from_before_the_delinquency_does_not_count() -> None:
    recent = {"L-LATE": [Notice("L-LATE", "delinquency", date(2026, 6, 25))]}
    built = build_month(
        book.MONTH, [book.LATE], book.IDENTITIES, recent, {}, BureauPolicy(notice_lead_days=7)
    )
    assert [r.field for r in built.refused] == ["notice"] and "less than 7 days" in built.refused[0].reason
    stale = {"L-LATE": [Notice("L-LATE", "delinquency", date(2026, 3, 1))]}  # before the delinquency began
    built = build_month(book.MONTH, [book.LATE], book.IDENTITIES, stale, {}, BureauPolicy())
    assert "no notice" in built.refused[0].reason
    later_file = build_month(
        book.MONTH, [book.LATE], book.IDENTITIES, recent, {}, BureauPolicy(), file_date=date(2026, 7, 5)
    )
    assert later_file.refused == () and later_file.count(MonthlyPerformance) == 1
    with pytest.raises(InputError) as caught:
        build_month(book.MONTH, [book.LATE], book.IDENTITIES, recent, {}, BureauPolicy(), date(2026, 6, 1))
    assert caught.value.field == "file_date"


def test_a_correction_that_makes_a_month_adverse_needs_a_notice_too() -> None:
    # May was reported normal; the May installment is now known to have been paid only on 10 June
    late_may = replace(
        book.ON_TIME,
        payments=tuple(
            replace(p, paid_on=date(2026, 6, 10)) if p.installment == 4 else p for p in book.ON_TIME.payments
        ),
    )
    assert month_status(late_may, "2026-06").code is StatusCode.NORMAL
    reported = {("L-ONTIME", "2026-05"): book.Reported("N", 0, 200_000, 0, 1)}
    built = build_month(book.MONTH, [late_may], book.IDENTITIES, {}, reported, BureauPolicy())
    assert [(r.loan_id, r.field) for r in built.refused] == [("L-ONTIME", "notice")]


# -- renderings ----------------------------------------------------------------------------------------------


def test_the_pboc_shaped_file_matches_its_golden_file() -> None:
    built = build_month(book.MONTH, book.LOANS, book.IDENTITIES, book.NOTICES, book.REPORTED, BureauPolicy())
    text = pboc.render(built, "FK-LENDER-01", book.GENERATED_AT)
    lines = text.splitlines()
    assert lines[0].startswith("H|FKPBOC|1|FK-LENDER-01|2026-06|2026-06-30|")
    assert lines[-1] == "T|1|5|2|1|2"
    histories = [line.split("|")[4] for line in lines if line.startswith("P|")]
    assert all(len(item) == 60 for item in histories)
    compare_with_golden("bureau_pboc_2026-06.txt", text)


def test_the_metro2_shaped_file_has_426_character_records_and_matches_its_golden_file() -> None:
    built = build_month(
        book.MONTH,
        book.LOANS,
        book.IDENTITIES,
        book.NOTICES,
        book.REPORTED,
        BureauPolicy(require_latin_name=True),
    )
    text = metro2.render(built, "FK-LENDER-01", book.GENERATED_AT)
    lines = text.splitlines()
    assert all(len(line) == 426 and line.isascii() for line in lines)
    assert lines[0][4:10] == "HEADER" and lines[-1][4:11] == "TRAILER"
    bases = lines[1:-1]
    by_account = {line[42:72].strip(): line for line in bases if line[19] == "0"}
    late = by_account["L-LATE"]
    assert late[123:125] == "78"  # 81 days past due
    # most recent first: May 51 days (30-59: "1"), April 20 days, March and February (opened 02-10) current
    assert late[126:150] == "1000" + "B" * 20
    assert (
        late[181:189] == "06302026" and late[189:197] == "04112026"
    )  # account information, first delinquency
    assert late[231:256].strip() == "LI" and late[256:276].strip() == "SI"
    assert late[306:314] == "03071990"  # date of birth from the resident ID
    assert late[297:306] == "000000000" and late[314:324] == "0000000000"  # no SSN, no phone
    assert by_account["L-WO"][123:125] == "97" and by_account["L-EARLY"][123:126] == "130"
    corrections = [line for line in bases if line[19] == "1"]
    assert [(line[42:72].strip(), line[181:189]) for line in corrections] == [("L-ONTIME", "05312026")]
    assert lines[-1][11:20] == f"{len(bases):09d}"
    compare_with_golden("bureau_metro2_2026-06.txt", text)


def test_a_field_that_would_break_the_file_holds_the_account_back_naming_it() -> None:
    odd = replace(book.ON_TIME, loan_id="L|1")
    built = build_month(book.MONTH, [odd], book.IDENTITIES, {}, {}, BureauPolicy())
    assert [(r.loan_id, r.field) for r in built.refused] == [("L|1", "account")]
    piped = {**book.IDENTITIES, "P-1": replace(book.IDENTITIES["P-1"], name="张|三")}
    built = build_month(book.MONTH, [book.ON_TIME], piped, {}, {}, BureauPolicy())
    assert [(r.loan_id, r.field) for r in built.refused] == [("L-ONTIME", "name")]
    wide = replace(book.ON_TIME, loan_id="L-" + "9" * 40)
    built = build_month(book.MONTH, [wide], book.IDENTITIES, {}, {}, BureauPolicy(require_latin_name=True))
    assert [r.field for r in built.refused] == ["loan_id"]
    assert (
        build_month(book.MONTH, [wide], book.IDENTITIES, {}, {}, BureauPolicy()).refused == ()
    )  # PBOC: fine
    huge = replace(book.ON_TIME, principal_fen=10**12)
    built = build_month(book.MONTH, [huge], book.IDENTITIES, {}, {}, BureauPolicy(require_latin_name=True))
    assert [r.field for r in built.refused] == ["principal"]


def test_the_renderers_still_refuse_a_field_that_reaches_them_broken() -> None:
    built = build_month(book.MONTH, [book.ON_TIME], book.IDENTITIES, {}, {}, BureauPolicy())
    with pytest.raises(InputError) as caught:
        pboc.render(built, "FK|1", book.GENERATED_AT)
    assert caught.value.field == "furnisher_id"
    with pytest.raises(InputError) as caught:
        metro2.render(built, "FURNISHER-ID-LONGER-THAN-TWENTY", book.GENERATED_AT)
    assert caught.value.field == "furnisher_id"


@st.composite
def loans(draw: st.DrawFn) -> LoanFacts:
    opened = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 800)))
    count = draw(st.integers(1, 12))
    schedule = book.monthly(date(opened.year, opened.month, 1) + timedelta(days=40), count, 10_000, 700)
    schedule = tuple(
        replace(item, due_on=date(item.due_on.year, item.due_on.month, draw(st.integers(1, 28))))
        for item in schedule
    )
    payments: list[PaymentLine] = []
    for item in schedule:
        how = draw(st.sampled_from(["on_time", "late", "partial", "never", "waived"]))
        shift = {"on_time": 0, "late": draw(st.integers(1, 200)), "partial": draw(st.integers(-5, 90))}.get(
            how, 0
        )
        when = item.due_on + timedelta(days=shift)
        if how in {"on_time", "late"}:
            payments += book.pay(item, when)
        elif how == "partial":
            payments.append(PaymentLine(when, item.number, "interest", item.interest_fen))
            payments.append(PaymentLine(when + timedelta(days=3), item.number, "principal", 4_000))
        elif how == "waived":
            payments.append(PaymentLine(item.due_on, item.number, "principal", item.principal_fen))
            payments.append(PaymentLine(item.due_on, item.number, "waived_interest", item.interest_fen))
    payments.append(PaymentLine(opened + timedelta(days=90), 0, "penalty", draw(st.integers(1, 500))))
    ending = draw(st.sampled_from([None, "settled", "written_off"]))
    ended_on = opened + timedelta(days=draw(st.integers(30, 900)))
    return LoanFacts(
        "L-P",
        "P-1",
        "installment",
        "CNY",
        10_000 * count,
        opened,
        schedule,
        tuple(payments),
        settled_on=ended_on if ending == "settled" else None,
        written_off_on=ended_on if ending == "written_off" else None,
    )


@given(loans(), st.sampled_from(["2024-06", "2025-03", "2026-06", "2027-01"]))
def test_the_one_pass_statuses_equal_the_month_by_month_reference(loan: LoanFacts, month: str) -> None:
    window = months_back(month, 60)
    assert statuses(loan, window) == [month_status(loan, item) for item in window]
    assert history(loan, month) == "".join(month_status(loan, item).code.value for item in window)
    built = build_month(
        month,
        [loan],
        book.IDENTITIES,
        {"L-P": [Notice("L-P", "delinquency", date(2024, 1, 1))]},
        {},
        BureauPolicy(notice_lead_days=0),
    )
    for record in built.records:
        if isinstance(record, MonthlyPerformance):
            assert metro2.profile_from_history(record.history, record.days_history) == (
                metro2.payment_history_profile(loan, month)
            )


# Base Segment fields as moov-io/metro2 transcribes the CDIA layout (pkg/lib/specifications.go,
# baseSegmentCharacterFormat: 0-based start, length, numeric?) — an outside reference the writer's own
# positions are checked against, field by field.
MOOV_BASE_SEGMENT = {
    "RecordDescriptorWord": (0, 4, True),
    "TimeStamp": (5, 14, True),
    "CorrectionIndicator": (19, 1, True),
    "ConsumerAccountNumber": (42, 30, False),
    "PortfolioType": (72, 1, False),
    "DateOpened": (75, 8, True),
    "HighestCredit": (92, 9, True),
    "TermsDuration": (101, 3, False),
    "ScheduledMonthlyPaymentAmount": (105, 9, True),
    "ActualPaymentAmount": (114, 9, True),
    "AccountStatus": (123, 2, False),
    "PaymentHistoryProfile": (126, 24, False),
    "CurrentBalance": (154, 9, True),
    "AmountPastDue": (163, 9, True),
    "OriginalChargeOffAmount": (172, 9, True),
    "DateAccountInformation": (181, 8, True),
    "DateFirstDelinquency": (189, 8, True),
    "DateClosed": (197, 8, True),
    "DateLastPayment": (205, 8, True),
    "Surname": (231, 25, False),
    "FirstName": (256, 20, False),
    "SocialSecurityNumber": (297, 9, True),
    "DateBirth": (306, 8, True),
    "TelephoneNumber": (314, 10, True),
    "ECOACode": (324, 1, False),
    "CountryCode": (327, 2, False),
}


def test_the_metro2_golden_file_decodes_with_the_reference_layout() -> None:
    lines = (GOLDEN / "bureau_metro2_2026-06.txt").read_text(encoding="ascii").splitlines()
    decoded = {}
    for line in lines[1:-1]:
        fields = {
            name: line[start : start + length] for name, (start, length, _) in MOOV_BASE_SEGMENT.items()
        }
        for name, (_, _, numeric) in MOOV_BASE_SEGMENT.items():
            assert not numeric or fields[name].isdigit(), f"{name} is not numeric: {fields[name]!r}"
        decoded[(fields["ConsumerAccountNumber"].strip(), fields["CorrectionIndicator"])] = fields
    early = decoded[("L-EARLY", "0")]
    assert (early["DateOpened"], early["HighestCredit"], early["TermsDuration"]) == (
        "03012026",
        "000003000",
        "006",
    )
    assert (early["AccountStatus"], early["DateClosed"], early["CurrentBalance"]) == (
        "13",
        "06122026",
        "0" * 9,
    )
    assert (early["Surname"].strip(), early["FirstName"].strip(), early["DateBirth"]) == (
        "WANG",
        "WU",
        "11201985",
    )
    written_off = decoded[("L-WO", "0")]
    assert (written_off["AccountStatus"], written_off["OriginalChargeOffAmount"]) == ("97", "000001545")
    # May 207 days past due (180+: 6), April 176 (5) ... November 25 (0), October opened (0), then B
    assert written_off["PaymentHistoryProfile"] == "65432100" + "B" * 16
    assert decoded[("L-ONTIME", "1")]["DateAccountInformation"] == "05312026"
