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

* **scale** (``--synthetic-parties N``, instead of a simulated world): a generated graph of ``N`` parties,
  each with its own device and phone, households of two sharing a home IP, offices of 500 sharing an IP,
  and planted rings (sizes 3 to 200, 1 % of parties) sharing devices and phones; update time, ring
  detection time with the edge count and degree cap stated, and recovery of the planted rings.

Run: ``.venv/bin/python bench/bench_fraud_graph.py [--lake DIR/events] [--scale small] [--latency-rows N]``
or ``.venv/bin/python bench/bench_fraud_graph.py --synthetic-parties 1000000``.
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


def _recovery(snapshot: RingSnapshot, truth_path: Path) -> dict[str, float | int]:
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
        "truth_rings": len(by_ring),
        "truth_members": len(truth),
        "flagged": len(found),
        "precision": true_positives / max(len(found), 1),
        "recall": true_positives / max(len(truth), 1),
        "adjusted_rand": float(rand),
        "rings_found_whole": whole / max(len(by_ring), 1),
    }


def _synthetic(parties: int, seed: int = 5) -> None:
    """Ring detection at scale on a generated graph with planted rings (see the module docstring)."""
    rng = np.random.default_rng(seed)
    index = np.arange(parties)
    ring_share = 0.01
    ring_parties = int(parties * ring_share)
    sizes: list[int] = []
    while sum(sizes) < ring_parties:
        sizes.append(int(min(200, max(3, rng.lognormal(np.log(8), 1.0)))))
    ring_of_row = np.full(parties, -1, dtype=np.int64)
    members = rng.permutation(parties)[: sum(sizes)]
    ring_of_row[members] = np.repeat(np.arange(len(sizes)), sizes)
    names = [f"S{row:08d}" for row in range(parties)]
    party_ids: list[str] = []
    kinds: list[int] = []
    values: list[str] = []
    moments = rng.integers(0, 86_400_000_000 * 90, size=parties)

    def add(rows: np.ndarray, kind: int, labels: list[str], offset_us: int) -> None:
        party_ids.extend(names[row] for row in rows.tolist())
        kinds.extend([kind] * len(labels))
        values.extend(labels)
        received.extend((moments[rows] + offset_us).tolist())

    received: list[int] = []
    add(index, 0, [f"dv-{row}" for row in range(parties)], 0)
    add(index, 1, [f"ph-{row}" for row in range(parties)], 1)
    add(index, 2, [f"home-{row // 2}" for row in range(parties)], 2)
    add(index, 2, [f"office-{row // 500}" for row in rng.permutation(parties).tolist()], 3)
    ring_rows = np.flatnonzero(ring_of_row >= 0)
    ring = ring_of_row[ring_rows]
    ring_size = np.asarray(sizes)[ring]
    device = rng.integers(0, np.maximum(1, np.ceil(ring_size * 0.15)).astype(np.int64))
    phone = rng.integers(0, np.maximum(1, np.ceil(ring_size * 0.3)).astype(np.int64))
    add(ring_rows, 0, [f"rdv-{r}-{d}" for r, d in zip(ring.tolist(), device.tolist(), strict=True)], 4)
    add(ring_rows, 1, [f"rph-{r}-{p}" for r, p in zip(ring.tolist(), phone.tolist(), strict=True)], 5)
    order = np.argsort(np.asarray(received), kind="stable")
    party_ids = [party_ids[i] for i in order.tolist()]
    kinds = [kinds[i] for i in order.tolist()]
    values = [values[i] for i in order.tolist()]
    received = [received[i] for i in order.tolist()]

    graph = IdentityGraph()
    started = time.perf_counter()
    graph.add_columns(party_ids, kinds, values, received)
    update_s = time.perf_counter() - started
    print(
        f"synthetic graph: {graph.party_count:,} parties, {graph.identifier_count:,} identifiers, "
        f"{graph.edge_count:,} edges; update {len(kinds) / update_s:,.0f} observations/s ({update_s:.1f} s, "
        f"{update_s / len(kinds) * 1e6:.2f} µs each)"
    )
    as_of = EPOCH + timedelta(microseconds=max(received))
    started = time.perf_counter()
    snapshot = ring_memberships(graph, as_of)
    rings_s = time.perf_counter() - started
    truth = {names[row]: int(ring_of_row[row]) for row in ring_rows.tolist() if sizes[ring_of_row[row]] >= 3}
    found = set(snapshot.ring_of)
    true_positives = len(found & set(truth))
    print(
        f"ring detection over {graph.party_count:,} parties and {graph.edge_count:,} edges "
        f"(cap {bounds.fraud_identifier_parties_max} parties per identifier): {rings_s:.1f} s; "
        f"{len(snapshot.rings):,} rings found of {len(sizes):,} planted; precision "
        f"{true_positives / max(len(found), 1):.3f}, recall {true_positives / max(len(truth), 1):.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lake", type=Path, help="the events folder of a simulated world (truth beside it)")
    parser.add_argument("--scale", default="small")
    parser.add_argument("--latency-rows", type=int, default=20_000)
    parser.add_argument("--synthetic-parties", type=int, help="measure at scale on a generated graph instead")
    arguments = parser.parse_args()
    if arguments.synthetic_parties:
        _synthetic(arguments.synthetic_parties)
        return

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
                    f"{name} {value:,}" if isinstance(value, int) else f"{name} {value:.3f}"
                    for name, value in figures.items()
                )
            )
        else:
            print(f"no truth at {truth_path}: recovery not measured")


if __name__ == "__main__":
    main()
