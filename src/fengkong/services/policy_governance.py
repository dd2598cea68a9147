"""Use cases of policy governance, kept in SQL: propose, approve or reject (maker-checker), roll back one
step, flip the kill switch, and load the policy decisions run under at an instant.

The rules are :mod:`fengkong.decisions.governance`; the rows are ``store/decisions.py``'s. Every change is
one transaction; a second checker racing the first gets a conflict (the row's status is re-checked by the
UPDATE), and the database refuses a checker who is the maker even if the code did not.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock, SystemClock
from fengkong.decisions import governance
from fengkong.decisions.governance import KillSwitch, PolicyVersion
from fengkong.decisions.policy import Policy
from fengkong.decisions.policy_yaml import read_policy_text
from fengkong.errors import ConflictError
from fengkong.services.database import resolve_database_url
from fengkong.store import decisions as store
from fengkong.store.config import make_engine

__all__ = [
    "KillSwitch",
    "PolicyCommands",
    "PolicyVersion",
    "approve_policy",
    "policy_for_decisions",
    "propose_policy",
    "reject_policy",
    "rollback_policy",
    "set_kill_switch",
]


def _to_row(version: governance.PolicyVersion) -> store.PolicyVersion:
    return store.PolicyVersion(
        version=version.version,
        name=version.name,
        digest=version.digest,
        source_text=version.source_text,
        status=version.status,
        effective_from=version.effective_from,
        maker=version.maker,
        proposed_at=version.proposed_at,
        checker=version.checker,
        decided_at=version.decided_at,
    )


def _from_row(row: store.PolicyVersion) -> governance.PolicyVersion:
    if row.status not in ("proposed", "approved", "rejected", "retired"):
        raise ValueError(f"unknown policy status {row.status!r}")
    return governance.PolicyVersion(
        version=row.version,
        name=row.name,
        digest=row.digest,
        source_text=row.source_text,
        status=row.status,  # type: ignore[arg-type]
        effective_from=row.effective_from,
        maker=row.maker,
        proposed_at=row.proposed_at,
        checker=row.checker,
        decided_at=row.decided_at,
    )


def _switch_from(row: store.KillSwitch | None) -> governance.KillSwitch | None:
    if row is None:
        return None
    return governance.KillSwitch(
        row.name, row.on, row.fallback_version, row.changed_by, row.changed_at, row.reason
    )


def propose_policy(
    engine: sa.Engine, path: Path, maker: str, effective_from: datetime, now: datetime
) -> governance.PolicyVersion:
    """Load and compile the policy file at ``path`` and record it as proposed by ``maker``."""
    text = read_policy_text(path, bounds.policy_file_bytes_max)
    version = governance.propose(text, str(path), maker, effective_from, now)
    with engine.begin() as connection:
        store.insert_policy_version(connection, _to_row(version))
    return version


def _decide(
    engine: sa.Engine, version: str, checker: str, now: datetime, approve: bool
) -> governance.PolicyVersion:
    with engine.begin() as connection:
        current = _from_row(store.policy_version(connection, version))
        decided = (governance.approve if approve else governance.reject)(current, checker, now)
        store.update_policy_version(connection, _to_row(decided), "proposed")
    return decided


def approve_policy(engine: sa.Engine, version: str, checker: str, now: datetime) -> governance.PolicyVersion:
    return _decide(engine, version, checker, now, approve=True)


def reject_policy(engine: sa.Engine, version: str, checker: str, now: datetime) -> governance.PolicyVersion:
    return _decide(engine, version, checker, now, approve=False)


def rollback_policy(engine: sa.Engine, name: str, actor: str, now: datetime) -> governance.PolicyVersion:
    """Retire the version of ``name`` in force now; the one before it is in force again. Returns the new
    version in force."""
    with engine.begin() as connection:
        versions = [_from_row(row) for row in store.policy_versions_of(connection, [name])]
        retired = governance.rollback(versions, name, actor, now)
        store.update_policy_version(connection, _to_row(retired), "approved")
        remaining = [v for v in versions if v.version != retired.version]
        return governance.in_force(remaining, name, now)


def set_kill_switch(
    engine: sa.Engine,
    name: str,
    on: bool,
    fallback_version: str | None,
    actor: str,
    now: datetime,
    reason: str,
) -> governance.KillSwitch:
    switch = governance.switch(name, on, fallback_version, actor, now, reason)
    with engine.begin() as connection:
        if on and fallback_version is not None:
            fallback = _from_row(store.policy_version(connection, fallback_version))
            if fallback.status != "approved":
                raise ConflictError(f"the fallback {fallback_version} is {fallback.status}, not approved")
        store.set_kill_switch(
            connection,
            store.KillSwitch(
                switch.name,
                switch.on,
                switch.fallback_version,
                switch.changed_by,
                switch.changed_at,
                switch.reason,
            ),
        )
    return switch


def policy_for_decisions(
    engine: sa.Engine, name: str, at: datetime
) -> tuple[governance.PolicyVersion, Policy]:
    """The version of ``name`` decisions run under at ``at`` (the fallback while its kill switch is on),
    and the compiled policy."""
    with engine.connect() as connection:
        switch = _switch_from(store.kill_switch(connection, name))
        versions = [_from_row(row) for row in store.policy_versions_of(connection, [name])]
        if switch is not None and switch.on and switch.fallback_version is not None:
            versions.append(_from_row(store.policy_version(connection, switch.fallback_version)))
    chosen = governance.choose(versions, switch, name, at)
    return chosen, chosen.load()


class PolicyCommands:
    """The governance use cases for the command line: each opens the database at ``url`` (default as
    ``fengkong db``) and uses the wall clock."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else SystemClock()

    def _engine(self, url: str | None) -> sa.Engine:
        return make_engine(resolve_database_url(url))

    def propose(
        self, path: Path, maker: str, effective_from: datetime | None, url: str | None
    ) -> governance.PolicyVersion:
        engine = self._engine(url)
        try:
            now = self.clock.now()
            return propose_policy(engine, path, maker, effective_from or now, now)
        finally:
            engine.dispose()

    def decide(self, version: str, checker: str, approve: bool, url: str | None) -> governance.PolicyVersion:
        engine = self._engine(url)
        try:
            return _decide(engine, version, checker, self.clock.now(), approve)
        finally:
            engine.dispose()

    def rollback(self, name: str, actor: str, url: str | None) -> governance.PolicyVersion:
        engine = self._engine(url)
        try:
            return rollback_policy(engine, name, actor, self.clock.now())
        finally:
            engine.dispose()

    def kill_switch(
        self, name: str, on: bool, fallback: str | None, actor: str, reason: str, url: str | None
    ) -> governance.KillSwitch:
        engine = self._engine(url)
        try:
            return set_kill_switch(engine, name, on, fallback, actor, self.clock.now(), reason)
        finally:
            engine.dispose()

    def in_force(self, name: str, at: datetime | None, url: str | None) -> governance.PolicyVersion:
        engine = self._engine(url)
        try:
            version, _policy = policy_for_decisions(engine, name, at or self.clock.now())
            return version
        finally:
            engine.dispose()
