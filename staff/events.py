"""`/staff/events`: server-sent events for the workbench. One `event:` and one `data:` line
naming the ticket number for every new ticket (`ticket`), member message on an open ticket
(`message`) and assignment (`assigned`); the queue and the open ticket update in place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from handlers.desk import desk_events
from staff.web import desk, signed_in

router = APIRouter()
POLL_SECONDS = 1.0
KEEPALIVE_POLLS = 15  # a comment line now and then keeps proxies from closing the stream


@router.get("/events")
def events(request: Request) -> StreamingResponse:
    signed_in(request)
    database = desk(request).db

    def read(cursor: desk_events.Cursor | None):
        with database.unit_of_work(write=False) as session:
            if cursor is None:
                return [], desk_events.now_cursor(session)
            return desk_events.changes(session, cursor)

    async def stream() -> AsyncIterator[str]:
        _, cursor = await run_in_threadpool(read, None)
        yield "retry: 3000\n: listening\n\n"
        quiet = 0
        while not await request.is_disconnected():
            await asyncio.sleep(POLL_SECONDS)
            found, cursor = await run_in_threadpool(read, cursor)
            for change in found:
                yield f"event: {change.kind}\ndata: {change.number}\n\n"
            quiet = 0 if found else quiet + 1
            if quiet >= KEEPALIVE_POLLS:
                quiet = 0
                yield ": still here\n\n"

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
    )
