"""Ring detection on planted rings: recovery, the popular-identifier cap, no future leakage, incremental
updates equal to a rebuild, determinism, ring features as of a decision time."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import igraph
import pytest
from sklearn.metrics import adjusted_rand_score

from fengkong.domain.events import Event, Subject
from fengkong.errors import InputError
from fengkong.fraud.graph import IdentifierKind, IdentityGraph, graph_from_observations, to_microseconds
from fengkong.fraud.rings import (
    NO_RING,
    DelinquencyTable,
    KnownDelinquency,
    RingParameters,
    ring_features_of,
    ring_memberships,
)

from .planted import START, PlantedWorld, planted_world

END = START + timedelta(days=60)


@pytest.fixture(scope="module")
def world() -> PlantedWorld:
    return planted_world()


@pytest.fixture(scope="module")
def graph(world: PlantedWorld) -> IdentityGraph:
    return graph_from_observations(world.observations)


def test_planted_rings_are_recovered_and_honest_parties_stay_out(
    world: PlantedWorld, graph: IdentityGraph
) -> None:
    snapshot = ring_memberships(graph, END)
    parties = sorted(world.honest + list(world.ring_of))
    truth = [world.ring_of.get(party, f"alone:{party}") for party in parties]
    found = [snapshot.ring_of.get(party, f"alone:{party}") for party in parties]
    assert adjusted_rand_score(truth, found) >= 0.99
    for planted in (0, 1):  # per-ring precision and recall
        members = {party for party, ring in world.ring_of.items() if ring == planted}
        ring_ids = {snapshot.ring_of.get(party) for party in members}
        assert len(ring_ids) == 1
        found_members = set(snapshot.ring(str(ring_ids.pop())).members)
        assert found_members == members
    assert not any(party in snapshot.ring_of for party in world.honest)
    small = snapshot.ring(snapshot.ring_of["R8-0"])
    assert (small.size, small.device_count, small.density) == (8, 2, 1.0)


def test_the_office_ip_would_merge_everyone_if_ips_tied_parties_without_the_cap(
    world: PlantedWorld, graph: IdentityGraph
) -> None:
    every_kind = (IdentifierKind.DEVICE, IdentifierKind.PHONE, IdentifierKind.IP)
    uncapped = ring_memberships(
        graph, END, RingParameters(identifier_parties_max=10_000, linking_kinds=every_kind)
    )
    assert sum(party in uncapped.ring_of for party in world.honest) > 400
    capped = ring_memberships(graph, END, RingParameters(linking_kinds=every_kind))
    assert not any(party in capped.ring_of for party in world.honest)  # the cap alone keeps them apart
    ips_weak = ring_memberships(graph, END, RingParameters(identifier_parties_max=10_000))
    assert not any(party in ips_weak.ring_of for party in world.honest)  # so does an IP's not tying anyone


def test_no_edge_from_the_future_changes_the_rings(world: PlantedWorld) -> None:
    as_of = START + timedelta(days=20)
    before = ring_memberships(graph_from_observations(world.observations), as_of)
    later = IdentityGraph()
    for item in world.observations:
        later.observe(item.party_id, item.kind, item.value, item.received_at)
    # after as_of, the ring's devices show up on honest parties: a merge, but only from the next microsecond
    after = as_of + timedelta(microseconds=1)
    for party in world.honest[:20]:
        later.observe(party, IdentifierKind.DEVICE, "dv-ring8-a", after)
    assert ring_memberships(later, as_of) == before
    assert ring_memberships(later, after) != before
    assert "H00000" in ring_memberships(later, after).ring_of


def test_rings_grow_only_with_what_was_known(world: PlantedWorld, graph: IdentityGraph) -> None:
    early = ring_memberships(graph, START + timedelta(days=10, minutes=110))  # 4 of the 8 have registered
    assert early.ring(early.ring_of["R8-0"]).size == 4
    assert not any(party.startswith("R100") for party in early.ring_of)


def test_incremental_updates_equal_a_rebuild_from_scratch(world: PlantedWorld) -> None:
    incremental = IdentityGraph()
    checkpoints = [START + timedelta(days=days) for days in (5, 11, 12, 13, 40)]
    pending = list(checkpoints)
    for item in world.observations:
        while pending and item.received_at > pending[0]:
            moment = pending.pop(0)
            rebuilt = graph_from_observations(o for o in world.observations if o.received_at <= moment)
            assert ring_memberships(incremental, moment) == ring_memberships(rebuilt, moment)
        incremental.observe(item.party_id, item.kind, item.value, item.received_at)
    shuffled = list(world.observations)
    random.Random(3).shuffle(shuffled)  # late and out-of-order arrival: edges keep their earliest receipt
    assert ring_memberships(graph_from_observations(shuffled), END) == ring_memberships(incremental, END)
    assert incremental.edge_count == graph_from_observations(shuffled).edge_count


def test_detection_repeats_whatever_the_global_generator_did(graph: IdentityGraph) -> None:
    first = ring_memberships(graph, END)
    random.seed(99)
    igraph.set_random_number_generator(random)
    assert ring_memberships(graph, END) == first
    first = ring_memberships(graph, END)
    assert ring_memberships(graph, END) == first
    assert ring_memberships(graph, END, RingParameters(seed=1)).ring_of == first.ring_of  # stable rings


def test_ring_features_use_only_delinquencies_known_at_the_decision(graph: IdentityGraph) -> None:
    decision = START + timedelta(days=30)
    snapshot = ring_memberships(graph, decision)
    table = DelinquencyTable(
        [
            KnownDelinquency("R8-1", decision - timedelta(days=1)),
            KnownDelinquency("R8-2", decision),
            KnownDelinquency("R8-3", decision + timedelta(seconds=1)),  # learned later: not counted
            KnownDelinquency("H00001", decision - timedelta(days=3)),
        ]
    )
    features = ring_features_of("R8-5", snapshot, table)
    assert features.in_ring
    assert (features.ring_size, features.ring_device_count, features.ring_past_due_members) == (8, 2, 2)
    assert ring_features_of("H00001", snapshot, table) == NO_RING
    assert ring_features_of("nobody", snapshot, table) == NO_RING


def test_observe_event_reads_the_identifiers_of_identity_events() -> None:
    moment = datetime(2026, 5, 1, 8, tzinfo=UTC)
    login = Event(
        "e1",
        "login",
        moment,
        moment,
        (Subject("party", "P1"),),
        {"device_id": "dv-1", "ip": "192.0.2.1", "method": "sms"},
    )
    order = Event(
        "e2",
        "order_placed",
        moment,
        moment,
        (Subject("consumer", "P2"), Subject("merchant", "M1")),
        {"device_id": "dv-1", "order_id": "o1", "amount": 100, "category": "food", "pay_method": "wallet"},
    )
    review = Event(
        "e3",
        "review_posted",
        moment,
        moment,
        (Subject("consumer", "P3"), Subject("merchant", "M1")),
        {"stars": 5},
    )
    graph = IdentityGraph()
    assert [graph.observe_event(event) for event in (login, order, review)] == [2, 1, 0]
    assert graph.identifiers_of("P1", moment) == [
        (IdentifierKind.DEVICE, "dv-1"),
        (IdentifierKind.IP, "192.0.2.1"),
    ]
    assert graph.identifiers_of("P1", moment - timedelta(seconds=1)) == []
    assert graph.party_ids() == ("P1", "P2")  # the merchant is not linked to the consumer's device


def test_bad_input_names_the_field() -> None:
    graph = IdentityGraph()
    with pytest.raises(InputError) as naive:
        graph.observe("P1", IdentifierKind.DEVICE, "dv", datetime(2026, 1, 1))
    assert naive.value.field == "received_at"
    with pytest.raises(InputError) as long_value:
        graph.observe("P1", IdentifierKind.PHONE, "9" * 300, START)
    assert long_value.value.field == "phone"
    with pytest.raises(InputError) as kinds:
        graph.add_columns(["P1"], [7], ["x"], [to_microseconds(START)])
    assert kinds.value.field == "kinds"
    with pytest.raises(InputError):
        graph.add_columns(["P1", "P2"], [0], ["x"], [0])
    for name, value in (
        ("identifier_parties_max", 1),
        ("ring_size_min", 1),
        ("resolution", 0.0),
        ("member_links_min", 0),
    ):
        with pytest.raises(InputError) as bad:
            ring_memberships(graph, START, RingParameters(**{name: value}))
        assert bad.value.field == name


def test_a_ring_members_spouse_is_peeled_off() -> None:
    with_spouse = IdentityGraph()
    moment = START + timedelta(days=11)
    for member in range(8):
        for device in ("dv-a", "dv-b"):
            with_spouse.observe(f"R{member}", IdentifierKind.DEVICE, device, moment)
    for identifier_kind, value in (
        (IdentifierKind.IP, "198.51.100.9"),
        (IdentifierKind.PHONE, "+86-000-777"),
    ):
        with_spouse.observe("R0", identifier_kind, value, moment)
        with_spouse.observe("SPOUSE", identifier_kind, value, moment)
    snapshot = ring_memberships(with_spouse, moment)
    assert "SPOUSE" not in snapshot.ring_of
    assert snapshot.ring("ring:R0").size == 8
    keep_leaves = ring_memberships(with_spouse, moment, RingParameters(member_links_min=1))
    assert keep_leaves.ring_of.get("SPOUSE") == "ring:R0"
