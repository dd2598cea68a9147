"""Use cases of the identity graph: replay the event lake into it, and ask for the rings at a date.

The lake is read one event type at a time (only the party, identifier and ``received_at`` columns), the
observations of all types are merged into ``received_at`` order and fed to the graph one by one — the same
path an event takes when it arrives live.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fengkong.domain.events import subject_column
from fengkong.errors import InputError
from fengkong.fraud.graph import IDENTIFIER_ATTRIBUTES, IDENTITY_EVENT_ROLES, IdentityGraph, to_microseconds
from fengkong.fraud.rings import RingParameters, RingSnapshot, ring_memberships
from fengkong.ingest.lake import lake_files


@dataclass(frozen=True, slots=True)
class IdentityColumns:
    """Observations read from the lake as parallel columns, sorted by receipt (then party, kind, value)."""

    party_ids: list[str | None]
    kinds: list[int]
    values: list[str | None]
    received_us: list[int]

    def __len__(self) -> int:
        return len(self.kinds)


def read_identity_columns(lake_dir: Path | str) -> IdentityColumns:
    """Every (party, identifier, received_at) observation in the lake, in ``received_at`` order."""
    pieces: list[pa.Table] = []
    for event_type, role in sorted(IDENTITY_EVENT_ROLES.items()):
        party_column = subject_column(role)
        for path in lake_files(Path(lake_dir), event_type):
            available = set(pq.read_schema(path).names)
            table = pq.read_table(
                path,
                columns=[
                    column
                    for column in (party_column, "received_at", *IDENTIFIER_ATTRIBUTES.values())
                    if column in available
                ],
            )
            received = pc.cast(table.column("received_at"), pa.int64())
            for kind, attribute in IDENTIFIER_ATTRIBUTES.items():
                if attribute not in available:
                    continue
                values = table.column(attribute)
                present = pc.and_(pc.is_valid(values), pc.is_valid(table.column(party_column)))
                piece = pa.table(
                    {
                        "party_id": table.column(party_column),
                        "kind": pa.array(np.full(table.num_rows, int(kind), dtype=np.int64)),
                        "value": values,
                        "received_us": received,
                    }
                ).filter(present)
                pieces.append(piece)
    if not pieces:
        return IdentityColumns([], [], [], [])
    merged = pa.concat_tables(pieces).sort_by(
        [
            ("received_us", "ascending"),
            ("party_id", "ascending"),
            ("kind", "ascending"),
            ("value", "ascending"),
        ]
    )
    return IdentityColumns(
        merged.column("party_id").to_pylist(),
        merged.column("kind").to_pylist(),
        merged.column("value").to_pylist(),
        merged.column("received_us").to_pylist(),
    )


def identity_graph_from_lake(lake_dir: Path | str, graph: IdentityGraph | None = None) -> IdentityGraph:
    """Replay the lake's identity events into ``graph`` (a new one when None), in ``received_at`` order."""
    target = graph if graph is not None else IdentityGraph()
    columns = read_identity_columns(lake_dir)
    target.add_columns(columns.party_ids, columns.kinds, columns.values, columns.received_us)
    return target


def rings_from_lake(
    lake_dir: Path | str, as_of: datetime, parameters: RingParameters | None = None
) -> RingSnapshot:
    """The rings known at ``as_of`` from the lake's events (edges received after ``as_of`` are ignored)."""
    return ring_memberships(identity_graph_from_lake(lake_dir), as_of, parameters)


@dataclass(frozen=True, slots=True)
class RingReport:
    """The rings of a lake at a date, with the size of the graph they came from."""

    as_of: datetime
    parties: int
    identifiers: int
    edges_known: int
    snapshot: RingSnapshot

    def to_json(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "parties": self.parties,
            "identifiers": self.identifiers,
            "edges_known": self.edges_known,
            "rings": [
                {
                    "ring_id": ring.ring_id,
                    "size": ring.size,
                    "density": round(ring.density, 6),
                    "device_count": ring.device_count,
                    "members": list(ring.members),
                }
                for ring in self.snapshot.rings
            ],
        }


def ring_report(
    lake_dir: Path | str, as_of: datetime | None = None, parameters: RingParameters | None = None
) -> RingReport:
    """The rings known at ``as_of`` (the lake's last receipt when None) from the lake's events."""
    lake = Path(lake_dir)
    if not lake.is_dir():
        raise InputError("is not a folder", field="lake")
    if as_of is not None:
        to_microseconds(as_of, field="as_of")
    columns = read_identity_columns(lake)
    if not len(columns):
        raise InputError(
            "holds no identity events (login, loan_application, order_placed, payment_made, party_registered)"
            " in the lake layout <lake>/<event_type>/date=YYYY-MM-DD/part-NNNNNN.parquet",
            field="lake",
        )
    graph = IdentityGraph()
    graph.add_columns(columns.party_ids, columns.kinds, columns.values, columns.received_us)
    if as_of is None:
        last_us = max(columns.received_us, default=0)
        as_of = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=last_us)
    snapshot = ring_memberships(graph, as_of, parameters)
    return RingReport(
        as_of, graph.party_count, graph.identifier_count, int(graph.edges_as_of(as_of).party.size), snapshot
    )
