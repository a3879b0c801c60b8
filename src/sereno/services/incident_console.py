"""The console's incident pages and live board stream (ADR 0034).

Opening the board, an incident's page or the board's stream is one audited read; the incidents
pushed on the stream afterwards are the same board's changes and are not recorded one by one
(as the alert queue, ADR 0028). What the pages then read and change goes through the incident,
unit and dispatch use-cases, which record their own calls.
"""

from __future__ import annotations

from collections.abc import Iterable

from sereno.domain.access import Permission, Principal
from sereno.domain.errors import NotFound
from sereno.domain.incidents import Incident
from sereno.services.audit import record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "incident"


def open_board(uow: UnitOfWork, who: Principal) -> None:
    """The incident board page (INCIDENT_READ; audited as ``page.incidents``)."""
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_READ), "page.incidents",
                object_type=OBJECT)
        record(uow, who, "page.incidents", object_type=OBJECT, object_agency_id=who.agency_id)
        uow.commit()


def open_incident(uow: UnitOfWork, who: Principal, incident_id: str) -> Incident:
    """One of the caller's agency's incidents, for its page (audited as ``page.incident``).
    Another agency's incident is "not found", recorded as out of scope."""
    action = "page.incident"
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_READ), action, object_type=OBJECT,
                object_id=incident_id[:64])
        incident = uow.incidents.get(incident_id)
        if incident is None or incident.agency_id != who.agency_id:
            refuse(uow, who, action, NotFound(f"no incident {incident_id[:64]!r}"),
                   object_type=OBJECT, object_id=incident_id[:64],
                   internal_reason=None if incident is None else "incident of another agency")
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id)
        uow.commit()
        return incident


def open_stream(uow: UnitOfWork, who: Principal) -> None:
    """Start the caller's live incident board stream (audited as ``incident.stream``)."""
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_READ), "incident.stream",
                object_type=OBJECT)
        record(uow, who, "incident.stream", object_type=OBJECT, object_agency_id=who.agency_id)
        uow.commit()


def current(uow: UnitOfWork, agency_id: str, incident_ids: Iterable[str]) -> list[Incident]:
    """The present state of ``incident_ids`` that are ``agency_id``'s (an event names its
    agency, and this checks the stored incident again)."""
    with uow:
        found = [uow.incidents.get(i) for i in dict.fromkeys(incident_ids)]
        return [i for i in found if i is not None and i.agency_id == agency_id]
