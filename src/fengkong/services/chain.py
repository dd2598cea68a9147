"""Use cases of the verifiable log: verify a proof document, append entries, prove inclusion and
consistency from the stored tree, make keys, sign and verify checkpoints.

Verification needs no database (:func:`verify_proof_file`). Appending and proving take the caller's
connection and a :class:`~fengkong.store.chain.ChainRepository`; :func:`append_entries` is one transaction's
worth: the caller commits it (or nothing is appended).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import sqlalchemy as sa

from fengkong import bounds
from fengkong.chain import merkle
from fengkong.chain.checkpoint import (
    Checkpoint,
    CheckpointVerdict,
    sign_checkpoint,
    verify_checkpoint,
    verify_checkpoints_consistent,
)
from fengkong.chain.log import prepare_append
from fengkong.chain.note import SignerKey, VerifierKey
from fengkong.chain.proof_document import ProofJudgement, ProofKind, judge_document
from fengkong.errors import ConflictError, InputError, InvariantError
from fengkong.store.chain import ChainRepository, LogHead


def verify_proof_file(path: Path) -> ProofJudgement:
    """Judge the inclusion or consistency proof in the JSON file at ``path``.

    An unreadable file (missing, too large, not JSON, neither kind of proof) raises
    :class:`~fengkong.errors.InputError`; a proof that does not verify is a judgement with its reason.
    """
    return judge_document(_load_json(path))


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


# -- keys and checkpoints ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    verifier_key: str
    verifier_path: Path
    signer_path: Path


def _file_stem(name: str) -> str:
    return "".join(character if character.isalnum() or character in "-_." else "_" for character in name)


def generate_key(name: str, out_dir: Path) -> GeneratedKey:
    """A new Ed25519 key named ``name``: ``<name>.vkey`` (public, note format) and ``<name>.key`` (private,
    mode 0600) in ``out_dir``. Existing files are never overwritten."""
    signer = SignerKey.generate(name)
    stem = _file_stem(name)
    verifier_path, signer_path = out_dir / f"{stem}.vkey", out_dir / f"{stem}.key"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for path in (verifier_path, signer_path):
            if path.exists():
                raise InputError(f"{path} exists; refusing to overwrite a key", field="out")
        descriptor = os.open(signer_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(signer.to_text() + "\n")
        verifier_path.write_text(signer.verifier().to_text() + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the key files: {exc.strerror or exc}", field="out") from exc
    return GeneratedKey(signer.verifier().to_text(), verifier_path, signer_path)


def _read_text(path: Path, field: str, bound: int) -> str:
    try:
        size = path.stat().st_size
        if size > bound:
            raise InputError(f"{path} is {size} bytes, more than {bound}", field=field)
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", field=field) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text: {exc}", field=field) from exc


def load_verifier_key(key: str) -> VerifierKey:
    """A verifier key given as text (``name+hash+base64``) or as the path of a file holding it."""
    path = Path(key)
    if "+" not in key or path.is_file():
        return VerifierKey.parse(_read_text(path, "public_key", bounds.chain_note_bytes_max))
    return VerifierKey.parse(key)


def load_signer_key(path: Path) -> SignerKey:
    return SignerKey.parse(_read_text(path, "private_key", bounds.chain_note_bytes_max))


def verify_checkpoint_file(checkpoint: Path, public_key: str) -> CheckpointVerdict:
    """Check the checkpoint note in a file against a verifier key (text or file)."""
    key = load_verifier_key(public_key)
    return verify_checkpoint(_read_text(checkpoint, "checkpoint", bounds.chain_note_bytes_max), key)


@dataclass(frozen=True, slots=True)
class CheckpointConsistency:
    old: CheckpointVerdict
    new: CheckpointVerdict
    verdict: merkle.Verdict

    def to_json(self) -> dict[str, object]:
        return {
            "verified": self.verdict.verified,
            "reason": self.verdict.reason,
            "old": self.old.to_json(),
            "new": self.new.to_json(),
        }


def verify_checkpoint_consistency_files(
    old: Path, new: Path, proof_json: Path, public_key: str
) -> CheckpointConsistency:
    """Two checkpoint notes and a consistency proof document (the ``chain verify`` format): do both
    checkpoints verify under the key, and does the proof show the new one extends the old one? The sizes and
    roots in the document must be the checkpoints' own."""
    key = load_verifier_key(public_key)
    document = _load_json(proof_json)
    judgement = judge_document(document)
    if judgement.kind is not ProofKind.CONSISTENCY:
        raise InputError(
            "the proof document is an inclusion proof, not a consistency proof", field="proof_json"
        )
    old_note = _read_text(old, "old", bounds.chain_note_bytes_max)
    new_note = _read_text(new, "new", bounds.chain_note_bytes_max)
    fields = cast(dict[str, object], document)
    if not judgement.verdict.verified:
        # The proof fails on its own terms (malformed, or not consistent with the roots it names).
        old_verdict, new_verdict = verify_checkpoint(old_note, key), verify_checkpoint(new_note, key)
        verdict = merkle.Verdict.reject(f"the proof does not verify: {judgement.verdict.reason}")
        return CheckpointConsistency(old_verdict, new_verdict, verdict)
    proof = [base64.b64decode(item) for item in cast(list[str], fields.get("proof") or [])]
    old_verdict, new_verdict, verdict = verify_checkpoints_consistent(old_note, new_note, proof, key)
    if verdict.verified and old_verdict.checkpoint and new_verdict.checkpoint:
        claimed = (fields["size1"], fields["size2"], fields["root1"], fields["root2"])
        actual = (
            old_verdict.checkpoint.tree_size,
            new_verdict.checkpoint.tree_size,
            base64.b64encode(old_verdict.checkpoint.root_hash).decode("ascii"),
            base64.b64encode(new_verdict.checkpoint.root_hash).decode("ascii"),
        )
        if claimed != actual:
            verdict = merkle.Verdict.reject("the proof document's sizes or roots are not the checkpoints'")
    return CheckpointConsistency(old_verdict, new_verdict, verdict)


def _load_json(path: Path) -> object:
    text = _read_text(path, "proof_json", bounds.chain_proof_file_bytes_max)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not JSON: {exc}", field="proof_json") from exc


def sign_log_checkpoint(
    connection: sa.Connection, repository: ChainRepository, name: str, origin: str, signer: SignerKey
) -> str:
    """The current head of log ``name`` as a checkpoint note for ``origin``, signed by ``signer``."""
    head = repository.head(connection, name)
    return sign_checkpoint(Checkpoint(origin, head.tree_size, head.root_hash), [signer])
