"""Credit-bureau reporting as records: what each account's month looked like, derived from the loan's own
history, and the records of a monthly file (account opened, monthly performance, special events,
corrections), checked for mandatory fields and for the notice a borrower is owed before adverse data.

Pure: the caller passes each loan's facts (installments, dated payment allocations, the settlement or
write-off date), the borrowers' identities, the notices given and what earlier files reported. The two
renderings are :mod:`fengkong.reporting.pboc` (60 months of status codes) and
:mod:`fengkong.reporting.metro2` (a Metro 2-shaped fixed-width file with the 24-month profile).

**Status of a month.** At the month's last day *E* (the reporting point):

* the installment amounts settled by *E* are the allocations of repayments (principal, interest, fee, and
  interest waived on a payoff) dated on or before *E*; reversed repayments are left out, so a reversal after
  a month was reported shows up as a correction of that month;
* days past due at *E* are ``E − due date`` of the oldest installment due before *E* and not settled by *E*
  (an amount falling due on *E* is not past due on *E*, as in ``lending/delinquency.py``);
* the code (the PBOC personal credit report's repayment-status legend, 二代征信 "还款状态"; primary text
  not read — as given in the legend printed at the end of the report and reproduced by secondary sources,
  e.g. https://www.31344.com/baikezhishi/16337.html, and in DOMAIN.md):

  ====  =====================================================================================
  code  meaning here
  ====  =====================================================================================
  ``/`` not opened yet (months before the disbursement)
  ``*`` no payment due this month and nothing overdue (the disbursement month, a month between
        installments)
  ``N`` normal: an installment fell due this month and nothing is past due at *E*
  ``1`` … ``7``  1–30, 31–60, 61–90, 91–120, 121–150, 151–180, over 180 days past due at *E*
  ``C`` settled (结清): paid off this month, by schedule or early
  ``G`` ended otherwise (结束, here a write-off)
  ====  =====================================================================================

  ``D`` (guarantor paid), ``Z`` (paid by offset) and ``#`` (unknown) exist in the legend but fengkong
  never produces them: it has no guarantors or offsets, and it always knows the month's status.

**Adverse data and notice.** A record is adverse when its code is ``1``–``7`` or ``G`` (or it is a
write-off event). It goes into a file only when the borrower was notified of this delinquency: a notice
dated on or after the delinquency began and at least ``notice_lead_days`` before the file's date
(征信业管理条例 art. 15 requires telling the borrower before adverse data is provided, without fixing the
days; the default lead of 7 days is a judgement). Otherwise the account is held back from the file with
the reason, and reported in the first file whose notice is old enough.

**Mandatory fields.** An account whose borrower has no name or valid resident ID number on file (or no
Latin-letter name, for the Metro 2-shaped file) is held back, and the refusal names the account and the
field.
"""

from __future__ import annotations

import bisect
import calendar
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final

from fengkong import bounds
from fengkong.clock import require_utc
from fengkong.compliance.privacy import normalise_id_number
from fengkong.errors import InputError, InvariantError
from fengkong.money import Money

SETTLING_COMPONENTS: Final = frozenset({"principal", "interest", "fee", "waived_interest"})
PAYMENT_COMPONENTS: Final = frozenset({"principal", "interest", "fee", "penalty", "recovery"})
METRO2_ACCOUNT_CHARS_MAX: Final = 30  # Consumer Account Number, positions 43-72
METRO2_AMOUNT_YUAN_MAX: Final = 999_999_999  # a nine-digit amount field
_MONTH_PATTERN: Final = re.compile(r"^(\d{4})-(\d{2})$")


class StatusCode(StrEnum):
    """The PBOC repayment-status codes fengkong produces (see the module docstring)."""

    NOT_OPEN = "/"
    NO_PAYMENT_DUE = "*"
    NORMAL = "N"
    OVERDUE_1 = "1"
    OVERDUE_2 = "2"
    OVERDUE_3 = "3"
    OVERDUE_4 = "4"
    OVERDUE_5 = "5"
    OVERDUE_6 = "6"
    OVERDUE_7 = "7"
    SETTLED = "C"
    ENDED = "G"


ADVERSE_CODES: Final = frozenset({StatusCode(str(digit)) for digit in range(1, 8)} | {StatusCode.ENDED})


class EventKind(StrEnum):
    SETTLEMENT = "settlement"  # paid off on or after the last installment's due date
    EARLY_SETTLEMENT = "early_settlement"  # paid off before it
    WRITE_OFF = "write_off"


# -- inputs --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstallmentDue:
    number: int
    due_on: date
    principal_fen: int
    interest_fen: int
    fee_fen: int
    waived_interest_fen: int  # as the loan holds it now

    @property
    def amount_fen(self) -> int:
        return self.principal_fen + self.interest_fen + self.fee_fen


@dataclass(frozen=True, slots=True)
class PaymentLine:
    """One allocation line of an applied, unreversed repayment (``installment`` 0: the loan itself)."""

    paid_on: date
    installment: int
    component: str
    amount_fen: int


@dataclass(frozen=True, slots=True)
class LoanFacts:
    loan_id: str
    party_id: str
    product: str
    currency: str
    principal_fen: int
    disbursed_on: date
    installments: tuple[InstallmentDue, ...]
    payments: tuple[PaymentLine, ...]
    settled_on: date | None = None  # the business date of the payoff (loan closed)
    written_off_on: date | None = None

    @property
    def maturity_on(self) -> date:
        return max(item.due_on for item in self.installments)


@dataclass(frozen=True, slots=True)
class Identity:
    """The borrower as the bureau knows them (values opened for bureau reporting)."""

    name: str | None
    id_number: str | None
    name_latin: str | None = None

    def __repr__(self) -> str:  # never print personal data
        return "Identity(...)"


@dataclass(frozen=True, slots=True)
class Notice:
    loan_id: str
    kind: str
    notified_on: date


@dataclass(frozen=True, slots=True)
class Reported:
    """What an earlier file said about one account and month (its latest revision)."""

    code: str
    days_past_due: int
    balance_fen: int
    past_due_fen: int
    revision: int


# -- months --------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4_096)
def parse_month(text: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``."""
    match = _MONTH_PATTERN.match(text) if isinstance(text, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InputError(f"must be YYYY-MM, got {text!r}", field="month")
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_back(month: str, count: int) -> list[str]:
    """``count`` months ending with ``month``, oldest first."""
    start, _ = parse_month(month)
    index = start.year * 12 + start.month - 1 - (count - 1)
    return [f"{(index + offset) // 12:04d}-{(index + offset) % 12 + 1:02d}" for offset in range(count)]


# -- the status of one month ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MonthStatus:
    loan_id: str
    month: str
    month_end: date
    code: StatusCode
    days_past_due: int
    balance_fen: int  # principal unpaid plus interest and fees fallen due and unpaid
    past_due_fen: int  # everything due before the month end and unpaid
    overdue_installments: int
    scheduled_fen: int  # installment amounts falling due in the month
    paid_in_month_fen: int  # every payment dated in the month (penalty and recovery included)
    first_delinquency_on: date | None  # the day after the oldest unpaid due date
    last_payment_on: date | None

    @property
    def adverse(self) -> bool:
        return self.code in ADVERSE_CODES

    def reported(self) -> tuple[str, int, int, int]:
        """The facts a correction compares."""
        return (self.code.value, self.days_past_due, self.balance_fen, self.past_due_fen)


def overdue_code(days_past_due: int) -> StatusCode:
    return StatusCode(str(min(7, (days_past_due + 29) // 30)))


def month_status(loan: LoanFacts, month: str) -> MonthStatus:
    """The status of ``loan`` in ``month`` (see the module docstring)."""
    start, end = parse_month(month)
    if loan.disbursed_on > end:
        return MonthStatus(loan.loan_id, month, end, StatusCode.NOT_OPEN, 0, 0, 0, 0, 0, 0, None, None)
    waived_by_allocation: dict[int, int] = {}
    for line in loan.payments:
        if line.component == "waived_interest":
            waived_by_allocation[line.installment] = (
                waived_by_allocation.get(line.installment, 0) + line.amount_fen
            )
    settled: dict[int, int] = {}
    principal_paid: dict[int, int] = {}
    paid_in_month = 0
    last_payment: date | None = None
    for line in loan.payments:
        if line.paid_on > end:
            continue
        if line.component in SETTLING_COMPONENTS:
            settled[line.installment] = settled.get(line.installment, 0) + line.amount_fen
        if line.component == "principal":
            principal_paid[line.installment] = principal_paid.get(line.installment, 0) + line.amount_fen
        if line.component in PAYMENT_COMPONENTS:
            last_payment = line.paid_on if last_payment is None else max(last_payment, line.paid_on)
            if line.paid_on >= start:
                paid_in_month += line.amount_fen
    balance = past_due = overdue_count = scheduled = 0
    oldest_unpaid: date | None = None
    for item in loan.installments:
        # waivers that no allocation explains (an interest-free period) count from the start
        standing_waiver = item.waived_interest_fen - waived_by_allocation.get(item.number, 0)
        owed = item.amount_fen - max(0, standing_waiver)
        unpaid = owed - settled.get(item.number, 0)
        if unpaid < 0:
            raise InvariantError(f"installment {item.number} of {loan.loan_id} settled beyond what it owed")
        unpaid_principal = item.principal_fen - principal_paid.get(item.number, 0)
        balance += unpaid_principal + (unpaid - unpaid_principal if item.due_on <= end else 0)
        if start <= item.due_on <= end:
            scheduled += owed
        if item.due_on < end and unpaid > 0:
            past_due += unpaid
            overdue_count += 1
            oldest_unpaid = item.due_on if oldest_unpaid is None else min(oldest_unpaid, item.due_on)
    days_past_due = (end - oldest_unpaid).days if oldest_unpaid is not None else 0
    first_delinquency = oldest_unpaid + timedelta(days=1) if oldest_unpaid is not None else None
    if loan.settled_on is not None and loan.settled_on <= end:
        code = StatusCode.SETTLED
    elif loan.written_off_on is not None and loan.written_off_on <= end:
        code = StatusCode.ENDED
    elif days_past_due > 0:
        code = overdue_code(days_past_due)
    elif scheduled > 0:
        code = StatusCode.NORMAL
    else:
        code = StatusCode.NO_PAYMENT_DUE
    return MonthStatus(
        loan.loan_id,
        month,
        end,
        code,
        days_past_due,
        balance,
        past_due,
        overdue_count,
        scheduled,
        paid_in_month,
        first_delinquency,
        last_payment,
    )


def statuses(loan: LoanFacts, months: Sequence[str]) -> list[MonthStatus]:
    """:func:`month_status` for each of ``months``, from one pass over the payments (a test holds the two
    equal): each installment's settlements and principal payments, and all payments, become date-sorted
    running totals read by binary search at each month end."""
    waived_by_allocation: dict[int, int] = {}
    for line in loan.payments:
        if line.component == "waived_interest":
            waived_by_allocation[line.installment] = (
                waived_by_allocation.get(line.installment, 0) + line.amount_fen
            )
    ordered = sorted(loan.payments, key=lambda line: line.paid_on)
    settle_dates: dict[int, list[date]] = {}
    settle_totals: dict[int, list[int]] = {}
    principal_dates: dict[int, list[date]] = {}
    principal_totals: dict[int, list[int]] = {}
    pay_dates: list[date] = []
    pay_totals: list[int] = []
    for line in ordered:
        if line.component in SETTLING_COMPONENTS:
            totals = settle_totals.setdefault(line.installment, [])
            settle_dates.setdefault(line.installment, []).append(line.paid_on)
            totals.append((totals[-1] if totals else 0) + line.amount_fen)
        if line.component == "principal":
            totals = principal_totals.setdefault(line.installment, [])
            principal_dates.setdefault(line.installment, []).append(line.paid_on)
            totals.append((totals[-1] if totals else 0) + line.amount_fen)
        if line.component in PAYMENT_COMPONENTS:
            pay_dates.append(line.paid_on)
            pay_totals.append((pay_totals[-1] if pay_totals else 0) + line.amount_fen)

    def running(dates: list[date], totals: list[int], day: date) -> int:
        index = bisect.bisect_right(dates, day)
        return totals[index - 1] if index else 0

    owed = {
        item.number: item.amount_fen
        - max(0, item.waived_interest_fen - waived_by_allocation.get(item.number, 0))
        for item in loan.installments
    }
    found: list[MonthStatus] = []
    for month in months:
        start, end = parse_month(month)
        if loan.disbursed_on > end:
            found.append(
                MonthStatus(loan.loan_id, month, end, StatusCode.NOT_OPEN, 0, 0, 0, 0, 0, 0, None, None)
            )
            continue
        balance = past_due = overdue_count = scheduled = 0
        oldest_unpaid: date | None = None
        for item in loan.installments:
            number = item.number
            unpaid = owed[number] - running(settle_dates.get(number, []), settle_totals.get(number, []), end)
            if unpaid < 0:
                raise InvariantError(f"installment {number} of {loan.loan_id} settled beyond what it owed")
            unpaid_principal = item.principal_fen - running(
                principal_dates.get(number, []), principal_totals.get(number, []), end
            )
            balance += unpaid_principal + (unpaid - unpaid_principal if item.due_on <= end else 0)
            if start <= item.due_on <= end:
                scheduled += owed[number]
            if item.due_on < end and unpaid > 0:
                past_due += unpaid
                overdue_count += 1
                oldest_unpaid = item.due_on if oldest_unpaid is None else min(oldest_unpaid, item.due_on)
        last_index = bisect.bisect_right(pay_dates, end)
        first_index = bisect.bisect_left(pay_dates, start)
        paid_in_month = (pay_totals[last_index - 1] if last_index else 0) - (
            pay_totals[first_index - 1] if first_index else 0
        )
        days_past_due = (end - oldest_unpaid).days if oldest_unpaid is not None else 0
        if loan.settled_on is not None and loan.settled_on <= end:
            code = StatusCode.SETTLED
        elif loan.written_off_on is not None and loan.written_off_on <= end:
            code = StatusCode.ENDED
        elif days_past_due > 0:
            code = overdue_code(days_past_due)
        elif scheduled > 0:
            code = StatusCode.NORMAL
        else:
            code = StatusCode.NO_PAYMENT_DUE
        found.append(
            MonthStatus(
                loan.loan_id,
                month,
                end,
                code,
                days_past_due,
                balance,
                past_due,
                overdue_count,
                scheduled,
                paid_in_month,
                oldest_unpaid + timedelta(days=1) if oldest_unpaid is not None else None,
                pay_dates[last_index - 1] if last_index else None,
            )
        )
    return found


def history(loan: LoanFacts, month: str, months: int = bounds.bureau_history_months_count) -> str:
    """The status codes of the ``months`` months ending with ``month``, oldest first (``month`` last)."""
    return "".join(status.code.value for status in statuses(loan, months_back(month, months)))


# -- records -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountOpened:
    loan: LoanFacts
    identity: Identity


@dataclass(frozen=True, slots=True)
class MonthlyPerformance:
    status: MonthStatus
    history: str  # 60 codes, oldest first
    identity: Identity
    loan: LoanFacts
    days_history: tuple[int, ...] = ()  # days past due at each of the same 60 month ends


@dataclass(frozen=True, slots=True)
class SpecialEvent:
    loan_id: str
    kind: EventKind
    on: date
    amount_fen: int  # paid on the day (settlement) or the balance written off
    currency: str


@dataclass(frozen=True, slots=True)
class Correction:
    """A month reported earlier, now derived differently (a reversal, a late allocation): supersedes it."""

    status: MonthStatus
    previous: Reported
    identity: Identity
    loan: LoanFacts


Record = AccountOpened | MonthlyPerformance | SpecialEvent | Correction


@dataclass(frozen=True, slots=True)
class Refusal:
    """An account held back from this file: which account, which field, why."""

    loan_id: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"account {self.loan_id}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class BureauMonth:
    """One month's file as records, in account order, and the accounts held back."""

    month: str
    month_end: date
    file_date: date
    records: tuple[Record, ...]
    refused: tuple[Refusal, ...]

    def count(self, kind: type) -> int:
        return sum(1 for record in self.records if isinstance(record, kind))


@dataclass(frozen=True, slots=True)
class BureauPolicy:
    """Reporting choices (configuration, not software bounds)."""

    notice_lead_days: int = 7  # judgement: the law requires notice before reporting, not a number of days
    require_latin_name: bool = False  # the Metro 2-shaped file needs one

    def __post_init__(self) -> None:
        if not isinstance(self.notice_lead_days, int) or not 0 <= self.notice_lead_days <= 366:
            raise InputError("must be 0 to 366 days", field="notice_lead_days")


def _identity_refusal(loan_id: str, identity: Identity | None, policy: BureauPolicy) -> Refusal | None:
    if identity is None or not identity.name:
        return Refusal(loan_id, "name", "no name on file for the borrower")
    if _breaks_a_line(identity.name):
        return Refusal(loan_id, "name", "contains '|' or a line break")
    if not identity.id_number:
        return Refusal(loan_id, "id_number", "no resident ID number on file for the borrower")
    try:
        normalise_id_number(identity.id_number)
    except InputError as error:
        return Refusal(loan_id, "id_number", f"not a valid resident ID number ({error.reason})")
    if policy.require_latin_name and not identity.name_latin:
        return Refusal(
            loan_id, "name_latin", "no Latin-letter name on file (needed by the Metro 2-shaped file)"
        )
    return None


def _breaks_a_line(text: str) -> bool:
    return "|" in text or "\n" in text or "\r" in text


def _loan_refusal(loan: LoanFacts, policy: BureauPolicy) -> Refusal | None:
    if loan.principal_fen <= 0:
        return Refusal(loan.loan_id, "principal", "must be positive")
    if not loan.installments:
        return Refusal(loan.loan_id, "installments", "the loan has no schedule")
    if not loan.currency:
        return Refusal(loan.loan_id, "currency", "missing")
    if _breaks_a_line(loan.loan_id) or _breaks_a_line(loan.product):
        return Refusal(loan.loan_id, "account", "contains '|' or a line break")
    if policy.require_latin_name:  # the Metro 2-shaped file: ASCII, 30 characters, 9 digits of whole yuan
        if not loan.loan_id.isascii() or len(loan.loan_id) > METRO2_ACCOUNT_CHARS_MAX:
            return Refusal(
                loan.loan_id, "loan_id", f"must be at most {METRO2_ACCOUNT_CHARS_MAX} ASCII characters"
            )
        if loan.principal_fen // 100 > METRO2_AMOUNT_YUAN_MAX:
            return Refusal(loan.loan_id, "principal", f"over {METRO2_AMOUNT_YUAN_MAX} yuan (nine digits)")
    return None


def _notice_refusal(
    loan_id: str,
    first_delinquency_on: date | None,
    notices: Sequence[Notice],
    file_date: date,
    lead_days: int,
) -> Refusal | None:
    latest_allowed = file_date - timedelta(days=lead_days)
    relevant = [n for n in notices if first_delinquency_on is None or n.notified_on >= first_delinquency_on]
    if not relevant:
        return Refusal(loan_id, "notice", "adverse data with no notice to the borrower for this delinquency")
    if not any(notice.notified_on <= latest_allowed for notice in relevant):
        newest = max(notice.notified_on for notice in relevant)
        return Refusal(
            loan_id,
            "notice",
            f"notice of {newest} is less than {lead_days} days before the file date {file_date}",
        )
    return None


def build_month(
    month: str,
    loans: Sequence[LoanFacts],
    identities: Mapping[str, Identity],
    notices: Mapping[str, Sequence[Notice]],
    reported: Mapping[tuple[str, str], Reported],
    policy: BureauPolicy,
    file_date: date | None = None,
) -> BureauMonth:
    """The records of ``month``'s file (see the module docstring).

    ``identities`` is keyed by party ID, ``notices`` by loan ID, ``reported`` by (loan ID, month) with the
    latest revision an earlier file carried. ``file_date`` defaults to the month's last day.
    """
    start, end = parse_month(month)
    when = file_date or end
    if when < end:
        raise InputError(f"the file date {when} is before the end of {month}", field="file_date")
    if len(loans) > bounds.bureau_accounts_per_file_max:
        raise InputError(f"at most {bounds.bureau_accounts_per_file_max} accounts per file", field="loans")
    records: list[Record] = []
    refused: list[Refusal] = []
    window = months_back(month, bounds.bureau_history_months_count)
    for loan in sorted(loans, key=lambda item: item.loan_id):
        if loan.disbursed_on > end:
            continue
        ended = loan.settled_on or loan.written_off_on
        if ended is not None and ended < start:
            continue  # closed in an earlier month: that month's file carried its last record
        problem = _loan_refusal(loan, policy) or _identity_refusal(
            loan.loan_id, identities.get(loan.party_id), policy
        )
        if problem is not None:
            refused.append(problem)
            continue
        identity = identities[loan.party_id]
        derived = statuses(loan, window)
        status = derived[-1]
        corrections: list[Correction] = []
        for earlier, now in zip(window[:-1], derived[:-1], strict=True):
            previous = reported.get((loan.loan_id, earlier))
            if previous is None:
                continue
            if now.reported() != (
                previous.code,
                previous.days_past_due,
                previous.balance_fen,
                previous.past_due_fen,
            ):
                corrections.append(Correction(now, previous, identity, loan))
        adverse = [status] if status.adverse else []
        adverse += [item.status for item in corrections if item.status.adverse]
        notice_problem = next(
            (
                found
                for item in adverse
                if (
                    found := _notice_refusal(
                        loan.loan_id,
                        item.first_delinquency_on,
                        notices.get(loan.loan_id, ()),
                        when,
                        policy.notice_lead_days,
                    )
                )
            ),
            None,
        )
        if notice_problem is not None:
            refused.append(notice_problem)
            continue
        if start <= loan.disbursed_on <= end:
            records.append(AccountOpened(loan, identity))
        records.append(
            MonthlyPerformance(
                status,
                "".join(item.code.value for item in derived),
                identity,
                loan,
                tuple(item.days_past_due for item in derived),
            )
        )
        if loan.settled_on is not None and start <= loan.settled_on <= end:
            kind = EventKind.EARLY_SETTLEMENT if loan.settled_on < loan.maturity_on else EventKind.SETTLEMENT
            paid = sum(
                line.amount_fen
                for line in loan.payments
                if line.paid_on == loan.settled_on and line.component in PAYMENT_COMPONENTS
            )
            records.append(SpecialEvent(loan.loan_id, kind, loan.settled_on, paid, loan.currency))
        if loan.written_off_on is not None and start <= loan.written_off_on <= end:
            records.append(
                SpecialEvent(
                    loan.loan_id, EventKind.WRITE_OFF, loan.written_off_on, status.balance_fen, loan.currency
                )
            )
        records.extend(corrections)
    return BureauMonth(month, end, when, tuple(records), tuple(refused))


def amount_text(fen: int, currency: str) -> str:
    """``"1234.56"``: the wire form of an amount (never a float)."""
    return Money(fen, currency).format()


def generated_stamp(instant: datetime) -> str:
    """The file's creation instant in UTC, ``2026-04-01T02:00:00Z``."""
    return require_utc(instant, "generated_at").strftime("%Y-%m-%dT%H:%M:%SZ")
