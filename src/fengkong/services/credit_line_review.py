"""Credit-line review: run the dynamic-line rules and the early warnings over the lines in SQL, as of a time.

:func:`review_lines` pages through ``credit_lines`` (at most ``bounds.credit_line_review_batch_rows_max``
lines a transaction), reads each party's features as of ``as_of`` through a
:class:`~fengkong.domain.features.FeatureReader` (the online or the offline engine: the review does not
care), adds the fraud signals (open fraud review cases from the case queue; ring members from the caller's
latest ring snapshot) and the room under the household cap from exposure, and for each line:

* applies the change :func:`fengkong.credit_lines.dynamic.propose` proposes through
  :func:`fengkong.store.credit_lines.apply_change` (the exposure limit follows in the same transaction);
* opens the alert :func:`fengkong.credit_lines.early_warning.assess` raises (at most one per party and day).

Change and alert IDs are derived from the rule version, the business date and the line, so re-running a
review for the same date changes nothing twice. :func:`open_line`, :func:`line_view` and :func:`alerts` are
the use cases behind ``GET /v1/credit-lines/{party}`` and ``GET /v1/alerts``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa

from fengkong import bounds
from fengkong.clock import business_date, require_utc
from fengkong.credit_lines import dynamic, early_warning
from fengkong.credit_lines.dynamic import (
    DynamicLineParameters,
    FraudSignals,
    LineAction,
    LineChange,
    LineState,
)
from fengkong.credit_lines.early_warning import Alert, EarlyWarningParameters
from fengkong.domain.features import FeatureReader, FeatureValue
from fengkong.errors import InputError
from fengkong.store import credit_lines as store
from fengkong.store import exposure
from fengkong.store.config import database_url, make_engine

#: feature names read per entity type: the dynamic rules' and the early warnings'
FEATURE_NAMES: Mapping[str, tuple[str, ...]] = {
    entity: tuple(
        dict.fromkeys(
            (
                *dynamic.FEATURES_BY_ENTITY.get(entity, ()),
                *early_warning.EARLY_WARNING_FEATURES.get(entity, ()),
            )
        )
    )
    for entity in ("rider", "merchant", "consumer")
}

DaysPastDue = Callable[[str, str], int]
AlertRecord = store.AlertRecord  # the queue's rows, for callers above services (cli, api)


@dataclass(slots=True)
class ReviewReport:
    """What one review did."""

    as_of: datetime
    lines_reviewed: int = 0
    raised: int = 0
    cut: int = 0
    frozen: int = 0
    alerts_opened: int = 0
    changes: list[LineChange] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def party_features(features: FeatureReader, party_id: str, as_of: datetime) -> dict[str, FeatureValue]:
    """The party's values of every feature the rules read, across its entity types, as of ``as_of``."""
    values: dict[str, FeatureValue] = {}
    for entity, names in FEATURE_NAMES.items():
        values.update(features.read(entity, party_id, as_of, names).values)
    return values


def _state(
    record: store.LineRecord,
    used_fen: int,
    household_available_fen: int | None,
    days_past_due: int,
) -> LineState:
    return LineState(
        party_id=record.party_id,
        product=record.product,
        limit_fen=record.limit_fen,
        used_fen=used_fen,
        opened_on=record.opened_on,
        last_raised_on=record.last_raised_on,
        frozen=record.status == store.FROZEN,
        days_past_due=days_past_due,
        household_available_fen=household_available_fen,
    )


def change_id(change: LineChange) -> str:
    """One change per line, business date and rule version."""
    return line_change_id(change.rule_version, change.as_of, change.party_id, change.product)


def line_change_id(rule_version: str, day: date, party_id: str, product: str) -> str:
    return f"{rule_version}:{day.isoformat()}:{party_id}:{product}"


def _change_record(change: LineChange, at: datetime) -> store.ChangeRecord:
    return store.ChangeRecord(
        change_id=change_id(change),
        party_id=change.party_id,
        product=change.product,
        action=change.action.name.lower(),
        reason=change.reason.value,
        old_limit_fen=change.old_limit_fen,
        new_limit_fen=change.new_limit_fen,
        triggers=dict(change.triggers),
        business_date=change.as_of,
        changed_at=at,
        changed_by=change.rule_version,
    )


def _alert_record(alert: Alert, at: datetime) -> store.AlertRecord:
    return store.AlertRecord(
        alert_id=alert.alert_id,
        party_id=alert.party_id,
        business_date=alert.as_of,
        severity=int(alert.severity),
        reason=alert.reason,
        indicators=dict(alert.indicators),
        rule_version=alert.rule_version,
        status="open",
        outcome=None,
        opened_at=at,
        reviewed_at=None,
        reviewer=None,
    )


def _review_page(
    connection: sa.Connection,
    page: list[store.LineRecord],
    features: FeatureReader,
    as_of: datetime,
    today: date,
    ring_members: Collection[str],
    days_past_due: DaysPastDue | None,
    params: DynamicLineParameters,
    warning_params: EarlyWarningParameters,
    report: ReviewReport,
) -> None:
    parties = sorted({record.party_id for record in page})
    cases = store.open_fraud_case_counts(connection, parties)
    households = store.households_of(connection, parties)
    values = {party: party_features(features, party, as_of) for party in parties}
    alerted: set[str] = set()
    for record in page:
        party = record.party_id
        used = exposure.party_exposure(connection, party).get(record.product)
        household_room = None
        if party in households:
            cap = exposure.household_exposure(connection, households[party])
            household_room = None if cap is None else cap.available_fen
        dpd = days_past_due(party, record.product) if days_past_due is not None else 0
        state = _state(record, 0 if used is None else used.used_fen, household_room, dpd)
        fraud = FraudSignals(ring_member=party in ring_members, open_cases=cases.get(party, 0))
        report.lines_reviewed += 1
        already = store.change_exists(
            connection, line_change_id(params.rule_version, today, party, record.product)
        )
        # a re-run on the same day: the line was changed by this rule version today; it is left as it is
        change = None if already else dynamic.propose(state, values[party], fraud, today, params)
        if change is not None and store.apply_change(connection, _change_record(change, as_of)):
            report.changes.append(change)
            if change.action is LineAction.RAISE:
                report.raised += 1
            elif change.action is LineAction.CUT:
                report.cut += 1
            else:
                report.frozen += 1
        if party in alerted:
            continue
        alert = early_warning.assess(party, values[party], fraud, today, state, change, warning_params)
        if alert is not None:
            alerted.add(party)
            if store.open_alert(connection, _alert_record(alert, as_of)):
                report.alerts.append(alert)
                report.alerts_opened += 1


def review_lines(
    engine: sa.Engine,
    features: FeatureReader,
    as_of: datetime,
    *,
    ring_members: Collection[str] = (),
    days_past_due: DaysPastDue | None = None,
    params: DynamicLineParameters | None = None,
    warning_params: EarlyWarningParameters | None = None,
    batch_rows: int = bounds.credit_line_review_batch_rows_max,
) -> ReviewReport:
    """Review every line as of ``as_of`` (a UTC instant; rules run on its Shanghai business date)."""
    as_of = require_utc(as_of, "as_of")
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int):
        raise InputError("must be an integer", field="batch_rows")
    if not 1 <= batch_rows <= bounds.credit_line_review_batch_rows_max:
        raise InputError(
            f"must be between 1 and {bounds.credit_line_review_batch_rows_max}", field="batch_rows"
        )
    params = params or DynamicLineParameters()
    warning_params = warning_params or EarlyWarningParameters()
    today = business_date(as_of)
    report = ReviewReport(as_of=as_of)
    after: tuple[str, str] | None = None
    while True:
        with engine.begin() as connection:
            page = store.lines_page(connection, after, batch_rows)
            if not page:
                return report
            _review_page(
                connection,
                page,
                features,
                as_of,
                today,
                ring_members,
                days_past_due,
                params,
                warning_params,
                report,
            )
        after = (page[-1].party_id, page[-1].product)


def open_line(
    connection: sa.Connection, party_id: str, product: str, limit_fen: int, at: datetime, by: str
) -> store.LineRecord:
    """Open a line (idempotent per party, product and day); the exposure limit is set with it."""
    at = require_utc(at, "at")
    today = business_date(at)
    store.open_line(
        connection,
        store.ChangeRecord(
            change_id=f"open:{today.isoformat()}:{party_id}:{product}",
            party_id=party_id,
            product=product,
            action="open",
            reason="line_opened",
            old_limit_fen=0,
            new_limit_fen=limit_fen,
            triggers={},
            business_date=today,
            changed_at=at,
            changed_by=by,
        ),
    )
    line = store.get_line(connection, party_id, product)
    if line is None:  # pragma: no cover - open_line either wrote it or raised
        raise InputError("the line was not opened", field="party_id")
    return line


@dataclass(frozen=True, slots=True)
class LineView:
    """A party's line with its exposure and full change history (``GET /v1/credit-lines/{party}``)."""

    line: store.LineRecord
    exposure: exposure.Exposure | None
    history: tuple[store.ChangeRecord, ...]


def line_view(connection: sa.Connection, party_id: str) -> list[LineView]:
    """Every line of the party, each with its exposure row and history, by product."""
    exposures = exposure.party_exposure(connection, party_id)
    return [
        LineView(line, exposures.get(line.product), tuple(store.history(connection, party_id, line.product)))
        for line in store.party_lines(connection, party_id)
    ]


def alerts(connection: sa.Connection, status: str = "open", limit: int = 100) -> list[store.AlertRecord]:
    """The early-warning queue (``GET /v1/alerts``): most severe first, then oldest."""
    return store.alert_queue(connection, status=status, limit=limit)


def review_alert(
    connection: sa.Connection, alert_id: str, outcome: str, at: datetime, reviewer: str
) -> store.AlertRecord:
    """Close an alert as ``confirmed`` or ``dismissed``."""
    return store.review_alert(connection, alert_id, outcome, at, reviewer)


def line_view_in(url: str | None, party_id: str) -> list[LineView]:
    """:func:`line_view` on the database at ``url`` (default: ``FENGKONG_DATABASE_URL``, else SQLite)."""
    engine = make_engine(url or database_url())
    try:
        with engine.connect() as connection:
            return line_view(connection, party_id)
    finally:
        engine.dispose()


def alerts_in(url: str | None, status: str = "open", limit: int = 100) -> list[store.AlertRecord]:
    """:func:`alerts` on the database at ``url``."""
    engine = make_engine(url or database_url())
    try:
        with engine.connect() as connection:
            return alerts(connection, status, limit)
    finally:
        engine.dispose()
