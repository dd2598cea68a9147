"""The Metro 2-shaped file: fixed-width 426-character records (header, one Base Segment per account record,
trailer), ASCII, ``\\n`` after each record.

Layout followed: the CDIA Credit Reporting Resource Guide's Metro 2 Format, 426-character (unpacked) Base
Segment, Header and Trailer Records, as transcribed field by field in the open-source moov-io/metro2
library (``pkg/lib/specifications.go``: ``baseSegmentCharacterFormat``, ``headerRecordCharacterFormat``,
``trailerRecordCharacterFormat``) and the Galileo Metro 2 base-segment page; the CRRG itself is sold by the
CDIA and was not read. It is *shaped* like Metro 2, for a generic bureau or a partner's system: the US
identity fields have no PRC counterpart, as the table says. Alphanumeric fields are left-justified and
blank-filled in upper case; numeric fields right-justified and zero-filled; amounts in whole yuan with the
fen truncated (Metro 2 reports whole dollars, cents truncated); dates ``MMDDYYYY``.

Base Segment fields filled (positions 1-based, inclusive):

=========  ====================================  =============================================================
positions  field                                 value
=========  ====================================  =============================================================
1-4        Record Descriptor Word                ``0426``
5          Processing Indicator                  ``1``
6-19       Time Stamp                            the file's creation instant, UTC, ``MMDDYYYYHHMMSS``
20         Correction Indicator                  ``1`` on a correction record, else ``0``
21-40      Identification Number                 the furnisher ID
43-72      Consumer Account Number               the loan ID
73         Portfolio Type                        ``I`` (installment)
74-75      Account Type                          ``01`` (unsecured loan)
76-83      Date Opened                           the disbursement date
84-92      Credit Limit                          zeros (installment loan)
93-101     Highest Credit / Original Amount      the principal
102-104    Terms Duration                        the number of installments
105        Terms Frequency                       ``M`` (monthly)
106-114    Scheduled Monthly Payment Amount      installments falling due in the month
115-123    Actual Payment Amount                 paid in the month
124-125    Account Status                        ``11`` 0-29 days past due, ``71`` 30-59, ``78`` 60-89,
                                                 ``80`` 90-119, ``82`` 120-149, ``83`` 150-179, ``84`` 180+,
                                                 ``13`` paid or closed, ``97`` written off (charge-off)
126        Payment Rating                        with status ``13`` only: ``0`` (current when closed)
127-150    Payment History Profile               24 months before the month reported, most recent first:
                                                 ``0`` 0-29 days past due, ``1`` 30-59 … ``6`` 180+, ``L``
                                                 charged off, ``B`` before the account was opened
155-163    Current Balance                       principal unpaid plus interest and fees due and unpaid
164-172    Amount Past Due                       everything due before the month end and unpaid
173-181    Original Charge-off Amount            with status ``97``: the balance written off
182-189    Date of Account Information           the last day of the month reported
190-197    Date of First Delinquency             with status 71-84 or 97: the day after the oldest unpaid due
                                                 date, else zeros
198-205    Date Closed                           settlement or write-off date, else zeros
206-213    Date of Last Payment                   else zeros
214        Interest Type Indicator               ``F`` (fixed)
232-256    Surname                               the family name, from the Latin-letter name on file
257-276    First Name                            the given name, from the Latin-letter name on file
298-306    Social Security Number                zeros: no US SSN (the resident ID is in the PBOC file)
307-314    Date of Birth                         from digits 7-14 of the resident ID number
315-324    Telephone Number                      zeros: phone numbers are not reported
325        ECOA Code                             ``1`` (individual)
328-329    Country Code                          ``CN``
=========  ====================================  =============================================================

Blank: 41-42 cycle, 151-152 special comment, 153-154 compliance condition, 215-231 reserved, 277-297
middle name and generation code, 326-327 consumer information indicator, 330-426 address, city, state,
postal code, address and residence indicators (fengkong does not collect addresses).

Records map as follows: account opened → the Base Segment of the opening month (its Date Opened);
monthly performance → one Base Segment; settlement → status ``13`` with Date Closed; write-off → ``97``
with the charge-off amount; correction → a Base Segment with Correction Indicator ``1`` whose Date of
Account Information is the month corrected.

Header (1-4 ``0426``, 5-10 ``HEADER``, 48-55 activity date = month end, 56-63 date created, 80-119 reporter
name, 216-225 telephone zeros, 226-265 software vendor ``FENGKONG``, 266-270 version) and Trailer (1-4
``0426``, 5-11 ``TRAILER``, 12-20 total base records, 57-65 block count = all records, 84-92 / 93-101 /
147-155 / 156-164 / 165-173 / 174-182 / 183-191 / 192-200 / 255-263 counts of status 11 / 13 / 71 / 78 /
80 / 82 / 83 / 84 / 97, 363-371 and 372-380 dates of birth in all and in base segments); other trailer
counts are zeros.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Final

from fengkong import bounds
from fengkong.clock import require_utc
from fengkong.compliance.privacy import birth_date_of
from fengkong.errors import InputError, InvariantError
from fengkong.reporting.bureau import (
    BureauMonth,
    Correction,
    LoanFacts,
    MonthlyPerformance,
    MonthStatus,
    StatusCode,
    months_back,
    statuses,
)

RECORD_LENGTH: Final = 426
NUMERIC_FIELD_MAX: Final = 999_999_999  # nine digits of whole yuan
STATUS_COUNT_POSITIONS: Final = {
    "11": 84,
    "13": 93,
    "71": 147,
    "78": 156,
    "80": 165,
    "82": 174,
    "83": 183,
    "84": 192,
    "97": 255,
}


def _date(day: date | None) -> str:
    return day.strftime("%m%d%Y") if day is not None else "00000000"


class _Record:
    """A 426-character record filled field by field (positions 1-based, inclusive)."""

    def __init__(self) -> None:
        self._chars = [" "] * RECORD_LENGTH

    def alpha(self, start: int, length: int, value: str, field: str) -> None:
        text = value.upper()
        if not text.isascii() or len(text) > length:
            raise InputError(
                f"must be at most {length} ASCII characters for Metro 2, got {value!r}", field=field
            )
        self._chars[start - 1 : start - 1 + length] = list(text.ljust(length))

    def number(self, start: int, length: int, value: int, field: str) -> None:
        if value < 0 or len(str(value)) > length:
            raise InputError(f"must be 0 to {10**length - 1} for Metro 2, got {value}", field=field)
        self._chars[start - 1 : start - 1 + length] = list(str(value).rjust(length, "0"))

    def digits(self, start: int, length: int, value: str) -> None:
        if len(value) != length or not value.isdigit():
            raise InvariantError(f"{value!r} is not {length} digits")
        self._chars[start - 1 : start - 1 + length] = list(value)

    def text(self) -> str:
        return "".join(self._chars)


def account_status(status: MonthStatus) -> str:
    if status.code is StatusCode.SETTLED:
        return "13"
    if status.code is StatusCode.ENDED:
        return "97"
    for floor, code in ((180, "84"), (150, "83"), (120, "82"), (90, "80"), (60, "78"), (30, "71")):
        if status.days_past_due >= floor:
            return code
    return "11"


def _profile_code(status: MonthStatus) -> str:
    return _profile_letter(status.code.value, status.days_past_due)


def _profile_letter(code: str, days_past_due: int) -> str:
    if code == StatusCode.NOT_OPEN.value:
        return "B"
    if code == StatusCode.ENDED.value:
        return "L"
    return str(min(6, days_past_due // 30))


def payment_history_profile(loan: LoanFacts, month: str) -> str:
    """The 24 months before ``month``, most recent first (Metro 2's order)."""
    months = months_back(month, bounds.bureau_metro2_history_months_count + 1)[:-1]
    return "".join(_profile_code(status) for status in reversed(statuses(loan, months)))


def profile_from_history(history: str, days_history: Sequence[int]) -> str:
    """The same profile read from a monthly record's 60-month history (its last entry is the month itself)."""
    width = bounds.bureau_metro2_history_months_count
    pairs = list(zip(history, days_history, strict=True))[-(width + 1) : -1]
    return "".join(_profile_letter(code, days) for code, days in reversed(pairs))


def _yuan(fen: int) -> int:
    return fen // 100  # whole yuan, fen truncated


def base_segment(
    status: MonthStatus,
    loan: LoanFacts,
    name_latin: str,
    id_number: str,
    furnisher_id: str,
    generated_at: datetime,
    correction: bool,
    profile: str | None = None,
) -> str:
    record = _Record()
    record.digits(1, 4, f"{RECORD_LENGTH:04d}")
    record.digits(5, 1, "1")
    record.digits(6, 14, require_utc(generated_at, "generated_at").strftime("%m%d%Y%H%M%S"))
    record.digits(20, 1, "1" if correction else "0")
    record.alpha(21, 20, furnisher_id, "furnisher_id")
    record.alpha(43, 30, loan.loan_id, "loan_id")
    record.alpha(73, 1, "I", "portfolio_type")
    record.alpha(74, 2, "01", "account_type")
    record.digits(76, 8, _date(loan.disbursed_on))
    record.number(84, 9, 0, "credit_limit")
    record.number(93, 9, _yuan(loan.principal_fen), "principal")
    record.number(102, 3, len(loan.installments), "installments")
    record.alpha(105, 1, "M", "terms_frequency")
    record.number(106, 9, _yuan(status.scheduled_fen), "scheduled")
    record.number(115, 9, _yuan(status.paid_in_month_fen), "paid")
    status_code = account_status(status)
    record.alpha(124, 2, status_code, "account_status")
    if status_code == "13":
        record.alpha(126, 1, "0", "payment_rating")
    if profile is None:
        profile = payment_history_profile(loan, status.month)
    record.alpha(127, 24, profile, "payment_history_profile")
    record.number(155, 9, _yuan(status.balance_fen), "balance")
    record.number(164, 9, _yuan(status.past_due_fen), "past_due")
    record.number(173, 9, _yuan(status.balance_fen) if status_code == "97" else 0, "charge_off")
    record.digits(182, 8, _date(status.month_end))
    delinquent = status_code in {"71", "78", "80", "82", "83", "84", "97"}
    record.digits(190, 8, _date(status.first_delinquency_on if delinquent else None))
    closed = loan.settled_on or loan.written_off_on
    record.digits(198, 8, _date(closed if closed is not None and closed <= status.month_end else None))
    record.digits(206, 8, _date(status.last_payment_on))
    record.alpha(214, 1, "F", "interest_type")
    family, _, given = name_latin.strip().partition(" ")
    record.alpha(232, 25, family, "name_latin")
    record.alpha(257, 20, given.strip(), "name_latin")
    record.number(298, 9, 0, "ssn")
    record.digits(307, 8, _date(birth_date_of(id_number)))
    record.number(315, 10, 0, "telephone")
    record.alpha(325, 1, "1", "ecoa_code")
    record.alpha(328, 2, "CN", "country_code")
    return record.text()


def header(month: BureauMonth, reporter_name: str, generated_at: datetime) -> str:
    record = _Record()
    record.digits(1, 4, f"{RECORD_LENGTH:04d}")
    record.alpha(5, 6, "HEADER", "record_identifier")
    record.digits(48, 8, _date(month.month_end))
    record.digits(56, 8, _date(require_utc(generated_at, "generated_at").date()))
    record.number(64, 8, 0, "program_date")
    record.number(72, 8, 0, "program_revision_date")
    record.alpha(80, 40, reporter_name, "reporter_name")
    record.number(216, 10, 0, "reporter_telephone")
    record.alpha(226, 40, "FENGKONG", "software_vendor")
    record.alpha(266, 5, "1", "software_version")
    return record.text()


def trailer(base_count: int, statuses: Counter[str], births: int) -> str:
    record = _Record()
    record.digits(1, 4, f"{RECORD_LENGTH:04d}")
    record.alpha(5, 7, "TRAILER", "record_identifier")
    record.number(12, 9, base_count, "total_base_records")
    for start in range(30, 408, 9):  # every count field from 30 on is numeric: zero-filled first
        record.number(start, 9, 0, "count")
    record.number(57, 9, base_count + 2, "block_count")
    for code, start in STATUS_COUNT_POSITIONS.items():
        record.number(start, 9, statuses[code], f"status_{code}")
    record.number(363, 9, births, "dates_of_birth_all")
    record.number(372, 9, births, "dates_of_birth_base")
    record.number(408, 19, 0, "reserved")
    return record.text()


def render(month: BureauMonth, furnisher_id: str, generated_at: datetime, reporter_name: str = "") -> str:
    """The file's text: header, Base Segments (monthly records and corrections, in account order), trailer."""
    lines = [header(month, reporter_name or furnisher_id, generated_at)]
    status_counts: Counter[str] = Counter()
    segments: Sequence[MonthlyPerformance | Correction] = [
        record for record in month.records if isinstance(record, MonthlyPerformance | Correction)
    ]
    for item in segments:
        identity = item.identity
        if not identity.name_latin or not identity.id_number:
            raise InvariantError(f"account {item.loan.loan_id} reached the Metro 2 file without its identity")
        # a monthly record carries its 60-month history: the profile is read from it, not derived again
        profile = (
            profile_from_history(item.history, item.days_history)
            if isinstance(item, MonthlyPerformance)
            and len(item.days_history) > bounds.bureau_metro2_history_months_count
            else None
        )
        line = base_segment(
            item.status,
            item.loan,
            identity.name_latin,
            identity.id_number,
            furnisher_id,
            generated_at,
            correction=isinstance(item, Correction),
            profile=profile,
        )
        status_counts[line[123:125]] += 1
        lines.append(line)
    lines.append(trailer(len(segments), status_counts, len(segments)))
    return "\n".join(lines) + "\n"
