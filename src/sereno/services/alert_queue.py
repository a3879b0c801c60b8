"""The console's live alert queue (ADR 0028): the page's first rendering and the push stream.

Opening the page or the stream is one audited read of the agency's queue; the alerts pushed
afterwards are the same queue's changes and are not recorded one by one (at 500 alerts/s the
audit log would hold more of the stream than of anything else). Reading an alert's detail or
media still goes through ``services.alerts`` and is recorded there.
"""

from __future__ import annotations

from collections.abc import Iterable

from sereno.domain.access import Permission, Principal
from sereno.domain.alerts import Alert, AlertStatus, Severity
from sereno.services.audit import record, require
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "alert"
PAGE_SIZE = 200


def _open(uow: UnitOfWork, who: Principal, action: str, detail: dict[str, object]) -> None:
    require(uow, who, who.can(Permission.ALERT_READ), action, object_type=OBJECT)
    record(uow, who, action, object_type=OBJECT, object_agency_id=who.agency_id,
           detail=detail)


def open_page(uow: UnitOfWork, who: Principal, limit: int = PAGE_SIZE) -> list[Alert]:
    """The alerts the queue page opens with (newest ``limit`` of the caller's agency), in the
    order the page shows them (``queue_order``); audited as ``page.alerts``."""
    with uow:
        found = list(uow.alerts.queue(who.agency_id, limit=limit))
        _open(uow, who, "page.alerts", {"count": len(found)})
        uow.commit()
    return sorted(found, key=queue_order)


def open_stream(uow: UnitOfWork, who: Principal) -> None:
    """Start the caller's live alert stream (ALERT_READ; audited as ``alert.stream``)."""
    with uow:
        _open(uow, who, "alert.stream", {})
        uow.commit()


def current(uow: UnitOfWork, agency_id: str, alert_ids: Iterable[str]) -> list[Alert]:
    """The present state of ``alert_ids`` that are ``agency_id``'s (others are left out: an
    event names its agency, and this checks the stored alert again)."""
    with uow:
        found = [uow.alerts.get(alert_id) for alert_id in dict.fromkeys(alert_ids)]
        return [a for a in found if a is not None and a.agency_id == agency_id]


def queue_order(alert: Alert) -> tuple[int, int, float]:
    """Active alerts first, then the most severe, then the newest."""
    active = alert.status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
    severity = Severity(alert.severity).rank
    return (0 if active else 1, -severity, -alert.raised_at.timestamp())
