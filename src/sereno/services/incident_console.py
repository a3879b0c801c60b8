"""The console's incident pages and live board stream (ADR 0034).

Opening the board, an incident's page or the board's stream is one audited read; the incidents
pushed on the stream afterwards are the same board's changes and are not recorded one by one
(as the alert queue, ADR 0028). What the pages then read and change goes through the incident,
unit and dispatch use-cases, which record their own calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sereno.domain.access import Permission, Principal
from sereno.domain.errors import NotFound
from sereno.domain.incidents import Incident, IncidentType
from sereno.services.audit import record, refuse, require
from sereno.services.unit_of_work import UnitOfWork

OBJECT = "incident"


@dataclass(frozen=True)
class IncidentPage:
    """An incident and its type as the agency's catalogue names it (None if since removed)."""

    incident: Incident
    kind: IncidentType | None


def open_board(uow: UnitOfWork, who: Principal) -> list[IncidentType]:
    """The incident board page (INCIDENT_READ; audited as ``page.incidents``), with the
    agency's type catalogue so that rows show type names rather than codes."""
    with uow:
        require(uow, who, who.can(Permission.INCIDENT_READ), "page.incidents",
                object_type=OBJECT)
        catalogue = list(uow.incident_types.catalogue(who.agency_id))
        record(uow, who, "page.incidents", object_type=OBJECT, object_agency_id=who.agency_id)
        uow.commit()
        return catalogue


def open_incident(uow: UnitOfWork, who: Principal, incident_id: str) -> IncidentPage:
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
        kind = uow.incident_types.get(incident.agency_id, incident.type_code)
        record(uow, who, action, object_type=OBJECT, object_id=incident.id,
               object_agency_id=incident.agency_id)
        uow.commit()
        return IncidentPage(incident, kind)


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
