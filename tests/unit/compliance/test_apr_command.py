"""The apr use cases (services/apr.py) and the ``fengkong apr`` command: JSON of decimal strings, exit 2 on
bad input with the field named."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import fengkong.cli.apr  # noqa: F401 - registers the command
from fengkong import bounds
from fengkong.cli.main import app
from fengkong.errors import InputError
from fengkong.services.apr import (
    rate_for_cash_flow_records,
    rate_for_cash_flows_file,
    rate_for_installments,
    rate_to_json,
)

KEYS = {"periodic_irr", "annual_rate_pct", "effective_annual_rate_pct", "method"}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["apr", *args])
    return result.exit_code, result.stdout, result.stderr


# -- use cases -----------------------------------------------------------------------------------------------


def test_installments_with_an_upfront_fee() -> None:
    rate = rate_for_installments(principal="100000", upfront_fee="1000", payment="8833.33", installments=12)
    assert rate.annual_rate_pct.quantize(Decimal("0.01")) == Decimal("12.80")
    wire = rate_to_json(rate)
    assert set(wire) == KEYS
    assert wire["method"] == "irr-periodic"
    assert all(isinstance(value, str) for value in wire.values())
    assert Decimal(wire["annual_rate_pct"] or "") == rate.annual_rate_pct


def test_a_zero_fee_is_the_same_as_no_fee() -> None:
    no_fee = rate_for_installments(principal="10000", payment="888.49", installments=12)
    zero_fee = rate_for_installments(principal="10000", payment="888.49", installments=12, upfront_fee="0")
    assert no_fee == zero_fee


def test_cash_flow_records_regular_and_irregular() -> None:
    regular = [{"date": "2026-01-31", "amount": "-10000.00"}] + [
        {"date": day, "amount": "888.49"}
        for day in (
            "2026-02-28",
            "2026-03-31",
            "2026-04-30",
            "2026-05-31",
            "2026-06-30",
            "2026-07-31",
            "2026-08-31",
            "2026-09-30",
            "2026-10-31",
            "2026-11-30",
            "2026-12-31",
            "2027-01-31",
        )
    ]
    assert rate_for_cash_flow_records(regular).method == "irr-periodic"
    irregular = [
        {"date": "2026-01-01", "amount": "-3000.00"},
        {"date": "2026-02-08", "amount": "1010.00"},
        {"date": "2026-03-08", "amount": "1010.00"},
        {"date": "2026-04-08", "amount": "1010.00"},
    ]
    assert rate_for_cash_flow_records(irregular).method == "irr-dated-actual/365"


@pytest.mark.parametrize(
    ("kwargs", "field", "reason"),
    [
        ({"principal": "0"}, "principal", "zero principal"),
        ({"principal": "-5"}, "principal", "more than zero"),
        ({"principal": "10000.001"}, "principal", "digits after the point"),
        ({"principal": "1e4"}, "principal", "not an amount"),
        ({"payment": "0"}, "payment", "more than zero"),
        ({"installments": 0}, "installments", "at least 1"),
        ({"installments": bounds.irr_cash_flows_max}, "installments", "irr_cash_flows_max"),
        ({"upfront_fee": "-1"}, "upfront_fee", "negative"),
        ({"principal": "200000000000"}, "principal", "cash_flow_amount_fen_max"),
        ({"payment": "1000000"}, "cash_flows", "beyond the bounds"),
    ],
)
def test_bad_installment_input(kwargs: dict[str, object], field: str, reason: str) -> None:
    arguments: dict[str, object] = {"principal": "10000", "payment": "888.49", "installments": 12}
    arguments.update(kwargs)
    with pytest.raises(InputError, match=reason) as error:
        rate_for_installments(**arguments)  # type: ignore[arg-type]
    assert error.value.field == field


@pytest.mark.parametrize(
    ("records", "field", "reason"),
    [
        ({"date": "2026-01-01"}, "cash_flows", "JSON list"),
        (["x"], "cash_flows[0]", "object"),
        ([{"date": "2026-01-01", "amount": "-1", "memo": "x"}], "cash_flows[0]", "unknown keys"),
        ([{"amount": "-1"}], "cash_flows[0].date", "date string"),
        ([{"date": "2026-13-01", "amount": "-1"}], "cash_flows[0].date", "not a date"),
        ([{"date": "2026-01-01", "amount": -1}], "cash_flows[0].amount", "strings"),
        (
            [{"date": "2026-01-01", "amount": "-1"}, {"date": "2026-02-01", "amount": "-1"}],
            "cash_flows",
            "no sign change",
        ),
        ([{"date": "2026-01-01", "amount": "-1"}], "cash_flows", "at least two"),
    ],
)
def test_bad_cash_flow_records(records: object, field: str, reason: str) -> None:
    with pytest.raises(InputError, match=reason) as error:
        rate_for_cash_flow_records(records)
    assert error.value.field == field


def test_bad_cash_flow_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read") as error:
        rate_for_cash_flows_file(tmp_path / "missing.json")
    assert error.value.field == "cashflows_json"
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        rate_for_cash_flows_file(broken)
    floats = tmp_path / "floats.json"
    floats.write_text('[{"date": "2026-01-01", "amount": -1000.5}]', encoding="utf-8")
    with pytest.raises(InputError, match="not the number"):
        rate_for_cash_flows_file(floats)


# -- the command ---------------------------------------------------------------------------------------------


def test_command_prints_json_of_decimal_strings() -> None:
    code, out, _ = run(
        "--principal",
        "100000",
        "--upfront-fee",
        "1000",
        "--payment",
        "8833.33",
        "--installments",
        "12",
        "--frequency",
        "monthly",
        "--format",
        "json",
    )
    assert code == 0
    printed = json.loads(out, parse_float=lambda text: pytest.fail(f"float in output: {text}"))
    assert set(printed) == KEYS
    assert Decimal(printed["annual_rate_pct"]).quantize(Decimal("0.01")) == Decimal("12.80")
    assert Decimal(printed["effective_annual_rate_pct"]).quantize(Decimal("0.01")) == Decimal("13.58")
    assert printed["method"] == "irr-periodic"


def test_command_reads_a_cash_flows_file(tmp_path: Path) -> None:
    path = tmp_path / "flows.json"
    path.write_text(
        json.dumps(
            [
                {"date": "2026-01-01", "amount": "-3000.00"},
                {"date": "2026-02-08", "amount": "1010.00"},
                {"date": "2026-03-08", "amount": "1010.00"},
                {"date": "2026-04-08", "amount": "1010.00"},
            ]
        ),
        encoding="utf-8",
    )
    code, out, _ = run("--cashflows-json", str(path), "--format", "json")
    assert code == 0
    assert json.loads(out)["method"] == "irr-dated-actual/365"
    code, out, _ = run("--cashflows-json", str(path))
    assert code == 0 and "annual_rate_pct" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--principal", "0", "--payment", "10", "--installments", "12"),
            "principal: must be more than zero",
        ),
        (("--principal", "100", "--payment", "10"), "missing --installments"),
        (("--principal", "1", "--payment", "1000", "--installments", "1"), "beyond the bounds"),
        (("--cashflows-json", "nowhere.json"), "cashflows_json: cannot read"),
        (("--cashflows-json", "x.json", "--principal", "1"), "not both"),
        (("--principal", "100", "--payment", "1.5e2", "--installments", "3"), "payment: not an amount"),
    ],
)
def test_command_bad_input_exits_2_with_the_field(args: tuple[str, ...], message: str) -> None:
    code, out, err = run(*args, "--format", "json")
    assert code == 2
    assert out == ""
    assert message in " ".join(err.split())
