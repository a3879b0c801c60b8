"""Read-only directory: agencies on the platform, the caller's monitoring centres, the audit log."""

from __future__ import annotations

from datetime import datetime

from sereno.domain.access import Permission, Principal
from sereno.domain.agencies import Agency, MonitoringCentre
from sereno.domain.audit import AuditRecord
from sereno.services.audit import record, require
from sereno.services.unit_of_work import UnitOfWork


def list_agencies(uow: UnitOfWork, who: Principal) -> list[Agency]:
    """Every agency's id and name: partners need to know whom they work with."""
    action = "agency.list"
    with uow:
        require(uow, who, who.can(Permission.AGENCY_READ), action, object_type="agency")
        found = list(uow.agencies.list())
        record(uow, who, action, object_type="agency", detail={"count": len(found)})
        uow.commit()
        return found


def list_centres(uow: UnitOfWork, who: Principal) -> list[MonitoringCentre]:
    """The monitoring centres of the caller's agency."""
    action = "centre.list"
    with uow:
        require(uow, who, who.can(Permission.CENTRE_READ), action, object_type="centre")
        found = list(uow.centres.list_for_agency(who.agency_id))
        record(uow, who, action, object_type="centre", object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def read_audit_log(uow: UnitOfWork, who: Principal, *, limit: int = 100,
                   before_id: int | None = None, since: datetime | None = None,
                   action_filter: str | None = None) -> list[AuditRecord]:
    """Audit records that concern the caller's agency (as actor or as owner), newest first.

    Reading the log is itself recorded, after the page is read, so it is not in the page.
    """
    action = "audit.read"
    with uow:
        require(uow, who, who.can(Permission.AUDIT_READ), action, object_type="audit")
        found = list(uow.audit.for_agency(who.agency_id, limit=min(max(limit, 1), 1000),
                                          before_id=before_id, since=since,
                                          action=action_filter))
        record(uow, who, action, object_type="audit", object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found
