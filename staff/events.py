"""`/staff/events`: server-sent events for the workbench. One `event:` and one `data:` line
naming the ticket number for every new ticket (`ticket`), member message on an open ticket
(`message`) and assignment (`assigned`); the queue and the open ticket update in place.

A ticket page listens with `?ticket=NUMBER`: while its stream is open the page counts as
viewing that ticket (handlers/desk/presence.py), and `viewers` names the ticket whenever
the other agents who have it open change, so the warning on each page comes and goes."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from core.clock import now
from handlers.desk import desk_events, presence
from staff.web import desk, signed_in

router = APIRouter()
POLL_SECONDS = 1.0
KEEPALIVE_POLLS = 15  # a comment line now and then keeps proxies from closing the stream
SEEN_POLLS = 5  # how often an open ticket page says it is still open (presence.FRESH)


@router.get("/events")
def events(request: Request, ticket: str | None = None) -> StreamingResponse:
    staff = signed_in(request)
    database = desk(request).db
    token = secrets.token_hex(16)

    def read(cursor: desk_events.Cursor | None):
        with database.unit_of_work(write=False) as session:
            if cursor is None:
                return [], desk_events.now_cursor(session)
            return desk_events.changes(session, cursor)

    def viewers(ticket_id: int, polls: int) -> list[str]:
        at = now()
        if polls % SEEN_POLLS == 0:
            presence.seen(database, token, ticket_id, staff.id, at)
        return presence.watching(database, ticket_id, staff.id, at)

    async def stream() -> AsyncIterator[str]:
        _, cursor = await run_in_threadpool(read, None)
        viewing = await run_in_threadpool(presence.ticket_id, database, ticket) if ticket else None
        polls = 0
        others = await run_in_threadpool(viewers, viewing, polls) if viewing else []
        yield "retry: 3000\n: listening\n\n"
        quiet = 0
        try:
            while not await request.is_disconnected():
                await asyncio.sleep(POLL_SECONDS)
                polls += 1
                found, cursor = await run_in_threadpool(read, cursor)
                news = [f"event: {change.kind}\ndata: {change.number}\n\n" for change in found]
                if viewing:
                    before, others = others, await run_in_threadpool(viewers, viewing, polls)
                    if others != before:
                        news.append(f"event: viewers\ndata: {ticket}\n\n")
                for line in news:
                    yield line
                quiet = 0 if news else quiet + 1
                if quiet >= KEEPALIVE_POLLS:
                    quiet = 0
                    yield ": still here\n\n"
        finally:
            if viewing:  # the page went: say so at once, even while being cancelled
                with anyio.CancelScope(shield=True):
                    await run_in_threadpool(presence.left, database, token)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
    )
