"""``fengkong chain``: the verifiable log, as an auditor uses it.

::

    fengkong chain verify --proof-json proof.json

``verify`` checks an inclusion or consistency proof given as JSON (the format of transparency-dev/merkle's
test data: base64 hashes; ``{leafIdx, treeSize, leafHash, root, proof}`` or
``{size1, size2, root1, root2, proof}``), with no database. It prints ``{"kind", "verified", "reason"}``.
Exit codes: ``0`` the proof verifies; ``1`` it is rejected (the reason is in the JSON); ``2`` the file cannot
be read as a proof document (the reason is printed on stderr).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Final

import typer

from fengkong.cli.main import app
from fengkong.errors import FengkongError
from fengkong.services.chain import verify_proof_file

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
