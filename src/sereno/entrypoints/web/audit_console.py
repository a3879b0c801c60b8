"""The auditor's console: search the audit log, review break-glass accesses, handle access
anomalies, verify the log and its proofs. Every page and form goes through the same use-cases as
the API (permissions, agency scoping and audit); forms carry the session's CSRF token."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sereno.domain import commands
from sereno.domain.access import Permission, Role
from sereno.domain.anomalies import Category, local_zone
from sereno.domain.audit import AuditQuery, Outcome
from sereno.domain.errors import Conflict, InvalidInput, NotFound
from sereno.domain.governance import BreakGlassAccess
from sereno.domain.security import AlertStatus, SecurityAlert
from sereno.entrypoints.api.context import CallerContext, check_csrf, platform_of, record_refusal
from sereno.entrypoints.web.console import page_caller, render
from sereno.entrypoints.workers.anomalies import thresholds_from
from sereno.services import anomalies, audit_log, audit_review, governance, security

router = APIRouter(include_in_schema=False)
PAGE = 50
DETAIL_CHARS = 300


def local(moment: datetime | None) -> str:
    """A moment as the console shows it: Guayaquil time, to the second."""
    if moment is None:
        return "—"
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M:%S")


def _moment(value: str | None) -> datetime | None:
    """A ``datetime-local`` field (Guayaquil time) or an ISO moment with its zone."""
    if not value or not value.strip():
        return None
    parsed = datetime.fromisoformat(value.strip())
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=local_zone())


def _compact(detail: dict[str, Any]) -> str:
    text = json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS] + "…"


# -- search -------------------------------------------------------------------------------------

@router.get("/audit", response_class=HTMLResponse)
def search_page(
    request: Request,
    user: Annotated[str, Query(max_length=64)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    outcome: Annotated[str, Query(max_length=16)] = "",
    object: Annotated[str, Query(max_length=128)] = "",
    start: Annotated[str, Query(alias="from", max_length=40)] = "",
    end: Annotated[str, Query(alias="to", max_length=40)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Search the agency's audit log (auditors)."""
    context = page_caller(request)
    platform = platform_of(request)
    filters = {"user": user, "action": action, "outcome": outcome, "object": object,
               "from": start, "to": end, "q": q}
    try:
        query = AuditQuery(
            user=user.strip() or None, action=action.strip() or None,
            outcome=Outcome(outcome) if outcome else None, object_id=object.strip() or None,
            start=_moment(start), end=_moment(end), text=q.strip() or None, before_id=before,
            limit=PAGE)
    except ValueError:
        reason = "the search form has a value that is not a date or an outcome"
        record_refusal(request, "page.audit", Outcome.REJECTED, reason)
        return _search(request, context, filters, [], None, error="audit.bad_filter",
                       status=422)
    found = audit_review.search_audit(platform.uow(), context.principal, query,
                                      action="page.audit")
    older = None
    if len(found) == PAGE and found[-1].id is not None:
        older = "/audit?" + urlencode({**{k: v for k, v in filters.items() if v},
                                       "before": found[-1].id})
    return _search(request, context, filters, found, older, paged=before is not None)


def _search(request: Request, context: CallerContext, filters: dict[str, str],
            found: list[Any], older: str | None, *, error: str | None = None,
            status: int = 200, paged: bool = False) -> Response:
    newest = "/audit?" + urlencode({k: v for k, v in filters.items() if v})
    rows = [{"record": r, "at": local(r.at), "detail": _compact(r.detail or {})}
            for r in found]
    return render(request, "audit_search.html", status, context=context, filters=filters,
                  rows=rows, older=older, newest=newest if paged else None, error=error,
                  outcomes=[o.value for o in Outcome], section="search")


# -- break-glass ----------------------------------------------------------------------------------

def _break_glass_page(request: Request, context: CallerContext, status: int = 200,
                      error: str | None = None, done: bool = False) -> Response:
    platform = platform_of(request)
    who = context.principal
    found = governance.list_break_glass(platform.uow(), who)
    now = platform.clock()

    def order(access: BreakGlassAccess) -> tuple[int, float]:
        rank = 0 if access.is_overdue(now) else 1 if access.reviewed_at is None else 2
        moment = access.at if access.at.tzinfo else access.at.replace(tzinfo=UTC)
        return rank, -moment.timestamp()

    items = [{"access": a, "at": local(a.at), "due": local(a.review_due),
              "reviewed_at": local(a.reviewed_at), "overdue": a.is_overdue(now),
              "reviewable": Role.SUPERVISOR in who.roles and a.reviewed_at is None
              and a.user_id != who.user_id}
             for a in sorted(found, key=order)]
    return render(request, "audit_break_glass.html", status, context=context, items=items,
                  error=error, done=done, section="break_glass",
                  pending=sum(1 for a in found if a.reviewed_at is None))


@router.get("/audit/break-glass", response_class=HTMLResponse)
def break_glass_page(request: Request, done: str | None = None) -> Response:
    """Break-glass accesses, overdue and pending reviews first (supervisors review them,
    auditors see them)."""
    context = page_caller(request)
    return _break_glass_page(request, context, done=done == "reviewed")


@router.post("/audit/break-glass/{access_id}/review", response_class=HTMLResponse)
def review_break_glass(
    request: Request, access_id: str,
    verdict: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """A supervisor's verdict on someone else's break-glass access."""
    context = page_caller(request)
    check_csrf(request, context, csrf)
    platform = platform_of(request)
    try:
        governance.review_break_glass(platform.uow(), context.principal, access_id, verdict,
                                      note, platform.clock)
    except InvalidInput as problem:
        return _break_glass_page(request, context, 422, error=problem.message)
    return RedirectResponse("/audit/break-glass?done=reviewed", status_code=303)


# -- anomalies ------------------------------------------------------------------------------------

def _anomalies_page(request: Request, context: CallerContext, status_filter: str,
                    code: int = 200, error: str | None = None) -> Response:
    platform = platform_of(request)
    who = context.principal
    wanted = status_filter if status_filter in {s.value for s in AlertStatus} else None
    alerts = security.list_alerts(platform.uow(), who, status=wanted, kind="access_anomaly")
    thresholds = thresholds_from(platform.settings.anomalies)
    users = anomalies.user_baselines(platform.uow(), who, thresholds, platform.clock())
    return render(request, "audit_anomalies.html", code, context=context,
                  alerts=[_alert_view(a) for a in alerts], users=users,
                  categories=list(Category), status_filter=wanted or "",
                  statuses=[s.value for s in AlertStatus], error=error, section="anomalies",
                  lookback=thresholds.lookback_days,
                  can_handle=who.can(Permission.SECURITY_HANDLE))


def _alert_view(alert: SecurityAlert) -> dict[str, Any]:
    detail = dict(alert.detail)
    ids = detail.pop("record_ids", [])
    user = detail.get("user")
    search = None
    if user and detail.get("first_at") and detail.get("last_at"):
        first, last = (datetime.fromisoformat(str(detail[k])).astimezone(local_zone())
                       for k in ("first_at", "last_at"))
        search = "/audit?" + urlencode({"user": user, "from": f"{first:%Y-%m-%dT%H:%M:%S}",
                                        "to": f"{last + timedelta(seconds=1):%Y-%m-%dT%H:%M:%S}"})
    facts = {k: v for k, v in detail.items()
             if k not in ("kind", "severity", "detector", "user_id", "at", "first_at",
                          "last_at")}
    return {"alert": alert, "raised_at": local(alert.raised_at), "record_ids": ids,
            "facts": {k: (v if isinstance(v, str | int | float) or v is None
                          else json.dumps(v, ensure_ascii=False, sort_keys=True))
                      for k, v in facts.items()},
            "search": search, "closed_at": local(alert.closed_at),
            "acknowledged_at": local(alert.acknowledged_at)}


@router.get("/audit/anomalies", response_class=HTMLResponse)
def anomalies_page(request: Request,
                   status: Annotated[str, Query(max_length=16)] = "") -> Response:
    """Access-anomaly alerts with their evidence, and the users' baselines (auditors)."""
    context = page_caller(request)
    return _anomalies_page(request, context, status)


def _handled(request: Request, context: CallerContext, command: Any) -> Response:
    platform = platform_of(request)
    try:
        platform.bus.handle(command)
    except (Conflict, InvalidInput) as problem:
        code = 409 if isinstance(problem, Conflict) else 422
        return _anomalies_page(request, context, "", code, error=problem.message)
    return RedirectResponse("/audit/anomalies", status_code=303)


@router.post("/audit/anomalies/{alert_id}/acknowledge", response_class=HTMLResponse)
def acknowledge_anomaly(
    request: Request, alert_id: str,
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Say that somebody is looking into the anomaly."""
    context = page_caller(request)
    check_csrf(request, context, csrf)
    return _handled(request, context, commands.AcknowledgeSecurityAlert(
        context.principal, alert_id, note.strip() or None))


@router.post("/audit/anomalies/{alert_id}/close", response_class=HTMLResponse)
def close_anomaly(
    request: Request, alert_id: str,
    note: Annotated[str, Form(max_length=2000)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Close the anomaly with what was found and done."""
    context = page_caller(request)
    check_csrf(request, context, csrf)
    return _handled(request, context, commands.CloseSecurityAlert(context.principal, alert_id,
                                                                   note))


# -- integrity ------------------------------------------------------------------------------------

@router.get("/audit/integrity", response_class=HTMLResponse)
def integrity_page(request: Request,
                   index: Annotated[int | None, Query(ge=0)] = None) -> Response:
    """Verify the log now; the latest signed head and its witness; an inclusion proof."""
    context = page_caller(request)
    platform = platform_of(request)
    log = platform.audit_log
    report = audit_log.verify_for(log, context.principal)
    heads = audit_log.heads_for(log, context.principal, limit=1)
    head = heads[0] if heads else None
    signed_at = (local(datetime.fromtimestamp(head["timestamp_ms"] / 1000, UTC))
                 if head else None)
    proof: dict[str, Any] | None = None
    checks: dict[str, bool] | None = None
    proof_error: str | None = None
    if index is not None:
        try:
            proof = audit_log.inclusion_for(log, context.principal, index)
            checks = audit_review.check_inclusion(proof, log.key.public_key_b64)
        except (ValueError, NotFound) as problem:
            proof_error = str(problem)
    return render(request, "audit_integrity.html", context=context, report=report, head=head,
                  signed_at=signed_at, node_id=log.key.node_id,
                  public_key=log.key.public_key_b64, index=index, proof=proof, checks=checks,
                  proof_error=proof_error, section="integrity",
                  witnessed_at=local(datetime.fromisoformat(head["witnessed_at"]))
                  if head and head.get("witnessed_at") else None)
