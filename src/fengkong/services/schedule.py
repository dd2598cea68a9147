"""Use case: the repayment schedule of an installment loan, from wire input to wire output.

:func:`schedule_for` parses the command line's strings (amounts such as ``"10000.00"``, the annual rate in
percent such as ``"12"``, dates ``YYYY-MM-DD``) into :class:`~fengkong.domain.ProductTerms` and hands them to
:func:`fengkong.lending.schedule.build_schedule`; :func:`schedule_to_json` renders the result with every
amount a decimal string. Bad input raises :class:`~fengkong.errors.InputError` whose ``field`` is the option's
name with underscores (``annual_rate_pct`` for ``--annual-rate-pct``).

Rounding is half-even, Apache Fineract's default (:data:`SCHEDULE_ROUNDING`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from fengkong import bounds
from fengkong.domain.products import (
    DayCount,
    Frequency,
    ProductKind,
    ProductTerms,
    RepaymentMethod,
    Schedule,
)
from fengkong.errors import InputError, MoneyError
from fengkong.lending.schedule import SCHEDULED_METHODS, build_schedule, period_days
from fengkong.money import Money, Rounding

SCHEDULE_ROUNDING: Final[Rounding] = "ROUND_HALF_EVEN"
#: ``--round-installment-to`` values and the multiple they mean, in minor units.
INSTALLMENT_ROUNDING: Final = {"0.01": 1, "1": 100}
METHOD_CHOICES: Final = tuple(sorted(method.value for method in SCHEDULED_METHODS))
DAY_COUNT_CHOICES: Final = tuple(day_count.value for day_count in DayCount)
FREQUENCY_CHOICES: Final = (Frequency.MONTHLY.value,)

# lending's field names -> the option they come from
_FIELD_OF: Final = {
    "annual_rate": "annual_rate_pct",
    "principal_grace_periods": "principal_grace",
    "interest_grace_periods": "interest_grace",
    "installment_multiple_minor": "round_installment_to",
}


def schedule_for(
    *,
    principal: str,
    annual_rate_pct: str,
    installments: int,
    method: str,
    day_count: str,
    start: str,
    frequency: str = Frequency.MONTHLY.value,
    principal_grace: int = 0,
    interest_grace: int = 0,
    round_installment_to: str = "0.01",
    currency: str = "CNY",
) -> Schedule:
    """The schedule of a loan of ``principal`` disbursed on ``start`` (see the module docstring)."""
    amount = _principal(principal, currency)
    rate = _annual_rate(annual_rate_pct)
    count = _whole(installments, "installments", minimum=1, maximum=bounds.schedule_installments_max)
    chosen_method = RepaymentMethod(_choice(method, "method", METHOD_CHOICES))
    chosen_day_count = DayCount(_choice(day_count, "day_count", DAY_COUNT_CHOICES))
    chosen_frequency = Frequency(_choice(frequency, "frequency", FREQUENCY_CHOICES))
    disbursed_on = _date(start, "start")
    principal_grace_periods = _whole(principal_grace, "principal_grace", minimum=0, maximum=count - 1)
    interest_grace_periods = _whole(interest_grace, "interest_grace", minimum=0, maximum=count - 1)
    multiple = INSTALLMENT_ROUNDING.get(
        round_installment_to.strip() if isinstance(round_installment_to, str) else ""
    )
    if multiple is None:
        raise InputError(
            f"must be one of {sorted(INSTALLMENT_ROUNDING)}, got {round_installment_to!r}",
            field="round_installment_to",
        )
    terms = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=rate,
        method=chosen_method,
        day_count=chosen_day_count,
        frequency=chosen_frequency,
        installments=count,
        principal_grace_periods=principal_grace_periods,
        interest_grace_periods=interest_grace_periods,
        currency=currency,
    )
    try:
        return build_schedule(
            terms, amount, disbursed_on, rounding=SCHEDULE_ROUNDING, installment_multiple_minor=multiple
        )
    except InputError as error:
        field = _FIELD_OF.get(error.field or "", error.field)
        raise InputError(error.reason, field=field) from None


def schedule_to_json(schedule: Schedule) -> dict[str, Any]:
    """``{"rows": [{number, due_date, days, principal, interest, installment, balance}], "total_interest",
    "total_due"}``; every amount a decimal string, ``number`` and ``days`` integers."""
    rows = [
        {
            "number": line.number,
            "due_date": line.due.isoformat(),
            "days": days,
            "principal": line.principal.format(),
            "interest": line.interest.format(),
            "installment": line.total.format(),
            "balance": line.balance_after.format(),
        }
        for line, days in zip(schedule.installments, period_days(schedule), strict=True)
    ]
    currency = schedule.principal.currency
    total_interest = sum(line.interest.amount_minor for line in schedule.installments)
    total_due = sum(line.total.amount_minor for line in schedule.installments)
    return {
        "rows": rows,
        "total_interest": Money(total_interest, currency).format(),
        "total_due": Money(total_due, currency).format(),
    }


def _principal(text: str, currency: str) -> Money:
    if not isinstance(text, str):
        raise InputError(
            f'amounts are strings such as "10000.00", got {type(text).__name__}', field="principal"
        )
    try:
        amount = Money.parse(text, currency)
    except MoneyError as error:
        raise InputError(error.reason, field="principal") from None
    if amount.amount_minor <= 0:
        raise InputError("must be more than zero", field="principal")
    if amount.amount_minor > bounds.cash_flow_amount_fen_max:
        raise InputError(
            f"more than cash_flow_amount_fen_max={bounds.cash_flow_amount_fen_max} minor units",
            field="principal",
        )
    return amount


def _annual_rate(text: str) -> Decimal:
    if not isinstance(text, str):
        raise InputError(
            f'a percentage string such as "12", got {type(text).__name__}', field="annual_rate_pct"
        )
    try:
        percent = Decimal(text.strip())
    except InvalidOperation:
        raise InputError(f"not a number: {text!r}", field="annual_rate_pct") from None
    if not percent.is_finite():
        raise InputError(f"not a finite number: {text!r}", field="annual_rate_pct")
    if percent < 0:
        raise InputError("must not be negative", field="annual_rate_pct")
    if percent > bounds.annualised_rate_pct_max:
        raise InputError(
            f"above annualised_rate_pct_max={bounds.annualised_rate_pct_max}", field="annual_rate_pct"
        )
    return percent / 100


def _whole(value: int, field: str, *, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"must be a whole number, got {type(value).__name__}", field=field)
    if not minimum <= value <= maximum:
        raise InputError(f"must be between {minimum} and {maximum}, got {value}", field=field)
    return value


def _choice(value: str, field: str, choices: tuple[str, ...]) -> str:
    normalised = value.strip().lower() if isinstance(value, str) else ""
    if normalised not in choices:
        raise InputError(f"must be one of {', '.join(choices)}; got {value!r}", field=field)
    return normalised


def _date(text: str, field: str) -> date:
    if not isinstance(text, str):
        raise InputError(f"a date YYYY-MM-DD is required, got {type(text).__name__}", field=field)
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"not a date YYYY-MM-DD: {text!r}", field=field) from None
