"""Federation with peer nodes: the envelope door (signed by the peer node, not a user) and the
delivery status for administrators (ADR 0026)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse
from sereno.services import federation

router = APIRouter(tags=["federation"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 409, 413)}


@router.post("/federation/envelopes", responses=ERRORS)
async def receive_envelopes(request: Request) -> JSONResponse:
    """A batch of signed envelopes from a peer node, ``{"envelopes": [...]}`` in ``seq``
    order. Authenticated by each envelope's Ed25519 signature against the peer's pinned key.
    Answers each envelope's result (``applied``, ``duplicate`` or ``rejected``), or refuses
    the whole batch: 400 malformed, 401 unknown peer / bad signature / clock skew, 403 agency
    not the peer's, 409 out of sequence (with the expected seq), 413 too large."""
    fed = platform_of(request).federation
    body = await request.body()
    try:
        result = await run_in_threadpool(fed.receive, body,
                                         request.headers.get("x-sereno-node"))
    except federation.EnvelopeRefused as refused:
        return JSONResponse(refused.as_body(), status_code=refused.status)
    return JSONResponse(result)


@router.get("/federation/status", responses=ERRORS)
def status(request: Request, caller: Caller) -> list[dict[str, Any]]:
    """Per peer node: what the caller's agency has waiting there, the oldest wait, the last
    error and the last delivery (administrators)."""
    return federation.status_for(platform_of(request).federation, caller)
