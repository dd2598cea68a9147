"""Credit lines, their change history and early-warning alerts in SQL (tables in
:mod:`fengkong.store.tables_credit_lines`).

Every function takes the caller's connection, inside the caller's transaction.

* :func:`open_line` creates a line and records its opening; :func:`apply_change` changes it. Both set the
  exposure limit (``exposure_party_limits``, which reservations check) in the same transaction, so the line
  and what holds are checked against never disagree. A frozen line's exposure limit is 0.
* A change is idempotent by its change ID (INSERT ... ON CONFLICT DO NOTHING RETURNING): a retry with the
  same body returns False and changes nothing; the same ID with another body raises
  :class:`~fengkong.errors.IdempotencyConflictError`. The line's UPDATE is conditional on the limit and status
  the change was computed from, so a change proposed from a stale read is refused with
  :class:`~fengkong.errors.ConflictError` (and nothing of it is written).
* The history is append-only: no change row is ever updated or deleted.
* :func:`open_alert` puts an alert in the review queue once per alert ID; :func:`alert_queue` reads it,
  most severe first, then oldest; :func:`review_alert` closes an open alert (conditional UPDATE, so two
  reviewers cannot both decide it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import require_utc
from fengkong.errors import ConflictError, IdempotencyConflictError, InputError, NotFoundError
from fengkong.store import exposure, tables, tables_credit_lines, tables_fraud
from fengkong.store.dialect import insert_ignoring_duplicates as _insert_ignoring_duplicates

LINES = tables_credit_lines.credit_lines
CHANGES = tables_credit_lines.credit_line_changes
ALERTS = tables_credit_lines.credit_line_alerts
ACTIONS = ("open", "raise", "cut", "freeze", "unfreeze", "set")
ALERT_OUTCOMES = ("confirmed", "dismissed")
ACTIVE = "active"
FROZEN = "frozen"


@dataclass(frozen=True, slots=True)
class LineRecord:
    """A row of ``credit_lines``."""

    party_id: str
    product: str
    limit_fen: int
    status: str
    opened_on: date
    last_raised_on: date | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ChangeRecord:
    """A row of ``credit_line_changes``: one change of one line (``triggers``: feature name -> value)."""

    change_id: str
    party_id: str
    product: str
    action: str
    reason: str
    old_limit_fen: int
    new_limit_fen: int
    triggers: Mapping[str, float | int]
    business_date: date
    changed_at: datetime
    changed_by: str


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A row of ``credit_line_alerts``."""

    alert_id: str
    party_id: str
    business_date: date
    severity: int
    reason: str
    indicators: Mapping[str, float | int]
    rule_version: str
    status: str
    outcome: str | None
    opened_at: datetime
    reviewed_at: datetime | None
    reviewer: str | None


def _text(value: str, field: str, length_max: int) -> str:
    if not isinstance(value, str) or not value or len(value) > length_max:
        raise InputError(f"must be a non-empty string of at most {length_max} characters", field=field)
    return value


def _fen(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError("must be an integer number of fen", field=field)
    if not 0 <= value <= bounds.exposure_amount_fen_max:
        raise InputError(f"must be between 0 and {bounds.exposure_amount_fen_max} fen", field=field)
    return value


def _limit(limit: int, limit_max: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= limit_max:
        raise InputError(f"must be between 1 and {limit_max}", field="limit")
    return limit


def _json(values: Mapping[str, float | int], field: str) -> str:
    if len(values) > bounds.credit_line_triggers_max:
        raise InputError(f"holds more than {bounds.credit_line_triggers_max} values", field=field)
    for name, value in values.items():
        if not isinstance(name, str) or isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError("maps feature names to numbers", field=field)
    return json.dumps(dict(values), sort_keys=True, allow_nan=False)


def line_from_row(row: sa.RowMapping) -> LineRecord:
    return LineRecord(
        party_id=row["party_id"],
        product=row["product"],
        limit_fen=int(row["limit_fen"]),
        status=row["status"],
        opened_on=row["opened_on"],
        last_raised_on=row["last_raised_on"],
        updated_at=row["updated_at"],
    )


def change_from_row(row: sa.RowMapping) -> ChangeRecord:
    return ChangeRecord(
        change_id=row["change_id"],
        party_id=row["party_id"],
        product=row["product"],
        action=row["action"],
        reason=row["reason"],
        old_limit_fen=int(row["old_limit_fen"]),
        new_limit_fen=int(row["new_limit_fen"]),
        triggers=json.loads(row["triggers"]),
        business_date=row["business_date"],
        changed_at=row["changed_at"],
        changed_by=row["changed_by"],
    )


def alert_from_row(row: sa.RowMapping) -> AlertRecord:
    return AlertRecord(
        alert_id=row["alert_id"],
        party_id=row["party_id"],
        business_date=row["business_date"],
        severity=int(row["severity"]),
        reason=row["reason"],
        indicators=json.loads(row["indicators"]),
        rule_version=row["rule_version"],
        status=row["status"],
        outcome=row["outcome"],
        opened_at=row["opened_at"],
        reviewed_at=row["reviewed_at"],
        reviewer=row["reviewer"],
    )


def get_line(connection: sa.Connection, party_id: str, product: str) -> LineRecord | None:
    row = (
        connection.execute(sa.select(LINES).where(LINES.c.party_id == party_id, LINES.c.product == product))
        .mappings()
        .first()
    )
    return None if row is None else line_from_row(row)


def party_lines(connection: sa.Connection, party_id: str) -> list[LineRecord]:
    """The party's lines, by product."""
    rows = connection.execute(
        sa.select(LINES).where(LINES.c.party_id == party_id).order_by(LINES.c.product)
    ).mappings()
    return [line_from_row(row) for row in rows]


def lines_page(
    connection: sa.Connection,
    after: tuple[str, str] | None = None,
    limit: int = bounds.credit_line_review_batch_rows_max,
) -> list[LineRecord]:
    """Lines in (party, product) order, after the key ``after``; a review pages through them with this."""
    query = sa.select(LINES)
    if after is not None:
        party_id, product = after
        query = query.where(
            sa.or_(
                LINES.c.party_id > party_id, sa.and_(LINES.c.party_id == party_id, LINES.c.product > product)
            )
        )
    rows = connection.execute(
        query.order_by(LINES.c.party_id, LINES.c.product).limit(
            _limit(limit, bounds.credit_line_review_batch_rows_max)
        )
    ).mappings()
    return [line_from_row(row) for row in rows]


def _record_change(connection: sa.Connection, change: ChangeRecord) -> bool:
    """Insert the change row; False when the same change was recorded before (another body conflicts)."""
    row = {
        "change_id": _text(change.change_id, "change_id", bounds.credit_line_change_id_length_max),
        "party_id": change.party_id,
        "product": change.product,
        "action": change.action,
        "reason": _text(change.reason, "reason", bounds.credit_line_reason_length_max),
        "old_limit_fen": _fen(change.old_limit_fen, "old_limit_fen"),
        "new_limit_fen": _fen(change.new_limit_fen, "new_limit_fen"),
        "triggers": _json(change.triggers, "triggers"),
        "business_date": change.business_date,
        "changed_at": require_utc(change.changed_at, "changed_at"),
        "changed_by": _text(change.changed_by, "changed_by", bounds.credit_line_rule_version_length_max),
    }
    if _insert_ignoring_duplicates(connection, CHANGES, row):
        return True
    first = (
        connection.execute(sa.select(CHANGES).where(CHANGES.c.change_id == change.change_id)).mappings().one()
    )
    if change_from_row(first) != change:
        raise IdempotencyConflictError(f"change {change.change_id!r} was recorded with another body")
    return False


def open_line(connection: sa.Connection, change: ChangeRecord) -> bool:
    """Open a line at ``change.new_limit_fen`` (``change.action`` is ``open``, old limit 0); False on a
    retry. An existing line under another change ID conflicts."""
    if change.action != "open" or change.old_limit_fen != 0:
        raise InputError("an opening has action 'open' and old limit 0", field="action")
    _text(change.party_id, "party_id", bounds.party_id_length_max)
    _text(change.product, "product", bounds.exposure_product_length_max)
    if not _record_change(connection, change):
        return False
    created = _insert_ignoring_duplicates(
        connection,
        LINES,
        {
            "party_id": change.party_id,
            "product": change.product,
            "limit_fen": change.new_limit_fen,
            "status": ACTIVE,
            "opened_on": change.business_date,
            "last_raised_on": None,
            "updated_at": change.changed_at,
        },
    )
    if not created:  # raising rolls the caller's transaction back, the change row with it
        raise ConflictError(f"line {change.party_id}/{change.product} is already open")
    exposure.set_party_limit(
        connection, change.party_id, change.product, change.new_limit_fen, change.changed_at
    )
    return True


def apply_change(connection: sa.Connection, change: ChangeRecord, *, from_status: str = ACTIVE) -> bool:
    """Apply a change to an open line: record it and set the line (and its exposure limit). The line must
    still have ``change.old_limit_fen`` and ``from_status``; else :class:`ConflictError`. False on a retry."""
    if change.action not in ACTIONS or change.action == "open":
        raise InputError(
            f"must be one of {[action for action in ACTIONS if action != 'open']}", field="action"
        )
    if from_status not in (ACTIVE, FROZEN):
        raise InputError("must be 'active' or 'frozen'", field="from_status")
    if not _record_change(connection, change):
        return False
    status = FROZEN if change.action == "freeze" else ACTIVE if change.action == "unfreeze" else from_status
    values: dict[str, object] = {
        "limit_fen": change.new_limit_fen,
        "status": status,
        "updated_at": change.changed_at,
    }
    if change.action == "raise":
        values["last_raised_on"] = change.business_date
    changed = connection.execute(
        LINES.update()
        .where(
            LINES.c.party_id == change.party_id,
            LINES.c.product == change.product,
            LINES.c.limit_fen == change.old_limit_fen,
            LINES.c.status == from_status,
        )
        .values(**values)
    ).rowcount
    if changed != 1:
        if get_line(connection, change.party_id, change.product) is None:
            raise NotFoundError(f"no credit line {change.party_id}/{change.product}")
        raise ConflictError(f"line {change.party_id}/{change.product} changed since the change was proposed")
    exposure_limit = 0 if status == FROZEN else change.new_limit_fen
    exposure.set_party_limit(connection, change.party_id, change.product, exposure_limit, change.changed_at)
    return True


def change_exists(connection: sa.Connection, change_id: str) -> bool:
    """Whether a change with this ID was recorded (a review re-run skips lines it already changed)."""
    found = connection.execute(sa.select(CHANGES.c.change_id).where(CHANGES.c.change_id == change_id)).first()
    return found is not None


def history(
    connection: sa.Connection,
    party_id: str,
    product: str | None = None,
    limit: int = bounds.credit_line_history_rows_max,
) -> list[ChangeRecord]:
    """The party's line changes (one product's, or all), oldest first."""
    query = sa.select(CHANGES).where(CHANGES.c.party_id == party_id)
    if product is not None:
        query = query.where(CHANGES.c.product == product)
    rows = connection.execute(
        query.order_by(CHANGES.c.changed_at, CHANGES.c.change_id).limit(
            _limit(limit, bounds.credit_line_history_rows_max)
        )
    ).mappings()
    return [change_from_row(row) for row in rows]


def open_alert(connection: sa.Connection, alert: AlertRecord) -> bool:
    """Put an open alert in the queue once per alert ID; False on a retry (another body conflicts)."""
    if alert.status != "open" or alert.outcome is not None or alert.reviewed_at is not None:
        raise InputError("a new alert is open, without outcome or review time", field="status")
    if isinstance(alert.severity, bool) or alert.severity not in (1, 2, 3):
        raise InputError("must be 1, 2 or 3", field="severity")
    row = {
        "alert_id": _text(alert.alert_id, "alert_id", bounds.credit_line_alert_id_length_max),
        "party_id": _text(alert.party_id, "party_id", bounds.party_id_length_max),
        "business_date": alert.business_date,
        "severity": int(alert.severity),
        "reason": _text(alert.reason, "reason", bounds.credit_line_reason_length_max),
        "indicators": _json(alert.indicators, "indicators"),
        "rule_version": _text(alert.rule_version, "rule_version", bounds.credit_line_rule_version_length_max),
        "status": "open",
        "outcome": None,
        "opened_at": require_utc(alert.opened_at, "opened_at"),
        "reviewed_at": None,
        "reviewer": None,
    }
    if _insert_ignoring_duplicates(connection, ALERTS, row):
        return True
    first = get_alert(connection, alert.alert_id)
    if (first.party_id, first.business_date, first.severity, first.reason, dict(first.indicators)) != (
        alert.party_id,
        alert.business_date,
        int(alert.severity),
        alert.reason,
        dict(alert.indicators),
    ):
        raise IdempotencyConflictError(f"alert {alert.alert_id!r} was opened with another body")
    return False


def get_alert(connection: sa.Connection, alert_id: str) -> AlertRecord:
    row = connection.execute(sa.select(ALERTS).where(ALERTS.c.alert_id == alert_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"no alert {alert_id!r}")
    return alert_from_row(row)


def alert_queue(
    connection: sa.Connection,
    status: str = "open",
    party_id: str | None = None,
    limit: int = 100,
) -> list[AlertRecord]:
    """Alerts with ``status`` (``open`` or ``reviewed``), most severe first, then oldest, then by ID."""
    if status not in ("open", "reviewed"):
        raise InputError("must be 'open' or 'reviewed'", field="status")
    query = sa.select(ALERTS).where(ALERTS.c.status == status)
    if party_id is not None:
        query = query.where(ALERTS.c.party_id == party_id)
    rows = connection.execute(
        query.order_by(ALERTS.c.severity.desc(), ALERTS.c.opened_at, ALERTS.c.alert_id).limit(
            _limit(limit, bounds.credit_line_alert_batch_rows_max)
        )
    ).mappings()
    return [alert_from_row(row) for row in rows]


def review_alert(
    connection: sa.Connection, alert_id: str, outcome: str, reviewed_at: datetime, reviewer: str
) -> AlertRecord:
    """Close an open alert with ``outcome``; a retry with the same outcome and reviewer returns it, another
    review of a reviewed alert raises :class:`ConflictError`."""
    if outcome not in ALERT_OUTCOMES:
        raise InputError(f"is not one of {list(ALERT_OUTCOMES)}", field="outcome")
    reviewer = _text(reviewer, "reviewer", bounds.fraud_reason_length_max)
    reviewed_at = require_utc(reviewed_at, "reviewed_at")
    current = get_alert(connection, alert_id)
    if current.status == "reviewed":
        if (current.outcome, current.reviewer) == (outcome, reviewer):
            return current
        raise ConflictError(f"alert {alert_id!r} was already reviewed as {current.outcome}")
    if reviewed_at < current.opened_at:
        raise InputError("an alert cannot be reviewed before it was opened", field="reviewed_at")
    changed = connection.execute(
        ALERTS.update()
        .where(ALERTS.c.alert_id == alert_id, ALERTS.c.status == "open")
        .values(status="reviewed", outcome=outcome, reviewed_at=reviewed_at, reviewer=reviewer)
    ).rowcount
    if changed != 1:  # another reviewer closed it between our read and our UPDATE
        return review_alert(connection, alert_id, outcome, reviewed_at, reviewer)
    return get_alert(connection, alert_id)


def open_fraud_case_counts(connection: sa.Connection, party_ids: Sequence[str]) -> dict[str, int]:
    """Open fraud review cases per party (parties with none are absent) — a fraud signal for line reviews."""
    cases = tables_fraud.fraud_cases
    counts: dict[str, int] = {}
    for start in range(0, len(party_ids), bounds.credit_line_review_batch_rows_max):
        chunk = list(party_ids[start : start + bounds.credit_line_review_batch_rows_max])
        rows = connection.execute(
            sa.select(cases.c.party_id, sa.func.count())
            .where(cases.c.status == "open", cases.c.party_id.in_(chunk))
            .group_by(cases.c.party_id)
        )
        counts.update({row[0]: int(row[1]) for row in rows})
    return counts


def households_of(connection: sa.Connection, party_ids: Sequence[str]) -> dict[str, str]:
    """The household of each party that has one (from ``parties``)."""
    parties = tables.parties
    households: dict[str, str] = {}
    for start in range(0, len(party_ids), bounds.credit_line_review_batch_rows_max):
        chunk = list(party_ids[start : start + bounds.credit_line_review_batch_rows_max])
        rows = connection.execute(
            sa.select(parties.c.party_id, parties.c.household_id).where(
                parties.c.party_id.in_(chunk), parties.c.household_id.is_not(None)
            )
        )
        households.update({row[0]: row[1] for row in rows})
    return households
