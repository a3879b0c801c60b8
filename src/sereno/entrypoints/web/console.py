"""Console pages: login (password, then the one-time code or the enrolment of an authenticator
app), map, camera list, camera page (live events, rule editor), video wall, the caller's account
(password change, second factor), logout, language switch."""

from __future__ import annotations

import hmac
import json
import secrets
from datetime import UTC
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sereno.domain import commands
from sereno.domain.access import Permission, Principal
from sereno.domain.audit import Outcome
from sereno.domain.cameras import Camera, CameraStatus
from sereno.domain.errors import (
    AccessDenied,
    AccountLocked,
    AuthenticationFailed,
    Conflict,
    InvalidInput,
    SecondFactorRejected,
)
from sereno.domain.events import DetectionEvent
from sereno.domain.rules import CameraRule
from sereno.domain.users import User
from sereno.entrypoints.api.context import (
    SESSION_COOKIE,
    CallerContext,
    check_csrf,
    client_address,
    platform_of,
    record_refusal,
    resolve_caller,
)
from sereno.entrypoints.web.i18n import LANGUAGES, MESSAGES, translator
from sereno.services import accounts, directory, video
from sereno.services import cameras as camera_service
from sereno.services import operations as operations_service
from sereno.services import second_factor as second_factor_service
from sereno.services.audit import Clock
from sereno.services.cameras import CameraFilter
from sereno.services.unit_of_work import UnitOfWork

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
LANG_COOKIE = "sereno_lang"
LOGIN_CSRF_COOKIE = "sereno_login_csrf"
LOGIN_STEP_COOKIE = "sereno_login_step"  # the password was right: the code comes next
RECENT_EVENTS = 20  # stored detections rendered with a page, so a reload is not empty
# Browsers open at most six HTTP/1.1 connections per server and an MJPEG stream holds one for
# as long as it plays: past this many streams a wall tile shows refreshed snapshots instead, so
# the event feed, thumbnails and the page's own requests still get a connection.
WALL_STREAMS = 4
WALL_LAYOUTS = (1, 4, 9, 16)
WALL_RETRY_S = 5  # a tile without signal tries again this often
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
    t = translator(language)

    def texts(*prefixes: str) -> str:
        """The texts a script shows, as JSON for a ``<script type="application/json">``."""
        return script_json({k: t(k) for k in MESSAGES["es"] if k.startswith(prefixes)})

    def object_name(name: str) -> str:
        key = f"object.{name}"
        return t(key) if key in MESSAGES["es"] else name  # a class the texts do not know

    return templates.TemplateResponse(request, template, {
        "t": t, "texts": texts, "object_name": object_name, "lang": language, "caller": context,
        "csrf_token": context.csrf_token if context else None,
        "can_wall": context is not None and context.principal.can(Permission.FOOTAGE_LIVE),
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
        start = accounts.begin_login(platform.uow(), platform.hasher, platform.second_factor,
                                     platform.auth_policy, platform.clock, username, password,
                                     channel="web", address=address)
    except AccountLocked:
        return render(request, "login.html", 423, error="login.locked", login_csrf=expected,
                      next=_safe_next(next), username=username)
    except AuthenticationFailed:
        return render(request, "login.html", 401, error="login.failed", login_csrf=expected,
                      next=_safe_next(next), username=username)
    if start.challenge is None:
        return _logged_in(request, start.user, next)
    response = RedirectResponse(f"/login/code?next={quote(_safe_next(next))}", status_code=303)
    response.set_cookie(LOGIN_STEP_COOKIE, start.challenge,
                        max_age=int(platform.auth_policy.challenge_ttl.total_seconds()),
                        httponly=True, samesite="strict", secure=_secure_cookie(request),
                        path="/login")
    return response


def _logged_in(request: Request, user: User, next: str) -> Response:
    """Open the console session and go where the person was heading."""
    platform = platform_of(request)
    issued = accounts.open_session(platform.uow(), platform.auth_policy, platform.clock, user,
                                   address=client_address(request))
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, issued.cookie_value, max_age=issued.max_age,
                        httponly=True, samesite="strict", secure=_secure_cookie(request),
                        path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    response.delete_cookie(LOGIN_STEP_COOKIE, path="/login")
    return response


def _login_again(request: Request, status: int, error: str, next: str,
                 username: str | None = None) -> Response:
    """Back to the password form (the login step ended: expired, locked, disabled)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", status, error=error, login_csrf=token,
                      next=_safe_next(next), username=username)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                        secure=_secure_cookie(request), path="/login")
    response.delete_cookie(LOGIN_STEP_COOKIE, path="/login")
    return response


def _code_page(request: Request, view: accounts.ChallengeView, next: str, status: int = 200,
               error: str | None = None) -> Response:
    return render(request, "login_code.html", status, view=view,
                  enrolment=_enrolment_json(view.enrolment), next=_safe_next(next),
                  login_csrf=request.cookies.get(LOGIN_CSRF_COOKIE, ""), error=error)


def _enrolment_json(enrolment: second_factor_service.Enrolment | None) -> dict[str, Any] | None:
    if enrolment is None:
        return None
    grouped = " ".join(enrolment.secret[i:i + 4] for i in range(0, len(enrolment.secret), 4))
    return {"secret": enrolment.secret, "grouped": grouped, "uri": enrolment.uri,
            "account": enrolment.account, "issuer": enrolment.issuer}


@router.get("/login/code", response_class=HTMLResponse)
def login_code_page(request: Request, next: str | None = None) -> Response:
    """The second step of a login: the authenticator app's code (or setting the app up)."""
    platform = platform_of(request)
    try:
        view = accounts.challenge_view(platform.uow(), platform.second_factor, platform.clock,
                                       request.cookies.get(LOGIN_STEP_COOKIE, ""))
    except AuthenticationFailed:
        return _login_again(request, 401, "login.step_expired", next or "/map")
    return _code_page(request, view, next or "/map")


@router.post("/login/code", response_class=HTMLResponse)
def login_code(
    request: Request,
    code: Annotated[str, Form(max_length=20)],
    csrf: Annotated[str, Form(max_length=100)],
    next: Annotated[str, Form(max_length=500)] = "/map",
) -> Response:
    platform = platform_of(request)
    challenge = request.cookies.get(LOGIN_STEP_COOKIE, "")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf):
        return _login_again(request, 403, "login.csrf", next)
    try:
        user = accounts.finish_login(platform.uow(), platform.second_factor,
                                     platform.auth_policy, platform.clock, challenge, code,
                                     channel="web", address=client_address(request))
    except AccountLocked:
        return _login_again(request, 423, "login.locked", next)
    except SecondFactorRejected as refusal:
        kind = refusal.details[0]["reason"] if refusal.details else "wrong"
        try:
            view = accounts.challenge_view(platform.uow(), platform.second_factor,
                                           platform.clock, challenge)
        except AuthenticationFailed:
            return _login_again(request, 401, "login.step_expired", next)
        return _code_page(request, view, next, 401, f"login.code.{kind}")
    except AuthenticationFailed:
        return _login_again(request, 401, "login.step_expired", next)
    return _logged_in(request, user, next)


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
                  # only an approved map_tiles egress destination (services/egress.py)
                  "tileUrl": request.app.state.map_tiles.url(),
                  "attribution": console.map_tile_attribution,
                  "colours": STATUS_COLOURS,
                  # the incidents and units layers (ADR 0034), read and refreshed by map.js
                  "incidents": who.can(Permission.INCIDENT_READ),
                  "units": who.can(Permission.UNIT_READ), "refresh": 5}
    return render(request, "map.html", context=context,
                  cameras_json=script_json({"type": "FeatureCollection", "features": features}),
                  map_json=script_json(map_config), camera_count=len(found))


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


def script_json(value: object) -> str:
    """JSON for a ``<script type="application/json">`` block: ``<``, ``>`` and ``&`` escaped so
    that no value (a camera name, say) can close the block and inject markup."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _event_item(event: DetectionEvent) -> dict[str, Any]:
    """A stored detection as the events panel renders it (the live feed's fields)."""
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)  # SQLite drops the zone
    return {"event_id": event.event_id, "camera_id": event.camera_id,
            "rule_kind": event.rule_kind, "classes": list(event.classes),
            "confidence": event.confidence, "snapshot": event.snapshot_key is not None,
            "at": at.isoformat(), "clock": f"{at:%H:%M:%S}"}


def _rule_json(rule: CameraRule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "kind": rule.kind.value, "points": rule.points,
            "classes": list(rule.classes), "direction": rule.direction.value,
            "dwell_s": rule.dwell_s, "min_count": rule.min_count,
            "cooldown_s": rule.cooldown_s, "enabled": rule.enabled}


def _events_config(who: Principal, cameras: list[Camera], camera_id: str | None) -> str:
    """What the live events panel's script needs: its camera filter and the camera names."""
    return script_json({"camera": camera_id, "footage": who.can(Permission.FOOTAGE_LIVE),
                        "names": {c.id: c.name for c in cameras}})


@router.get("/cameras/{camera_id}", response_class=HTMLResponse)
def camera_page(request: Request, camera_id: str) -> Response:
    context = page_caller(request)
    platform = platform_of(request)
    who = context.principal
    camera = camera_service.get_camera(platform.uow(), who, camera_id, action="page.camera")
    recent = video.list_detections(platform.uow(), who, camera_id=camera.id, limit=RECENT_EVENTS)
    # Rules are the owner agency's set-up; a partner's shared camera shows none (and asking
    # would be recorded as a refusal).
    rules = (video.list_rules(platform.uow(), who, camera.id)
             if camera.owner_agency_id == who.agency_id else None)
    can_edit = rules is not None and camera.changeable_by(who) and not camera.is_retired
    return render(request, "camera.html", context=context, camera=camera,
                  view=camera_service.public_view(camera, who),
                  can_view_footage=who.can(Permission.FOOTAGE_LIVE) and not camera.is_retired,
                  refresh_seconds=platform.settings.media.snapshot_refresh_seconds,
                  recent=[_event_item(e) for e in recent],
                  events_json=_events_config(who, [camera], camera.id),
                  rules=rules, can_edit_rules=can_edit,
                  rules_json=script_json({"camera": camera.id, "editable": can_edit,
                                          "rules": [_rule_json(r) for r in rules or []]}))


@router.get("/wall", response_class=HTMLResponse)
def wall_page(request: Request) -> Response:
    """The video wall: live tiles an operator fills from the list of visible cameras."""
    context = page_caller(request)
    platform = platform_of(request)
    who = context.principal
    if not who.can(Permission.FOOTAGE_LIVE):
        # Refused before any use-case runs, so the edge records it (as it does for CSRF).
        reason = "your roles do not allow live footage, so there is no video wall for you"
        record_refusal(request, "page.wall", Outcome.DENIED, reason)
        raise AccessDenied(reason)
    found = [c for c in camera_service.list_cameras(platform.uow(), who, action="page.wall")
             if not c.is_retired]
    recent = video.list_detections(platform.uow(), who, limit=RECENT_EVENTS)
    offered = _operation_cameras(platform.uow(), platform.clock, who, found)
    wall = {"user": who.username, "layouts": list(WALL_LAYOUTS), "streams": WALL_STREAMS,
            "refresh": platform.settings.media.snapshot_refresh_seconds, "retry": WALL_RETRY_S,
            "cameras": [{"id": c.id, "name": c.name, "status": c.status.value}
                        for c in found]}
    return render(request, "wall.html", context=context, cameras=found, operations=offered,
                  recent=[_event_item(e) for e in recent], layouts=WALL_LAYOUTS,
                  wall_refresh=platform.settings.media.snapshot_refresh_seconds,
                  wall_retry=WALL_RETRY_S,
                  wall_json=script_json(wall), events_json=_events_config(who, found, None))


def _operation_cameras(uow: UnitOfWork, clock: Clock, who: Principal,
                       visible: list[Camera]) -> list[dict[str, Any]]:
    """The cameras of the joint operations active now for the caller's agency, among those the
    wall offers anyway (ADR 0033): grouped by operation, to add at once. The live view of each
    still passes the policy door."""
    if not who.can(Permission.OPERATION_READ):
        return []
    shown = {c.id for c in visible}
    offered = []
    for active in operations_service.active_operations(uow, who, clock):
        cameras = [c for c in active.cameras if c.id in shown]
        if cameras:
            offered.append({"code": active.operation.code, "title": active.operation.title,
                            "ends_at": active.operation.ends_at, "cameras": cameras})
    return offered


# -- the caller's own account --------------------------------------------------------------------

def _account_page(request: Request, context: CallerContext, status: int = 200,
                  errors: list[str] | None = None, done: str | None = None) -> Response:
    platform = platform_of(request)
    who = context.principal
    user = accounts.get_user(platform.uow(), who, who.user_id)
    enrolment = second_factor_service.pending_enrolment(platform.uow(), platform.second_factor,
                                                        who)
    policy = platform.auth_policy.password
    return render(request, "account.html", status, context=context, user=user,
                  enrolment=_enrolment_json(enrolment), errors=errors or [], done=done,
                  min_length=policy.min_length, max_length=policy.max_length)


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, done: str | None = None) -> Response:
    """The caller's account: who they are, password change, authenticator app."""
    context = page_caller(request)
    return _account_page(request, context,
                         done=done if done in ("password", "second-factor") else None)


@router.post("/account/password", response_class=HTMLResponse)
def account_password(
    request: Request,
    current_password: Annotated[str, Form(max_length=256)] = "",
    new_password: Annotated[str, Form(max_length=256)] = "",
    new_password_again: Annotated[str, Form(max_length=256)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    # Every field has a default so that an unauthenticated post is refused as such first.
    context = page_caller(request)
    check_csrf(request, context, csrf)
    if new_password != new_password_again:
        record_refusal(request, "user.password.change", Outcome.REJECTED,
                       "the two new passwords differ")
        return _account_page(request, context, 422, errors=["account.mismatch"])
    platform = platform_of(request)
    try:
        platform.bus.handle(commands.ChangePassword(context.principal, current_password,
                                                    new_password,
                                                    keep_session=context.session_id))
    except AccessDenied:
        return _account_page(request, context, 403, errors=["account.wrong_current"])
    except InvalidInput as problem:
        keys = [str(d["code"]) for d in problem.details if "code" in d] or ["error.422"]
        return _account_page(request, context, 422, errors=keys)
    return RedirectResponse("/account?done=password", status_code=303)


@router.post("/account/second-factor", response_class=HTMLResponse)
def account_second_factor(
    request: Request,
    csrf: Annotated[str, Form(max_length=100)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Without a code: start setting up an authenticator app (shows its key). With a code:
    confirm it; from then on every login asks for the app's code."""
    context = page_caller(request)
    check_csrf(request, context, csrf)
    platform = platform_of(request)
    try:
        if not code.strip():
            second_factor_service.begin_enrolment(platform.uow(), platform.second_factor,
                                                  platform.clock, context.principal)
            return RedirectResponse("/account#second-factor", status_code=303)
        second_factor_service.confirm_enrolment(
            platform.uow(), platform.second_factor, platform.clock, context.principal, code,
            platform.auth_policy.totp_drift_steps)
    except Conflict:
        return _account_page(request, context, 409, errors=["account.sf_already"])
    except InvalidInput as problem:
        reason = problem.details[0].get("reason") if problem.details else None
        key = f"login.code.{reason}" if reason else "account.sf_not_started"
        return _account_page(request, context, 422, errors=[key])
    return RedirectResponse("/account?done=second-factor", status_code=303)
