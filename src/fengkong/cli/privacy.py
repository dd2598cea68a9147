"""``fengkong privacy``: the personal-data jobs.

::

    fengkong privacy rotate [--database-url URL]
    fengkong privacy purge  [--database-url URL] --purge-id purge-2031-06-01 --date 2031-06-01
    fengkong privacy export [--database-url URL] --party-id P-1 --out subject.json

``rotate`` re-seals every value not under the active data key (and re-indexes any under an old pseudonym
key) and prints the rows left under each key: a retired key showing no rows can be removed from
``FENGKONG_DATA_KEYS``. ``purge`` deletes the values whose retention ended before ``--date`` and prints what
it purged (counts per field and party IDs, never the data); a second run with the same ``--purge-id`` purges
nothing and prints the first record. ``export`` writes everything kept about a borrower, in clear, for that
borrower (their right to a copy): handle the file as personal data.

Keys come from ``FENGKONG_DATA_KEYS``, ``FENGKONG_DATA_KEY_ACTIVE`` and ``FENGKONG_PSEUDONYM_KEY``.
Exit codes: ``0`` done; ``2`` bad input (named on stderr).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from fengkong.cli.common import fail
from fengkong.cli.main import app
from fengkong.errors import FengkongError
from fengkong.services.privacy import export_subject_at, purge_expired_at, rotate_keys_at

privacy_app = typer.Typer(help="Personal data: rotate keys, purge after retention, export a borrower's data.")
app.add_typer(privacy_app, name="privacy")

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Database URL. Default: $FENGKONG_DATABASE_URL, else sqlite:///fengkong.sqlite.",
        show_default=False,
    ),
]


@privacy_app.command("rotate")
def rotate(database_url: DatabaseOption = None) -> None:
    """Re-seal every value under the active key; print the rows left under each key."""
    try:
        report = rotate_keys_at(database_url)
    except FengkongError as error:
        raise fail(error) from error
    typer.echo(json.dumps({"resealed": report.resealed, "rows_by_key": dict(report.remaining_by_key)}))


@privacy_app.command("purge")
def purge(
    purge_id: Annotated[str, typer.Option("--purge-id", help="This run's ID (a retry purges nothing).")],
    on: Annotated[str, typer.Option("--date", help="Business date: values retained until before it go.")],
    database_url: DatabaseOption = None,
) -> None:
    """Delete values past their retention and record what was purged (counts and IDs, never the data)."""
    try:
        business_date = date.fromisoformat(on)
    except ValueError as error:
        raise fail(f"date: must be YYYY-MM-DD, got {on!r}") from error
    try:
        report = purge_expired_at(database_url, purge_id, business_date)
    except FengkongError as error:
        raise fail(error) from error
    typer.echo(
        json.dumps(
            {
                "purge_id": report.purge_id,
                "business_date": report.business_date.isoformat(),
                "counts": dict(report.counts),
                "party_ids": list(report.party_ids),
                "created": report.created,
            },
            sort_keys=True,
        )
    )


@privacy_app.command("export")
def export(
    party_id: Annotated[str, typer.Option("--party-id", help="The borrower whose data is exported.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the JSON (personal data, in clear).")],
    database_url: DatabaseOption = None,
) -> None:
    """Write everything kept about one borrower as JSON, for that borrower."""
    try:
        document = export_subject_at(database_url, party_id)
    except FengkongError as error:
        raise fail(error) from error
    try:
        out.write_text(json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True), encoding="utf-8")
    except OSError as error:
        raise fail(f"out: cannot write {out}: {error.strerror}") from error
    typer.echo(json.dumps({"party_id": party_id, "out": str(out)}))
