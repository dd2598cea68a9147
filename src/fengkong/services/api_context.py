"""What ``fengkong serve`` holds while it runs, and the one way it makes a write idempotent.

:class:`ApiContext` gathers the process's shared objects (the database engine, the clock, the cap policy,
the event lake and the optional Redis transport) so that ``api/`` never imports ``store/`` or ``ingest/``.

:func:`run_once` is idempotency for every write of the API (ARCHITECTURE.md, "Identifiers and retries"): the
key, scoped per tenant and endpoint, is written *before* the work, in the same transaction as the work and
its remembered response (:meth:`fengkong.store.repositories.IdempotencyRepository.remember_or_replay`).
So a retry with the same key and request gets the first response back, however many times it arrives and
however concurrently; the same key with another request raises
:class:`~fengkong.errors.IdempotencyConflictError`; and work that raises rolls back with its key, leaving the
key free for a corrected retry. The response kept is the HTTP status and the JSON body.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import Clock
from fengkong.compliance.caps import CapPolicy, default_cap_policy
from fengkong.errors import InputError, InvariantError, UnavailableError
from fengkong.ingest.transport import RedisStreamsTransport, Transport
from fengkong.services import ledger as ledger_service
from fengkong.store import migrate
from fengkong.store.config import describe, make_engine
from fengkong.store.ledger import LedgerRepository
from fengkong.store.repositories import IdempotencyRepository

JsonObject = dict[str, Any]
Work = Callable[[sa.Connection], tuple[int, JsonObject]]
"""The work of one write, on the transaction's connection: returns the HTTP status and the JSON body."""

DEFAULT_REDIS_PREFIX: Final = "fengkong:"


@dataclass(frozen=True, slots=True)
class ApiContext:
    """The shared objects of one API process (see the module docstring)."""

    engine: sa.Engine
    clock: Clock
    tenant: str
    lake_dir: Path
    cap_policy: CapPolicy
    transport: Transport | None = None  # None: events go to the lake only
    database: str = ""  # the database URL with its password hidden, for /healthz

    def close(self) -> None:
        self.engine.dispose()


def open_context(
    database_url: str,
    clock: Clock,
    *,
    tenant: str,
    lake_dir: Path,
    redis_url: str | None = None,
    redis_prefix: str = DEFAULT_REDIS_PREFIX,
) -> ApiContext:
    """The context of an API process over the (migrated) database at ``database_url``."""
    if not tenant or len(tenant) > bounds.tenant_id_length_max:
        raise InputError(f"must be 1 to {bounds.tenant_id_length_max} characters", field="tenant")
    transport: Transport | None = None
    if redis_url:
        transport = RedisStreamsTransport.from_url(redis_url, prefix=redis_prefix)
    return ApiContext(
        engine=make_engine(database_url),
        clock=clock,
        tenant=tenant,
        lake_dir=Path(lake_dir),
        cap_policy=default_cap_policy(),
        transport=transport,
        database=describe(database_url),
    )


def require_migrated(database_url: str) -> str:
    """The database's revision; :class:`InputError` when it is not migrated to the newest one."""
    current = migrate.current_revision(database_url)
    head = migrate.head_revision()
    if current is None or current != head:
        raise InputError(
            f"{describe(database_url)} is at revision {current or 'base (no tables)'}, not {head}: "
            "run `fengkong db upgrade` first",
            field="database_url",
        )
    return current


def prepare(context: ApiContext) -> None:
    """Make the database ready for the API's writes: the ledger's chart of accounts (idempotent)."""
    with context.engine.begin() as connection:
        ledger_service.install_chart(connection, LedgerRepository(context.clock))


def health(context: ApiContext) -> JsonObject:
    """``{"status": "ok", "database": ...}`` when the database answers; :class:`UnavailableError` if not."""
    try:
        with context.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1")).scalar_one()
    except UnavailableError:
        raise
    except sa.exc.SQLAlchemyError as exc:
        raise UnavailableError(f"the database does not answer: {type(exc).__name__}") from exc
    return {"status": "ok", "database": context.database, "events": _events_target(context)}


def _events_target(context: ApiContext) -> str:
    return "lake" if context.transport is None else "lake+redis-streams"


@dataclass(frozen=True, slots=True)
class Remembered:
    """A write's response: its HTTP status and JSON body, and whether it was replayed from the first call."""

    status: int
    body: JsonObject
    replayed: bool


def canonical_request(path: str, body: Mapping[str, Any] | None) -> bytes:
    """The bytes that identify a request for idempotency: the path (which carries its IDs) and the body as
    canonical JSON (sorted keys, no spaces), so a retry that reorders keys or spaces is the same request."""
    document = {"path": path, "body": body}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def run_once(context: ApiContext, endpoint: str, key: str, request: bytes, work: Work) -> Remembered:
    """Do ``work`` once per ``(tenant, endpoint, key)`` (see the module docstring)."""
    repository = IdempotencyRepository(context.clock)

    def compute(connection: sa.Connection) -> JsonObject:
        status, body = work(connection)
        return {"status": status, "body": body}

    with context.engine.begin() as connection:
        result = repository.remember_or_replay(
            connection, context.tenant, endpoint, key, request, lambda: compute(connection)
        )
    status, body = result.response.get("status"), result.response.get("body")
    if not isinstance(status, int) or not isinstance(body, dict):
        raise InvariantError(f"idempotency key {key!r} holds a response without a status and a body")
    return Remembered(status=status, body=body, replayed=result.replayed)
