"""``fengkong chain``: verify a proof file, make keys, verify checkpoints and their consistency — end to end
from a log stored in SQLite to an auditor's command line."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import fengkong.cli.chain  # noqa: F401  (registers the chain commands on the app)
from fengkong.chain.proof_document import consistency_document, inclusion_document
from fengkong.cli.main import app
from fengkong.clock import FixedClock
from fengkong.services import chain as chain_service
from fengkong.store import migrate
from fengkong.store.chain import ChainRepository
from fengkong.store.config import make_engine

AT = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ORIGIN = "fengkong.example/trades"
runner = CliRunner()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'chain.sqlite'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _write(path: Path, content: object) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def _run(*arguments: str) -> tuple[int, dict[str, object] | None, str]:
    result = runner.invoke(app, ["chain", *arguments])
    output = result.stdout.strip()
    return result.exit_code, (json.loads(output) if output.startswith("{") else None), result.stderr


def test_verify_a_proof_file(tmp_path: Path, engine: sa.Engine) -> None:
    repository = ChainRepository(FixedClock(AT))
    with engine.begin() as connection:
        chain_service.create_log(connection, repository, "trades")
    chain_service.append_in_transaction(
        engine, repository, "trades", 0, [b"po-1", b"receipt-1", b"invoice-1"]
    )
    with engine.connect() as connection:
        proof = chain_service.prove_inclusion(connection, repository, "trades", 1)
    document = inclusion_document(proof.leaf_index, proof.tree_size, proof.leaf_hash, proof.proof, proof.root)
    code, verdict, _ = _run("verify", "--proof-json", str(_write(tmp_path / "ok.json", document)))
    assert (code, verdict) == (0, {"kind": "inclusion", "verified": True, "reason": None})
    document["leafIdx"] = 2
    code, verdict, _ = _run("verify", "--proof-json", str(_write(tmp_path / "moved.json", document)))
    assert code == 1 and verdict is not None and verdict["verified"] is False and verdict["reason"]
    code, verdict, error = _run("verify", "--proof-json", str(_write(tmp_path / "bad.json", "{not json")))
    assert (code, verdict) == (2, None) and "not JSON" in error
    code, _, error = _run("verify", "--proof-json", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in error
    code, _, error = _run("verify", "--proof-json", str(_write(tmp_path / "other.json", {"size": 3})))
    assert code == 2 and "neither an inclusion proof" in error


def test_an_auditor_checks_checkpoints_and_their_consistency(tmp_path: Path, engine: sa.Engine) -> None:
    code, generated, _ = _run("keygen", "--name", ORIGIN, "--out", str(tmp_path / "keys"))
    assert code == 0 and generated is not None
    vkey_file, skey_file = Path(str(generated["verifier_key_file"])), Path(str(generated["signer_key_file"]))
    assert vkey_file.read_text().strip() == generated["verifier_key"]
    assert str(generated["verifier_key"]).startswith(f"{ORIGIN}+")
    assert stat.S_IMODE(os.stat(skey_file).st_mode) == 0o600
    code, _, error = _run("keygen", "--name", ORIGIN, "--out", str(tmp_path / "keys"))
    assert code == 2 and "refusing to overwrite" in error

    signer = chain_service.load_signer_key(skey_file)
    repository = ChainRepository(FixedClock(AT))
    with engine.begin() as connection:
        chain_service.create_log(connection, repository, "trades")
    chain_service.append_in_transaction(engine, repository, "trades", 0, [b"r-%d" % i for i in range(6)])
    with engine.connect() as connection:
        old_note = chain_service.sign_log_checkpoint(connection, repository, "trades", ORIGIN, signer)
    chain_service.append_in_transaction(engine, repository, "trades", 6, [b"r-%d" % i for i in range(6, 20)])
    with engine.connect() as connection:
        new_note = chain_service.sign_log_checkpoint(connection, repository, "trades", ORIGIN, signer)
        proof = chain_service.prove_consistency(connection, repository, "trades", 6)
    old, new = _write(tmp_path / "old.txt", old_note), _write(tmp_path / "new.txt", new_note)
    document = consistency_document(proof.size1, proof.size2, proof.root1, proof.root2, proof.proof)
    proof_file = _write(tmp_path / "proof.json", document)

    for key in (str(vkey_file), str(generated["verifier_key"])):
        code, verdict, _ = _run("checkpoint", "verify", "--checkpoint", str(new), "--public-key", key)
        assert (
            code == 0 and verdict is not None and verdict["verified"] is True and verdict["tree_size"] == 20
        )
    code, verdict, _ = _run(
        "checkpoint", "consistency", "--old", str(old), "--new", str(new), "--proof-json", str(proof_file),
        "--public-key", str(vkey_file),
    )  # fmt: skip
    assert code == 0 and verdict is not None and verdict["verified"] is True

    swapped = ["--old", str(new), "--new", str(old)]
    code, verdict, _ = _run(
        "checkpoint", "consistency", *swapped, "--proof-json", str(proof_file), "--public-key", str(vkey_file)
    )
    assert code == 1 and verdict is not None and verdict["verified"] is False

    forged = _write(tmp_path / "forged.txt", new_note.replace("\n20\n", "\n21\n"))
    code, verdict, _ = _run(
        "checkpoint", "verify", "--checkpoint", str(forged), "--public-key", str(vkey_file)
    )
    assert code == 1 and verdict is not None and str(verdict["reason"]).startswith("invalid signature")

    other_key = chain_service.generate_key("someone.example/else", tmp_path / "other").verifier_key
    code, verdict, _ = _run("checkpoint", "verify", "--checkpoint", str(new), "--public-key", other_key)
    assert code == 1 and verdict is not None and "no verifiable signature" in str(verdict["reason"])

    code, _, error = _run("checkpoint", "verify", "--checkpoint", str(new), "--public-key", "nonsense+1+2")
    assert code == 2 and "public_key" in error
