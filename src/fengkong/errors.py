"""The one exception tree of fengkong.

Expected business outcomes (a decline, a rejected event) are *values*, never exceptions. Exceptions are
for bad input at a boundary and for broken invariants::

    FengkongError                       base of everything fengkong raises on purpose
    ├── InputError                      a caller sent something unusable (HTTP 422); names field and reason
    │   ├── MoneyError                  a float, a malformed amount, an unknown currency
    │   │   └── CurrencyMismatchError   arithmetic or comparison across two currencies
    │   └── ScenarioError               a simulator scenario file that does not validate
    ├── NotFoundError                   the thing does not exist *for this caller* (HTTP 404)
    ├── ConflictError                   the write collides with an earlier one (HTTP 409)
    │   └── IdempotencyConflictError    same idempotency key, different request body
    ├── BoundExceededError              a named software bound from bounds.py was hit (HTTP 413/429)
    ├── UnavailableError                a server we need (PostgreSQL, Redis) cannot be reached (HTTP 503)
    └── InvariantError                  a broken invariant: a bug; stop (HTTP 500). Never caught to go on.

``http_status`` on each class is the single mapping to HTTP, used by the API layer.
"""

from __future__ import annotations


class FengkongError(Exception):
    """Base of every exception fengkong raises on purpose."""

    http_status: int = 500


class InputError(FengkongError, ValueError):
    """A caller sent something unusable. ``field`` names where, the message says why."""

    http_status = 422

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)
        self.reason = message


class MoneyError(InputError):
    """An amount that cannot be money: a float, a malformed string, an unknown currency."""


class CurrencyMismatchError(MoneyError):
    """Arithmetic or comparison between two different currencies."""


class ScenarioError(InputError):
    """A simulator scenario file that does not validate."""


class NotFoundError(FengkongError, LookupError):
    """The object does not exist for this caller (another tenant's object reads as not found)."""

    http_status = 404


class ConflictError(FengkongError):
    """The write collides with an earlier write."""

    http_status = 409


class IdempotencyConflictError(ConflictError):
    """The same idempotency key was used with a different request body."""


class BoundExceededError(FengkongError):
    """A named software bound from :mod:`fengkong.bounds` was exceeded."""

    http_status = 413

    def __init__(self, bound_name: str, bound_value: int, actual: int) -> None:
        self.bound_name = bound_name
        self.bound_value = bound_value
        self.actual = actual
        super().__init__(f"{bound_name}={bound_value} exceeded: got {actual}")


class UnavailableError(FengkongError):
    """A server fengkong needs (PostgreSQL, Redis) cannot be reached."""

    http_status = 503


class InvariantError(FengkongError, AssertionError):
    """A broken invariant: a programming error. Raised instead of ``assert`` so ``-O`` cannot drop it."""

    http_status = 500


def require(condition: bool, message: str) -> None:
    """Raise :class:`InvariantError` unless ``condition`` holds (an ``assert`` that survives ``-O``)."""
    if not condition:
        raise InvariantError(message)
