"""docs/events.md is generated from EVENT_TYPES and must never drift from it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from fengkong.clock import FixedClock
from fengkong.domain.events import EVENT_TYPE_NAMES, EVENT_TYPES
from fengkong.ingest.schema_doc import example_json_line, render_markdown
from fengkong.ingest.validate import parse_record

DOC = Path(__file__).resolve().parents[3] / "docs" / "events.md"


def test_the_committed_page_is_the_rendered_page() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        "docs/events.md is stale: run .venv/bin/python -m fengkong.ingest.schema_doc > docs/events.md"
    )


def test_every_type_and_attribute_is_documented() -> None:
    page = render_markdown()
    for name in EVENT_TYPE_NAMES:
        assert f"### `{name}`" in page
        for attribute in EVENT_TYPES[name].attributes:
            assert f"| `{attribute.name}` |" in page


def test_the_documented_example_validates_and_round_trips() -> None:
    line = example_json_line()
    event = parse_record(json.loads(line), FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
    assert event.attributes["amount"] == 3650
    assert '"amount":"36.50"' in line
