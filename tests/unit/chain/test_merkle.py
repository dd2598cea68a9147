"""The Merkle tree in memory: hashes, generated proofs against the RFC's recursive definitions and against
the published probes, verification of tampered proofs, and the frontier."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fengkong.chain import merkle
from fengkong.chain.log import check_entries, prepare_append
from fengkong.errors import BoundExceededError, InputError, InvariantError
from tests.strategies import chain_batch_sizes
from tests.unit.chain.reference import mth, path, proof

# The eight leaves of RFC 6962's test tree, used by transparency-dev/merkle (and its probes) and by CT logs.
RFC6962_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]


def _memory(leaf_hashes: list[bytes], batch: int) -> merkle.MemoryHashes:
    store = merkle.MemoryHashes()
    for start in range(0, len(leaf_hashes), batch):
        store.append(leaf_hashes[start : start + batch])
    return store


def _probe(shared_dir: Path, name: str) -> dict[str, object]:
    document: dict[str, object] = json.loads((shared_dir / "vectors" / "rfc9162" / name).read_text("utf-8"))
    return document


def _b64(value: object) -> bytes:
    assert isinstance(value, str)
    return base64.b64decode(value)


def test_hashes_are_domain_separated() -> None:
    assert merkle.leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert merkle.node_hash(b"l" * 32, b"r" * 32) == hashlib.sha256(b"\x01" + b"l" * 32 + b"r" * 32).digest()
    assert merkle.EMPTY_TREE_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.root_of([]) == merkle.EMPTY_TREE_ROOT


def test_the_split_is_the_largest_power_of_two_below() -> None:
    assert [merkle.largest_power_of_two_below(n) for n in (2, 3, 4, 5, 8, 9, 1000)] == [1, 2, 2, 4, 4, 8, 512]
    with pytest.raises(InvariantError):
        merkle.largest_power_of_two_below(1)


def test_generated_proofs_equal_the_published_ones(shared_dir: Path) -> None:
    """Our root and proofs for RFC 6962's test leaves equal transparency-dev/merkle's probes."""
    leaves = [merkle.leaf_hash(entry) for entry in RFC6962_LEAVES]
    store = _memory(leaves, 3)
    for name in ("inclusion/1/happy-path.json", "inclusion/2/happy-path.json", "inclusion/3/happy-path.json"):
        probe = _probe(shared_dir, name)
        index, size = probe["leafIdx"], probe["treeSize"]
        assert isinstance(index, int) and isinstance(size, int)
        assert merkle.root_at(store, size) == _b64(probe["root"])
        assert leaves[index] == _b64(probe["leafHash"])
        assert isinstance(probe["proof"], list)
        assert list(merkle.inclusion_proof(store, index, size)) == [_b64(item) for item in probe["proof"]]
    for name in (
        "consistency/1/happy-path.json",
        "consistency/2/happy-path.json",
        "consistency/4/happy-path.json",
    ):
        probe = _probe(shared_dir, name)
        size1, size2 = probe["size1"], probe["size2"]
        assert isinstance(size1, int) and isinstance(size2, int)
        assert merkle.root_at(store, size1) == _b64(probe["root1"])
        assert merkle.root_at(store, size2) == _b64(probe["root2"])
        assert isinstance(probe["proof"], list)
        assert list(merkle.consistency_proof(store, size1, size2)) == [_b64(item) for item in probe["proof"]]


@given(batch_sizes=chain_batch_sizes)
def test_stored_proofs_equal_the_rfc_definitions(batch_sizes: list[int]) -> None:
    total = sum(batch_sizes)
    leaves = [merkle.leaf_hash(index.to_bytes(4, "big")) for index in range(total)]
    store = merkle.MemoryHashes()
    done = 0
    for size in batch_sizes:
        frontier = store.append(leaves[done : done + size])
        done += size
        assert frontier.root == mth(leaves[:done])
    for size in sorted({1, min(2, total), total // 3 or 1, total - 1 or 1, total}):
        root = mth(leaves[:size])
        assert merkle.root_at(store, size) == root
        for index in {0, size // 2, size - 1}:
            generated = merkle.inclusion_proof(store, index, size)
            assert list(generated) == path(index, leaves[:size])
            assert merkle.verify_inclusion(index, size, leaves[index], generated, root).verified
        for old in {1, size // 2 or 1, size}:
            generated = merkle.consistency_proof(store, old, size)
            assert list(generated) == (proof(old, leaves[:size]) if old < size else [])
            assert merkle.verify_consistency(old, size, mth(leaves[:old]), root, generated).verified


def test_every_proof_of_a_small_tree_verifies_and_every_flipped_bit_is_caught() -> None:
    leaves = [merkle.leaf_hash(bytes([index])) for index in range(21)]
    store = _memory(leaves, 5)
    for size in range(1, 22):
        root = mth(leaves[:size])
        for index in range(size):
            generated = list(merkle.inclusion_proof(store, index, size))
            assert merkle.verify_inclusion(index, size, leaves[index], generated, root).verified
            for position in range(len(generated)):
                tampered = list(generated)
                tampered[position] = bytes([tampered[position][0] ^ 1]) + tampered[position][1:]
                assert not merkle.verify_inclusion(index, size, leaves[index], tampered, root).verified
            assert not merkle.verify_inclusion(
                index, size, leaves[(index + 1) % 21], generated, root
            ).verified
            if size > 1:
                assert not merkle.verify_inclusion(
                    (index + 1) % size, size, leaves[index], generated, root
                ).verified
        for old in range(1, size):
            generated = list(merkle.consistency_proof(store, old, size))
            old_root = mth(leaves[:old])
            assert merkle.verify_consistency(old, size, old_root, root, generated).verified
            for position in range(len(generated)):
                tampered = list(generated)
                tampered[position] = bytes([tampered[position][0] ^ 1]) + tampered[position][1:]
                assert not merkle.verify_consistency(old, size, old_root, root, tampered).verified
            assert not merkle.verify_consistency(old, size, root, old_root, generated).verified
            assert not merkle.verify_consistency(old, size, old_root, root, generated[:-1]).verified
            assert not merkle.verify_consistency(old, size, old_root, root, [*generated, root]).verified


def test_verification_reasons() -> None:
    leaf = merkle.leaf_hash(b"x")
    assert merkle.verify_inclusion(0, 1, leaf, [], leaf) == merkle.Verdict.accept()
    assert merkle.verify_inclusion(1, 1, leaf, [], leaf).reason == "leaf index 1 is not in a tree of size 1"
    assert merkle.verify_inclusion(0, 1, leaf[:5], [], leaf).reason == "leaf_hash must be 32 bytes, got 5"
    assert merkle.verify_inclusion(0, 1, leaf, [leaf], leaf).reason is not None
    assert merkle.verify_inclusion(-1, 1, leaf, [], leaf).reason is not None
    assert merkle.verify_consistency(2, 1, leaf, leaf, []).reason == "size1 2 is greater than size2 1"
    assert merkle.verify_consistency(0, 0, leaf, leaf, []).reason == (
        "a consistency proof from an empty tree proves nothing"
    )
    assert (
        merkle.verify_consistency(3, 3, leaf, leaf, [leaf]).reason
        == "equal sizes need an empty proof, got 1 hashes"
    )
    assert merkle.verify_consistency(1, 2, leaf, leaf, []).reason == "the proof is empty"


def test_proof_generation_refuses_what_the_rfc_does_not_define() -> None:
    store = _memory([merkle.leaf_hash(b"a")] * 5, 5)
    with pytest.raises(InputError, match="leaf_index"):
        merkle.inclusion_proof(store, 5, 5)
    with pytest.raises(InputError, match="size1"):
        merkle.consistency_proof(store, 0, 5)
    with pytest.raises(InputError, match="size1"):
        merkle.consistency_proof(store, 6, 5)


def test_complete_subtrees_cover_a_range_exactly() -> None:
    assert merkle.complete_subtrees(0, 13) == (merkle.NodeId(3, 0), merkle.NodeId(2, 2), merkle.NodeId(0, 12))
    assert merkle.complete_subtrees(8, 13) == (merkle.NodeId(2, 2), merkle.NodeId(0, 12))
    for begin in range(0, 40):
        for end in range(begin, 41):
            nodes = merkle.complete_subtrees(begin, end)
            covered = [leaf for node in nodes for leaf in range(node.begin, node.end)]
            assert covered == list(range(begin, end))


@given(sizes=chain_batch_sizes)
def test_the_frontier_round_trips_and_keeps_stored_levels(sizes: list[int]) -> None:
    frontier = merkle.Frontier.empty()
    kept: list[merkle.NodeId] = []
    for size in sizes:
        prepared = prepare_append(frontier, [bytes([size])] * size)
        kept.extend(merkle.NodeId(level, index) for level, index, _ in prepared.nodes)
        frontier = prepared.frontier
        assert merkle.Frontier.from_bytes(frontier.size, frontier.to_bytes()) == frontier
    assert all(node.level % merkle.STORED_LEVEL_STRIDE == 0 and node.end <= frontier.size for node in kept)
    expected = {
        merkle.NodeId(level, index)
        for level in range(merkle.STORED_LEVEL_STRIDE, 64, merkle.STORED_LEVEL_STRIDE)
        for index in range(frontier.size >> level)
    }
    assert set(kept) == expected and len(kept) == len(expected)


def test_a_frontier_of_the_wrong_shape_is_an_invariant_error() -> None:
    with pytest.raises(InvariantError):
        merkle.Frontier(3, (merkle.EMPTY_TREE_ROOT,))
    with pytest.raises(InvariantError):
        merkle.Frontier.from_bytes(1, b"short")


@given(entries=st.lists(st.binary(max_size=8), min_size=1, max_size=5))
def test_entries_are_checked_before_hashing(entries: list[bytes]) -> None:
    check_entries(entries)
    with pytest.raises(InputError, match=r"entries\[1\]"):
        check_entries([entries[0], "text"])  # type: ignore[list-item]
    with pytest.raises(InputError, match="at least one"):
        check_entries([])
    with pytest.raises(BoundExceededError, match="chain_entry_bytes_max"):
        check_entries([*entries, b"x" * 70_000])
