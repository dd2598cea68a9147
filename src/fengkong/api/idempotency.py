"""Idempotency for every write of the API: the ``Idempotency-Key`` header and :func:`respond_once`.

Every ``POST`` takes :data:`IdempotencyKey` and answers through :func:`respond_once`, which hands the work to
:func:`fengkong.services.api_context.run_once` (the key is persisted before the work, in the work's own
transaction). The request is identified by its path and its body as canonical JSON, and scoped per tenant and
endpoint (the route's method and path template): the same key with the same request returns the first
response, status and body, with ``Idempotent-Replayed: true``; the same key with another request (another
body, or another ID in the path) is a 409 ``idempotency_conflict``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from fengkong import bounds
from fengkong.services.api_context import ApiContext, Work, canonical_request, run_once

HEADER: Final = "Idempotency-Key"
REPLAYED_HEADER: Final = "Idempotent-Replayed"
KEY_PATTERN: Final = r"^[\x21-\x7e]+$"  # visible ASCII: a UUID, a ULID, "retry-123"

IdempotencyKey = Annotated[
    str,
    Header(
        alias=HEADER,
        min_length=1,
        max_length=bounds.idempotency_key_length_max,
        pattern=KEY_PATTERN,
        description="A key the caller chooses for this write (a UUID, say). A retry with the same key and "
        "the same request returns the first response; the same key with another request is refused (409).",
    ),
]


def endpoint_of(request: Request) -> str:
    """``"POST /v1/repayments"``: the method and the route's path template."""
    route = request.scope.get("route")
    template = getattr(route, "path", None) or request.url.path
    return f"{request.method} {template}"


def respond_once(
    context: ApiContext, request: Request, key: str, body: BaseModel | None, work: Work
) -> JSONResponse:
    """Do ``work`` once for this key (see the module docstring) and answer with its remembered response."""
    document: dict[str, Any] | None = None if body is None else body.model_dump(mode="json")
    canonical = canonical_request(request.url.path, document)
    remembered = run_once(context, endpoint_of(request), key, canonical, work)
    return JSONResponse(
        remembered.body,
        status_code=remembered.status,
        headers={REPLAYED_HEADER: "true" if remembered.replayed else "false"},
    )
