"""``fengkong chain``: the verifiable log, as an auditor uses it.

::

    fengkong chain verify --proof-json proof.json
    fengkong chain keygen --name fengkong.example/audit --out keys/
    fengkong chain checkpoint verify --checkpoint cp.txt --public-key keys/fengkong.example_audit.vkey
    fengkong chain checkpoint consistency --old cp1.txt --new cp2.txt --proof-json proof.json --public-key KEY

``verify`` checks an inclusion or consistency proof given as JSON (the format of transparency-dev/merkle's
test data: base64 hashes; ``{leafIdx, treeSize, leafHash, root, proof}`` or
``{size1, size2, root1, root2, proof}``), with no database. It prints ``{"kind", "verified", "reason"}``.
Exit codes: ``0`` the proof verifies; ``1`` it is rejected (the reason is in the JSON); ``2`` the file cannot
be read as a proof document (the reason is printed on stderr).

``keygen`` writes ``<name>.vkey`` (the verifier key, ``<name>+<key ID hex>+<base64(0x01 || public key)>``, for
auditors) and ``<name>.key`` (the signer key, mode 0600; keep it out of version control) into ``--out``.
``checkpoint verify`` checks a C2SP checkpoint note against a verifier key (given as text or as a file);
``checkpoint consistency`` checks two checkpoints and a consistency proof (the ``verify`` JSON format) between
them. Both print a JSON verdict and exit 0 (verified), 1 (rejected, with the reason) or 2 (unreadable input).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Final

import typer

from fengkong.cli.main import app
from fengkong.errors import FengkongError
from fengkong.services.chain import (
    generate_key,
    verify_checkpoint_consistency_files,
    verify_checkpoint_file,
    verify_proof_file,
)

EXIT_VERIFIED: Final = 0
EXIT_REJECTED: Final = 1
EXIT_BAD_INPUT: Final = 2

chain_app = typer.Typer(
    help="The verifiable log: verify proofs and checkpoints without trusting the operator.",
    no_args_is_help=True,
)
app.add_typer(chain_app, name="chain")


@chain_app.command("verify")
def verify(
    proof_json: Annotated[
        Path, typer.Option("--proof-json", help="A JSON inclusion or consistency proof.", show_default=False)
    ],
) -> None:
    """Verify an inclusion or consistency proof (RFC 9162) given as JSON; no database needed."""
    try:
        judgement = verify_proof_file(proof_json)
    except FengkongError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=EXIT_BAD_INPUT) from exc
    typer.echo(json.dumps(judgement.to_json(), sort_keys=True))
    raise typer.Exit(code=EXIT_VERIFIED if judgement.verdict.verified else EXIT_REJECTED)


checkpoint_app = typer.Typer(
    help="Signed checkpoints (C2SP tlog-checkpoint): verify one, or two and their consistency."
)
chain_app.add_typer(checkpoint_app, name="checkpoint")

PublicKeyOption = Annotated[
    str,
    typer.Option(
        "--public-key",
        help="The log's verifier key: name+hash+base64, or a file holding it.",
        show_default=False,
    ),
]


def _bad_input(exc: FengkongError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=EXIT_BAD_INPUT)


@chain_app.command("keygen")
def keygen(
    name: Annotated[
        str, typer.Option("--name", help="Key name, e.g. fengkong.example/audit.", show_default=False)
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for <name>.vkey and <name>.key.", show_default=False)
    ],
) -> None:
    """Generate an Ed25519 signing key for checkpoints (never overwrites; keep the .key file secret)."""
    try:
        generated = generate_key(name, out)
    except FengkongError as exc:
        raise _bad_input(exc) from exc
    typer.echo(
        json.dumps(
            {
                "verifier_key": generated.verifier_key,
                "verifier_key_file": str(generated.verifier_path),
                "signer_key_file": str(generated.signer_path),
            },
            sort_keys=True,
        )
    )


@checkpoint_app.command("verify")
def checkpoint_verify(
    checkpoint: Annotated[Path, typer.Option("--checkpoint", help="A checkpoint note.", show_default=False)],
    public_key: PublicKeyOption,
) -> None:
    """Verify a signed checkpoint against the log's verifier key."""
    try:
        verdict = verify_checkpoint_file(checkpoint, public_key)
    except FengkongError as exc:
        raise _bad_input(exc) from exc
    typer.echo(json.dumps(verdict.to_json(), sort_keys=True))
    raise typer.Exit(code=EXIT_VERIFIED if verdict.verified else EXIT_REJECTED)


@checkpoint_app.command("consistency")
def checkpoint_consistency(
    old: Annotated[Path, typer.Option("--old", help="The older checkpoint note.", show_default=False)],
    new: Annotated[Path, typer.Option("--new", help="The newer checkpoint note.", show_default=False)],
    proof_json: Annotated[
        Path,
        typer.Option("--proof-json", help="The consistency proof between them (JSON).", show_default=False),
    ],
    public_key: PublicKeyOption,
) -> None:
    """Verify two signed checkpoints and that the newer extends the older (a consistency proof)."""
    try:
        result = verify_checkpoint_consistency_files(old, new, proof_json, public_key)
    except FengkongError as exc:
        raise _bad_input(exc) from exc
    typer.echo(json.dumps(result.to_json(), sort_keys=True))
    raise typer.Exit(code=EXIT_VERIFIED if result.verdict.verified else EXIT_REJECTED)
