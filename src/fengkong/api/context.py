"""The FastAPI dependency that hands a handler the process's
:class:`~fengkong.services.api_context.ApiContext`."""

from __future__ import annotations

from fastapi import Request

from fengkong.errors import InvariantError
from fengkong.services.api_context import ApiContext


def get_context(request: Request) -> ApiContext:
    context = getattr(request.app.state, "context", None)
    if not isinstance(context, ApiContext):
        raise InvariantError("the app has no ApiContext: build it with fengkong.api.app.create_app")
    return context
