"""Console pages: login, map, camera list, camera page, logout, language switch."""

from __future__ import annotations

import hmac
import json
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sereno.domain.access import Permission
from sereno.domain.cameras import CameraStatus
from sereno.domain.errors import AccountLocked, AuthenticationFailed
from sereno.entrypoints.api.context import (
    SESSION_COOKIE,
    CallerContext,
    check_csrf,
    client_address,
    platform_of,
    resolve_caller,
)
from sereno.entrypoints.web.i18n import LANGUAGES, translator
from sereno.services import accounts, directory
from sereno.services import cameras as camera_service
from sereno.services.cameras import CameraFilter

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
LANG_COOKIE = "sereno_lang"
LOGIN_CSRF_COOKIE = "sereno_login_csrf"
STATUS_COLOURS = {"online": "#2ecc71", "offline": "#e74c3c", "degraded": "#f1c40f",
                  "maintenance": "#3498db", "retired": "#7f8c8d"}


def language_of(request: Request) -> str:
    """The console language: the visitor's choice, else the configured default."""
    chosen = request.cookies.get(LANG_COOKIE)
    return chosen if chosen in LANGUAGES else platform_of(request).settings.console.default_language


def _secure_cookie(request: Request) -> bool:
    mode = platform_of(request).settings.auth.cookie_secure
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def _safe_next(target: str | None) -> str:
    # Only same-site relative paths: never "//host" or "https://..." (open redirect).
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/map"


def render(request: Request, template: str, status_code: int = 200,
           context: CallerContext | None = None, **values: Any) -> HTMLResponse:
    """Render a page with the translator, the caller and the CSRF token at hand."""
    language = language_of(request)
    return templates.TemplateResponse(request, template, {
        "t": translator(language), "lang": language, "caller": context,
        "csrf_token": context.csrf_token if context else None,
        "status_colours": STATUS_COLOURS, **values}, status_code=status_code)


def page_caller(request: Request) -> CallerContext:
    """Console pages take the session cookie only; a bearer token is for the API."""
    if request.headers.get("authorization"):
        raise AuthenticationFailed("console pages use the login session, not bearer tokens")
    return resolve_caller(request)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/map", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None, expired: bool = False) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", login_csrf=token, next=_safe_next(next),
                      error="login.expired" if expired else None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure_cookie(request), path="/login")
    return response


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=500)] = "/map",
) -> Response:
    platform = platform_of(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        return render(request, "login.html", 403, error="login.csrf",
                      login_csrf=expected or secrets.token_urlsafe(24), next=_safe_next(next))
    address = client_address(request)
    try:
        user = accounts.check_password(platform.uow(), platform.hasher, platform.auth_policy,
                                       platform.clock, username, password, channel="web",
                                       address=address)
    except AccountLocked:
        return render(request, "login.html", 423, error="login.locked", login_csrf=expected,
                      next=_safe_next(next), username=username)
    except AuthenticationFailed:
        return render(request, "login.html", 401, error="login.failed", login_csrf=expected,
                      next=_safe_next(next), username=username)
    issued = accounts.open_session(platform.uow(), platform.auth_policy, platform.clock, user,
                                   address=address)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, issued.cookie_value, max_age=issued.max_age,
                        httponly=True, samesite="strict", secure=_secure_cookie(request),
                        path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    context = page_caller(request)
    check_csrf(request, context, csrf)
    platform = platform_of(request)
    accounts.close_session(platform.uow(), platform.clock, context.principal,
                           context.session_id or "")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{language}")
def switch_language(request: Request, language: str, next: str | None = None) -> Response:
    """Remember the console language (a preference cookie; no data is read or changed)."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax",
                            httponly=True, secure=_secure_cookie(request))
    return response


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request) -> Response:
    context = page_caller(request)
    platform = platform_of(request)
    who = context.principal
    found = camera_service.list_cameras(platform.uow(), who, action="page.map")
    features = [camera_service.camera_feature(c, who) for c in found]
    console = platform.settings.console
    map_config = {"center": list(console.map_center), "zoom": console.map_zoom,
                  "tileUrl": console.map_tile_url, "attribution": console.map_tile_attribution,
                  "colours": STATUS_COLOURS}
    return render(request, "map.html", context=context,
                  cameras_json=json.dumps({"type": "FeatureCollection", "features": features}),
                  map_json=json.dumps(map_config), camera_count=len(found))


@router.get("/cameras", response_class=HTMLResponse)
def camera_list_page(
    request: Request,
    status: Annotated[str | None, Query(max_length=16)] = None,
    centre: Annotated[str | None, Query(max_length=64)] = None,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    context = page_caller(request)
    platform = platform_of(request)
    who = context.principal
    valid_status = CameraStatus(status) if status in set(CameraStatus) else None
    filters = CameraFilter(status=valid_status, centre_id=centre or None,
                           owner_agency_id=agency or None, tag=tag or None, text=q or None)
    found = camera_service.list_cameras(platform.uow(), who, filters, action="page.cameras")
    centres = directory.list_centres(platform.uow(), who)
    agencies = directory.list_agencies(platform.uow(), who)
    return render(request, "cameras.html", context=context, cameras=found, centres=centres,
                  agencies=agencies, statuses=[s.value for s in CameraStatus],
                  filters={"status": status or "", "centre": centre or "",
                           "agency": agency or "", "tag": tag or "", "q": q or ""})


@router.get("/cameras/{camera_id}", response_class=HTMLResponse)
def camera_page(request: Request, camera_id: str) -> Response:
    context = page_caller(request)
    platform = platform_of(request)
    who = context.principal
    camera = camera_service.get_camera(platform.uow(), who, camera_id, action="page.camera")
    return render(request, "camera.html", context=context, camera=camera,
                  view=camera_service.public_view(camera, who),
                  can_view_footage=who.can(Permission.FOOTAGE_LIVE) and not camera.is_retired,
                  refresh_seconds=platform.settings.media.snapshot_refresh_seconds)

