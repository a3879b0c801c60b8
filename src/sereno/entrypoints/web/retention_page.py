"""Console page for auditors, supervisors, custodians and administrators: the agency's retention
periods, its legal holds and the last purge reports (ADR 0014). Read-only: holds are placed and
released through the API or the command line, where a reason is always asked for."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from sereno.domain.audit import AuditRecord
from sereno.entrypoints.api.context import platform_of
from sereno.entrypoints.web.console import page_caller, render
from sereno.services import retention

router = APIRouter(include_in_schema=False)
CLASSES = ("recording", "event_clip", "snapshot", "alert", "personal_data")


def _report(item: AuditRecord) -> dict[str, Any]:
    """A purge record as one row: when, who, deleted and held per class, cameras over budget."""
    detail = item.detail or {}
    classes = detail.get("classes") or {}
    over = sorted(camera for part in classes.values()
                  for camera, state in (part.get("cameras") or {}).items()
                  if state.get("over_budget"))
    return {"at": item.at, "actor": item.actor_username or "",
            "deleted": {c: int((classes.get(c) or {}).get("deleted", 0)) for c in CLASSES},
            "held": int(detail.get("held", 0)), "over_budget": over,
            "more": bool(detail.get("more")), "bytes": sum(
                int((classes.get(c) or {}).get("bytes", 0)) for c in CLASSES)}


@router.get("/retention", response_class=HTMLResponse)
def retention_page(request: Request) -> Response:
    context = page_caller(request)
    view = retention.overview(platform_of(request).uow(), context.principal)
    return render(request, "retention.html", context=context, policies=view.policies,
                  holds=view.holds, classes=CLASSES,
                  reports=None if view.reports is None else [_report(r) for r in view.reports])
