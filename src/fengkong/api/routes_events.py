"""``POST /v1/events``: a batch of ecosystem events, each accepted, a duplicate or rejected with its reason.

The handler is thin: :func:`fengkong.services.api_events.ingest_batch` validates against the one event schema
(docs/events.md), deduplicates by event ID and writes the lake (and Redis Streams when configured), inside the
request's idempotency transaction. A batch with bad records is still a 200: each record has its own result.
"""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from fengkong.api.context import get_context
from fengkong.api.errors import ERROR_RESPONSES
from fengkong.api.idempotency import IdempotencyKey, respond_once
from fengkong.api.wire import EventResultOut, EventsRequest, EventsResponse
from fengkong.services.api_context import ApiContext
from fengkong.services.api_events import EventsResult, ingest_batch

router = APIRouter(prefix="/v1", tags=["events"], responses=ERROR_RESPONSES)

Context = Annotated[ApiContext, Depends(get_context)]


def events_response(result: EventsResult) -> EventsResponse:
    return EventsResponse(
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=result.rejected,
        published=result.published,
        results=[
            EventResultOut(
                index=item.index,
                status=item.status,
                event_id=item.event_id,
                field=item.field,
                reason=item.reason,
            )
            for item in result.results
        ],
    )


@router.post(
    "/events",
    response_model=EventsResponse,
    summary="Ingest a batch of events, idempotently by event ID; one result per event",
)
def post_events(body: EventsRequest, request: Request, context: Context, key: IdempotencyKey) -> JSONResponse:
    def work(connection: sa.Connection) -> tuple[int, dict[str, Any]]:
        result = ingest_batch(connection, context.clock, body.events, context.lake_dir, context.transport)
        return 200, events_response(result).model_dump(mode="json")

    return respond_once(context, request, key, body, work)
