"""Use case: check a text for scam scripts and fake customer-service hotlines (``fengkong scam check``).

The text comes from the command line or from a UTF-8 file (at most ``bounds.scam_text_file_bytes_max``
bytes); numbers are checked against the official channels in force on the business date of ``clock.now()``
(Asia/Shanghai) unless a date is given. The detector (channel book and trained classifier) is built once per
process.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path

from fengkong import bounds
from fengkong.clock import Clock, SystemClock, business_date
from fengkong.errors import InputError
from fengkong.fraud.scam import ScamCheck, ScamDetector


@functools.cache
def default_detector() -> ScamDetector:
    return ScamDetector.default()


def read_text_file(path: Path) -> str:
    """The UTF-8 text of ``path``; a missing, unreadable, oversized or non-UTF-8 file is an InputError."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise InputError(f"cannot read {str(path)!r}: {error.strerror or error}", field="file") from error
    if not path.is_file():
        raise InputError(f"{str(path)!r} is not a file", field="file")
    if size > bounds.scam_text_file_bytes_max:
        raise InputError(
            f"{str(path)!r} has {size} bytes; at most {bounds.scam_text_file_bytes_max} "
            "(scam_text_file_bytes_max)",
            field="file",
        )
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{str(path)!r} is not UTF-8 text", field="file") from error
    except OSError as error:
        raise InputError(f"cannot read {str(path)!r}: {error.strerror or error}", field="file") from error


def check_text(
    text: str | None = None,
    file: Path | None = None,
    on: date | None = None,
    clock: Clock | None = None,
    detector: ScamDetector | None = None,
) -> ScamCheck:
    """Check ``text`` or the text of ``file`` (exactly one of them) on ``on`` (default: today's business
    date)."""
    if (text is None) == (file is None):
        raise InputError("give either a text or --file, not both and not neither", field="text")
    content = read_text_file(file) if file is not None else (text or "")
    if not content.strip():
        raise InputError("is empty: there is no text to check", field="file" if file is not None else "text")
    day = on if on is not None else business_date((clock or SystemClock()).now())
    return (detector or default_detector()).check(content, day)
