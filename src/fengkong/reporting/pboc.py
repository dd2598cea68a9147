"""The PBOC-shaped monthly file: one record per line, fields separated by ``|``, UTF-8, ``\\n`` line ends.

Shaped after the second-generation personal credit report's account segments (basic information, monthly
performance with the 60-month repayment-status history, special transactions), not the Credit Reference
Center's actual interface specification, which is not public: a real submission goes through the center's
own reporting software. Codes are those of :class:`fengkong.reporting.bureau.StatusCode`.

::

    H|FKPBOC|1|<furnisher>|<YYYY-MM>|<file date>|<generated at, UTC>
    A|<account>|<name>|<ID type: 10 resident ID card>|<ID number>|<opened on>|<currency>|<principal>
     |<installments>|<maturity>|<product>                                       account opened (基础段)
    P|<account>|<YYYY-MM>|<code>|<60 codes, oldest first>|<balance>|<past due>|<days past due>
     |<installments overdue>|<scheduled this month>|<paid this month>|<last payment on or empty>
                                                                                monthly performance (表现段)
    E|<account>|settlement|early_settlement|write_off|<on>|<amount>            special event (特殊交易段)
    X|<account>|<YYYY-MM corrected>|<code reported before>|<code>|<balance>|<past due>|<days past due>
                                                                                correction
    T|<A count>|<P count>|<E count>|<X count>|<accounts held back>

Records are grouped by account (``A``, ``P``, ``E``, ``X``), accounts in ID order. Amounts are decimal
strings in yuan (``"1234.56"``); dates ``YYYY-MM-DD``. A field may not contain ``|`` or a line break: such an
account is refused by :func:`render` naming the field (a file cannot be misparsed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from fengkong.errors import InputError
from fengkong.reporting.bureau import (
    AccountOpened,
    BureauMonth,
    Correction,
    MonthlyPerformance,
    SpecialEvent,
    amount_text,
    generated_stamp,
)

FORMAT_NAME: Final = "FKPBOC"
FORMAT_VERSION: Final = "1"
ID_TYPE_RESIDENT_CARD: Final = "10"  # 证件类型: 居民身份证


def _field(value: str, name: str, account: str) -> str:
    if "|" in value or "\n" in value or "\r" in value:
        raise InputError(f"account {account}: contains '|' or a line break", field=name)
    return value


def _line(kind: str, account: str, *values: tuple[str, str]) -> str:
    return "|".join([kind, *(_field(value, name, account) for name, value in values)])


def render(month: BureauMonth, furnisher_id: str, generated_at: datetime) -> str:
    """The file's text (see the module docstring)."""
    _field(furnisher_id, "furnisher_id", "-")
    lines = [
        "|".join(
            [
                "H",
                FORMAT_NAME,
                FORMAT_VERSION,
                furnisher_id,
                month.month,
                month.file_date.isoformat(),
                generated_stamp(generated_at),
            ]
        )
    ]
    counts = {"A": 0, "P": 0, "E": 0, "X": 0}
    for record in month.records:
        if isinstance(record, AccountOpened):
            loan, identity = record.loan, record.identity
            lines.append(
                _line(
                    "A",
                    loan.loan_id,
                    ("account", loan.loan_id),
                    ("name", identity.name or ""),
                    ("id_type", ID_TYPE_RESIDENT_CARD),
                    ("id_number", identity.id_number or ""),
                    ("opened_on", loan.disbursed_on.isoformat()),
                    ("currency", loan.currency),
                    ("principal", amount_text(loan.principal_fen, loan.currency)),
                    ("installments", str(len(loan.installments))),
                    ("maturity", loan.maturity_on.isoformat()),
                    ("product", loan.product),
                )
            )
            counts["A"] += 1
        elif isinstance(record, MonthlyPerformance):
            status, currency = record.status, record.loan.currency
            lines.append(
                _line(
                    "P",
                    status.loan_id,
                    ("account", status.loan_id),
                    ("month", status.month),
                    ("code", status.code.value),
                    ("history", record.history),
                    ("balance", amount_text(status.balance_fen, currency)),
                    ("past_due", amount_text(status.past_due_fen, currency)),
                    ("days_past_due", str(status.days_past_due)),
                    ("overdue_installments", str(status.overdue_installments)),
                    ("scheduled", amount_text(status.scheduled_fen, currency)),
                    ("paid", amount_text(status.paid_in_month_fen, currency)),
                    ("last_payment_on", status.last_payment_on.isoformat() if status.last_payment_on else ""),
                )
            )
            counts["P"] += 1
        elif isinstance(record, SpecialEvent):
            currency = record.currency
            lines.append(
                _line(
                    "E",
                    record.loan_id,
                    ("account", record.loan_id),
                    ("kind", record.kind.value),
                    ("on", record.on.isoformat()),
                    ("amount", amount_text(record.amount_fen, currency)),
                )
            )
            counts["E"] += 1
        elif isinstance(record, Correction):
            status, currency = record.status, record.loan.currency
            lines.append(
                _line(
                    "X",
                    status.loan_id,
                    ("account", status.loan_id),
                    ("month", status.month),
                    ("previous_code", record.previous.code),
                    ("code", status.code.value),
                    ("balance", amount_text(status.balance_fen, currency)),
                    ("past_due", amount_text(status.past_due_fen, currency)),
                    ("days_past_due", str(status.days_past_due)),
                )
            )
            counts["X"] += 1
    lines.append("|".join(["T", *(str(counts[kind]) for kind in "APEX"), str(len(month.refused))]))
    return "\n".join(lines) + "\n"
