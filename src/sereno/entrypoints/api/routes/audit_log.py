"""The tamper-evident audit log: tree heads, verification, proofs, and the witness endpoint."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from sereno.domain.errors import AuthenticationFailed, InvalidInput
from sereno.entrypoints.api.context import Caller, platform_of
from sereno.entrypoints.api.schemas import ErrorResponse
from sereno.services import audit_log

router = APIRouter(tags=["audit log"])
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 422)}
MAX_WITNESS_BODY = 64 * 1024 * 1024  # 2M leaf hashes in hex: a first sync of a large log


@router.get("/audit/tree-heads", responses=ERRORS)
def list_heads(request: Request, caller: Caller,
               limit: int = Query(20, ge=1, le=500)) -> list[dict[str, Any]]:
    """The latest signed tree heads and their witness countersignatures (auditors)."""
    return audit_log.heads_for(platform_of(request).audit_log, caller, limit)


@router.post("/audit/tree-heads", status_code=201, responses=ERRORS)
def sign_head(request: Request, caller: Caller) -> dict[str, Any]:
    """Seal pending records and sign a tree head now (auditors)."""
    return audit_log.sign_head_for(platform_of(request).audit_log, caller).as_dict()


@router.get("/audit/verify", responses=ERRORS)
def verify(request: Request, caller: Caller) -> dict[str, Any]:
    """Re-hash every record and check every signed head; names the first bad index."""
    return audit_log.verify_for(platform_of(request).audit_log, caller).as_dict()


@router.get("/audit/proofs/inclusion", responses=ERRORS)
def inclusion(request: Request, caller: Caller, index: int = Query(ge=0)) -> dict[str, Any]:
    """RFC 9162 inclusion proof of leaf ``index`` in the latest signed head (auditors)."""
    try:
        return audit_log.inclusion_for(platform_of(request).audit_log, caller, index)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


@router.get("/audit/proofs/consistency", responses=ERRORS)
def consistency(request: Request, caller: Caller, first: int = Query(alias="from", ge=1),
                second: int = Query(alias="to", ge=1)) -> dict[str, Any]:
    """RFC 9162 consistency proof between two sizes of the log (auditors)."""
    try:
        return audit_log.consistency_for(platform_of(request).audit_log, caller, first, second)
    except ValueError as error:
        raise InvalidInput(str(error)) from None


@router.get("/audit/node-key", responses=ERRORS)
def node_key(request: Request, caller: Caller) -> dict[str, str]:
    """This node's id and Ed25519 public key (what the other agency pins)."""
    log = platform_of(request).audit_log
    audit_log.node_key_for(log, caller)
    key = log.key
    return {"node_id": key.node_id, "public_key": key.public_key_b64, "key_id": key.key_id}


@router.post("/witness/tree-heads", responses=ERRORS)
async def receive_head(request: Request) -> JSONResponse:
    """A peer node's signed tree head to witness. Authenticated by the head's Ed25519
    signature against the peer's registered key, not by a user credential."""
    platform = platform_of(request)
    node_id = request.headers.get("x-sereno-node", "")
    peer = audit_log.peer_of(platform.audit_log, node_id) if node_id else None
    if peer is None:
        raise AuthenticationFailed("unknown node: send X-Sereno-Node of a registered peer")
    try:
        envelope = await request.json()
        if not isinstance(envelope, dict):
            raise ValueError("not an object")
    except ValueError:
        raise InvalidInput("the envelope is not a JSON object") from None
    try:
        result = audit_log.receive_audited(platform.audit_log, envelope, peer)
    except audit_log.WitnessRefused as refused:
        return JSONResponse({"error": {"code": "witness_refused", "message": refused.reason,
                                       "details": [{"first_bad_index": refused.first_bad_index}]}},
                            status_code=409)
    return JSONResponse(result)
