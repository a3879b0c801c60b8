"""Repositories of incidents, their timeline and alert links, and the incident type catalogue.
Nothing here deletes: incidents are closed or cancelled, types retired."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from sereno.adapters.db.tables import incident_alerts, incident_events, incident_types, incidents
from sereno.domain.errors import Conflict
from sereno.domain.incidents import (
    Incident,
    IncidentEvent,
    IncidentStatus,
    IncidentType,
    StaleVersion,
    format_number,
)

NUMBER_ATTEMPTS = 5


class IncidentRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_numbered(self, incident: Incident, prefix: str) -> str:
        """Add ``incident`` with the next free number of ``prefix`` (``SEG-2026-``) and return
        it. Two creations racing for one number (PostgreSQL) retry in a savepoint."""
        for _ in range(NUMBER_ATTEMPTS):
            last = self.session.scalar(select(func.max(incidents.c.number))
                                       .where(incidents.c.number.like(f"{prefix}%")))
            sequence = int(last[len(prefix):]) + 1 if last else 1
            incident.number = format_number(prefix, sequence)
            try:
                with self.session.begin_nested():
                    self.session.add(incident)
                    self.session.flush()
                return incident.number
            except IntegrityError:
                continue
        raise Conflict("could not number the incident (too many at once): try again")

    def get(self, incident_id: str) -> Incident | None:
        return self.session.get(Incident, incident_id)

    def partner_copy(self, agency_id: str, origin_agency_id: str,
                     origin_incident_id: str) -> Incident | None:
        """``agency_id``'s copy of a partner's incident, if it holds one (ADR 0033)."""
        return self.session.scalars(select(Incident).where(
            incidents.c.agency_id == agency_id,
            incidents.c.origin_agency_id == origin_agency_id,
            incidents.c.origin_incident_id == origin_incident_id)).first()

    def by_number(self, number: str) -> Incident | None:
        return self.session.scalars(select(Incident).where(incidents.c.number == number)).first()

    def save(self, incident: Incident) -> None:
        """Write the incident's changes now, if nobody else changed it since it was read: the
        row is updated ``WHERE version = <the version read>`` (``StaleVersion`` otherwise,
        and the transaction is rolled back: a failed flush leaves nothing to continue with)."""
        number = incident.number
        try:
            self.session.flush()
        except StaleDataError:
            self.session.rollback()
            raise StaleVersion(f"incident {number} was changed by someone else at the same "
                               "moment: reload it and try again") from None

    def board(self, agency_id: str, *, statuses: Sequence[IncidentStatus] | None = None,
              type_code: str | None = None, max_priority: int | None = None,
              since: datetime | None = None, limit: int = 200) -> Sequence[Incident]:
        """The agency's incidents, most urgent first, then newest."""
        query = select(Incident).where(incidents.c.agency_id == agency_id)
        if statuses:
            query = query.where(incidents.c.status.in_(list(statuses)))
        if type_code:
            query = query.where(incidents.c.type_code == type_code)
        if max_priority is not None:
            query = query.where(incidents.c.priority <= max_priority)
        if since is not None:
            query = query.where(incidents.c.created_at >= since)
        query = query.order_by(incidents.c.priority, incidents.c.created_at.desc(),
                               incidents.c.id).limit(limit)
        return self.session.scalars(query).all()

    def add_event(self, event: IncidentEvent) -> None:
        self.session.add(event)

    def events(self, incident_id: str) -> Sequence[IncidentEvent]:
        """The incident's timeline, oldest first."""
        query = (select(IncidentEvent).where(incident_events.c.incident_id == incident_id)
                 .order_by(incident_events.c.at, incident_events.c.id))
        return self.session.scalars(query).all()

    def link_alert(self, incident_id: str, alert_id: str, by: str, at: datetime) -> None:
        self.session.execute(insert(incident_alerts).values(
            incident_id=incident_id, alert_id=alert_id, linked_by=by, linked_at=at))

    def alert_ids(self, incident_id: str) -> list[str]:
        """The alerts linked to the incident, in the order they were linked."""
        query = (select(incident_alerts.c.alert_id)
                 .where(incident_alerts.c.incident_id == incident_id)
                 .order_by(incident_alerts.c.linked_at, incident_alerts.c.alert_id))
        return list(self.session.scalars(query))

    def holding(self, alert_id: str) -> Incident | None:
        """The incident an alert is linked to, if any."""
        query = (select(Incident).join(incident_alerts,
                                       incident_alerts.c.incident_id == incidents.c.id)
                 .where(incident_alerts.c.alert_id == alert_id))
        return self.session.scalars(query).first()

    def move_alerts(self, from_id: str, to_id: str) -> None:
        """Carry the alert links of a merged duplicate over to the incident it joined."""
        self.session.flush()
        self.session.execute(update(incident_alerts)
                             .where(incident_alerts.c.incident_id == from_id)
                             .values(incident_id=to_id))


class IncidentTypeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, kind: IncidentType) -> None:
        self.session.add(kind)

    def get(self, agency_id: str, code: str) -> IncidentType | None:
        return self.session.get(IncidentType, (agency_id, code))

    def catalogue(self, agency_id: str, *, active_only: bool = False) -> Sequence[IncidentType]:
        """The agency's types by code."""
        query = select(IncidentType).where(incident_types.c.agency_id == agency_id)
        if active_only:
            query = query.where(incident_types.c.active.is_(True))
        return self.session.scalars(query.order_by(incident_types.c.code)).all()
