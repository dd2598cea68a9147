"""Exposure in SQL: limits, holds and outstanding per party and product and per household, held atomically.

Every function takes the caller's connection, inside the caller's transaction, so a decision can place its
hold and write its own rows in one commit. Amounts are integer fen.

Atomicity. :func:`reserve` moves the amount into ``held_fen`` of the party's limit row and of the household's
cap row with conditional UPDATEs (``... WHERE limit_fen - held_fen - outstanding_fen >= :amount``). On
PostgreSQL the UPDATE takes the row lock and, under READ COMMITTED, re-checks its WHERE against the newest
committed row after waiting for a concurrent writer, so two concurrent requests can never both pass a cap; on
SQLite every write transaction holds the database (``BEGIN IMMEDIATE``). Rows are always locked in the same
order (reservation, party limit, household), so reservations never deadlock each other.

Idempotency. A reservation ID is recorded with its outcome (held or refused, with the cap that was in the
way). A retry with the same request returns the first result (with the hold's current status); the same ID
with another party, household, product or amount raises :class:`~fengkong.errors.IdempotencyConflictError`.
Concurrent retries of one ID meet on the primary key: the second waits for the first and then reads it.

Lifecycle. A hold is ``held`` until :func:`release` (cancel), :func:`expire` (past ``expires_at``) or
:func:`convert` (disbursed: the amount moves from held to outstanding). :func:`repay` lowers outstanding.
Lowering a limit below what is already used is allowed (a line cut): only new holds are refused.

Exposure is never read from a feature store: :func:`party_exposure` and :func:`household_exposure` read these
rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import require_utc
from fengkong.errors import IdempotencyConflictError, InputError, InvariantError, NotFoundError
from fengkong.store import tables
from fengkong.store.dialect import insert_ignoring_duplicates

Cap = Literal["party_limit", "household_cap"]
HoldStatus = Literal["held", "released", "expired", "converted"]

PARTY_LIMIT: Final[Cap] = "party_limit"
HOUSEHOLD_CAP: Final[Cap] = "household_cap"


@dataclass(frozen=True, slots=True)
class Reservation:
    """A hold of ``amount_fen`` against the party's product limit and the household cap."""

    reservation_id: str
    party_id: str
    household_id: str
    product: str
    amount_fen: int
    status: HoldStatus
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Refusal:
    """The reservation would breach ``cap``; ``available_fen`` was the room left under it (0 if unset)."""

    reservation_id: str
    cap: Cap
    available_fen: int


@dataclass(frozen=True, slots=True)
class Exposure:
    """One limit row: the limit (or cap), what is held, what is outstanding, and the room left (never < 0)."""

    limit_fen: int
    held_fen: int
    outstanding_fen: int

    @property
    def used_fen(self) -> int:
        return self.held_fen + self.outstanding_fen

    @property
    def available_fen(self) -> int:
        return max(0, self.limit_fen - self.used_fen)


def _text(value: str, field: str, length_max: int) -> str:
    if not isinstance(value, str) or not value:
        raise InputError(f"{field} must be a non-empty string", field=field)
    if len(value) > length_max:
        raise InputError(f"{field} is longer than {length_max} characters", field=field)
    return value


def _fen(value: int, field: str, *, positive: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{field} must be an integer number of fen", field=field)
    if value < (1 if positive else 0):
        raise InputError(f"{field} must be {'positive' if positive else 'at least 0'}", field=field)
    if value > bounds.exposure_amount_fen_max:
        raise InputError(f"{field} exceeds {bounds.exposure_amount_fen_max} fen", field=field)
    return value


def _utc(value: datetime, field: str) -> datetime:
    try:
        return require_utc(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"{field} must be a timezone-aware UTC datetime", field=field) from error


def _insert_ignoring_duplicates(connection: sa.Connection, table: sa.Table, row: dict[str, object]) -> int:
    """Insert the row unless its primary key exists; 1 if inserted, else 0."""
    return 1 if insert_ignoring_duplicates(connection, table, row) else 0


def set_party_limit(
    connection: sa.Connection, party_id: str, product: str, limit_fen: int, now: datetime
) -> None:
    """Create or change a party's limit for one product (held and outstanding are kept)."""
    party_id = _text(party_id, "party_id", bounds.party_id_length_max)
    product = _text(product, "product", bounds.exposure_product_length_max)
    limit_fen = _fen(limit_fen, "limit_fen", positive=False)
    now = _utc(now, "now")
    table = tables.exposure_party_limits
    changed = connection.execute(
        table.update()
        .where(table.c.party_id == party_id, table.c.product == product)
        .values(limit_fen=limit_fen, updated_at=now)
    ).rowcount
    if changed == 0:
        row = {
            "party_id": party_id,
            "product": product,
            "limit_fen": limit_fen,
            "held_fen": 0,
            "outstanding_fen": 0,
            "updated_at": now,
        }
        if _insert_ignoring_duplicates(connection, table, row) == 0:  # created meanwhile: set it now
            set_party_limit(connection, party_id, product, limit_fen, now)


def set_household_cap(connection: sa.Connection, household_id: str, cap_fen: int, now: datetime) -> None:
    """Create or change a household's cap across products (held and outstanding are kept)."""
    household_id = _text(household_id, "household_id", bounds.party_id_length_max)
    cap_fen = _fen(cap_fen, "cap_fen", positive=False)
    now = _utc(now, "now")
    table = tables.exposure_households
    changed = connection.execute(
        table.update().where(table.c.household_id == household_id).values(cap_fen=cap_fen, updated_at=now)
    ).rowcount
    if changed == 0:
        row = {
            "household_id": household_id,
            "cap_fen": cap_fen,
            "held_fen": 0,
            "outstanding_fen": 0,
            "updated_at": now,
        }
        if _insert_ignoring_duplicates(connection, table, row) == 0:
            set_household_cap(connection, household_id, cap_fen, now)


def _party_row(party_id: str, product: str) -> sa.ColumnElement[bool]:
    table = tables.exposure_party_limits
    return sa.and_(table.c.party_id == party_id, table.c.product == product)


def _household_row(household_id: str) -> sa.ColumnElement[bool]:
    return tables.exposure_households.c.household_id == household_id


def _move(
    connection: sa.Connection,
    party_id: str,
    household_id: str,
    product: str,
    *,
    held_fen: int,
    outstanding_fen: int,
    now: datetime,
) -> None:
    """Add the deltas to the party's and household's rows, party first; both rows must exist."""
    for table, where in (
        (tables.exposure_party_limits, _party_row(party_id, product)),
        (tables.exposure_households, _household_row(household_id)),
    ):
        changed = connection.execute(
            table.update()
            .where(where)
            .values(
                held_fen=table.c.held_fen + held_fen,
                outstanding_fen=table.c.outstanding_fen + outstanding_fen,
                updated_at=now,
            )
        ).rowcount
        if changed != 1:
            raise InvariantError(f"exposure row missing in {table.name} for {party_id}/{household_id}")


def _room(connection: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool], limit: str) -> int:
    row = connection.execute(
        sa.select(table.c[limit] - table.c.held_fen - table.c.outstanding_fen).where(where)
    ).first()
    return 0 if row is None else max(0, int(row[0]))


def _result(row: sa.Row[tuple[object, ...]]) -> Reservation | Refusal:
    mapping = row._mapping
    if mapping["status"] == "refused":
        return Refusal(
            reservation_id=mapping["reservation_id"],
            cap=mapping["refused_cap"],
            available_fen=int(mapping["available_fen"]),
        )
    return Reservation(
        reservation_id=mapping["reservation_id"],
        party_id=mapping["party_id"],
        household_id=mapping["household_id"],
        product=mapping["product"],
        amount_fen=int(mapping["amount_fen"]),
        status=mapping["status"],
        expires_at=mapping["expires_at"],
    )


def reserve(
    connection: sa.Connection,
    party_id: str,
    household_id: str,
    product: str,
    amount_fen: int,
    reservation_id: str,
    expires_at: datetime,
    now: datetime,
) -> Reservation | Refusal:
    """Hold ``amount_fen`` under the party's product limit and the household cap, or name the cap in the way.

    A party with no limit for the product, or a household with no cap, has no room: the refusal names it.
    """
    party_id = _text(party_id, "party_id", bounds.party_id_length_max)
    household_id = _text(household_id, "household_id", bounds.party_id_length_max)
    product = _text(product, "product", bounds.exposure_product_length_max)
    amount_fen = _fen(amount_fen, "amount_fen", positive=True)
    reservation_id = _text(reservation_id, "reservation_id", bounds.exposure_reservation_id_length_max)
    expires_at = _utc(expires_at, "expires_at")
    now = _utc(now, "now")
    reservations = tables.exposure_reservations
    claimed = _insert_ignoring_duplicates(
        connection,
        reservations,
        {
            "reservation_id": reservation_id,
            "party_id": party_id,
            "household_id": household_id,
            "product": product,
            "amount_fen": amount_fen,
            "status": "held",
            "expires_at": expires_at,
            "created_at": now,
            "updated_at": now,
        },
    )
    if claimed == 0:
        first = connection.execute(
            sa.select(reservations).where(reservations.c.reservation_id == reservation_id)
        ).one()
        request = (party_id, household_id, product, amount_fen)
        if (first.party_id, first.household_id, first.product, int(first.amount_fen)) != request:
            raise IdempotencyConflictError(
                f"reservation {reservation_id} was made for another party, household, product or amount"
            )
        return _result(first)
    refused = _take(connection, party_id, household_id, product, amount_fen, now)
    if refused is None:
        return Reservation(reservation_id, party_id, household_id, product, amount_fen, "held", expires_at)
    cap, available = refused
    connection.execute(
        reservations.update()
        .where(reservations.c.reservation_id == reservation_id)
        .values(status="refused", refused_cap=cap, available_fen=available, updated_at=now)
    )
    return Refusal(reservation_id, cap, available)


def _take(
    connection: sa.Connection, party_id: str, household_id: str, product: str, amount_fen: int, now: datetime
) -> tuple[Cap, int] | None:
    """Move the amount into held on both rows if both have room; else the cap in the way and its room."""
    limits = tables.exposure_party_limits
    households = tables.exposure_households
    took_party = connection.execute(
        limits.update()
        .where(
            _party_row(party_id, product),
            limits.c.limit_fen - limits.c.held_fen - limits.c.outstanding_fen >= amount_fen,
        )
        .values(held_fen=limits.c.held_fen + amount_fen, updated_at=now)
    ).rowcount
    if took_party == 0:
        return PARTY_LIMIT, _room(connection, limits, _party_row(party_id, product), "limit_fen")
    took_household = connection.execute(
        households.update()
        .where(
            _household_row(household_id),
            households.c.cap_fen - households.c.held_fen - households.c.outstanding_fen >= amount_fen,
        )
        .values(held_fen=households.c.held_fen + amount_fen, updated_at=now)
    ).rowcount
    if took_household == 0:
        connection.execute(  # give back the party's share, in the same transaction
            limits.update()
            .where(_party_row(party_id, product))
            .values(held_fen=limits.c.held_fen - amount_fen, updated_at=now)
        )
        return HOUSEHOLD_CAP, _room(connection, households, _household_row(household_id), "cap_fen")
    return None


def _finish(connection: sa.Connection, reservation_id: str, status: HoldStatus, now: datetime) -> Reservation:
    """Move a held reservation to ``status`` (its amount leaves held; converted moves it to outstanding)."""
    reservation_id = _text(reservation_id, "reservation_id", bounds.exposure_reservation_id_length_max)
    now = _utc(now, "now")
    reservations = tables.exposure_reservations
    # Claim the hold first: a concurrent release/expire/convert of the same ID updates nothing.
    changed = connection.execute(
        reservations.update()
        .where(reservations.c.reservation_id == reservation_id, reservations.c.status == "held")
        .values(status=status, updated_at=now)
    ).rowcount
    row = connection.execute(
        sa.select(reservations).where(reservations.c.reservation_id == reservation_id)
    ).first()
    if row is None:
        raise NotFoundError(f"no reservation {reservation_id}")
    result = _result(row)
    if not isinstance(result, Reservation):
        raise InputError(
            f"reservation {reservation_id} was refused; there is no hold", field="reservation_id"
        )
    if changed == 1:
        _move(
            connection,
            result.party_id,
            result.household_id,
            result.product,
            held_fen=-result.amount_fen,
            outstanding_fen=result.amount_fen if status == "converted" else 0,
            now=now,
        )
    return result


def release(connection: sa.Connection, reservation_id: str, now: datetime) -> Reservation:
    """Cancel a hold. Releasing a hold that is no longer held changes nothing and returns it as it is."""
    return _finish(connection, reservation_id, "released", now)


def convert(connection: sa.Connection, reservation_id: str, now: datetime) -> Reservation:
    """On disbursement: the hold becomes outstanding. A hold no longer held is returned unchanged."""
    return _finish(connection, reservation_id, "converted", now)


def expire(
    connection: sa.Connection, now: datetime, rows_max: int = bounds.exposure_expire_batch_rows_max
) -> int:
    """Release holds whose ``expires_at`` is at or before ``now``, at most ``rows_max``; return how many.

    The holds are marked expired in one statement; then the released amounts are summed per party row and
    per household row and written party rows first, then household rows, each in key order. A reservation
    takes at most one party row and then one household row, so expiry and reservations never deadlock.
    """
    now = _utc(now, "now")
    if isinstance(rows_max, bool) or not isinstance(rows_max, int) or not rows_max >= 1:
        raise InputError("rows_max must be a positive integer", field="rows_max")
    rows_max = min(rows_max, bounds.exposure_expire_batch_rows_max)
    reservations = tables.exposure_reservations
    due = list(
        connection.execute(
            sa.select(reservations.c.reservation_id)
            .where(reservations.c.status == "held", reservations.c.expires_at <= now)
            .order_by(reservations.c.expires_at, reservations.c.reservation_id)
            .limit(rows_max)
        ).scalars()
    )
    if not due:
        return 0
    expired = connection.execute(
        reservations.update()
        .where(reservations.c.reservation_id.in_(due), reservations.c.status == "held")
        .values(status="expired", updated_at=now)
        .returning(
            reservations.c.party_id,
            reservations.c.product,
            reservations.c.household_id,
            reservations.c.amount_fen,
        )
    ).all()
    per_party: dict[tuple[str, str], int] = {}
    per_household: dict[str, int] = {}
    for row in expired:
        key = (row.party_id, row.product)
        per_party[key] = per_party.get(key, 0) + int(row.amount_fen)
        per_household[row.household_id] = per_household.get(row.household_id, 0) + int(row.amount_fen)
    limits = tables.exposure_party_limits
    households = tables.exposure_households
    for (party_id, product), fen in sorted(per_party.items()):
        _release_held(connection, limits, _party_row(party_id, product), fen, now)
    for household_id, fen in sorted(per_household.items()):
        _release_held(connection, households, _household_row(household_id), fen, now)
    return len(expired)


def _release_held(
    connection: sa.Connection, table: sa.Table, where: sa.ColumnElement[bool], fen: int, now: datetime
) -> None:
    changed = connection.execute(
        table.update().where(where).values(held_fen=table.c.held_fen - fen, updated_at=now)
    ).rowcount
    if changed != 1:
        raise InvariantError(f"exposure row missing in {table.name}")


def repay(
    connection: sa.Connection, party_id: str, household_id: str, product: str, amount_fen: int, now: datetime
) -> None:
    """Lower outstanding on the party's product row and the household row (a repayment of principal)."""
    party_id = _text(party_id, "party_id", bounds.party_id_length_max)
    household_id = _text(household_id, "household_id", bounds.party_id_length_max)
    product = _text(product, "product", bounds.exposure_product_length_max)
    amount_fen = _fen(amount_fen, "amount_fen", positive=True)
    now = _utc(now, "now")
    # Conditional UPDATEs, party row first as everywhere: a concurrent repayment is re-checked after the lock.
    for table, where, name in (
        (tables.exposure_party_limits, _party_row(party_id, product), f"{party_id}/{product}"),
        (tables.exposure_households, _household_row(household_id), f"household {household_id}"),
    ):
        changed = connection.execute(
            table.update()
            .where(where, table.c.outstanding_fen >= amount_fen)
            .values(outstanding_fen=table.c.outstanding_fen - amount_fen, updated_at=now)
        ).rowcount
        if changed == 0:  # raising rolls the caller's transaction back, the party row with it
            if connection.execute(sa.select(table.c.outstanding_fen).where(where)).first() is None:
                raise NotFoundError(f"no exposure for {name}")
            raise InputError(f"amount_fen exceeds what is outstanding for {name}", field="amount_fen")


def party_exposure(connection: sa.Connection, party_id: str) -> dict[str, Exposure]:
    """The party's exposure per product."""
    table = tables.exposure_party_limits
    rows = connection.execute(
        sa.select(table.c.product, table.c.limit_fen, table.c.held_fen, table.c.outstanding_fen)
        .where(table.c.party_id == party_id)
        .order_by(table.c.product)
    )
    return {
        row.product: Exposure(int(row.limit_fen), int(row.held_fen), int(row.outstanding_fen)) for row in rows
    }


def household_exposure(connection: sa.Connection, household_id: str) -> Exposure | None:
    """The household's exposure across products against its cap; None when no cap is set."""
    table = tables.exposure_households
    row = connection.execute(
        sa.select(table.c.cap_fen, table.c.held_fen, table.c.outstanding_fen).where(
            table.c.household_id == household_id
        )
    ).first()
    if row is None:
        return None
    return Exposure(int(row.cap_fen), int(row.held_fen), int(row.outstanding_fen))
