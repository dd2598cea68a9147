"""``fengkong ingest``: exit codes 0 (all valid), 2 (some rejected), 1 (fatal); table and JSON reports."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from fengkong.cli.main import _register, app
from tests.strategies import valid_ingest_record

_register()
RUNNER = CliRunner()


def _source(tmp_path: Path, bad: bool) -> Path:
    records = [valid_ingest_record("login", f"e{n}", party=f"P{n}") for n in range(3)]
    lines = [json.dumps(record) for record in records]
    if bad:
        lines.append(json.dumps(dict(valid_ingest_record("login", "bad-1"), event_type="teleport")))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(*args: str) -> tuple[int, str]:
    result = RUNNER.invoke(app, ["ingest", *args])
    return result.exit_code, result.output


def test_all_valid_exits_0_with_a_summary_table(tmp_path: Path) -> None:
    code, output = _run(str(_source(tmp_path, bad=False)), "--lake", str(tmp_path / "lake"))
    assert code == 0
    assert "accepted" in output and "login" in output
    assert list((tmp_path / "lake" / "login").glob("date=*/part-*.parquet"))


def test_rejections_exit_2_and_are_listed_with_line_field_and_reason(tmp_path: Path) -> None:
    code, output = _run(
        str(_source(tmp_path, bad=True)), "--lake", str(tmp_path / "lake"), "--format", "json"
    )
    assert code == 2
    report = json.loads(output)
    assert (report["accepted"], report["rejected"]) == (3, 1)
    assert report["rejections"] == [
        {
            "file": "events.jsonl",
            "line": 4,
            "event_id": "bad-1",
            "field": "event_type",
            "reason": report["rejections"][0]["reason"],
        }
    ]
    assert "unknown event type 'teleport'" in report["rejections"][0]["reason"]


def test_rejection_table_on_screen(tmp_path: Path) -> None:
    code, output = _run(str(_source(tmp_path, bad=True)), "--lake", str(tmp_path / "lake"))
    assert code == 2
    assert "Rejected records" in output and "event_type" in output and "bad-1" in output


def test_an_unreadable_file_exits_1(tmp_path: Path) -> None:
    code, output = _run(str(tmp_path / "nope.jsonl"), "--lake", str(tmp_path / "lake"))
    assert code == 1
    assert "no such file" in output


def test_an_unreachable_redis_exits_1(tmp_path: Path) -> None:
    code, output = _run(
        str(_source(tmp_path, bad=False)),
        "--lake",
        str(tmp_path / "lake"),
        "--transport",
        "redis",
        "--redis-url",
        "redis://127.0.0.1:1/0",
    )
    assert code == 1
    assert "cannot be reached" in output


def test_database_dedup_makes_a_second_run_add_nothing(tmp_path: Path) -> None:
    from fengkong.services.database import upgrade_database

    url = f"sqlite:///{tmp_path / 'fengkong.sqlite'}"
    upgrade_database(url)
    source = str(_source(tmp_path, bad=False))
    arguments = [source, "--lake", str(tmp_path / "lake"), "--database", url, "--format", "json"]
    first_code, first = _run(*arguments)
    second_code, second = _run(*arguments)
    assert (first_code, second_code) == (0, 0)
    assert (json.loads(first)["accepted"], json.loads(second)["accepted"]) == (3, 0)
    assert json.loads(second)["duplicates"] == 3
