"""What the stored Merkle log must do on any database.

:class:`ChainLogContract` holds the tests; a module supplies the ``engine`` fixture (a migrated database):
``test_log_sqlite.py`` on SQLite, ``tests/integration/test_chain_postgres.py`` on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from fengkong.chain import merkle
from fengkong.clock import FixedClock
from fengkong.errors import BoundExceededError, ConflictError, InputError, NotFoundError
from fengkong.services import chain as chain_service
from fengkong.store.chain import ChainRepository
from tests.unit.chain.reference import mth

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def entries(start: int, count: int) -> list[bytes]:
    return [f"entry-{index}".encode() for index in range(start, start + count)]


class ChainLogContract:
    @pytest.fixture
    def repository(self) -> ChainRepository:
        return ChainRepository(FixedClock(AT))

    def _new_log(self, engine: sa.Engine, repository: ChainRepository, name: str) -> None:
        with engine.begin() as connection:
            head = chain_service.create_log(connection, repository, name)
        assert head.tree_size == 0 and head.root_hash == merkle.EMPTY_TREE_ROOT

    def test_appends_build_the_rfc_tree_and_its_proofs_verify(
        self, engine: sa.Engine, repository: ChainRepository
    ) -> None:
        self._new_log(engine, repository, "trades")
        all_entries: list[bytes] = []
        for count in (1, 2, 13, 16, 1, 40, 7):  # 80 leaves: five stored nodes at level 4
            head = chain_service.append_in_transaction(
                engine, repository, "trades", len(all_entries), entries(len(all_entries), count)
            )
            all_entries += entries(len(all_entries), count)
            assert head.tree_size == len(all_entries)
            assert head.root_hash == mth([merkle.leaf_hash(entry) for entry in all_entries])
        leaves = [merkle.leaf_hash(entry) for entry in all_entries]
        with engine.connect() as connection:
            for size in (1, 2, 16, 17, 32, 63, len(leaves)):
                root = mth(leaves[:size])
                for index in {0, size // 2, size - 1}:
                    proof = chain_service.prove_inclusion(connection, repository, "trades", index, size)
                    assert (proof.tree_size, proof.leaf_hash, proof.root) == (size, leaves[index], root)
                    assert merkle.verify_inclusion(index, size, leaves[index], proof.proof, root).verified
                for old in {1, size // 3 or 1, size}:
                    consistency = chain_service.prove_consistency(connection, repository, "trades", old, size)
                    assert (consistency.root1, consistency.root2) == (mth(leaves[:old]), root)
                    assert merkle.verify_consistency(
                        old, size, consistency.root1, root, consistency.proof
                    ).verified
            current = chain_service.prove_inclusion(connection, repository, "trades", 5)
            assert current.tree_size == len(leaves)
            stored = repository.entries(connection, "trades", 0, len(all_entries))
            assert stored == list(zip(leaves, all_entries, strict=True))
            assert [size for size, _ in repository.heads(connection, "trades")] == [1, 3, 16, 32, 33, 73, 80]

    @pytest.mark.parametrize(
        "batch_sizes",
        [[1] * 40, [15, 1, 1, 16, 31, 1], [64, 1], [3, 5, 7, 11, 13, 17, 19, 23], [257]],
        ids=["one-by-one", "around-16", "a-full-level-6", "primes", "past-256"],
    )
    def test_any_batching_gives_the_same_tree(
        self, engine: sa.Engine, repository: ChainRepository, batch_sizes: list[int]
    ) -> None:
        """Every complete subtree read back from the store (through the stored levels) equals the RFC's."""
        name = "batched"
        self._new_log(engine, repository, name)
        done = 0
        for count in batch_sizes:
            chain_service.append_in_transaction(engine, repository, name, done, entries(done, count))
            done += count
        leaves = [merkle.leaf_hash(entry) for entry in entries(0, done)]
        with engine.connect() as connection:
            assert repository.head(connection, name).root_hash == mth(leaves)
            reader = repository.reader(connection, name)
            for node in merkle.complete_subtrees(0, done):
                assert merkle.node_hashes(reader, [node])[node] == mth(leaves[node.begin : node.end])

    def test_out_of_order_and_replayed_appends_are_refused_and_write_nothing(
        self, engine: sa.Engine, repository: ChainRepository
    ) -> None:
        self._new_log(engine, repository, "audit")
        chain_service.append_in_transaction(engine, repository, "audit", 0, entries(0, 5))
        for expected in (0, 4, 6):
            with pytest.raises(ConflictError, match="out of order"):
                chain_service.append_in_transaction(engine, repository, "audit", expected, entries(5, 3))
        with engine.connect() as connection:
            head = repository.head(connection, "audit")
            assert head.tree_size == 5
            assert repository.heads(connection, "audit") == [(5, head.root_hash)]
        with pytest.raises(NotFoundError):
            chain_service.append_in_transaction(engine, repository, "nowhere", 0, entries(0, 1))

    def test_a_bad_entry_anywhere_in_a_batch_appends_nothing(
        self, engine: sa.Engine, repository: ChainRepository
    ) -> None:
        self._new_log(engine, repository, "audit")
        chain_service.append_in_transaction(engine, repository, "audit", 0, entries(0, 3))
        oversized = [*entries(3, 10), b"x" * 70_000, *entries(14, 2)]
        with pytest.raises(BoundExceededError, match="chain_entry_bytes_max"):
            chain_service.append_in_transaction(engine, repository, "audit", 3, oversized)
        with pytest.raises(InputError, match="at least one entry"):
            chain_service.append_in_transaction(engine, repository, "audit", 3, [])
        with engine.connect() as connection:
            assert repository.head(connection, "audit").tree_size == 3
            assert len(repository.entries(connection, "audit", 0, 3)) == 3
            assert connection.execute(sa.text("SELECT count(*) FROM chain_leaves")).scalar_one() == 3

    def test_a_failure_after_the_rows_are_written_rolls_the_whole_append_back(
        self, engine: sa.Engine, repository: ChainRepository
    ) -> None:
        self._new_log(engine, repository, "audit")
        chain_service.append_in_transaction(engine, repository, "audit", 0, entries(0, 20))

        def failing_use_case() -> None:
            with engine.begin() as connection:
                chain_service.append_entries(connection, repository, "audit", 20, entries(20, 30))
                raise RuntimeError("the use case failed after the append")

        with pytest.raises(RuntimeError, match="after the append"):
            failing_use_case()
        with engine.connect() as connection:
            assert repository.head(connection, "audit").tree_size == 20
            assert connection.execute(sa.text("SELECT count(*) FROM chain_leaves")).scalar_one() == 20
            assert connection.execute(sa.text("SELECT count(*) FROM chain_nodes")).scalar_one() == 1
        head = chain_service.append_in_transaction(engine, repository, "audit", 20, entries(20, 30))
        assert head.root_hash == mth([merkle.leaf_hash(entry) for entry in entries(0, 50)])

    def test_logs_are_independent(self, engine: sa.Engine, repository: ChainRepository) -> None:
        self._new_log(engine, repository, "a")
        self._new_log(engine, repository, "b")
        self._new_log(engine, repository, "a")  # creating again returns the head
        chain_service.append_in_transaction(engine, repository, "a", 0, entries(0, 17))
        chain_service.append_in_transaction(engine, repository, "b", 0, entries(100, 3))
        with engine.connect() as connection:
            assert repository.head(connection, "a").tree_size == 17
            assert repository.head(connection, "b").root_hash == mth(
                [merkle.leaf_hash(entry) for entry in entries(100, 3)]
            )
            with pytest.raises(InputError, match="tree_size"):
                chain_service.prove_inclusion(connection, repository, "b", 0, 4)
            with pytest.raises(InputError, match="leaf_index"):
                chain_service.prove_inclusion(connection, repository, "b", 3, 3)
        with engine.begin() as connection, pytest.raises(InputError, match="log_name"):
            chain_service.create_log(connection, repository, "")

    def test_the_database_refuses_to_rewrite_history(
        self, engine: sa.Engine, repository: ChainRepository
    ) -> None:
        self._new_log(engine, repository, "audit")
        chain_service.append_in_transaction(engine, repository, "audit", 0, entries(0, 16))
        for statement in (
            "UPDATE chain_leaves SET entry = :forged WHERE leaf_index = 3",
            "DELETE FROM chain_leaves WHERE leaf_index = 15",
            "UPDATE chain_nodes SET node_hash = :forged",
            "DELETE FROM chain_heads",
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
                connection.execute(
                    sa.text(statement), {"forged": b"forged"} if ":forged" in statement else {}
                )
        with pytest.raises(DBAPIError), engine.begin() as connection:  # a second leaf 3: the primary key
            connection.execute(
                sa.text(
                    "INSERT INTO chain_leaves (log_id, leaf_index, leaf_hash, entry) VALUES (1, 3, :h, :e)"
                ),
                {"h": merkle.leaf_hash(b"forged"), "e": b"forged"},
            )
