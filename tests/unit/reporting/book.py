"""A small hand-made loan book for the bureau tests, each loan a case the files must get right.

Every person here is fictitious: names are placeholders (张三 / ZHANG SAN is the Chinese "John Doe"), ID
numbers are made up with a valid check character (GB 11643-1999), no phone numbers are used.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fengkong.reporting.bureau import Identity, InstallmentDue, LoanFacts, Notice, PaymentLine, Reported

GENERATED_AT = datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
MONTH = "2026-06"

IDENTITIES = {
    "P-1": Identity("张三", "11010519491231002X", "ZHANG SAN"),
    "P-2": Identity("李四", "110101199003071233", "LI SI"),
    "P-3": Identity("王五", "440304198511204567", "WANG WU"),
    "P-4": Identity("赵六", "320102197805157895", "ZHAO LIU"),
    # P-9 has no identity on file
}


def monthly(first_due: date, count: int, principal_fen: int, interest_fen: int) -> tuple[InstallmentDue, ...]:
    items = []
    for number in range(1, count + 1):
        month_index = first_due.month - 1 + number - 1
        due = date(first_due.year + month_index // 12, month_index % 12 + 1, first_due.day)
        items.append(InstallmentDue(number, due, principal_fen, interest_fen, 0, 0))
    return tuple(items)


def pay(installment: InstallmentDue, on: date) -> tuple[PaymentLine, ...]:
    return (
        PaymentLine(on, installment.number, "interest", installment.interest_fen),
        PaymentLine(on, installment.number, "principal", installment.principal_fen),
    )


ON_TIME_SCHEDULE = monthly(date(2026, 2, 15), 6, 100_000, 5_000)
ON_TIME = LoanFacts(
    "L-ONTIME",
    "P-1",
    "installment",
    "CNY",
    600_000,
    date(2026, 1, 15),
    ON_TIME_SCHEDULE,
    tuple(line for item in ON_TIME_SCHEDULE[:5] for line in pay(item, item.due_on)),
)

LATE_SCHEDULE = monthly(date(2026, 3, 10), 4, 250_000, 10_000)
LATE = LoanFacts(
    "L-LATE",
    "P-2",
    "installment",
    "CNY",
    1_000_000,
    date(2026, 2, 10),
    LATE_SCHEDULE,
    pay(LATE_SCHEDULE[0], date(2026, 3, 10)),
)

EARLY_SCHEDULE = monthly(date(2026, 4, 1), 6, 50_000, 2_000)
EARLY = LoanFacts(
    "L-EARLY",
    "P-3",
    "installment",
    "CNY",
    300_000,
    date(2026, 3, 1),
    EARLY_SCHEDULE,
    pay(EARLY_SCHEDULE[0], date(2026, 4, 1))
    + pay(EARLY_SCHEDULE[1], date(2026, 5, 1))
    + pay(EARLY_SCHEDULE[2], date(2026, 6, 1))
    + tuple(
        PaymentLine(date(2026, 6, 12), item.number, "principal", item.principal_fen)
        for item in EARLY_SCHEDULE[3:]
    )
    + tuple(
        PaymentLine(date(2026, 6, 12), item.number, "waived_interest", item.interest_fen)
        for item in EARLY_SCHEDULE[3:]
    ),
    settled_on=date(2026, 6, 12),
)

WRITTEN_OFF = LoanFacts(
    "L-WO",
    "P-4",
    "installment",
    "CNY",
    150_000,
    date(2025, 10, 5),
    monthly(date(2025, 11, 5), 3, 50_000, 1_500),
    (),
    written_off_on=date(2026, 6, 20),
)

NEW = LoanFacts(
    "L-NEW", "P-1", "bnpl", "CNY", 80_000, date(2026, 6, 20), monthly(date(2026, 8, 8), 1, 80_000, 0), ()
)
NO_NOTICE = LoanFacts(
    "L-NONOTICE",
    "P-3",
    "installment",
    "CNY",
    200_000,
    date(2026, 3, 20),
    monthly(date(2026, 4, 20), 2, 100_000, 0),
    (),
)
NO_IDENTITY = LoanFacts(
    "L-NOID",
    "P-9",
    "installment",
    "CNY",
    200_000,
    date(2026, 5, 2),
    monthly(date(2026, 6, 2), 2, 100_000, 0),
    pay(monthly(date(2026, 6, 2), 2, 100_000, 0)[0], date(2026, 6, 2)),
)
CLOSED_BEFORE = LoanFacts(
    "L-OLD",
    "P-1",
    "installment",
    "CNY",
    100_000,
    date(2025, 12, 1),
    monthly(date(2026, 1, 1), 1, 100_000, 0),
    pay(monthly(date(2026, 1, 1), 1, 100_000, 0)[0], date(2026, 1, 1)),
    settled_on=date(2026, 1, 1),
)

LOANS = (ON_TIME, LATE, EARLY, WRITTEN_OFF, NEW, NO_NOTICE, NO_IDENTITY, CLOSED_BEFORE)
NOTICES = {
    "L-LATE": [Notice("L-LATE", "delinquency", date(2026, 5, 1))],
    "L-WO": [Notice("L-WO", "delinquency", date(2026, 1, 10))],
}
# an earlier file reported May of L-ONTIME as 1-30 days late (say, before a misrouted payment was found)
REPORTED = {("L-ONTIME", "2026-05"): Reported("1", 5, 200_000, 105_000, 1)}
