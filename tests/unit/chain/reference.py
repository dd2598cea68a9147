"""The RFC 9162 definitions, written as recursively as the RFC writes them: the reference the stored tree
and its proofs are compared with (slow, clear, for small trees only)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def mth(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 §2.1.1, from leaf hashes."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = 1
    while k * 2 < len(leaf_hashes):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaf_hashes[:k]) + mth(leaf_hashes[k:])).digest()


def path(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 §2.1.3.1."""
    n = len(leaf_hashes)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*path(m, leaf_hashes[:k]), mth(leaf_hashes[k:])]
    return [*path(m - k, leaf_hashes[k:]), mth(leaf_hashes[:k])]


def subproof(m: int, leaf_hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 §2.1.4.1."""
    n = len(leaf_hashes)
    if m == n:
        return [] if complete else [mth(leaf_hashes)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, leaf_hashes[:k], complete), mth(leaf_hashes[k:])]
    return [*subproof(m - k, leaf_hashes[k:], False), mth(leaf_hashes[:k])]


def proof(m: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 (0 < m <= n)."""
    return subproof(m, leaf_hashes, True)
