"""Who is calling: resolves the bearer token or console cookie into a ``Principal``.

The agency and roles always come from the stored account behind the credential; nothing the
client sends in a header or body can change them.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from sereno.bootstrap import Platform
from sereno.domain.access import Principal
from sereno.domain.audit import AuditRecord, Outcome
from sereno.domain.errors import AccessDenied, AuthenticationFailed
from sereno.services import accounts

API_PREFIX = "/api/v1"
SESSION_COOKIE = "sereno_session"
CSRF_HEADER = "x-csrf-token"
PURPOSE_HEADER = "x-sereno-purpose"
CASE_HEADER = "x-sereno-case"
BREAK_GLASS_HEADER = "x-sereno-break-glass"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Declares the scheme for OpenAPI; the resolution itself is done below.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class CallerContext:
    principal: Principal
    via: str  # "token" or "session"
    csrf_token: str | None = None
    session_id: str | None = None


def platform_of(request: Request) -> Platform:
    """The platform the application was built with."""
    platform: Platform = request.app.state.platform
    return platform


def client_address(request: Request) -> str | None:
    """The peer address; ``X-Forwarded-For`` is believed only from configured proxies."""
    peer = request.client.host if request.client else None
    proxies = platform_of(request).settings.http.trusted_proxies
    forwarded = request.headers.get("x-forwarded-for")
    if peer and forwarded and peer in proxies:
        candidate = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return peer
    return peer


def stated_purpose(request: Request) -> str | None:
    """The purpose the caller gave for this access (header or ``purpose`` query), trimmed."""
    purpose = request.headers.get(PURPOSE_HEADER) or request.query_params.get("purpose")
    return purpose.strip()[:500] or None if purpose else None


def stated_access(request: Request, principal: Principal) -> Principal:
    """The principal with the case and break-glass justification the request states (header or
    query: a console video element cannot send headers). The policy door checks both."""
    case = request.headers.get(CASE_HEADER) or request.query_params.get("case")
    glass = request.headers.get(BREAK_GLASS_HEADER) or request.query_params.get("break_glass")
    if not case and glass is None:
        return principal
    return replace(principal, case_ref=case.strip()[:64] if case else None,
                   break_glass=glass[:500] if glass is not None else None)


def resolve_caller(request: Request) -> CallerContext:
    """Authenticate the request once (cached on ``request.state``); raises on failure."""
    cached: CallerContext | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    platform = platform_of(request)
    address, purpose = client_address(request), stated_purpose(request)
    authorization = request.headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    if authorization:
        if scheme.lower() != "bearer" or not credential.strip():
            raise AuthenticationFailed("the Authorization header must be 'Bearer <token>'")
        principal = accounts.authenticate_token(platform.uow(), platform.clock,
                                                credential.strip(), address=address,
                                                purpose=purpose)
        context = CallerContext(stated_access(request, principal), "token")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        session = accounts.authenticate_session(platform.uow(), platform.auth_policy,
                                                platform.clock, cookie, address=address,
                                                purpose=purpose)
        context = CallerContext(stated_access(request, session.principal), "session",
                                session.csrf_token, session.session_id)
    else:
        raise AuthenticationFailed("authentication required")
    request.state.caller = context
    return context


def check_csrf(request: Request, context: CallerContext, submitted: str | None) -> None:
    """Cookie-authenticated changes must echo the session's CSRF token (header or form)."""
    if context.via != "session" or request.method in SAFE_METHODS:
        return
    expected = context.csrf_token or ""
    if not submitted or not hmac.compare_digest(submitted, expected):
        reason = "missing or wrong CSRF token; reload the page and try again"
        record_refusal(request, route_action(request), Outcome.DENIED, reason)
        raise AccessDenied(reason)


def api_caller(request: Request,
               _token: Annotated[str | None, Depends(oauth2_scheme)]) -> Principal:
    """Dependency for API routes: the verified caller (CSRF-checked for cookie callers)."""
    context = resolve_caller(request)
    check_csrf(request, context, request.headers.get(CSRF_HEADER))
    return context.principal


Caller = Annotated[Principal, Depends(api_caller)]


def record_refusal(request: Request, action: str, outcome: Outcome, reason: str) -> None:
    """Audit a request refused before any use-case ran (bad credentials, bad body, CSRF)."""
    platform = platform_of(request)
    context: CallerContext | None = getattr(request.state, "caller", None)
    if context is None and outcome is Outcome.REJECTED:
        try:  # a malformed body from an authenticated caller is still attributed to them
            context = resolve_caller(request)
        except Exception:
            context = None
    with platform.uow() as uow:
        if context is not None:
            uow.audit.add(AuditRecord.for_principal(
                context.principal, at=platform.clock(), action=action, outcome=outcome,
                reason=reason[:500]))
        else:
            uow.audit.add(AuditRecord(
                at=platform.clock(), action=action, outcome=outcome,
                channel="web" if request.cookies.get(SESSION_COOKIE) else "api",
                address=client_address(request), reason=reason[:500],
                purpose=stated_purpose(request)))
        uow.commit()


def route_action(request: Request) -> str:
    """A stable name for the route, e.g. ``GET /api/v1/cameras/{camera_id}``."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    # Routes of included routers carry their path without the router's prefix.
    if request.url.path.startswith(API_PREFIX) and not path.startswith(API_PREFIX):
        path = API_PREFIX + path
    return f"{request.method} {path}"[:64]


def still_authenticated(request: Request) -> bool:
    """Check the request's credential again (long-lived streams: a logout or an expired token
    ends them within one check interval)."""
    request.state.caller = None
    try:
        resolve_caller(request)
    except AuthenticationFailed:
        return False
    return True
