"""Proof documents: which kind, and bad values rejected with the reason (never a crash, never accepted)."""

from __future__ import annotations

import pytest

from fengkong.chain import merkle
from fengkong.chain.proof_document import ProofKind, consistency_document, inclusion_document, judge_document
from fengkong.errors import InputError


def _tree() -> merkle.MemoryHashes:
    store = merkle.MemoryHashes()
    store.append([merkle.leaf_hash(bytes([index])) for index in range(7)])
    return store


def test_documents_we_write_are_documents_we_accept() -> None:
    store = _tree()
    leaf, proof, root = merkle.inclusion_proof_with_root(store, 3, 7)
    judged = judge_document(inclusion_document(3, 7, leaf, proof, root))
    assert judged.kind is ProofKind.INCLUSION and judged.verdict.verified
    root1, proof, root2 = merkle.consistency_proof_with_roots(store, 4, 7)
    judged = judge_document(consistency_document(4, 7, root1, root2, proof))
    assert judged.kind is ProofKind.CONSISTENCY and judged.verdict.verified
    assert judged.to_json() == {"kind": "consistency", "verified": True, "reason": None}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"leafIdx": -1}, "leafIdx must not be negative, got -1"),
        ({"treeSize": "7"}, "treeSize must be an integer, got '7'"),
        ({"treeSize": True}, "treeSize must be an integer, got True"),
        ({"root": "not base64!"}, "root is not base64"),
        ({"leafHash": 12}, "leafHash must be a base64 string, got int"),
        ({"proof": "AAAA"}, "proof must be a list of base64 hashes, got str"),
        ({"proof": [None]}, "proof[0] must be a base64 string, got NoneType"),
        ({"proof": ["AAAA"]}, "proof[0] must be 32 bytes, got 3"),
    ],
)
def test_bad_values_are_rejected_with_the_reason(change: dict[str, object], reason: str) -> None:
    store = _tree()
    leaf, proof, root = merkle.inclusion_proof_with_root(store, 3, 7)
    document = {**inclusion_document(3, 7, leaf, proof, root), **change}
    judged = judge_document(document)
    assert not judged.verdict.verified
    assert judged.verdict.reason is not None and judged.verdict.reason.startswith(reason)


def test_a_null_proof_reads_as_empty() -> None:
    leaf = merkle.leaf_hash(b"only")
    assert judge_document(inclusion_document(0, 1, leaf, [], leaf) | {"proof": None}).verdict.verified


def test_documents_of_no_known_kind_are_unreadable() -> None:
    for document in ([], "text", {"leafIdx": 0, "treeSize": 1}, {"size1": 1, "size2": 2, "root1": ""}):
        with pytest.raises(InputError, match="document"):
            judge_document(document)


def test_a_proof_longer_than_any_tree_needs_is_rejected() -> None:
    leaf = merkle.leaf_hash(b"x")
    judged = judge_document(inclusion_document(0, 1, leaf, [leaf] * 200, leaf))
    assert judged.verdict.reason == "proof has 200 hashes; no tree of 64-bit size needs more than 128"
