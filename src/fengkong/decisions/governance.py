"""Policy governance: versions with effective dates, maker-checker approval, one-step rollback, kill switch.

Pure rules over values; a service keeps them in SQL (``store/decisions.py``, migration 0007).

* :func:`propose` — a maker proposes a policy text to take effect from an instant. The text is loaded and
  compiled on the spot (a text that does not load is never proposed) and its version is the policy's own
  (``name@label+sha256``), so the same text is always the same version.
* :func:`approve` / :func:`reject` — a checker decides; the checker is never the maker (the database checks
  it too). Only a proposed version can be decided.
* :func:`in_force` — the policy in force at an instant: the approved version with the latest
  ``effective_from`` at or before it (ties: the one approved last). Versions are never edited or deleted.
* :func:`rollback` — one step back: the version in force is *retired* and the one before it is in force
  again at once. No checker is needed to go back to a version a checker already approved.
* :func:`choose` — with the kill switch on, every decision runs under the switch's fallback (a conservative
  policy, itself approved); with it off, under :func:`in_force`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from fengkong.clock import require_utc
from fengkong.decisions.policy import Policy, parse_policy
from fengkong.errors import ConflictError, InputError, NotFoundError

Status = Literal["proposed", "approved", "rejected", "retired"]
ACTOR_LENGTH_MAX = 64


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version: str
    name: str
    digest: str
    source_text: str
    status: Status
    effective_from: datetime
    maker: str
    proposed_at: datetime
    checker: str | None = None
    decided_at: datetime | None = None

    def load(self) -> Policy:
        """The policy itself, compiled from the stored text."""
        return parse_policy(self.source_text, f"policy {self.version}")


@dataclass(frozen=True, slots=True)
class KillSwitch:
    name: str
    on: bool
    fallback_version: str | None
    changed_by: str
    changed_at: datetime
    reason: str


def _actor(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > ACTOR_LENGTH_MAX:
        raise InputError(f"must name a person, 1 to {ACTOR_LENGTH_MAX} characters", field=field)
    return value.strip()


def propose(text: str, source: str, maker: str, effective_from: datetime, now: datetime) -> PolicyVersion:
    policy = parse_policy(text, source)
    return PolicyVersion(
        version=policy.version,
        name=policy.name,
        digest=policy.digest,
        source_text=text,
        status="proposed",
        effective_from=require_utc(effective_from, "effective_from"),
        maker=_actor(maker, "maker"),
        proposed_at=require_utc(now, "now"),
    )


def _decide(version: PolicyVersion, checker: str, now: datetime, status: Status) -> PolicyVersion:
    checker = _actor(checker, "checker")
    if version.status != "proposed":
        raise ConflictError(f"{version.version} is {version.status}, not proposed")
    if checker == version.maker:
        raise ConflictError(f"{checker} proposed {version.version} and cannot also check it (maker-checker)")
    return replace(version, status=status, checker=checker, decided_at=require_utc(now, "now"))


def approve(version: PolicyVersion, checker: str, now: datetime) -> PolicyVersion:
    return _decide(version, checker, now, "approved")


def reject(version: PolicyVersion, checker: str, now: datetime) -> PolicyVersion:
    return _decide(version, checker, now, "rejected")


def _order(version: PolicyVersion) -> tuple[datetime, datetime]:
    return (version.effective_from, version.decided_at or version.proposed_at)


def in_force(versions: Sequence[PolicyVersion], name: str, at: datetime) -> PolicyVersion:
    at = require_utc(at, "at")
    candidates = [v for v in versions if v.name == name and v.status == "approved" and v.effective_from <= at]
    if not candidates:
        raise NotFoundError(f"no approved version of policy {name!r} is in force at {at.isoformat()}")
    return max(candidates, key=_order)


def rollback(versions: Sequence[PolicyVersion], name: str, actor: str, now: datetime) -> PolicyVersion:
    """Retire the version in force now; returns the retired version (the previous one is in force again)."""
    current = in_force(versions, name, now)
    others = [v for v in versions if v.version != current.version]
    try:
        in_force(others, name, now)
    except NotFoundError:
        raise ConflictError(
            f"{current.version} is the only approved version of {name!r}: nothing to go back to"
        ) from None
    return replace(
        current, status="retired", checker=_actor(actor, "actor"), decided_at=require_utc(now, "now")
    )


def choose(
    versions: Sequence[PolicyVersion], switch: KillSwitch | None, name: str, at: datetime
) -> PolicyVersion:
    """The version decisions run under at ``at``: the fallback while the kill switch is on."""
    if switch is not None and switch.on:
        fallback = next((v for v in versions if v.version == switch.fallback_version), None)
        if fallback is None or fallback.status != "approved":
            raise ConflictError(
                f"the kill switch of {name!r} falls back to {switch.fallback_version}, which is not approved"
            )
        return fallback
    return in_force(versions, name, at)


def switch(
    name: str, on: bool, fallback_version: str | None, actor: str, now: datetime, reason: str
) -> KillSwitch:
    if on and not fallback_version:
        raise InputError(
            "a kill switch needs the conservative version to fall back to", field="fallback_version"
        )
    if not reason.strip():
        raise InputError("say why the switch changes", field="reason")
    return KillSwitch(
        name, on, fallback_version, _actor(actor, "actor"), require_utc(now, "now"), reason.strip()
    )
