"""Decision headers in SQL: written with the trace's place in the lake, read back by ID or by party.

The header is the index of the trace lake: ``trace_part`` names the Parquet file that holds the body. A
header is written after its trace body is in the lake, so a header never points at nothing; a body whose
header write failed is an orphan in the lake, found by no query and harmless.

Recording the same decision twice (a retry) is a no-op when the outcome, reasons and policy version agree,
and a :class:`~fengkong.errors.ConflictError` when they do not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import require_utc
from fengkong.errors import ConflictError, InputError, NotFoundError
from fengkong.store import tables
from fengkong.store.tables_decisions import decisions, policy_switches, policy_versions

HEADER_INSERT_ROWS_MAX = 500  # rows per INSERT (15 parameters each; SQLite allows 32,766)


@dataclass(frozen=True, slots=True)
class DecisionHeader:
    decision_id: str
    flow: str
    party_id: str
    outcome: str
    decided_at: datetime
    reasons: tuple[str, ...]
    policy_version: str
    model_versions: tuple[tuple[str, str], ...]
    feature_set_version: str
    probability_of_default: float | None
    risk_band: str | None
    offer_amount_fen: int | None
    annualised_rate_pct: str | None
    trace_part: str

    def to_row(self, recorded_at: datetime) -> dict[str, object]:
        if not self.decision_id or len(self.decision_id) > bounds.decision_id_length_max:
            raise InputError(f"must be 1 to {bounds.decision_id_length_max} characters", field="decision_id")
        return {
            "decision_id": self.decision_id,
            "flow": self.flow,
            "party_id": self.party_id,
            "outcome": self.outcome,
            "decided_at": require_utc(self.decided_at, "decided_at"),
            "reasons": " ".join(self.reasons),
            "policy_version": self.policy_version,
            "model_versions": " ".join(f"{name}={version}" for name, version in self.model_versions),
            "feature_set_version": self.feature_set_version,
            "probability_of_default": self.probability_of_default,
            "risk_band": self.risk_band,
            "offer_amount_fen": self.offer_amount_fen,
            "annualised_rate_pct": self.annualised_rate_pct,
            "trace_part": self.trace_part,
            "recorded_at": require_utc(recorded_at, "recorded_at"),
        }

    @classmethod
    def from_row(cls, row: sa.Row[tuple[object, ...]]) -> DecisionHeader:
        mapping = row._mapping
        models = str(mapping["model_versions"])
        amount = mapping["offer_amount_fen"]
        probability = mapping["probability_of_default"]
        return cls(
            decision_id=str(mapping["decision_id"]),
            flow=str(mapping["flow"]),
            party_id=str(mapping["party_id"]),
            outcome=str(mapping["outcome"]),
            decided_at=mapping["decided_at"],
            reasons=tuple(str(mapping["reasons"]).split()),
            policy_version=str(mapping["policy_version"]),
            model_versions=tuple(
                (pair.split("=", 1)[0], pair.split("=", 1)[1]) for pair in models.split() if "=" in pair
            ),
            feature_set_version=str(mapping["feature_set_version"]),
            probability_of_default=None if probability is None else float(probability),
            risk_band=mapping["risk_band"],
            offer_amount_fen=None if amount is None else int(amount),
            annualised_rate_pct=mapping["annualised_rate_pct"],
            trace_part=str(mapping["trace_part"]),
        )


def record_headers(connection: sa.Connection, headers: Sequence[DecisionHeader], now: datetime) -> int:
    """Insert ``headers`` in the caller's transaction; returns how many were new (retries are skipped)."""
    if not headers:
        return 0
    ids = [header.decision_id for header in headers]
    if len(set(ids)) != len(ids):
        raise InputError("a decision ID appears twice in one batch", field="decision_id")
    existing: dict[str, DecisionHeader] = {}
    for start in range(0, len(ids), HEADER_INSERT_ROWS_MAX):
        chunk = ids[start : start + HEADER_INSERT_ROWS_MAX]
        for row in connection.execute(sa.select(decisions).where(decisions.c.decision_id.in_(chunk))):
            header = DecisionHeader.from_row(row)
            existing[header.decision_id] = header
    fresh = []
    for header in headers:
        earlier = existing.get(header.decision_id)
        if earlier is None:
            fresh.append(header.to_row(now))
            continue
        same = (earlier.outcome, earlier.reasons, earlier.policy_version) == (
            header.outcome,
            header.reasons,
            header.policy_version,
        )
        if not same:
            raise ConflictError(f"decision {header.decision_id} was recorded with another outcome or policy")
    for start in range(0, len(fresh), HEADER_INSERT_ROWS_MAX):
        connection.execute(decisions.insert(), fresh[start : start + HEADER_INSERT_ROWS_MAX])
    return len(fresh)


def get_header(connection: sa.Connection, decision_id: str) -> DecisionHeader:
    row = connection.execute(sa.select(decisions).where(decisions.c.decision_id == decision_id)).one_or_none()
    if row is None:
        raise NotFoundError(f"no decision {decision_id!r}")
    return DecisionHeader.from_row(row)


def headers_for_party(connection: sa.Connection, party_id: str, limit: int = 100) -> list[DecisionHeader]:
    """The party's latest decisions, newest first."""
    if not 1 <= limit <= bounds.trace_lake_batch_traces_max:
        raise InputError(f"must be between 1 and {bounds.trace_lake_batch_traces_max}", field="limit")
    rows = connection.execute(
        sa.select(decisions)
        .where(decisions.c.party_id == party_id)
        .order_by(decisions.c.decided_at.desc(), decisions.c.decision_id.desc())
        .limit(limit)
    )
    return [DecisionHeader.from_row(row) for row in rows]


def held_by(connection: sa.Connection, reservation_id: str, party_id: str, product: str) -> int:
    """What reservation ``reservation_id`` holds now on the party's product line (0: none, or not held), so
    that a retried authorisation is decided on the room its first attempt saw."""
    reservations = tables.exposure_reservations
    amount = connection.execute(
        sa.select(reservations.c.amount_fen).where(
            reservations.c.reservation_id == reservation_id,
            reservations.c.party_id == party_id,
            reservations.c.product == product,
            reservations.c.status == "held",
        )
    ).scalar_one_or_none()
    return 0 if amount is None else int(amount)


# -- governance: policy versions and kill switches -----------------------------------------------------------
# The rules live in ``decisions/governance.py``; these are its rows (the service converts both ways).


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version: str
    name: str
    digest: str
    source_text: str
    status: str  # proposed | approved | rejected | retired
    effective_from: datetime
    maker: str
    proposed_at: datetime
    checker: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class KillSwitch:
    name: str
    on: bool
    fallback_version: str | None
    changed_by: str
    changed_at: datetime
    reason: str


def _version_row(version: PolicyVersion) -> dict[str, object]:
    return {
        "policy_version": version.version,
        "policy_name": version.name,
        "digest": version.digest,
        "source_text": version.source_text,
        "status": version.status,
        "effective_from": version.effective_from,
        "maker": version.maker,
        "checker": version.checker,
        "proposed_at": version.proposed_at,
        "decided_at": version.decided_at,
    }


def _version_from(row: sa.Row[tuple[object, ...]]) -> PolicyVersion:
    m = row._mapping
    return PolicyVersion(
        version=str(m["policy_version"]),
        name=str(m["policy_name"]),
        digest=str(m["digest"]),
        source_text=str(m["source_text"]),
        status=m["status"],
        effective_from=m["effective_from"],
        maker=str(m["maker"]),
        proposed_at=m["proposed_at"],
        checker=m["checker"],
        decided_at=m["decided_at"],
    )


def insert_policy_version(connection: sa.Connection, version: PolicyVersion) -> None:
    """Record a proposed version; the same text proposed again is a conflict (it already has a record)."""
    exists = connection.execute(
        sa.select(policy_versions.c.status).where(policy_versions.c.policy_version == version.version)
    ).scalar_one_or_none()
    if exists is not None:
        raise ConflictError(f"{version.version} was already proposed (it is {exists})")
    connection.execute(policy_versions.insert().values(**_version_row(version)))


def update_policy_version(connection: sa.Connection, version: PolicyVersion, expected_status: str) -> None:
    """Write a decided version (approved, rejected, retired) if it is still ``expected_status`` (a concurrent
    checker who decided first wins; the second gets a conflict)."""
    result = connection.execute(
        policy_versions.update()
        .where(
            policy_versions.c.policy_version == version.version,
            policy_versions.c.status == expected_status,
        )
        .values(status=version.status, checker=version.checker, decided_at=version.decided_at)
    )
    if result.rowcount != 1:
        raise ConflictError(f"{version.version} is no longer {expected_status}")


def policy_version(connection: sa.Connection, version: str) -> PolicyVersion:
    row = connection.execute(
        sa.select(policy_versions).where(policy_versions.c.policy_version == version)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no policy version {version!r}")
    return _version_from(row)


def policy_versions_of(connection: sa.Connection, names: Sequence[str]) -> list[PolicyVersion]:
    rows = connection.execute(
        sa.select(policy_versions)
        .where(policy_versions.c.policy_name.in_(list(names)))
        .order_by(policy_versions.c.effective_from, policy_versions.c.proposed_at)
    )
    return [_version_from(row) for row in rows]


def kill_switch(connection: sa.Connection, name: str) -> KillSwitch | None:
    row = connection.execute(
        sa.select(policy_switches).where(policy_switches.c.policy_name == name)
    ).one_or_none()
    if row is None:
        return None
    m = row._mapping
    return KillSwitch(
        name=str(m["policy_name"]),
        on=bool(m["kill_switch"]),
        fallback_version=m["fallback_version"],
        changed_by=str(m["changed_by"]),
        changed_at=m["changed_at"],
        reason=str(m["reason"]),
    )


def set_kill_switch(connection: sa.Connection, switch: KillSwitch) -> None:
    values = {
        "kill_switch": switch.on,
        "fallback_version": switch.fallback_version,
        "changed_by": switch.changed_by,
        "changed_at": switch.changed_at,
        "reason": switch.reason,
    }
    updated = connection.execute(
        policy_switches.update().where(policy_switches.c.policy_name == switch.name).values(**values)
    )
    if updated.rowcount == 0:
        connection.execute(policy_switches.insert().values(policy_name=switch.name, **values))


def move_trace_parts(connection: sa.Connection, moves: Sequence[tuple[str, str, str]]) -> int:
    """Point headers at their trace's new file: ``(decision_id, old part, new part)``; a header that no longer
    names the old part is left alone. Returns how many moved."""
    moved = 0
    for decision_id, old_part, new_part in moves:
        result = connection.execute(
            decisions.update()
            .where(decisions.c.decision_id == decision_id, decisions.c.trace_part == old_part)
            .values(trace_part=new_part)
        )
        moved += result.rowcount
    return moved
