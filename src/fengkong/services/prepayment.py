"""Use case: a partial prepayment's recalculated schedule, from wire input to wire output.

:func:`prepayment_for` builds the loan's schedule from the same options as ``fengkong schedule``
(:func:`fengkong.services.schedule.schedule_for`, which checks them), then re-amortises what is left after
``paid`` installments and a prepayment of ``amount`` on ``on``
(:func:`fengkong.lending.prepayment.recalculate`).
:func:`prepayment_to_json` renders it with every amount a decimal string. Bad input raises
:class:`~fengkong.errors.InputError` whose ``field`` is the option's name with underscores.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Final

from fengkong.domain.products import DayCount, ProductKind, ProductTerms, RepaymentMethod
from fengkong.errors import InputError, MoneyError
from fengkong.lending.prepayment import PrepaymentMode, PrepaymentResult, recalculate
from fengkong.money import Money
from fengkong.services.schedule import SCHEDULE_ROUNDING, schedule_for, schedule_to_json

MODE_CHOICES: Final = tuple(mode.value for mode in PrepaymentMode)
# lending's field names -> the option they come from
_FIELD_OF: Final = {"prepayment": "amount", "paid_installments": "paid"}


def prepayment_for(
    *,
    principal: str,
    annual_rate_pct: str,
    installments: int,
    method: str,
    day_count: str,
    start: str,
    paid: int,
    amount: str,
    on: str,
    mode: str,
    principal_grace: int = 0,
    currency: str = "CNY",
) -> PrepaymentResult:
    """The rest of the loan re-amortised after a partial prepayment (see the module docstring)."""
    schedule = schedule_for(
        principal=principal, annual_rate_pct=annual_rate_pct, installments=installments, method=method,
        day_count=day_count, start=start, principal_grace=principal_grace, currency=currency,
    )  # fmt: skip
    # schedule_for has checked these options: they parse
    terms = ProductTerms(
        product=ProductKind.INSTALLMENT,
        annual_rate=Decimal(annual_rate_pct.strip()) / 100,
        method=RepaymentMethod(method.strip().lower()),
        day_count=DayCount(day_count.strip().lower()),
        installments=installments,
        principal_grace_periods=principal_grace,
        currency=currency,
    )
    normalised_mode = mode.strip().lower() if isinstance(mode, str) else ""
    if normalised_mode not in MODE_CHOICES:
        raise InputError(f"must be one of {', '.join(MODE_CHOICES)}; got {mode!r}", field="mode")
    if isinstance(paid, bool) or not isinstance(paid, int):
        raise InputError("must be a whole number", field="paid")
    try:
        on_date = date.fromisoformat(on.strip())
    except (AttributeError, ValueError):
        raise InputError(f"not a date YYYY-MM-DD: {on!r}", field="on") from None
    try:
        prepaid = Money.parse(amount, currency)
    except MoneyError as error:
        raise InputError(error.reason, field="amount") from None
    try:
        return recalculate(
            terms,
            schedule,
            paid,
            prepaid,
            on_date,
            PrepaymentMode(normalised_mode),
            rounding=SCHEDULE_ROUNDING,
        )
    except InputError as error:
        raise InputError(error.reason, field=_FIELD_OF.get(error.field or "", error.field)) from None


def prepayment_to_json(result: PrepaymentResult) -> dict[str, Any]:
    """The recalculated rows (as ``fengkong schedule`` prints them, numbered from 1) and the figures, every
    amount a decimal string."""
    return {
        "mode": result.mode.value,
        "on": result.on.isoformat(),
        "prepaid": result.prepaid.format(),
        "balance_before": result.balance_before.format(),
        "balance_after": result.schedule.principal.format(),
        "first_number": result.first_number,
        "interest_before": result.interest_before.format(),
        "interest_after": result.interest_after.format(),
        "interest_saved": result.interest_saved.format(),
        **schedule_to_json(result.schedule),
    }
