"""Use cases: the annualised rate of an installment offer or of a file of dated cash flows.

Both parse wire input (amounts as strings such as ``"1234.56"``, dates as ``YYYY-MM-DD``), hand the flows to
:mod:`fengkong.compliance.apr` and return its :class:`~fengkong.domain.AnnualisedRate`;
:func:`rate_to_json` renders it with decimal strings, never floats. Bad input raises
:class:`~fengkong.errors.InputError` naming the field.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from fengkong import bounds
from fengkong.compliance.apr import PeriodFlow, annualised_rate, periodic_rate
from fengkong.domain.products import AnnualisedRate, CashFlow, Frequency
from fengkong.errors import InputError, MoneyError
from fengkong.money import Money


def rate_for_installments(
    *,
    principal: str,
    payment: str,
    installments: int,
    frequency: Frequency = Frequency.MONTHLY,
    upfront_fee: str | None = None,
    currency: str = "CNY",
) -> AnnualisedRate:
    """The rate of a loan of ``principal`` paid out in full, an optional ``upfront_fee`` paid by the borrower
    on the disbursement date (its own cash flow, never netted), and ``installments`` equal payments."""
    principal_amount = _amount(principal, "principal", currency)
    if principal_amount.amount_minor <= 0:
        raise InputError("must be more than zero (a zero principal has no rate)", field="principal")
    payment_amount = _amount(payment, "payment", currency)
    if payment_amount.amount_minor <= 0:
        raise InputError("must be more than zero", field="payment")
    if isinstance(installments, bool) or not isinstance(installments, int) or installments < 1:
        raise InputError("must be a whole number, at least 1", field="installments")
    if installments >= bounds.irr_cash_flows_max:
        raise InputError(
            f"{installments} installments: at most irr_cash_flows_max - 2 = {bounds.irr_cash_flows_max - 2}",
            field="installments",
        )
    flows = [PeriodFlow(0, -principal_amount)]
    if upfront_fee is not None:
        fee_amount = _amount(upfront_fee, "upfront_fee", currency)
        if fee_amount.amount_minor < 0:
            raise InputError("must not be negative", field="upfront_fee")
        if fee_amount.amount_minor > 0:
            flows.append(PeriodFlow(0, fee_amount))
    flows.extend(PeriodFlow(number, payment_amount) for number in range(1, installments + 1))
    return periodic_rate(flows, frequency)


def rate_for_cash_flow_records(records: object, *, currency: str = "CNY") -> AnnualisedRate:
    """The rate of a JSON list of ``{"date": "YYYY-MM-DD", "amount": "-1000.00"}`` records (negative: paid
    out to the borrower). Monthly-regular dates get the periodic IRR, any others the dated IRR."""
    if not isinstance(records, list):
        raise InputError(
            f"expected a JSON list of {{date, amount}} records, got {type(records).__name__}",
            field="cash_flows",
        )
    if len(records) > bounds.irr_cash_flows_max:
        raise InputError(
            f"too many cash flows: {len(records)} > irr_cash_flows_max={bounds.irr_cash_flows_max}",
            field="cash_flows",
        )
    flows: list[CashFlow] = []
    for index, record in enumerate(records):
        field = f"cash_flows[{index}]"
        if not isinstance(record, dict):
            raise InputError(
                f"expected an object with date and amount, got {type(record).__name__}", field=field
            )
        extra = set(record) - {"date", "amount"}
        if extra:
            raise InputError(f"unknown keys {sorted(extra)}", field=field)
        raw_date = record.get("date")
        if not isinstance(raw_date, str):
            raise InputError("a date string YYYY-MM-DD is required", field=f"{field}.date")
        try:
            on = date.fromisoformat(raw_date)
        except ValueError:
            raise InputError(f"not a date YYYY-MM-DD: {raw_date!r}", field=f"{field}.date") from None
        raw_amount = record.get("amount")
        if not isinstance(raw_amount, str):
            raise InputError(
                f'amounts are strings such as "-1000.00", got {type(raw_amount).__name__}',
                field=f"{field}.amount",
            )
        flows.append(CashFlow(on, _amount(raw_amount, f"{field}.amount", currency)))
    return annualised_rate(flows, fees=(), frequency=Frequency.MONTHLY)


def rate_for_cash_flows_file(path: Path, *, currency: str = "CNY") -> AnnualisedRate:
    """:func:`rate_for_cash_flow_records` on a JSON file."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}", field="cashflows_json") from None
    if size > bounds.cash_flows_file_bytes_max:
        raise InputError(
            f"{size} bytes is more than {bounds.cash_flows_file_bytes_max}", field="cashflows_json"
        )
    try:
        records = json.loads(path.read_text(encoding="utf-8"), parse_float=_refuse_float)
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read {path}: {error}", field="cashflows_json") from None
    except json.JSONDecodeError as error:
        raise InputError(f"not JSON: {error.msg} at line {error.lineno}", field="cashflows_json") from None
    return rate_for_cash_flow_records(records, currency=currency)


def rate_to_json(rate: AnnualisedRate) -> dict[str, str | None]:
    """The rate as decimal strings: ``periodic_irr`` (a fraction per period of the schedule; per day for the
    dated method ``irr-dated-actual/365``), ``annual_rate_pct``, ``effective_annual_rate_pct``, ``method``."""
    return {
        "periodic_irr": _text(rate.periodic_irr),
        "annual_rate_pct": _text(rate.annual_rate_pct),
        "effective_annual_rate_pct": _text(rate.effective_annual_rate_pct),
        "method": rate.method,
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _amount(text: str, field: str, currency: str) -> Money:
    if not isinstance(text, str):
        raise InputError(f'amounts are strings such as "1234.56", got {type(text).__name__}', field=field)
    try:
        amount = Money.parse(text, currency)
    except MoneyError as error:
        raise InputError(error.reason, field=field) from None
    if abs(amount.amount_minor) > bounds.cash_flow_amount_fen_max:
        raise InputError(
            f"beyond cash_flow_amount_fen_max={bounds.cash_flow_amount_fen_max} minor units", field=field
        )
    return amount


def _refuse_float(text: str) -> object:
    raise InputError(
        f'amounts are JSON strings such as "1234.56", not the number {text}', field="cashflows_json"
    )
