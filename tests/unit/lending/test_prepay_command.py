"""The ``fengkong prepay`` command and its use case: the hand-worked loan, JSON of decimal strings, a table,
exit 2 naming the option on bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import fengkong.cli.prepay  # noqa: F401 - registers the command
from fengkong.cli.main import app

# the hand-worked loan of test_prepayment.py: 12,000 yuan, 12 %, 12 months, 30/360; 3,000 prepaid after 6
LOAN = [
    "--principal", "12000", "--annual-rate-pct", "12", "--installments", "12",
    "--method", "equal-installment", "--day-count", "30/360", "--start", "2026-01-15",
    "--paid", "6", "--amount", "3000", "--on", "2026-07-15",
]  # fmt: skip


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["prepay", *args])
    return result.exit_code, result.stdout, result.stderr


def test_reduce_installment_as_json() -> None:
    code, out, _ = run(*LOAN, "--mode", "reduce-installment", "--format", "json")
    assert code == 0
    wire = json.loads(out, parse_float=lambda text: pytest.fail(f"float in output: {text}"))
    assert (wire["balance_before"], wire["balance_after"], wire["prepaid"]) == (
        "6179.02",
        "3179.02",
        "3000.00",
    )
    assert [row["installment"] for row in wire["rows"]] == ["548.53"] * 5 + ["548.55"]
    assert wire["rows"][0]["due_date"] == "2026-08-15" and wire["rows"][-1]["balance"] == "0.00"
    assert (wire["interest_before"], wire["interest_after"], wire["interest_saved"]) == (
        "218.07", "112.18", "105.89",
    )  # fmt: skip
    assert wire["first_number"] == 7


def test_shorten_term_as_a_table() -> None:
    code, out, _ = run(*LOAN, "--mode", "shorten-term")
    assert code == 0
    assert "1066.19" in out and "44.69" in out  # the kept installment and the short last principal
    assert "64.69 after" in out and "153.38 saved" in out


@pytest.mark.parametrize(
    ("change", "option"),
    [
        (("--amount", "6179.02"), "--amount"),  # the whole balance: a payoff, not a partial prepayment
        (("--amount", "12.345"), "--amount"),
        (("--on", "2026-08-15"), "--on"),
        (("--on", "15/07/2026"), "--on"),
        (("--paid", "12"), "--paid"),
        (("--method", "flat"), "--method"),
        (("--annual-rate-pct", "x"), "--annual-rate-pct"),
    ],
)
def test_bad_input_exits_2_naming_the_option(change: tuple[str, str], option: str) -> None:
    args = list(LOAN)
    index = args.index(change[0])
    args[index + 1] = change[1]
    code, _, err = run(*args, "--mode", "reduce-installment")
    assert code == 2
    assert f"error: {option}:" in err and "Traceback" not in err


def test_an_unknown_mode_exits_2() -> None:
    code, _, err = run(*LOAN, "--mode", "sideways")
    assert code == 2 and "--mode" in err
