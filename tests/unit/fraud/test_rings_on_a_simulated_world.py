"""Rings recovered from a tiny simulated world's events alone, compared with the simulator's truth here
(in the test only: product code never reads truth)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from fengkong import bounds
from fengkong.cli.main import _register, app
from fengkong.fraud.rings import ring_memberships
from fengkong.services.fraud import identity_graph_from_lake, read_identity_columns
from fengkong.services.simulate import prepare, run_simulation


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny-world")
    run_simulation(prepare(scale="tiny", seed=11, days=25), out)
    return out


def test_rings_of_a_simulated_world_are_found_from_events_only(world: Path) -> None:
    graph = identity_graph_from_lake(world / "events")
    truth = pq.read_table(world / "truth" / "parties.parquet", columns=["party_id", "ring_id"]).to_pylist()
    sizes = Counter(row["ring_id"] for row in truth if row["ring_id"] >= 0)
    # a planted "ring" of two is indistinguishable from a household: only rings of ring_size_min count
    ring_members = {
        row["party_id"] for row in truth if sizes.get(row["ring_id"], 0) >= bounds.fraud_ring_size_min
    }
    assert ring_members  # this tiny world plants a ring of 7 (and a pair)
    snapshot = ring_memberships(graph, datetime(2100, 1, 1, tzinfo=UTC))
    found = set(snapshot.ring_of)
    true_positives = len(found & ring_members)
    precision = true_positives / max(len(found), 1)
    recall = true_positives / len(ring_members)
    assert precision >= 0.9
    assert recall >= 0.9


def test_before_any_event_was_received_there_is_no_ring(world: Path) -> None:
    columns = read_identity_columns(world / "events")
    assert columns.received_us == sorted(columns.received_us)
    first = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=columns.received_us[0])
    graph = identity_graph_from_lake(world / "events")
    assert ring_memberships(graph, first - timedelta(microseconds=1)).rings == ()
    assert graph.edges_as_of(first - timedelta(microseconds=1)).party.size == 0


def test_rings_at_every_week_hold_few_honest_parties(world: Path) -> None:
    graph = identity_graph_from_lake(world / "events")
    truth = pq.read_table(world / "truth" / "parties.parquet", columns=["party_id", "ring_id"]).to_pylist()
    fraudsters = {row["party_id"] for row in truth if row["ring_id"] >= 0}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    flagged = [set(ring_memberships(graph, start + timedelta(days=days)).ring_of) for days in range(0, 28, 7)]
    honest_flagged = set().union(*flagged) - fraudsters
    assert len(honest_flagged) <= 1  # shared carrier IPs grow popular only with time: they tie nobody


def test_the_command_prints_the_rings_as_json(world: Path) -> None:
    _register()
    result = CliRunner().invoke(app, ["fraud", "rings", "--lake", str(world / "events"), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["edges_known"] > 0
    assert all(ring["size"] >= bounds.fraud_ring_size_min for ring in report["rings"])
    naive = CliRunner().invoke(
        app, ["fraud", "rings", "--lake", str(world / "events"), "--as-of", "2026-01-20"]
    )
    assert naive.exit_code == 2
    assert "as_of" in naive.output


def test_the_command_refuses_a_lake_without_identity_events(tmp_path: Path) -> None:
    _register()
    result = CliRunner().invoke(app, ["fraud", "rings", "--lake", str(tmp_path)])
    assert result.exit_code == 2
    assert "no identity events" in result.output
