"""An append to a Merkle log, prepared in memory: entries checked and hashed, the frontier extended.

The store writes what :func:`prepare_append` returns, after it has checked (under a lock) that the log still
has ``frontier.size`` leaves; nothing is written when an entry is refused here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fengkong import bounds
from fengkong.chain import merkle
from fengkong.errors import BoundExceededError, InputError


@dataclass(frozen=True, slots=True)
class PreparedAppend:
    """Leaf hashes of the new entries, the stored-level nodes they complete, and the tree after them."""

    first_index: int
    leaf_hashes: tuple[bytes, ...]
    nodes: tuple[tuple[int, int, bytes], ...]  # (level, node_index, hash) at the stored levels
    frontier: merkle.Frontier
    root: bytes


def check_entries(entries: Sequence[bytes]) -> None:
    """Refuse an empty or oversized batch, and anything in it that is not bytes within the bound."""
    if not entries:
        raise InputError("an append needs at least one entry", field="entries")
    if len(entries) > bounds.chain_append_batch_entries_max:
        raise BoundExceededError(
            "chain_append_batch_entries_max", bounds.chain_append_batch_entries_max, len(entries)
        )
    for position, entry in enumerate(entries):
        if not isinstance(entry, bytes):
            raise InputError(f"must be bytes, got {type(entry).__name__}", field=f"entries[{position}]")
        if len(entry) > bounds.chain_entry_bytes_max:
            raise BoundExceededError("chain_entry_bytes_max", bounds.chain_entry_bytes_max, len(entry))


def prepare_append(frontier: merkle.Frontier, entries: Sequence[bytes]) -> PreparedAppend:
    """Check and hash ``entries`` as the leaves after ``frontier``; the rows an append writes."""
    check_entries(entries)
    leaf_hashes = tuple(merkle.leaf_hash(entry) for entry in entries)
    nodes: list[tuple[int, int, bytes]] = []

    def keep(node: merkle.NodeId, node_hash: bytes) -> None:
        nodes.append((node.level, node.node_index, node_hash))

    extended = merkle.extend(frontier, leaf_hashes, keep)
    return PreparedAppend(frontier.size, leaf_hashes, tuple(nodes), extended, extended.root)
