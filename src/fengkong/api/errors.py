"""Every error of the API as one JSON shape, ``{"code", "message", "field"}``, from the one mapping.

The status comes from :attr:`fengkong.errors.FengkongError.http_status` (the single mapping to HTTP, in
``errors.py``); the code is the exception's class in snake case without ``Error`` (``input``,
``not_found``, ``idempotency_conflict``, ``bound_exceeded``, ``unavailable``...). Request validation by
FastAPI (a missing header, a malformed body) is an ``input`` error with status 422 naming the field
(``body.amount``, ``header.Idempotency-Key``). Anything unexpected is a 500 with code ``internal`` and a
fixed message: never a stack trace or an exception's text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from fengkong.errors import BoundExceededError, FengkongError, InputError, InvariantError

LOGGER: Final = logging.getLogger("fengkong.api")
INTERNAL_MESSAGE: Final = "internal error: it was logged; the request may be retried with the same key"
_CAMEL: Final = re.compile(r"(?<!^)(?=[A-Z])")
_HTTP_CODES: Final = {
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "bound_exceeded",
    415: "unsupported_media_type",
}


class ErrorBody(BaseModel):
    """The body of every error response."""

    code: str
    message: str
    field: str | None = None


ERROR_RESPONSES: Final[dict[int | str, dict[str, Any]]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (404, "Not found (for this caller)"),
        (409, "Conflict, or the idempotency key was used with another request"),
        (413, "A named bound was exceeded"),
        (422, "Bad input: the field and the reason"),
        (503, "A server fengkong needs cannot be reached"),
    )
}


def error_code(error: FengkongError) -> str:
    name = type(error).__name__.removesuffix("Error") or "fengkong"
    return _CAMEL.sub("_", name).lower()


def error_response(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(ErrorBody(code=code, message=message, field=field).model_dump(), status_code=status)


def _field_of(location: Sequence[object]) -> str:
    return ".".join(str(part) for part in location)


async def _fengkong_error(_request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, FengkongError) or isinstance(error, InvariantError):
        return await _unexpected(_request, error)
    if isinstance(error, InputError):
        return error_response(error.http_status, error_code(error), error.reason, error.field)
    field = error.bound_name if isinstance(error, BoundExceededError) else None
    return error_response(error.http_status, error_code(error), str(error), field)


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, RequestValidationError) or not error.errors():
        return error_response(422, "input", "the request does not validate")
    first = error.errors()[0]
    message = str(first.get("msg", "invalid"))
    more = len(error.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return error_response(422, "input", message, _field_of(first.get("loc", ())))


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, StarletteHTTPException):
        return await _unexpected(_request, error)
    if isinstance(error.__cause__, BoundExceededError):  # FastAPI wraps errors raised reading the body
        return await _fengkong_error(_request, error.__cause__)
    if error.status_code == 400:  # a body that is not even JSON: bad input like any other (422)
        return error_response(422, "input", f"the body cannot be read: {error.detail}", "body")
    code = _HTTP_CODES.get(error.status_code, f"http_{error.status_code}")
    response = error_response(error.status_code, code, str(error.detail))
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    LOGGER.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return error_response(500, "internal", INTERNAL_MESSAGE)


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app can raise to the one JSON shape."""
    app.add_exception_handler(FengkongError, _fengkong_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
