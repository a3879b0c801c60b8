"""The live alert queue as Server-Sent Events (ADR 0028): every ``AlertRaised`` and
``AlertChanged`` of the caller's agency, pushed as soon as it is published, each carrying the
alert's present state in the shape of ``GET /api/v1/alerts/{id}`` (without the timeline)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from sereno.domain import events
from sereno.entrypoints.api.context import Caller, platform_of, still_authenticated
from sereno.entrypoints.api.routes.alerts import alert_out
from sereno.entrypoints.api.schemas import ErrorResponse
from sereno.services import alert_queue

router = APIRouter(tags=["alerts"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403)}
RECHECK_S = 30.0  # a logout or an expired token ends the stream within this
KEEPALIVE_S = 15.0  # below the idle timeouts of the usual proxies
RETRY_MS = 3000
ALERT_EVENTS = (events.AlertRaised, events.AlertChanged)


def _wanted(batch: list[events.Event], agency_id: str) -> dict[str, str]:
    """alert id -> the SSE event name (a raise stays a raise if it also changed since)."""
    wanted: dict[str, str] = {}
    for event in batch:
        if isinstance(event, ALERT_EVENTS) and event.agency_id == agency_id:
            name = type(event).__name__
            wanted[event.alert_id] = ("AlertRaised" if wanted.get(event.alert_id) ==
                                      "AlertRaised" else name)
    return wanted


@router.get("/alerts/stream", responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}})
async def alert_stream(request: Request, caller: Caller) -> StreamingResponse:
    """Server-Sent Events of the caller's agency's alert queue: ``AlertRaised`` and
    ``AlertChanged``, ``data`` = the alert as JSON, ``id`` = ``<alert id>:<version>``. After a
    reconnection, read ``GET /api/v1/alerts`` again: what happened meanwhile is not replayed."""
    platform = platform_of(request)
    await asyncio.to_thread(alert_queue.open_stream, platform.uow(), caller)
    agency = caller.agency_id

    async def stream() -> AsyncIterator[str]:
        recheck = keepalive = time.monotonic()
        async with platform.event_stream.listen() as listener:
            # Sent once subscribed: a client that has read it misses nothing published later.
            yield f"retry: {RETRY_MS}\n\n"
            while not await request.is_disconnected():
                wanted = _wanted(await listener.next(timeout=KEEPALIVE_S / 3), agency)
                if wanted:
                    found = await asyncio.to_thread(alert_queue.current, platform.uow(),
                                                    agency, list(wanted))
                    for alert in found:
                        body = alert_out(alert).model_dump_json()
                        yield (f"event: {wanted[alert.id]}\nid: {alert.id}:{alert.version}\n"
                               f"data: {body}\n\n")
                    keepalive = time.monotonic()
                now = time.monotonic()
                if now - keepalive > KEEPALIVE_S:
                    keepalive = now
                    yield ": keepalive\n\n"
                if now - recheck > RECHECK_S:
                    recheck = now
                    if not await asyncio.to_thread(still_authenticated, request):
                        return

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
