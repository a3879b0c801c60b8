"""Every error leaves as JSON {"error": {"code", "message", "details"}} with its status."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sereno.adapters.video.snapshots import StreamUnavailable
from sereno.domain.audit import Outcome
from sereno.domain.errors import (
    AccessDenied,
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    NotFound,
    SerenoError,
)
from sereno.entrypoints.api.context import SESSION_COOKIE, record_refusal, route_action

logger = logging.getLogger(__name__)

STATUS = {
    AccountLocked: 423,
    AuthenticationFailed: 401,
    AccessDenied: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    StreamUnavailable: 503,
}


def error_response(status: int, code: str, message: str,
                   details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The one JSON shape of every error."""
    return JSONResponse({"error": {"code": code, "message": message, "details": details or []}},
                        status_code=status, headers=headers)


def _status_of(error: SerenoError) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def _wants_html(request: Request) -> bool:
    """Console pages answer with pages; the API always answers JSON."""
    return not request.url.path.startswith("/api/")


def install(app: FastAPI) -> None:
    """Register the exception handlers on ``app``."""

    @app.exception_handler(SerenoError)
    async def sereno_error(request: Request, error: SerenoError) -> Response:
        status = _status_of(error)
        if isinstance(error, AuthenticationFailed):
            # Use-cases audit their own refusals; failed authentication happens before them.
            record_refusal(request, route_action(request), Outcome.DENIED, error.message)
            if _wants_html(request):
                expired = "&expired=1" if request.cookies.get(SESSION_COOKIE) else ""
                return RedirectResponse(f"/login?next={quote(request.url.path)}{expired}",
                                        status_code=303)
            return error_response(status, error.code, error.message, error.details,
                                  {"WWW-Authenticate": "Bearer"})
        if _wants_html(request):
            from sereno.entrypoints.web.console import render

            return render(request, "error.html", status, status=status, message=error.message)
        return error_response(status, error.code, error.message, error.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = error.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            code, status, message = "malformed_json", 400, "the request body is not valid JSON"
        else:
            code, status, message = "invalid_input", 422, "the request does not match the schema"
        details = [{"field": ".".join(str(part) for part in p.get("loc", ())),
                    "problem": p.get("msg", ""), "type": p.get("type", "")} for p in problems]
        record_refusal(request, route_action(request), Outcome.REJECTED,
                       f"{code}: {details[0]['field'] if details else ''}")
        return error_response(status, code, message, details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
                 415: "unsupported_media_type"}
        return error_response(error.status_code, codes.get(error.status_code, "http_error"),
                              str(error.detail), headers=getattr(error, "headers", None))

    @app.exception_handler(OperationalError)
    async def database_unavailable(request: Request, error: OperationalError) -> Response:
        logger.error("database unavailable on %s %s: %s", request.method, request.url.path,
                     error.orig)
        return error_response(503, "database_unavailable",
                              "the database cannot be reached right now; nothing was changed",
                              headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error",
                              "an unexpected error occurred; it has been logged")
