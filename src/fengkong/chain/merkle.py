"""The RFC 9162 Merkle tree: hashing, proof generation from stored nodes, and proof verification.

Written here by hand, on purpose. RFC 9162 §2.1 is a few pages, and of the Python packages on PyPI that
mention Merkle trees (``merkle``, ``merkletools``, ``merklelib``, ``merkle-py``, ``merkleasy``, ``pymerkle``
and the like in /work/.library/env/packages/pypi.tsv) none is both maintained and faithful to the RFC: most
hash leaves and nodes without the 0x00/0x01 domain separation, pad or duplicate the last node instead of the
largest-power-of-two split, or offer no consistency proofs; ``ctutlz`` verifies certificate-transparency SCTs,
not tree proofs. The reference we checked our understanding against is transparency-dev/merkle (Go); nothing
here is copied from it. Conformance is proven against its published probes (tests/conformance).

The tree (RFC 9162 §2.1.1)::

    leaf hash  MTH({d}) = SHA-256(0x00 || d)
    node hash  MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))   k = largest power of two < n
    empty      MTH({})  = SHA-256("")

A *complete subtree* ``NodeId(level, i)`` covers the leaves ``[i * 2**level, (i + 1) * 2**level)``.
Every range the RFC recursion produces starts on a multiple of a power of two at least its size, so its hash
is the right fold of the complete subtrees it splits into (:func:`complete_subtrees`), largest first.

Storage layout. The store keeps leaf hashes (level 0) and the complete subtrees of every level that is a
multiple of :data:`STORED_LEVEL_STRIDE` (4: levels 4, 8, 12, ...), about ``n / 15`` node rows for ``n``
leaves. A node at any other level is recomputed from at most ``2**(STRIDE-1) = 8`` stored hashes one stored
level below it. A proof needs ``O(log n)`` nodes, so ``O(log n)`` stored hashes are read — in one batched call
to :class:`StoredHashes` — and at most ``8 * O(log n)`` SHA-256 computations are made. Appending keeps the
*frontier* (the compact range of ``[0, size)``: one complete subtree per set bit of ``size``), so a batch is
hashed with no read of earlier leaves (:func:`extend`).

Verification (:func:`verify_inclusion`, :func:`verify_consistency`) follows RFC 9162 §2.1.3.2 and §2.1.4.2
literally, after the edge cases the RFC leaves to the caller; a rejection is a value, :class:`Verdict`, with
its reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, NamedTuple, Protocol

from fengkong.errors import InputError, InvariantError, require

HASH_SIZE_BYTES: Final = 32
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"
EMPTY_TREE_ROOT: Final = hashlib.sha256(b"").digest()
#: Levels whose complete subtrees the store keeps (multiples of this; level 0 is the leaf hashes).
STORED_LEVEL_STRIDE: Final = 4
#: Sizes and indexes are unsigned 64-bit in RFC 9162 (and in every log we interoperate with).
TREE_SIZE_MAX: Final = 2**64 - 1

_sha256 = hashlib.sha256


def leaf_hash(entry: bytes) -> bytes:
    """``SHA-256(0x00 || entry)``."""
    return _sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return _sha256(NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(size: int) -> int:
    """The ``k`` of RFC 9162: the largest power of two strictly smaller than ``size`` (``size >= 2``)."""
    require(size >= 2, f"the split point is defined for sizes of at least 2, got {size}")
    return 1 << ((size - 1).bit_length() - 1)


class NodeId(NamedTuple):
    """The complete subtree over the leaves ``[node_index * 2**level, (node_index + 1) * 2**level)``."""

    level: int
    node_index: int

    @property
    def begin(self) -> int:
        return self.node_index << self.level

    @property
    def end(self) -> int:
        return (self.node_index + 1) << self.level


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of checking a proof: ``verified``, or not with the ``reason``."""

    verified: bool
    reason: str | None = None

    @classmethod
    def accept(cls) -> Verdict:
        return cls(True, None)

    @classmethod
    def reject(cls, reason: str) -> Verdict:
        return cls(False, reason)


# -- pure tree arithmetic ----------------------------------------------------------------------------------


def complete_subtrees(begin: int, end: int) -> tuple[NodeId, ...]:
    """The aligned complete subtrees that ``[begin, end)`` splits into, left to right, largest first."""
    require(0 <= begin <= end, f"not a range: [{begin}, {end})")
    nodes: list[NodeId] = []
    position = begin
    while position < end:
        level = (position & -position).bit_length() - 1 if position else (end - position).bit_length() - 1
        while position + (1 << level) > end:
            level -= 1
        nodes.append(NodeId(level, position >> level))
        position += 1 << level
    return tuple(nodes)


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """The RFC hash of a range from its complete subtrees (largest first): ``h1 . (h2 . (h3 ...))``."""
    require(len(hashes) > 0, "an empty range has no subtree hashes to fold")
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = _sha256(NODE_PREFIX + left + result).digest()
    return result


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """``MTH`` of a whole list of leaf hashes (the reference the stored tree is tested against)."""
    if not leaf_hashes:
        return EMPTY_TREE_ROOT
    return extend(Frontier.empty(), leaf_hashes, lambda _node, _hash: None).root


def inclusion_ranges(leaf_index: int, tree_size: int) -> tuple[tuple[int, int], ...]:
    """The leaf ranges whose hashes form ``PATH(leaf_index, D[0:tree_size])`` (RFC 9162 §2.1.3.1), leaf up."""
    _check_index(leaf_index, tree_size)
    top_down: list[tuple[int, int]] = []
    begin, end = 0, tree_size
    while end - begin > 1:
        split = begin + largest_power_of_two_below(end - begin)
        if leaf_index < split:
            top_down.append((split, end))
            end = split
        else:
            top_down.append((begin, split))
            begin = split
    return tuple(reversed(top_down))


def consistency_ranges(size1: int, size2: int) -> tuple[tuple[int, int], ...]:
    """The leaf ranges whose hashes form ``PROOF(size1, D[0:size2])`` (RFC 9162 §2.1.4.1), in proof order."""
    _check_sizes(size1, size2)
    if size1 == size2:
        return ()
    tail: list[tuple[int, int]] = []  # appended outermost first; the proof lists them innermost first
    head: list[tuple[int, int]] = []
    begin, end, old_size, complete = 0, size2, size1, True
    while True:
        size = end - begin
        if old_size == size:
            if not complete:
                head.append((begin, end))
            break
        split = largest_power_of_two_below(size)
        if old_size <= split:
            tail.append((begin + split, end))
            end = begin + split
        else:
            tail.append((begin, begin + split))
            old_size -= split
            begin += split
            complete = False
    return tuple(head + list(reversed(tail)))


def _check_index(leaf_index: int, tree_size: int) -> None:
    if not 0 <= tree_size <= TREE_SIZE_MAX:
        raise InputError(f"must be between 0 and {TREE_SIZE_MAX}, got {tree_size}", field="tree_size")
    if not 0 <= leaf_index < tree_size:
        raise InputError(f"must be in [0, tree_size={tree_size}), got {leaf_index}", field="leaf_index")


def _check_sizes(size1: int, size2: int) -> None:
    if not 0 <= size2 <= TREE_SIZE_MAX:
        raise InputError(f"must be between 0 and {TREE_SIZE_MAX}, got {size2}", field="size2")
    if not 0 < size1 <= size2:
        raise InputError(
            f"must be in (0, size2={size2}] (a proof from an empty tree proves nothing), got {size1}",
            field="size1",
        )


# -- appending: the frontier -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frontier:
    """The compact range of ``[0, size)``: a complete subtree hash per set bit of ``size``, largest first."""

    size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.size < 0 or len(self.hashes) != self.size.bit_count():
            raise InvariantError(
                f"a frontier of size {self.size} holds {self.size.bit_count()} hashes, not {len(self.hashes)}"
            )

    @classmethod
    def empty(cls) -> Frontier:
        return cls(0, ())

    @classmethod
    def from_bytes(cls, size: int, packed: bytes) -> Frontier:
        """The frontier stored as its hashes concatenated (:meth:`to_bytes`)."""
        if len(packed) != HASH_SIZE_BYTES * size.bit_count():
            raise InvariantError(f"a stored frontier of size {size} has {len(packed)} bytes")
        hashes = tuple(packed[i : i + HASH_SIZE_BYTES] for i in range(0, len(packed), HASH_SIZE_BYTES))
        return cls(size, hashes)

    def to_bytes(self) -> bytes:
        return b"".join(self.hashes)

    def nodes(self) -> tuple[NodeId, ...]:
        return complete_subtrees(0, self.size)

    @property
    def root(self) -> bytes:
        return fold_right(self.hashes) if self.hashes else EMPTY_TREE_ROOT


def extend(
    frontier: Frontier, leaf_hashes: Sequence[bytes], keep: Callable[[NodeId, bytes], None]
) -> Frontier:
    """Append ``leaf_hashes`` to the tree whose frontier is ``frontier``; return the new frontier.

    ``keep(node, hash)`` is called for every complete subtree at a stored level (a positive multiple of
    :data:`STORED_LEVEL_STRIDE`) that the new leaves complete, in the order they complete.
    """
    stack = list(frontier.hashes)
    index = frontier.size
    stride_mask = STORED_LEVEL_STRIDE - 1
    sha256 = _sha256
    prefix = NODE_PREFIX
    for leaf in leaf_hashes:
        node = leaf
        carry = index
        level = 0
        while carry & 1:
            node = sha256(prefix + stack.pop() + node).digest()
            level += 1
            carry >>= 1
            if not level & stride_mask:
                keep(NodeId(level, index >> level), node)
        stack.append(node)
        index += 1
    return Frontier(index, tuple(stack))


# -- proofs from stored hashes -----------------------------------------------------------------------------


class StoredRange(NamedTuple):
    """Stored hashes at ``level`` (a multiple of the stride; 0: leaves), indexes ``[start, end)``."""

    level: int
    start: int
    end: int


class StoredHashes(Protocol):
    """Where the stored tree lives (a repository over SQL, or a dictionary in tests)."""

    def stored_hashes(self, ranges: Sequence[StoredRange]) -> Sequence[Sequence[bytes]]:
        """For each range, its stored hashes in index order (every one must exist)."""
        ...


def stored_range_of(node: NodeId) -> StoredRange:
    """The stored hashes ``node`` is recomputed from (itself when its level is stored)."""
    below = node.level - node.level % STORED_LEVEL_STRIDE
    shift = node.level - below
    return StoredRange(below, node.node_index << shift, (node.node_index + 1) << shift)


def node_hashes(source: StoredHashes, nodes: Sequence[NodeId]) -> dict[NodeId, bytes]:
    """The hashes of complete subtrees ``nodes``, read from ``source`` in one call."""
    unique = list(dict.fromkeys(nodes))
    ranges = [stored_range_of(node) for node in unique]
    found = source.stored_hashes(ranges)
    if len(found) != len(ranges):
        raise InvariantError(f"asked the store for {len(ranges)} ranges, got {len(found)}")
    result: dict[NodeId, bytes] = {}
    for node, wanted, hashes in zip(unique, ranges, found, strict=True):
        if len(hashes) != wanted.end - wanted.start:
            raise InvariantError(f"the store lacks hashes of {wanted} needed for node {node}")
        level_hashes = list(hashes)
        while len(level_hashes) > 1:
            level_hashes = [
                _sha256(NODE_PREFIX + level_hashes[i] + level_hashes[i + 1]).digest()
                for i in range(0, len(level_hashes), 2)
            ]
        result[node] = level_hashes[0]
    return result


def _range_hashes(source: StoredHashes, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    pieces = [complete_subtrees(begin, end) for begin, end in ranges]
    known = node_hashes(source, [node for piece in pieces for node in piece])
    return [fold_right([known[node] for node in piece]) for piece in pieces]


def inclusion_proof(source: StoredHashes, leaf_index: int, tree_size: int) -> tuple[bytes, ...]:
    """The audit path of ``leaf_index`` in the tree of ``tree_size`` leaves (leaf first)."""
    return tuple(_range_hashes(source, inclusion_ranges(leaf_index, tree_size)))


def consistency_proof(source: StoredHashes, size1: int, size2: int) -> tuple[bytes, ...]:
    """The proof that the tree of ``size1`` leaves is a prefix of the tree of ``size2`` leaves."""
    return tuple(_range_hashes(source, consistency_ranges(size1, size2)))


def inclusion_proof_with_root(
    source: StoredHashes, leaf_index: int, tree_size: int
) -> tuple[bytes, tuple[bytes, ...], bytes]:
    """``(leaf hash, audit path, root)`` at ``tree_size``, from one read of the store."""
    path = inclusion_ranges(leaf_index, tree_size)  # checks the index and size first
    ranges = [(leaf_index, leaf_index + 1), *path, (0, tree_size)]
    hashes = _range_hashes(source, ranges)
    return hashes[0], tuple(hashes[1:-1]), hashes[-1]


def consistency_proof_with_roots(
    source: StoredHashes, size1: int, size2: int
) -> tuple[bytes, tuple[bytes, ...], bytes]:
    """``(root at size1, consistency proof, root at size2)``, from one read of the store."""
    path = consistency_ranges(size1, size2)  # checks the sizes first
    ranges = [(0, size1), *path, (0, size2)]
    hashes = _range_hashes(source, ranges)
    return hashes[0], tuple(hashes[1:-1]), hashes[-1]


def root_at(source: StoredHashes, tree_size: int) -> bytes:
    """The root hash of the first ``tree_size`` stored leaves."""
    if tree_size == 0:
        return EMPTY_TREE_ROOT
    return _range_hashes(source, [(0, tree_size)])[0]


class MemoryHashes:
    """:class:`StoredHashes` over dictionaries: the tree kept in memory (tests, and proofs for small logs)."""

    def __init__(self) -> None:
        self.leaves: list[bytes] = []
        self.nodes: dict[NodeId, bytes] = {}
        self.frontier = Frontier.empty()

    def append(self, leaf_hashes: Sequence[bytes]) -> Frontier:
        self.frontier = extend(self.frontier, leaf_hashes, self.nodes.__setitem__)
        self.leaves.extend(leaf_hashes)
        return self.frontier

    def stored_hashes(self, ranges: Sequence[StoredRange]) -> list[list[bytes]]:
        result: list[list[bytes]] = []
        for level, start, end in ranges:
            if level == 0:
                result.append(self.leaves[start:end])
            else:
                result.append([self.nodes[NodeId(level, index)] for index in range(start, end)])
        return result


# -- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ---------------------------------------------------------


def _bad_hash(name: str, value: bytes) -> str | None:
    if len(value) != HASH_SIZE_BYTES:
        return f"{name} must be {HASH_SIZE_BYTES} bytes, got {len(value)}"
    return None


def _bad_proof(proof: Sequence[bytes]) -> str | None:
    for position, value in enumerate(proof):
        if len(value) != HASH_SIZE_BYTES:
            return f"proof[{position}] must be {HASH_SIZE_BYTES} bytes, got {len(value)}"
    return None


def root_from_inclusion_proof(
    leaf_index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes]
) -> bytes | str:
    """RFC 9162 §2.1.3.2 steps 1-5 up to the root; a string is the reason the proof cannot be used."""
    if not 0 <= leaf_index < tree_size:
        return f"leaf index {leaf_index} is not in a tree of size {tree_size}"
    fn, sn = leaf_index, tree_size - 1
    result = leaf
    for element in proof:
        if sn == 0:
            return f"the proof is longer than the path of leaf {leaf_index} in a tree of size {tree_size}"
        if fn & 1 or fn == sn:
            result = node_hash(element, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return f"the proof is shorter than the path of leaf {leaf_index} in a tree of size {tree_size}"
    return result


def verify_inclusion(
    leaf_index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> Verdict:
    """Does ``proof`` show the leaf hash ``leaf`` at ``leaf_index`` in the tree with ``root``?"""
    if leaf_index < 0 or tree_size < 0 or tree_size > TREE_SIZE_MAX:
        return Verdict.reject(
            f"indexes and sizes are unsigned 64-bit, got index {leaf_index}, size {tree_size}"
        )
    problem = _bad_hash("leaf_hash", leaf) or _bad_hash("root", root) or _bad_proof(proof)
    if problem:
        return Verdict.reject(problem)
    computed = root_from_inclusion_proof(leaf_index, tree_size, leaf, proof)
    if isinstance(computed, str):
        return Verdict.reject(computed)
    if computed != root:
        return Verdict.reject("the root computed from the proof differs from the given root")
    return Verdict.accept()


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> Verdict:
    """Does ``proof`` show the tree (``size1``, ``root1``) to be a prefix of the tree (``size2``, ``root2``)?

    Edge cases before the RFC algorithm (which assumes ``0 < size1 < size2``): a proof from an empty tree
    is refused (it proves nothing, even with equal roots); equal sizes need an empty proof and equal roots,
    compared as given (nothing is hashed, so their length is not checked — transparency-dev/merkle's probe
    ``sizes-are-equal-one-and-proof-is-empty`` accepts two equal 12-byte placeholders).
    """
    if size1 < 0 or size2 < 0 or size2 > TREE_SIZE_MAX:
        return Verdict.reject(f"sizes are unsigned 64-bit, got {size1} and {size2}")
    if size1 > size2:
        return Verdict.reject(f"size1 {size1} is greater than size2 {size2}")
    if size1 == 0:
        return Verdict.reject("a consistency proof from an empty tree proves nothing")
    if size1 == size2:
        if proof:
            return Verdict.reject(f"equal sizes need an empty proof, got {len(proof)} hashes")
        if root1 != root2:
            return Verdict.reject("equal sizes but the roots differ")
        return Verdict.accept()
    problem = _bad_hash("root1", root1) or _bad_hash("root2", root2) or _bad_proof(proof)
    if problem:
        return Verdict.reject(problem)
    # RFC 9162 §2.1.4.2
    if not proof:
        return Verdict.reject("the proof is empty")
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # an exact power of two: the old root is itself a node of the path
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first = second = path[0]
    for element in path[1:]:
        if sn == 0:
            return Verdict.reject("the proof is longer than the path between the two sizes")
        if fn & 1 or fn == sn:
            first = node_hash(element, first)
            second = node_hash(element, second)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            second = node_hash(second, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return Verdict.reject("the proof is shorter than the path between the two sizes")
    if first != root1:
        return Verdict.reject("the old root computed from the proof differs from root1")
    if second != root2:
        return Verdict.reject("the new root computed from the proof differs from root2")
    return Verdict.accept()
