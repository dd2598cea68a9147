"""Bureau files and sealed personal data: how fast a month's file is built and rendered, against references
measured in the same run.

* file — :func:`fengkong.reporting.bureau.build_month` over ``--loans`` synthetic 12-month installment loans
  (opened over the past two years; a quarter with a missed installment, some settled early, a few written
  off; every borrower with an identity and every delinquent one with a notice), then the PBOC-shaped and the
  Metro 2-shaped renderings. Each account's 60-month history recomputes the month's status 60 times.
* reference — :func:`fengkong.reporting.bureau.month_status` for the file's month alone, once per loan: the
  least any derivation must do; the ratio shows what the history, the checks and the records cost.
* sealing — :func:`fengkong.compliance.privacy.seal` plus a blind index for ``--identities`` phone numbers,
  against a bare AES-GCM encryption of the same bytes under the same key (the reference).

Times are CPU seconds of this process (``time.process_time``), so that a busy machine does not distort the
ratios; wall time is printed at the end.

Run: ``.venv/bin/python bench/bench_bureau.py [--loans N] [--identities N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, date, datetime, timedelta

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fengkong.compliance import privacy
from fengkong.compliance.privacy import DataKey, Field, Keyring, PseudonymKey
from fengkong.reporting import metro2, pboc
from fengkong.reporting.bureau import (
    BureauPolicy,
    Identity,
    InstallmentDue,
    LoanFacts,
    Notice,
    PaymentLine,
    build_month,
    month_status,
)

MONTH = "2026-06"
MONTH_END = date(2026, 6, 30)


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, min(day.day, 28))


def synthetic_book(
    count: int, seed: int
) -> tuple[list[LoanFacts], dict[str, Identity], dict[str, list[Notice]]]:
    rng = random.Random(seed)
    loans, identities, notices = [], {}, {}
    for number in range(count):
        opened = MONTH_END - timedelta(days=rng.randrange(1, 700))
        dues = tuple(InstallmentDue(i, _add_months(opened, i), 50_000, 2_000, 0, 0) for i in range(1, 13))
        missed_from = rng.randrange(1, 13) if rng.random() < 0.25 else 99
        payments = tuple(
            PaymentLine(item.due_on, item.number, component, amount)
            for item in dues
            if item.due_on <= MONTH_END and item.number < missed_from
            for component, amount in (("interest", item.interest_fen), ("principal", item.principal_fen))
        )
        settled = None
        written_off = None
        if missed_from == 99 and rng.random() < 0.1:
            settled = min(MONTH_END, opened + timedelta(days=rng.randrange(40, 300)))
            payments = tuple(p for p in payments if p.paid_on <= settled)
        elif missed_from != 99 and rng.random() < 0.1:
            candidate = dues[missed_from - 1].due_on + timedelta(days=180)
            written_off = candidate if candidate <= MONTH_END else None
        party = f"P{number}"
        loans.append(
            LoanFacts(
                f"L{number:08d}",
                party,
                "installment",
                "CNY",
                600_000,
                opened,
                dues,
                payments,
                settled,
                written_off,
            )
        )
        identities[party] = Identity("张三", "11010519491231002X", "ZHANG SAN")  # one fictitious identity
        if missed_from != 99:
            first_late = dues[missed_from - 1].due_on + timedelta(days=1)
            notices[f"L{number:08d}"] = [Notice(f"L{number:08d}", "delinquency", first_late)]
    return loans, identities, notices


def bench_file(count: int, seed: int) -> None:
    loans, identities, notices = synthetic_book(count, seed)
    started = time.process_time()
    for loan in loans:
        month_status(loan, MONTH)
    reference = time.process_time() - started
    generated = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
    started = time.process_time()
    built = build_month(MONTH, loans, identities, notices, {}, BureauPolicy(require_latin_name=True))
    build_seconds = time.process_time() - started
    started = time.process_time()
    pboc_text = pboc.render(built, "FK-BENCH", generated)
    pboc_seconds = time.process_time() - started
    started = time.process_time()
    metro_text = metro2.render(built, "FK-BENCH", generated)
    metro_seconds = time.process_time() - started
    reported = len(built.records)
    print(f"bureau file: {count:,} loans, {reported:,} records, {len(built.refused):,} held back")
    print(f"  reference month_status only   {count / reference:>12,.0f} loans/s")
    print(
        f"  build_month (60-month history) {count / build_seconds:>11,.0f} loans/s  "
        f"ratio to reference {build_seconds / reference:.1f}x"
    )
    print(
        f"  render PBOC-shaped             {count / pboc_seconds:>11,.0f} loans/s  "
        f"({len(pboc_text.encode()) / 1e6:.1f} MB)"
    )
    print(
        f"  render Metro 2-shaped          {count / metro_seconds:>11,.0f} loans/s  "
        f"({len(metro_text) / 1e6:.1f} MB)"
    )


def bench_sealing(count: int) -> None:
    keyring = Keyring((DataKey("k1", b"\x01" * 32),), "k1", PseudonymKey("p1", b"\x07" * 32))
    phones = [f"+86138{number:08d}" for number in range(count)]  # fictitious 138 numbers
    aes = AESGCM(b"\x01" * 32)
    started = time.process_time()
    for phone in phones:
        aes.encrypt(os.urandom(12), phone.encode(), b"p|phone")
    reference = time.process_time() - started
    started = time.process_time()
    for number, phone in enumerate(phones):
        privacy.seal(phone, keyring, f"p{number}", "phone")
        privacy.blind_index(Field.PHONE, phone, keyring.pseudonym)
    sealed = time.process_time() - started
    print(f"sealing: {count:,} phone numbers")
    print(f"  reference bare AES-GCM        {count / reference:>12,.0f} values/s")
    print(
        f"  seal + blind index            {count / sealed:>12,.0f} values/s  ratio to reference "
        f"{sealed / reference:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--loans", type=int, default=20_000)
    parser.add_argument("--identities", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    arguments = parser.parse_args()
    started = time.perf_counter()
    bench_file(arguments.loans, arguments.seed)
    bench_sealing(arguments.identities)
    print(f"wall time {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
