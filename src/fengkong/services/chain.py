"""Use cases of the verifiable log: verify a proof document, append entries, and prove inclusion and
consistency from the stored tree.

Verification needs no database (:func:`verify_proof_file`). Appending and proving take the caller's
connection and a :class:`~fengkong.store.chain.ChainRepository`; :func:`append_entries` is one transaction's
worth: the caller commits it (or nothing is appended).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from fengkong import bounds
from fengkong.chain import merkle
from fengkong.chain.log import prepare_append
from fengkong.chain.proof_document import ProofJudgement, judge_document
from fengkong.errors import BoundExceededError, ConflictError, InputError, InvariantError
from fengkong.store.chain import ChainRepository, LogHead


def verify_proof_file(path: Path) -> ProofJudgement:
    """Judge the inclusion or consistency proof in the JSON file at ``path``.

    An unreadable file (missing, too large, not JSON, neither kind of proof) raises
    :class:`~fengkong.errors.InputError`; a proof that does not verify is a judgement with its reason.
    """
    try:
        size = path.stat().st_size
        if size > bounds.chain_proof_file_bytes_max:
            raise BoundExceededError("chain_proof_file_bytes_max", bounds.chain_proof_file_bytes_max, size)
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", field="proof_json") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text: {exc}", field="proof_json") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not JSON: {exc}", field="proof_json") from exc
    return judge_document(document)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    proof: tuple[bytes, ...]
    root: bytes


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    size1: int
    size2: int
    root1: bytes
    root2: bytes
    proof: tuple[bytes, ...]


def create_log(connection: sa.Connection, repository: ChainRepository, name: str) -> LogHead:
    """Create the log ``name`` (idempotent); its head."""
    return repository.create_log(connection, name, merkle.EMPTY_TREE_ROOT)


def append_entries(
    connection: sa.Connection,
    repository: ChainRepository,
    name: str,
    expected_size: int,
    entries: Sequence[bytes],
) -> LogHead:
    """Append ``entries`` to log ``name`` as leaves ``expected_size, expected_size + 1, ...``.

    Refused with :class:`~fengkong.errors.ConflictError` when the log does not have exactly
    ``expected_size`` leaves (an out-of-order or replayed append); nothing is written then. Each entry is
    hashed (``SHA-256(0x00 || entry)``) and the tree's stored nodes and frontier updated in the caller's
    transaction.
    """
    stored = repository.lock_head(connection, name)
    head = stored.head
    if expected_size != head.tree_size:
        raise ConflictError(
            f"log {name!r} has {head.tree_size} leaves; an append expecting {expected_size} is out of order"
        )
    prepared = prepare_append(merkle.Frontier.from_bytes(head.tree_size, stored.frontier), entries)
    if prepared.frontier.size - head.tree_size != len(entries):
        raise InvariantError(f"{len(entries)} entries made {prepared.frontier.size - head.tree_size} leaves")
    return repository.write_append(
        connection,
        head,
        list(zip(prepared.leaf_hashes, entries, strict=True)),
        prepared.nodes,
        prepared.frontier.to_bytes(),
        prepared.root,
    )


def append_in_transaction(
    engine: sa.Engine, repository: ChainRepository, name: str, expected_size: int, entries: Sequence[bytes]
) -> LogHead:
    """:func:`append_entries` in a transaction of its own: all the entries are appended, or none."""
    with engine.begin() as connection:
        return append_entries(connection, repository, name, expected_size, entries)


def prove_inclusion(
    connection: sa.Connection,
    repository: ChainRepository,
    name: str,
    leaf_index: int,
    tree_size: int | None = None,
) -> InclusionProof:
    """The inclusion proof of leaf ``leaf_index`` in the log at ``tree_size`` (default: its current size)."""
    reader = repository.reader(connection, name, tree_size)
    size = reader.tree_size
    leaf, proof, root = merkle.inclusion_proof_with_root(reader, leaf_index, size)
    return InclusionProof(leaf_index, size, leaf, proof, root)


def prove_consistency(
    connection: sa.Connection, repository: ChainRepository, name: str, size1: int, size2: int | None = None
) -> ConsistencyProof:
    """The consistency proof between the log at ``size1`` and at ``size2`` (default: its current size)."""
    reader = repository.reader(connection, name, size2)
    size = reader.tree_size
    root1, proof, root2 = merkle.consistency_proof_with_roots(reader, size1, size)
    return ConsistencyProof(size1, size, root1, root2, proof)
