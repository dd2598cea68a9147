"""Signed notes and checkpoints, against the published examples of golang.org/x/mod/sumdb/note.

Expected values come from golang/mod ``sumdb/note/note_test.go`` (``TestNewVerifier``, ``TestNewSigner``,
``TestSign``, ``TestOpen``): the PeterNeumann key pair, the EnochRoot verifier key, and the two signatures of
the Peter Neumann quotation. Ed25519 is deterministic, so our signature must equal theirs byte for byte.
"""

from __future__ import annotations

import base64

import pytest

from fengkong.chain import merkle
from fengkong.chain.checkpoint import (
    Checkpoint,
    sign_checkpoint,
    verify_checkpoint,
    verify_checkpoints_consistent,
)
from fengkong.chain.note import SignerKey, VerifierKey, key_id, open_note, sign_note
from fengkong.errors import InputError

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_B64 = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
ENOCH_B64 = "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
PETER_SIG = f"\u2014 PeterNeumann {PETER_B64}\n"
ENOCH_SIG = f"\u2014 EnochRoot {ENOCH_B64}\n"


def test_the_published_keys_parse_and_round_trip() -> None:
    verifier = VerifierKey.parse(PETER_VKEY)
    signer = SignerKey.parse(PETER_SKEY)
    assert verifier.key_id.hex() == "c74f20a3"
    assert key_id("PeterNeumann", verifier.public_key) == bytes.fromhex("c74f20a3")
    assert signer.verifier() == verifier
    assert verifier.to_text() == PETER_VKEY and signer.to_text() == PETER_SKEY
    assert VerifierKey.parse(ENOCH_VKEY).key_id.hex() == "af0cfe78"
    assert signer.to_text().split("+")[-1] not in repr(signer)  # the seed never shows


def test_signing_reproduces_the_published_signature() -> None:
    assert sign_note(TEXT, [SignerKey.parse(PETER_SKEY)]) == TEXT + "\n" + PETER_SIG


def test_opening_follows_the_published_cases() -> None:
    peter, enoch = VerifierKey.parse(PETER_VKEY), VerifierKey.parse(ENOCH_VKEY)
    message = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(message, [peter]).verified_by == ("PeterNeumann",)  # Enoch's is ignored: unknown key
    opened = open_note(message, [peter, enoch])
    assert opened.text == TEXT and opened.verified_by == ("PeterNeumann", "EnochRoot")
    assert open_note(message, []).reason == "the note has no verifiable signature by a known key"
    corrupted = TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    assert open_note(corrupted, [peter]).reason == "invalid signature for key PeterNeumann+c74f20a3"
    for malformed in (
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + f"\u2014 Bad Name {PETER_B64}\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
    ):
        opened = open_note(malformed, [peter])
        assert not opened.verified and opened.reason and opened.reason.startswith("malformed note"), malformed
    altered = TEXT.replace("cryptography", "blockchain") + "\n" + PETER_SIG
    assert not open_note(altered, [peter]).verified


def test_mangled_keys_are_refused() -> None:
    for bad in (
        PETER_VKEY[:-1],
        PETER_VKEY.replace("c74f20a3", "c74f20a4"),
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
    ):
        with pytest.raises(InputError, match="public_key"):
            VerifierKey.parse(bad)
    for bad in (PETER_SKEY[:-2], PETER_SKEY.replace("PRIVATE+KEY+", ""), PETER_SKEY.replace("c74f", "c75f")):
        with pytest.raises(InputError, match="private_key"):
            SignerKey.parse(bad)


def test_a_checkpoint_signs_and_verifies_in_the_c2sp_layout() -> None:
    signer = SignerKey.generate("fengkong.example/audit")
    root = merkle.root_of([merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")])
    note = sign_checkpoint(Checkpoint("fengkong.example/audit", 2, root), [signer])
    lines = note.split("\n")
    assert lines[:4] == ["fengkong.example/audit", "2", base64.b64encode(root).decode(), ""]
    signature = base64.b64decode(lines[4].split(" ")[2])
    assert lines[4].startswith("\u2014 fengkong.example/audit ") and signature[:4] == signer.key_id
    verdict = verify_checkpoint(note, signer.verifier())
    assert verdict.verified and verdict.checkpoint == Checkpoint("fengkong.example/audit", 2, root)
    assert verify_checkpoint(note, signer.verifier(), origin="elsewhere").reason is not None
    other = SignerKey.generate("fengkong.example/audit")
    assert not verify_checkpoint(note, other.verifier()).verified  # same name, another key: unknown
    forged = note.replace("\n2\n", "\n3\n", 1)
    assert verify_checkpoint(forged, signer.verifier()).reason == "invalid signature for key " + (
        f"fengkong.example/audit+{signer.key_id.hex()}"
    )


def test_checkpoint_text_rules() -> None:
    root = merkle.EMPTY_TREE_ROOT
    encoded = base64.b64encode(root).decode()
    assert Checkpoint.parse_text(f"o\n0\n{encoded}\n") == Checkpoint("o", 0, root)
    assert Checkpoint.parse_text(f"o\n5\n{encoded}\next\n") == Checkpoint("o", 5, root, ("ext",))
    for bad in (
        f"o\n05\n{encoded}\n",
        f"o\n-1\n{encoded}\n",
        "o\n5\nAAAA\n",
        f"o\n5\n{encoded}",
        f"\n5\n{encoded}\n",
    ):
        assert isinstance(Checkpoint.parse_text(bad), str), bad
    with pytest.raises(InputError, match="root_hash"):
        Checkpoint("o", 1, b"short")


def test_two_checkpoints_and_a_consistency_proof() -> None:
    signer = SignerKey.generate("log.example/1")
    store = merkle.MemoryHashes()
    leaves = [merkle.leaf_hash(bytes([index])) for index in range(30)]
    store.append(leaves[:11])
    old = sign_checkpoint(Checkpoint("log.example/1", 11, store.frontier.root), [signer])
    store.append(leaves[11:])
    new = sign_checkpoint(Checkpoint("log.example/1", 30, store.frontier.root), [signer])
    proof = merkle.consistency_proof(store, 11, 30)
    assert verify_checkpoints_consistent(old, new, proof, signer.verifier())[2].verified
    assert not verify_checkpoints_consistent(new, old, proof, signer.verifier())[2].verified
    assert not verify_checkpoints_consistent(old, new, proof[1:], signer.verifier())[2].verified
    fork = sign_checkpoint(
        Checkpoint("log.example/1", 30, merkle.root_of(leaves[:29] + leaves[:1])), [signer]
    )
    assert not verify_checkpoints_consistent(old, fork, proof, signer.verifier())[2].verified
