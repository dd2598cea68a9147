"""Identity graph and fraud rings: update rate, ring detection time, and ring recovery against the sim truth.

Figures, all measured in this process on a simulated lake (``fengkong simulate``; the small scale by default,
written to a temporary folder unless ``--lake`` names the ``events`` folder of one, with ``truth`` beside it):

* **read**: the lake's identity observations (party, device/phone/IP, ``received_at``) of ``login``,
  ``loan_application``, ``order_placed``, ``payment_made`` and ``party_registered``, merged in receipt
  order (seconds; Parquet reading, not graph work).
* **incremental update**: every observation fed to an empty :class:`IdentityGraph` in receipt order in one
  ``add_columns`` call: observations/s and edges/s; then per-call latency (p50/p99, µs) of the last
  ``--latency-rows`` observations fed one per call into a graph holding everything before them.
  Reference in the same run: igraph building the bipartite graph of the same edges in one go from arrays.
* **ring detection** at the lake's last receipt: seconds for :func:`ring_memberships` (cap
  ``fraud_identifier_parties_max``, Leiden CPM), beside igraph's ``connected_components`` on the bipartite
  graph built in one go (the reference; its largest component shows what happens without the cap).
* **recovery**: precision and recall of ring membership (a party is flagged when it is in any ring)
  against the simulator's truth, counting truth rings of at least ``fraud_ring_size_min`` members (a
  "ring" of two looks like a household); the adjusted Rand index over the truth ring members; and the
  share of truth rings found whole (at least 80 % of members in one found ring that is at least 80 % theirs).
  The bench may read truth; product code never does.

Run: ``.venv/bin/python bench/bench_fraud_graph.py [--lake DIR/events] [--scale small] [--latency-rows N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import igraph
import numpy as np
import pyarrow.parquet as pq
from sklearn.metrics import adjusted_rand_score

from fengkong import bounds
from fengkong.fraud.graph import IdentityGraph
from fengkong.fraud.rings import RingSnapshot, ring_memberships
from fengkong.services.fraud import read_identity_columns
from fengkong.services.simulate import prepare, run_simulation

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _recovery(snapshot: RingSnapshot, truth_path: Path) -> dict[str, float]:
    rows = pq.read_table(truth_path, columns=["party_id", "ring_id"]).to_pylist()
    sizes = Counter(row["ring_id"] for row in rows if row["ring_id"] >= 0)
    truth = {
        row["party_id"]: int(row["ring_id"])
        for row in rows
        if sizes.get(row["ring_id"], 0) >= bounds.fraud_ring_size_min
    }
    found = set(snapshot.ring_of)
    true_positives = len(found & set(truth))
    members = sorted(truth)
    rand = adjusted_rand_score(
        [truth[party] for party in members],
        [snapshot.ring_of.get(party, f"none:{party}") for party in members],
    )
    whole = 0
    by_ring: dict[int, list[str]] = {}
    for party, ring in truth.items():
        by_ring.setdefault(ring, []).append(party)
    for ring_members in by_ring.values():
        landed = Counter(snapshot.ring_of.get(party) for party in ring_members)
        ring_id, count = landed.most_common(1)[0]
        if ring_id is not None and count >= 0.8 * len(ring_members):
            found_members = snapshot.ring(ring_id).members
            if count >= 0.8 * len(found_members):
                whole += 1
    return {
        "truth_rings": float(len(by_ring)),
        "truth_members": float(len(truth)),
        "flagged": float(len(found)),
        "precision": true_positives / max(len(found), 1),
        "recall": true_positives / max(len(truth), 1),
        "adjusted_rand": float(rand),
        "rings_found_whole": whole / max(len(by_ring), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lake", type=Path, help="the events folder of a simulated world (truth beside it)")
    parser.add_argument("--scale", default="small")
    parser.add_argument("--latency-rows", type=int, default=20_000)
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        lake = arguments.lake
        if lake is None:
            started = time.perf_counter()
            run_simulation(prepare(scale=arguments.scale), Path(scratch) / "world")
            lake = Path(scratch) / "world" / "events"
            print(f"simulated a {arguments.scale} world in {time.perf_counter() - started:.1f} s")
        truth_path = lake.parent / "truth" / "parties.parquet"

        started = time.perf_counter()
        columns = read_identity_columns(lake)
        read_s = time.perf_counter() - started
        count = len(columns)
        print(f"read: {count:,} observations in {read_s:.2f} s")

        graph = IdentityGraph()
        started = time.perf_counter()
        graph.add_columns(columns.party_ids, columns.kinds, columns.values, columns.received_us)
        update_s = time.perf_counter() - started
        print(
            f"incremental update: {graph.party_count:,} parties, {graph.identifier_count:,} identifiers, "
            f"{graph.edge_count:,} edges; {count / update_s:,.0f} observations/s, "
            f"{graph.edge_count / update_s:,.0f} edges/s ({update_s:.2f} s)"
        )

        split = max(count - arguments.latency_rows, 0)
        timed = IdentityGraph()
        timed.add_columns(
            columns.party_ids[:split],
            columns.kinds[:split],
            columns.values[:split],
            columns.received_us[:split],
        )
        latencies: list[float] = []
        for index in range(split, count):
            started = time.perf_counter_ns()
            timed.add_columns(
                columns.party_ids[index : index + 1],
                columns.kinds[index : index + 1],
                columns.values[index : index + 1],
                columns.received_us[index : index + 1],
            )
            latencies.append((time.perf_counter_ns() - started) / 1_000)
        if latencies:
            latencies.sort()
            p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
            print(
                f"  one observation per call, last {len(latencies):,}: "
                f"p50 {statistics.median(latencies):.1f} µs, p99 {p99:.1f} µs"
            )

        edges = graph.all_edges()
        started = time.perf_counter()
        offset = graph.party_count
        bipartite = igraph.Graph(
            n=graph.party_count + graph.identifier_count,
            edges=np.column_stack((edges.party, edges.identifier + offset)).tolist(),
        )
        reference_build_s = time.perf_counter() - started
        print(
            f"  reference: igraph builds the same bipartite graph in one go in {reference_build_s:.2f} s "
            f"({graph.edge_count / reference_build_s:,.0f} edges/s); ratio ours/reference "
            f"{update_s / reference_build_s:.1f}x"
        )

        as_of = EPOCH + timedelta(microseconds=max(columns.received_us))
        started = time.perf_counter()
        snapshot = ring_memberships(graph, as_of)
        rings_s = time.perf_counter() - started
        started = time.perf_counter()
        components = bipartite.connected_components()
        reference_rings_s = time.perf_counter() - started
        largest_parties = max(sum(1 for vertex in component if vertex < offset) for component in components)
        print(
            f"ring detection at the last receipt: {len(snapshot.rings)} rings, "
            f"{len(snapshot.ring_of):,} members in {rings_s:.3f} s "
            f"(cap {bounds.fraud_identifier_parties_max} "
            f"parties per identifier, ring of at least {bounds.fraud_ring_size_min})"
        )
        print(
            f"  reference: igraph connected_components on the uncapped bipartite graph in "
            f"{reference_rings_s:.3f} s (ratio ours/reference {rings_s / reference_rings_s:.1f}x); its "
            f"largest component holds {largest_parties:,} of {graph.party_count:,} parties"
        )
        if truth_path.is_file():
            figures = _recovery(snapshot, truth_path)
            print(
                "recovery against the simulator's truth: "
                + ", ".join(
                    f"{name} {value:.3f}" if value < 1.5 else f"{name} {value:,.0f}"
                    for name, value in figures.items()
                )
            )
        else:
            print(f"no truth at {truth_path}: recovery not measured")


if __name__ == "__main__":
    main()
