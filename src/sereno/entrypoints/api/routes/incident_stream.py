"""The live incident board as Server-Sent Events (ADR 0034): every ``IncidentCreated`` and
``IncidentChanged`` of the caller's agency, pushed as soon as it is published, each carrying the
incident's present state in the shape of ``GET /api/v1/incidents`` (the board's rows). Built as
the alert queue's stream (ADR 0028): woken on publish, credential re-checked, keepalives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from sereno.domain import events
from sereno.entrypoints.api.context import Caller, platform_of, still_authenticated
from sereno.entrypoints.api.routes.alert_stream import KEEPALIVE_S, RECHECK_S, RETRY_MS
from sereno.entrypoints.api.routes.incidents import incident_out
from sereno.entrypoints.api.schemas import ErrorResponse
from sereno.services import incident_console

router = APIRouter(tags=["incidents"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403)}
INCIDENT_EVENTS = (events.IncidentCreated, events.IncidentChanged)


def _wanted(batch: list[events.Event], agency_id: str) -> dict[str, str]:
    """incident id -> the SSE event name (a creation stays one if it also changed since)."""
    wanted: dict[str, str] = {}
    for event in batch:
        if isinstance(event, INCIDENT_EVENTS) and event.agency_id == agency_id:
            name = type(event).__name__
            created = wanted.get(event.incident_id) == "IncidentCreated"
            wanted[event.incident_id] = "IncidentCreated" if created else name
    return wanted


@router.get("/incidents/stream",
            responses={**ERRORS, 200: {"content": {"text/event-stream": {}}}})
async def incident_stream(request: Request, caller: Caller) -> StreamingResponse:
    """Server-Sent Events of the caller's agency's incidents: ``IncidentCreated`` and
    ``IncidentChanged``, ``data`` = the incident as JSON, ``id`` = ``<incident id>:<version>``.
    After a reconnection, read ``GET /api/v1/incidents`` again: nothing is replayed."""
    platform = platform_of(request)
    await asyncio.to_thread(incident_console.open_stream, platform.uow(), caller)
    agency = caller.agency_id

    async def stream() -> AsyncIterator[str]:
        recheck = keepalive = time.monotonic()
        async with platform.event_stream.listen() as listener:
            yield f"retry: {RETRY_MS}\n\n"  # once subscribed: nothing later is missed
            while not await request.is_disconnected():
                wanted = _wanted(await listener.next(timeout=KEEPALIVE_S / 3), agency)
                if wanted:
                    found = await asyncio.to_thread(incident_console.current, platform.uow(),
                                                    agency, list(wanted))
                    for incident in found:
                        body = incident_out(incident).model_dump_json()
                        yield (f"event: {wanted[incident.id]}\n"
                               f"id: {incident.id}:{incident.version}\ndata: {body}\n\n")
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
