"""For random balanced postings, the SQL ledger on SQLite holds exactly what the in-memory journal holds, and
its trial balance always balances."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given

from fengkong.clock import FixedClock
from fengkong.domain.ledger import Posting
from fengkong.ledger.accounts import STANDARD_CHART
from fengkong.ledger.journal import InMemoryJournal
from fengkong.services import ledger as ledger_service
from fengkong.store import migrate
from fengkong.store.config import make_engine
from fengkong.store.ledger import LedgerRepository
from tests.strategies import balanced_postings

RUNS = itertools.count()


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[sa.Engine, LedgerRepository]]:
    path: Path = tmp_path_factory.mktemp("ledger") / "ledger.sqlite"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine = make_engine(url)
    repository = LedgerRepository(FixedClock(datetime(2026, 3, 1, tzinfo=UTC)))
    with engine.begin() as connection:
        ledger_service.install_chart(connection, repository)
    yield engine, repository
    engine.dispose()


@given(postings=balanced_postings())
def test_sql_and_memory_agree(ledger: tuple[sa.Engine, LedgerRepository], postings: list[Posting]) -> None:
    engine, repository = ledger
    run = next(RUNS)
    postings = [
        Posting(f"run{run}-{p.posting_id}", p.business_date, p.description, p.lines) for p in postings
    ]
    with engine.connect() as connection:
        before = {total.code: total for total in ledger_service.totals(connection, repository)}
    with engine.begin() as connection:
        ledger_service.post(connection, repository, postings)
    journal = InMemoryJournal(STANDARD_CHART)
    journal.post(postings)
    with engine.connect() as connection:
        for posting in postings:
            assert repository.get(connection, posting.posting_id) == posting
        after = {total.code: total for total in ledger_service.totals(connection, repository)}
        assert ledger_service.current_trial_balance(connection, repository).is_balanced
    for total in journal.totals():
        earlier = before.get(total.code)
        debit = total.debit_minor + (earlier.debit_minor if earlier else 0)
        credit = total.credit_minor + (earlier.credit_minor if earlier else 0)
        assert (after[total.code].debit_minor, after[total.code].credit_minor) == (debit, credit)
