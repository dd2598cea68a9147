"""What the SQL ledger must do on any database.

:class:`LedgerContract` holds the tests; a module supplies the ``engine`` fixture (a migrated database):
``test_ledger_sqlite.py`` on SQLite, ``tests/integration/test_ledger_postgres.py`` on PostgreSQL. The raw-SQL
tests bypass every check in code and show that the database itself refuses an unbalanced or altered posting.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from fengkong import bounds
from fengkong.clock import FixedClock
from fengkong.domain.ledger import Posting, PostingLine
from fengkong.errors import (
    BoundExceededError,
    ConflictError,
    IdempotencyConflictError,
    InputError,
    NotFoundError,
)
from fengkong.ledger.accounts import STANDARD_CHART, SUBACCOUNT_SEPARATOR
from fengkong.ledger.journal import InMemoryJournal
from fengkong.money import Money
from fengkong.services import ledger as ledger_service
from fengkong.store import ledger as store_ledger
from fengkong.store.ledger import LedgerRepository

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
DAY = date(2026, 3, 1)


def money(minor: int, currency: str = "CNY") -> Money:
    return Money(minor, currency)


def disbursement(posting_id: str, loan: str, amount_minor: int) -> Posting:
    return Posting(
        posting_id,
        DAY,
        f"disburse {loan}",
        (
            PostingLine(f"loans_receivable:{loan}", money(amount_minor)),
            PostingLine("cash_clearing", money(-amount_minor)),
        ),
    )


def repayment(posting_id: str, loan: str, principal: int, interest: int, fee: int) -> Posting:
    return Posting(
        posting_id,
        DAY,
        f"repayment {loan}",
        (
            PostingLine("cash_clearing", money(principal + interest + fee)),
            PostingLine(f"loans_receivable:{loan}", money(-principal)),
            PostingLine("interest_income", money(-interest)),
            PostingLine("fee_income", money(-fee)),
        ),
    )


def raw_header(connection: sa.Connection, transfer_id: str, line_count: int) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO ledger_transfers (transfer_id, business_date, description, reverses, line_count, "
            "created_at) VALUES (:transfer_id, '2026-03-01', 'raw', NULL, :line_count, CURRENT_TIMESTAMP)"
        ),
        {"transfer_id": transfer_id, "line_count": line_count},
    )


def raw_line(
    connection: sa.Connection, transfer_id: str, number: int, count: int, account: str, amount_minor: int
) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO ledger_lines (transfer_id, line_number, line_count, account_code, subaccount, "
            "currency, amount_minor) VALUES (:transfer_id, :number, :count, :account, '', 'CNY', :amount)"
        ),
        {
            "transfer_id": transfer_id,
            "number": number,
            "count": count,
            "account": account,
            "amount": amount_minor,
        },
    )


RawLine = tuple[int, int, str, int]  # (line number, line count, account, amount in minor units)


def write_raw(engine: sa.Engine, transfer_id: str, line_count: int | None, lines: list[RawLine]) -> None:
    """One transaction of raw SQL: a header (unless ``line_count`` is None), then ``lines`` in order."""
    with engine.begin() as connection:
        if line_count is not None:
            raw_header(connection, transfer_id, line_count)
        for number, count, account, amount in lines:
            raw_line(connection, transfer_id, number, count, account, amount)


class LedgerContract:
    """Every test takes ``engine``: a migrated, empty database."""

    @pytest.fixture
    def repository(self, engine: sa.Engine) -> LedgerRepository:
        repository = LedgerRepository(FixedClock(AT))
        with engine.begin() as connection:
            assert ledger_service.install_chart(connection, repository) == len(STANDARD_CHART)
        return repository

    def stored_ids(self, engine: sa.Engine) -> set[str]:
        with engine.connect() as connection:
            return set(connection.execute(sa.text("SELECT transfer_id FROM ledger_transfers")).scalars())

    # -- the chart ---------------------------------------------------------------------------------------
    def test_installing_the_chart_again_changes_nothing(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        with engine.begin() as connection:
            assert ledger_service.install_chart(connection, repository) == 0
            assert repository.account_codes(connection) == {account.code for account in STANDARD_CHART}

    def test_an_account_stored_with_other_facts_conflicts(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        with pytest.raises(ConflictError), engine.begin() as connection:
            repository.add_accounts(connection, [("cash_clearing", "Cash", "liability")])
        with pytest.raises(InputError), engine.begin() as connection:
            repository.add_accounts(connection, [("new_account", "New", "nonsense")])

    # -- posting and reading back ------------------------------------------------------------------------
    def test_postings_read_back_equal(self, engine: sa.Engine, repository: LedgerRepository) -> None:
        postings = [
            disbursement("d-1", "LN-1", 1_000_000),
            repayment("r-1", "LN-1", 80_000, 12_000, 500),
            Posting(
                "fx-1",
                DAY,
                "two currencies, each balanced",
                (
                    PostingLine("cash_clearing", money(100, "USD")),
                    PostingLine("suspense", money(-100, "USD")),
                    PostingLine("cash_clearing", money(700)),
                    PostingLine("suspense", money(-700)),
                ),
            ),
        ]
        with engine.begin() as connection:
            result = ledger_service.post(connection, repository, postings)
        assert sorted(result.posted) == ["d-1", "fx-1", "r-1"]
        assert result.duplicates == ()
        with engine.connect() as connection:
            for posting in postings:
                assert repository.get(connection, posting.posting_id) == posting
            assert repository.count(connection) == (3, 10)
            with pytest.raises(NotFoundError):
                repository.get(connection, "missing")

    def test_a_retry_is_reported_as_a_duplicate(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        first = [disbursement("d-1", "LN-1", 5_000), disbursement("d-2", "LN-2", 7_000)]
        with engine.begin() as connection:
            ledger_service.post(connection, repository, first)
        with engine.begin() as connection:
            again = ledger_service.post(connection, repository, [*first, disbursement("d-3", "LN-3", 1)])
        assert again.posted == ("d-3",)
        assert sorted(again.duplicates) == ["d-1", "d-2"]
        with engine.connect() as connection:
            assert repository.count(connection) == (3, 6)

    def test_the_same_id_with_other_content_conflicts(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        with engine.begin() as connection:
            ledger_service.post(connection, repository, [disbursement("d-1", "LN-1", 5_000)])
        with pytest.raises(IdempotencyConflictError), engine.begin() as connection:
            ledger_service.post(connection, repository, [disbursement("d-1", "LN-1", 5_001)])
        with pytest.raises(IdempotencyConflictError), engine.begin() as connection:
            ledger_service.post(
                connection, repository, [disbursement("d-9", "LN-9", 1), disbursement("d-9", "LN-9", 2)]
            )
        assert self.stored_ids(engine) == {"d-1"}

    def test_a_refused_posting_writes_nothing_of_its_batch(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        bad = Posting(
            "x-1",
            DAY,
            "unknown account",
            (PostingLine("petty_cash", money(5)), PostingLine("equity", money(-5))),
        )
        with pytest.raises(InputError) as caught, engine.begin() as connection:
            ledger_service.post(connection, repository, [disbursement("d-1", "LN-1", 5), bad])
        assert caught.value.field == "lines[0].account"
        assert self.stored_ids(engine) == set()

    def test_the_batch_bound(self, engine: sa.Engine, repository: LedgerRepository) -> None:
        too_many = [disbursement(f"d-{n}", "LN", 1) for n in range(bounds.ledger_batch_postings_max + 1)]
        with pytest.raises(BoundExceededError), engine.begin() as connection:
            repository.post_batch(connection, too_many)

    def test_batches_across_transactions(self, engine: sa.Engine, repository: LedgerRepository) -> None:
        postings = [disbursement(f"d-{n:04d}", f"LN-{n}", 100 + n) for n in range(250)]
        result = ledger_service.post_in_batches(engine, repository, postings, batch_postings=100)
        assert len(result.posted) == 250
        retry = ledger_service.post_in_batches(engine, repository, postings, batch_postings=64)
        assert len(retry.duplicates) == 250 and retry.posted == ()
        with pytest.raises(InputError):
            ledger_service.post_in_batches(engine, repository, postings, batch_postings=0)

    # -- reversal ------------------------------------------------------------------------------------------
    def test_a_reversal_undoes_a_posting_once(self, engine: sa.Engine, repository: LedgerRepository) -> None:
        with engine.begin() as connection:
            ledger_service.post(connection, repository, [repayment("r-1", "LN-1", 800, 120, 5)])
            reversal = ledger_service.reverse(connection, repository, "r-1", "rev-1", date(2026, 3, 2))
        assert reversal.reverses == "r-1"
        with engine.connect() as connection:
            assert repository.get(connection, "rev-1") == reversal
            assert repository.balance(connection, "loans_receivable:LN-1", "CNY") == 0
            assert repository.balance(connection, "interest_income", "CNY") == 0
        with engine.begin() as connection:  # the same reversal again is idempotent
            assert (
                ledger_service.reverse(connection, repository, "r-1", "rev-1", date(2026, 3, 2)) == reversal
            )
        with pytest.raises(ConflictError), engine.begin() as connection:
            ledger_service.reverse(connection, repository, "r-1", "rev-2", date(2026, 3, 2))
        with pytest.raises(InputError), engine.begin() as connection:
            ledger_service.reverse(connection, repository, "rev-1", "rev-3", date(2026, 3, 2))
        with pytest.raises(NotFoundError), engine.begin() as connection:
            ledger_service.reverse(connection, repository, "nothing", "rev-4", date(2026, 3, 2))

    def test_a_posting_is_reversed_at_most_once(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        original = disbursement("d-1", "LN-1", 500)
        with engine.begin() as connection:
            ledger_service.post(connection, repository, [original])
        twice = [
            Posting(
                f"rev-{n}",
                DAY,
                "reversal",
                tuple(PostingLine(line.account, -line.amount) for line in original.lines),
                "d-1",
            )
            for n in (1, 2)
        ]
        with engine.begin() as connection:
            repository.post_batch(connection, twice[:1])
        with pytest.raises(ConflictError), engine.begin() as connection:
            repository.post_batch(connection, twice[1:])
        # and the database refuses it by itself (unique reverses)
        with pytest.raises(DBAPIError), engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO ledger_transfers (transfer_id, business_date, description, reverses, "
                    "line_count, created_at) "
                    "VALUES ('rev-3', '2026-03-01', 'raw', 'd-1', 2, CURRENT_TIMESTAMP)"
                )
            )
        assert self.stored_ids(engine) == {"d-1", "rev-1"}

    # -- balances and the trial balance --------------------------------------------------------------------
    def test_balances_and_trial_balance(self, engine: sa.Engine, repository: LedgerRepository) -> None:
        postings = [
            disbursement("d-1", "LN-1", 1_000_000),
            disbursement("d-2", "LN-2", 300_000),
            repayment("r-1", "LN-1", 80_000, 12_000, 500),
        ]
        with engine.begin() as connection:
            ledger_service.post(connection, repository, postings)
        with engine.connect() as connection:
            assert repository.balance(connection, "loans_receivable", "CNY") == 1_220_000
            assert repository.balance(connection, "loans_receivable:LN-1", "CNY") == 920_000
            assert repository.balance(connection, "loans_receivable:LN-2", "CNY") == 300_000
            assert repository.balance(connection, "cash_clearing", "CNY") == -1_207_500
            trial = ledger_service.current_trial_balance(connection, repository)
        assert trial.is_balanced
        wire = trial.to_json()
        assert wire["totals"] == [{"currency": "CNY", "debit": "12200.00", "credit": "12200.00"}]
        journal = InMemoryJournal(STANDARD_CHART)
        journal.post(postings)
        with engine.connect() as connection:
            assert ledger_service.totals(connection, repository) == journal.totals()

    # -- the database's own checks (raw SQL, no code in between) ---------------------------------------------
    def test_an_unbalanced_raw_insert_fails(self, engine: sa.Engine, repository: LedgerRepository) -> None:
        lines: list[RawLine] = [(1, 2, "cash_clearing", 10_000), (2, 2, "equity", -9_000)]
        with pytest.raises(DBAPIError, match="ledger: debits and credits"):
            write_raw(engine, "bad-1", 2, lines)
        assert self.stored_ids(engine) == set()

    def test_a_raw_transfer_without_all_its_lines_fails_at_commit(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        two_of_three: list[RawLine] = [(1, 3, "cash_clearing", 10_000), (2, 3, "equity", -10_000)]
        with pytest.raises(DBAPIError):
            write_raw(engine, "bad-2", 3, two_of_three)
        with pytest.raises(DBAPIError):
            write_raw(engine, "bad-3", 2, [])
        assert self.stored_ids(engine) == set()

    def test_a_balanced_raw_insert_is_accepted(self, engine: sa.Engine, repository: LedgerRepository) -> None:
        write_raw(engine, "ok-1", 2, [(1, 2, "cash_clearing", 10_000), (2, 2, "equity", -10_000)])
        assert self.stored_ids(engine) == {"ok-1"}

    def test_no_line_can_join_a_committed_transfer(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        with engine.begin() as connection:
            ledger_service.post(connection, repository, [disbursement("d-1", "LN-1", 500)])
        attempts: list[RawLine] = [
            (3, 2, "equity", 1),  # beyond the line count
            (3, 3, "equity", 1),  # a line count the header does not have
            (1, 2, "equity", 1),  # a number already taken
        ]
        for attempt in attempts:
            with pytest.raises(DBAPIError):
                write_raw(engine, "d-1", None, [attempt])
        with pytest.raises(DBAPIError):  # no header at all
            write_raw(engine, "ghost", None, [(1, 2, "equity", 5)])
        with engine.connect() as connection:
            assert repository.count(connection) == (1, 2)

    def test_an_account_outside_the_chart_is_refused_by_the_database(
        self, engine: sa.Engine, repository: LedgerRepository
    ) -> None:
        with pytest.raises(DBAPIError):
            write_raw(engine, "bad-4", 2, [(1, 2, "petty_cash", 10), (2, 2, "equity", -10)])

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE ledger_lines SET amount_minor = amount_minor + 1",
            "UPDATE ledger_transfers SET description = 'edited'",
            "DELETE FROM ledger_lines",
            "DELETE FROM ledger_transfers",
        ],
    )
    def test_postings_cannot_be_changed(
        self, engine: sa.Engine, repository: LedgerRepository, statement: str
    ) -> None:
        posting = disbursement("d-1", "LN-1", 500)
        with engine.begin() as connection:
            ledger_service.post(connection, repository, [posting])
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(sa.text(statement))
        with engine.connect() as connection:
            assert repository.get(connection, "d-1") == posting

    def test_the_separator_matches_the_chart(self) -> None:
        assert store_ledger.SUBACCOUNT_SEPARATOR == SUBACCOUNT_SEPARATOR
