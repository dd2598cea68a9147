"""Use cases of credit-bureau reporting: record the notice given to a borrower before adverse data, and
export a month's file (PBOC-shaped or Metro 2-shaped) from the loan book.

:func:`export_month` reads, in one transaction, every loan disbursed by the month's end with its installments
and dated payments, the borrowers' names and ID numbers (opened from the sealed store for bureau reporting, a
use resting on the reporting duty), the notices, and what earlier files of the same format reported; builds
the month's records (:func:`fengkong.reporting.bureau.build_month`); writes what this file reports (revision 1
for a new month, the next revision for a month it corrects); and returns the file's text. Accounts held back
(a missing mandatory field, a notice missing or too recent) are listed with the account and the field.
Exporting the same month again gives the same records (nothing new to correct), so a retry is safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock, SystemClock, require_utc
from fengkong.compliance import privacy
from fengkong.compliance.privacy import Keyring, Sealed
from fengkong.errors import IdempotencyConflictError, InputError
from fengkong.reporting import metro2, pboc
from fengkong.reporting.bureau import (
    AccountOpened,
    BureauMonth,
    BureauPolicy,
    Correction,
    Identity,
    InstallmentDue,
    LoanFacts,
    MonthlyPerformance,
    Notice,
    PaymentLine,
    Reported,
    SpecialEvent,
    build_month,
    parse_month,
)
from fengkong.services.database import resolve_database_url
from fengkong.services.privacy import keyring_from_environment
from fengkong.store.bureau import BureauRepository
from fengkong.store.config import make_engine
from fengkong.store.privacy import PrivacyRepository
from fengkong.store.repositories import OutboxRepository

STATUS_CLOSED = 1  # fengkong.lending.close_of_business.LoanStatus (services may import lending; kept literal
STATUS_WRITTEN_OFF = 2  # here so the store rows read plainly)
NOTICE_KINDS = ("delinquency", "write_off")


class FileFormat(StrEnum):
    PBOC = "pboc"
    METRO2 = "metro2"


def _text(value: str, field: str, length_max: int) -> str:
    if not isinstance(value, str) or not value or len(value) > length_max or not value.isprintable():
        raise InputError(f"must be 1 to {length_max} printable characters", field=field)
    return value


@dataclass(frozen=True, slots=True)
class NoticeRecorded:
    notice_id: str
    created: bool


def record_notice(
    connection: sa.Connection,
    clock: Clock,
    notice_id: str,
    loan_id: str,
    kind: str,
    notified_on: date,
    channel: str,
) -> NoticeRecorded:
    """Record that the borrower of ``loan_id`` was told on ``notified_on`` (idempotent by ``notice_id``)."""
    _text(notice_id, "notice_id", bounds.bureau_notice_id_length_max)
    _text(loan_id, "loan_id", bounds.loan_id_length_max)
    _text(channel, "channel", 32)
    if kind not in NOTICE_KINDS:
        raise InputError(f"must be one of {list(NOTICE_KINDS)}", field="kind")
    repository = BureauRepository(clock)
    if repository.add_notice(connection, notice_id, loan_id, kind, notified_on, channel):
        return NoticeRecorded(notice_id, True)
    stored = repository.notice(connection, notice_id)
    if stored is None or (stored["loan_id"], stored["kind"], stored["notified_on"], stored["channel"]) != (
        loan_id,
        kind,
        notified_on,
        channel,
    ):
        raise IdempotencyConflictError(f"notice {notice_id!r} was recorded with other content")
    return NoticeRecorded(notice_id, False)


def _facts(
    header: Mapping[str, Any], installments: list[dict[str, Any]], payments: list[dict[str, Any]]
) -> LoanFacts:
    dues = tuple(
        InstallmentDue(
            int(row["number"]),
            row["due_on"],
            int(row["principal_fen"]),
            int(row["interest_fen"]),
            int(row["fee_fen"]),
            int(row["waived_interest_fen"]),
        )
        for row in installments
    )
    lines = tuple(
        PaymentLine(
            row["business_date"], int(row["installment"]), str(row["component"]), int(row["amount_fen"])
        )
        for row in payments
    )
    status = int(header["status"])
    settled_on = None
    if status == STATUS_CLOSED:
        payoffs = [row["business_date"] for row in payments if row["paid_off"]]
        settled_on = max(payoffs) if payoffs else max((line.paid_on for line in lines), default=None)
    return LoanFacts(
        loan_id=str(header["loan_id"]),
        party_id=str(header["party_id"]),
        product=str(header["product"]),
        currency=str(header["currency"]),
        principal_fen=int(header["principal_fen"]),
        disbursed_on=header["disbursed_on"],
        installments=dues,
        payments=lines,
        settled_on=settled_on,
        written_off_on=header["last_closed_on"] if status == STATUS_WRITTEN_OFF else None,
    )


def _identities(
    connection: sa.Connection, clock: Clock, keyring: Keyring, party_ids: set[str]
) -> dict[str, Identity]:
    opened: dict[str, dict[str, str]] = {}
    for row in PrivacyRepository(clock).values_for_parties(connection, sorted(party_ids)):
        party_id, field = str(row["party_id"]), str(row["field"])
        sealed = Sealed(str(row["key_id"]), bytes(row["nonce"]), bytes(row["ciphertext"]))
        opened.setdefault(party_id, {})[field] = privacy.unseal(sealed, keyring, party_id, field)
    return {
        party_id: Identity(values.get("name"), values.get("id_number"), values.get("name_latin"))
        for party_id, values in opened.items()
    }


@dataclass(frozen=True, slots=True)
class BureauExport:
    file_format: FileFormat
    month: BureauMonth
    text: str

    def summary(self) -> dict[str, Any]:
        return {
            "format": self.file_format.value,
            "month": self.month.month,
            "file_date": self.month.file_date.isoformat(),
            "accounts_opened": self.month.count(AccountOpened),
            "monthly_records": self.month.count(MonthlyPerformance),
            "special_events": self.month.count(SpecialEvent),
            "corrections": self.month.count(Correction),
            "held_back": [
                {"account": item.loan_id, "field": item.field, "reason": item.reason}
                for item in self.month.refused
            ],
        }


def export_month(
    engine: sa.Engine,
    clock: Clock,
    keyring: Keyring,
    month: str,
    file_format: str,
    furnisher_id: str = "FENGKONG",
    policy: BureauPolicy | None = None,
    file_date: date | None = None,
    generated_at: datetime | None = None,
) -> BureauExport:
    """Build, record and render ``month``'s file in ``file_format`` (see the module docstring)."""
    try:
        chosen = FileFormat(file_format)
    except ValueError as error:
        raise InputError(f"must be one of {[f.value for f in FileFormat]}", field="format") from error
    _, last_day = parse_month(month)
    _text(furnisher_id, "furnisher_id", 20)
    rules = policy or BureauPolicy(require_latin_name=chosen is FileFormat.METRO2)
    if chosen is FileFormat.METRO2 and not rules.require_latin_name:
        rules = BureauPolicy(rules.notice_lead_days, require_latin_name=True)
    instant = require_utc(generated_at, "generated_at") if generated_at is not None else clock.now()
    repository = BureauRepository(clock)
    with engine.begin() as connection:
        headers = repository.loans_disbursed_by(connection, last_day)
        numbers = [int(header["loan_number"]) for header in headers]
        installments = repository.installments_of(connection, numbers)
        payments = repository.payments_of(connection, numbers)
        loans = [
            _facts(
                header,
                installments.get(int(header["loan_number"]), []),
                payments.get(int(header["loan_number"]), []),
            )
            for header in headers
        ]
        identities = _identities(connection, clock, keyring, {loan.party_id for loan in loans})
        notices: dict[str, list[Notice]] = {}
        for row in repository.notices(connection):
            notices.setdefault(str(row["loan_id"]), []).append(
                Notice(str(row["loan_id"]), str(row["kind"]), row["notified_on"])
            )
        latest = repository.latest_reported(connection, chosen.value)
        reported = {
            key: Reported(
                str(row["code"]),
                int(row["days_past_due"]),
                int(row["balance_fen"]),
                int(row["past_due_fen"]),
                int(row["revision"]),
            )
            for key, row in latest.items()
        }
        built = build_month(month, loans, identities, notices, reported, rules, file_date)
        rows: list[dict[str, Any]] = []
        for record in built.records:
            if not isinstance(record, MonthlyPerformance | Correction):
                continue
            status = record.status
            previous = reported.get((status.loan_id, status.month))
            if (
                previous is not None
                and (previous.code, previous.days_past_due, previous.balance_fen, previous.past_due_fen)
                == status.reported()
            ):
                continue
            rows.append(
                {
                    "file_format": chosen.value,
                    "loan_id": status.loan_id,
                    "month": status.month,
                    "revision": 1 if previous is None else previous.revision + 1,
                    "code": status.code.value,
                    "days_past_due": status.days_past_due,
                    "balance_fen": status.balance_fen,
                    "past_due_fen": status.past_due_fen,
                    "reported_in": month,
                }
            )
        repository.add_reported(connection, rows, clock.now())
        OutboxRepository(clock).enqueue(
            connection,
            "audit",
            f"bureau:{chosen.value}:{month}",
            {
                "area": "bureau",
                "action": "file_exported",
                "format": chosen.value,
                "month": month,
                "records": len(built.records),
                "held_back": len(built.refused),
            },
        )
        # rendered before the commit: a file that cannot be written records nothing as reported
        if chosen is FileFormat.PBOC:
            text = pboc.render(built, furnisher_id, instant)
        else:
            text = metro2.render(built, furnisher_id, instant)
    return BureauExport(chosen, built, text)


def export_to_file(
    database_url: str | None,
    month: str,
    file_format: str,
    out: Path,
    furnisher_id: str = "FENGKONG",
    notice_lead_days: int = BureauPolicy().notice_lead_days,
    file_date: date | None = None,
    clock: Clock | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """:func:`export_month` on the database at ``database_url`` with the keyring from the environment; the
    file is written to ``out`` (through a temporary file, so a failed export leaves no half file)."""
    keyring = keyring_from_environment(environ)
    policy = BureauPolicy(notice_lead_days, require_latin_name=file_format == FileFormat.METRO2.value)
    if out.exists() and out.is_dir():
        raise InputError(f"{out} is a directory", field="out")
    engine = make_engine(resolve_database_url(database_url))
    try:
        exported = export_month(
            engine, clock or SystemClock(), keyring, month, file_format, furnisher_id, policy, file_date
        )
    finally:
        engine.dispose()
    partial = out.with_name(out.name + ".partial")
    try:
        partial.write_text(
            exported.text, encoding="utf-8" if exported.file_format is FileFormat.PBOC else "ascii"
        )
        partial.replace(out)
    except OSError as error:
        raise InputError(f"cannot write {out}: {error.strerror}", field="out") from error
    return {**exported.summary(), "out": str(out), "bytes": len(exported.text.encode())}


def record_notice_at(
    database_url: str | None, notice_id: str, loan_id: str, kind: str, notified_on: date, channel: str
) -> NoticeRecorded:
    """:func:`record_notice` on the database at ``database_url``, in its own transaction."""
    engine = make_engine(resolve_database_url(database_url))
    try:
        with engine.begin() as connection:
            return record_notice(connection, SystemClock(), notice_id, loan_id, kind, notified_on, channel)
    finally:
        engine.dispose()
