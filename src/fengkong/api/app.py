"""``create_app(settings)``: the FastAPI application of ``fengkong serve``.

One router module per area (``routes_lending``, ``routes_events``; decisions and the console add theirs),
each included here. Errors are JSON ``{"code", "message", "field"}`` from the one mapping in
:mod:`fengkong.errors` (:mod:`fengkong.api.errors`); request bodies above
:data:`~fengkong.bounds.api_request_body_bytes_max` are refused with 413 before they are read; the OpenAPI
document is at ``/openapi.json`` and its pages at ``/docs``; ``GET /healthz`` says whether the database
answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fengkong import __version__, bounds
from fengkong.api import routes_events, routes_lending
from fengkong.api.errors import ERROR_RESPONSES, error_response, install_error_handlers
from fengkong.api.settings import ApiSettings
from fengkong.api.wire import HealthResponse
from fengkong.clock import Clock, SystemClock
from fengkong.errors import BoundExceededError
from fengkong.services.api_context import ApiContext, health, open_context, prepare

DESCRIPTION = """fengkong's public API. Amounts are decimal strings in yuan (`"1234.56"`), never numbers.
Every `POST` needs an `Idempotency-Key` header: a retry with the same key and request returns the first
response; the same key with another request is refused with 409. Errors are `{"code", "message", "field"}`."""


class BodyBoundMiddleware:
    """Refuse request bodies above ``api_request_body_bytes_max`` with 413, by header and by count."""

    def __init__(self, app: ASGIApp, bytes_max: int = bounds.api_request_body_bytes_max) -> None:
        self.app = app
        self.bytes_max = bytes_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.bytes_max):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.bytes_max:
                    raise BoundExceededError("api_request_body_bytes_max", self.bytes_max, received)
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BoundExceededError:  # raised while reading, before any response was sent
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "bound_exceeded",
            f"the request body is larger than api_request_body_bytes_max={self.bytes_max} bytes",
            "api_request_body_bytes_max",
        )
        await response(scope, receive, send)


def create_app(
    settings: ApiSettings | None = None, *, clock: Clock | None = None, context: ApiContext | None = None
) -> FastAPI:
    """The app over ``settings`` (read from the environment when None). ``clock`` defaults to the wall
    clock; ``context`` (tests) replaces the one the settings would open."""
    chosen = settings if settings is not None else ApiSettings()
    chosen.check_deployment()
    opened = context or open_context(
        chosen.database_url,
        clock or SystemClock(),
        tenant=chosen.tenant,
        lake_dir=chosen.lake_dir,
        redis_url=chosen.redis_url,
        redis_prefix=chosen.redis_prefix,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        prepare(opened)
        try:
            yield
        finally:
            opened.close()

    app = FastAPI(
        title="fengkong",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        redoc_url=None,
    )
    app.state.context = opened
    install_error_handlers(app)
    app.add_middleware(BodyBoundMiddleware)
    app.include_router(routes_lending.router)
    app.include_router(routes_events.router)

    @app.get(
        "/healthz",
        response_model=HealthResponse,
        tags=["operations"],
        responses={503: ERROR_RESPONSES[503]},
        summary="Whether the API and its database answer",
    )
    def healthz() -> dict[str, Any]:
        return health(opened)

    return app


def create_app_from_environment() -> FastAPI:
    """The app over the ``FENGKONG_*`` environment: the factory ``fengkong serve`` hands to uvicorn."""
    return create_app(ApiSettings())
