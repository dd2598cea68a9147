"""The ``fengkong schedule`` command and its use case: JSON of decimal strings, a table, exit 2 naming the
option on bad input."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from typer.testing import CliRunner

import fengkong.cli.schedule  # noqa: F401 - registers the command
from fengkong.cli.main import app
from fengkong.errors import InputError
from fengkong.services.schedule import schedule_for, schedule_to_json

RS02 = [
    "--principal", "5000", "--annual-rate-pct", "12", "--installments", "18", "--frequency", "monthly",
    "--method", "equal-installment", "--day-count", "30/360", "--start", "2022-11-01",
    "--round-installment-to", "1",
]  # fmt: skip


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["schedule", *args])
    return result.exit_code, result.stdout, result.stderr


def test_json_output_has_every_amount_as_a_decimal_string() -> None:
    code, out, _ = run(*RS02, "--format", "json")
    assert code == 0
    wire = json.loads(out, parse_float=lambda text: pytest.fail(f"float in output: {text}"))
    assert set(wire) == {"rows", "total_interest", "total_due"}
    assert len(wire["rows"]) == 18
    first, last = wire["rows"][0], wire["rows"][-1]
    assert first == {
        "number": 1,
        "due_date": "2022-12-01",
        "days": 30,
        "principal": "255.00",
        "interest": "50.00",
        "installment": "305.00",
        "balance": "4745.00",
    }
    assert last["installment"] == "303.22" and last["balance"] == "0.00"
    assert wire["total_interest"] == "488.22"
    assert wire["total_due"] == "5488.22"
    for row in wire["rows"]:
        for key in ("principal", "interest", "installment", "balance"):
            assert isinstance(row[key], str)
            Decimal(row[key])
    assert sum(Decimal(row["principal"]) for row in wire["rows"]) == Decimal("5000")


def test_grace_options_reach_the_schedule() -> None:
    code, out, _ = run(*RS02, "--principal-grace", "6", "--interest-grace", "3", "--format", "json")
    assert code == 0
    rows = json.loads(out)["rows"]
    assert [row["interest"] for row in rows[:4]] == ["0.00", "0.00", "0.00", "200.00"]
    assert rows[6]["installment"] == "444.00"


def test_table_output() -> None:
    code, out, _ = run(*RS02)
    assert code == 0
    assert "Repayment schedule" in out
    assert "4745.00" in out and "5488.22" in out


@pytest.mark.parametrize(
    ("replace", "option"),
    [
        (("--principal", "abc"), "--principal"),
        (("--principal", "0"), "--principal"),
        (("--principal", "1.234"), "--principal"),
        (("--annual-rate-pct", "twelve"), "--annual-rate-pct"),
        (("--annual-rate-pct", "-1"), "--annual-rate-pct"),
        (("--annual-rate-pct", "NaN"), "--annual-rate-pct"),
        (("--installments", "0"), "--installments"),
        (("--installments", "601"), "--installments"),
        (("--method", "balloon"), "--method"),
        (("--day-count", "30/365"), "--day-count"),
        (("--frequency", "weekly"), "--frequency"),
        (("--start", "2024-13-01"), "--start"),
        (("--round-installment-to", "5"), "--round-installment-to"),
    ],
)
def test_bad_input_exits_2_naming_the_option(replace: tuple[str, str], option: str) -> None:
    args = list(RS02)
    index = args.index(replace[0])
    args[index + 1] = replace[1]
    code, out, err = run(*args, "--format", "json")
    assert code == 2
    assert out == ""
    assert option in err


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (("--principal-grace", "18"), "--principal-grace"),
        (("--interest-grace", "-1"), "--interest-grace"),
    ],
)
def test_grace_outside_the_term_is_refused(extra: tuple[str, str], option: str) -> None:
    code, _, err = run(*RS02, *extra)
    assert code == 2
    assert option in err


def test_whole_unit_rounding_of_equal_principal_is_refused() -> None:
    args = list(RS02)
    args[args.index("--method") + 1] = "equal-principal"
    code, _, err = run(*args)
    assert code == 2
    assert "--round-installment-to" in err


def test_missing_option_exits_2() -> None:
    code, _, err = run("--principal", "100")
    assert code == 2
    assert "Missing option" in err


def test_use_case_defaults_and_field_names() -> None:
    schedule = schedule_for(
        principal="1200",
        annual_rate_pct="12",
        installments=3,
        method="interest-only",
        day_count="actual/365",
        start="2024-01-31",
    )
    wire = schedule_to_json(schedule)
    assert [row["due_date"] for row in wire["rows"]] == ["2024-02-29", "2024-03-31", "2024-04-30"]
    assert [row["days"] for row in wire["rows"]] == [29, 31, 30]
    with pytest.raises(InputError) as caught:
        schedule_for(
            principal="1200",
            annual_rate_pct="12",
            installments=3,
            method="interest-only",
            day_count="actual/365",
            start="2024-01-31",
            round_installment_to="1",
        )
    assert caught.value.field == "round_installment_to"
