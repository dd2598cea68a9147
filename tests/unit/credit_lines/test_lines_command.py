"""``fengkong lines show`` and ``fengkong lines alerts`` over a reviewed book (SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

import fengkong.cli.lines  # noqa: F401 - registers the command
from fengkong.cli.main import app
from fengkong.services import credit_line_review as review
from fengkong.store import migrate
from fengkong.store.config import make_engine
from tests.unit.credit_lines.credit_line_cases import FEATURES, REVIEW_AT, FixedFeatures, open_lines


def test_show_and_alerts_print_the_history_and_the_queue_and_refuse_bad_input(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lines.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        open_lines(engine)
        review.review_lines(engine, FixedFeatures(FEATURES), REVIEW_AT)
    finally:
        engine.dispose()
    runner = CliRunner()
    shown = runner.invoke(app, ["lines", "show", "p-rider", "--url", url, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    [line] = json.loads(shown.stdout)
    assert line["limit_yuan"] == "12000.00" and [change["action"] for change in line["history"]] == [
        "open",
        "raise",
    ]
    assert line["history"][1]["reason"] == "sustained_delivery_growth"
    table = runner.invoke(app, ["lines", "show", "p-rider", "--url", url])
    assert table.exit_code == 0 and "12000.00" in table.stdout and "raise" in table.stdout
    queue = runner.invoke(app, ["lines", "alerts", "--url", url, "--format", "json"])
    assert queue.exit_code == 0, queue.output
    assert [(alert["party_id"], alert["severity"]) for alert in json.loads(queue.stdout)] == [
        ("p-calm", 3),
        ("p-late", 3),
        ("p-shop", 2),
    ]
    unknown = runner.invoke(app, ["lines", "show", "p-nobody", "--url", url])
    assert unknown.exit_code == 2 and "has no credit line" in unknown.stderr
    bad = runner.invoke(app, ["lines", "alerts", "--status", "closed", "--url", url])
    assert bad.exit_code == 2 and "status" in bad.stderr and "Traceback" not in bad.output
