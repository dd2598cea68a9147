"""What every command shares: the output formats, the exit codes and the one way to fail on bad input.

Exit codes: 0 done (or, for a verifier, verified); 1 a fatal error, a rejected proof or a disagreement found;
2 bad input, named with its field and reason on standard error (never a stack trace).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import typer
from rich.console import Console

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 2


class OutputFormat(StrEnum):
    """``--format``: a rich table for people, JSON for programs."""

    TABLE = "table"
    JSON = "json"


def fail(message: object) -> typer.Exit:
    """Print ``error: <message>`` on standard error and return the exit (code 2) for the caller to raise."""
    Console(stderr=True).print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    return typer.Exit(code=EXIT_BAD_INPUT)
