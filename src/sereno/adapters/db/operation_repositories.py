"""Joint operations in SQLAlchemy Core (ADR 0033).

Core rather than the ORM mapping: an operation's lists (participants, units, cameras) and its
area are JSON values the ORM would not see change in place; the repository writes the whole row
on ``save``, which is also how the status the clock gave it is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, null, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import alerts, dispatches, incidents, joint_operations
from sereno.domain.operations import JointOperation, OperationStatus

_FIELDS = ("id", "code", "title", "lead_agency_id", "participants", "area", "starts_at",
           "ends_at", "objectives", "unit_ids", "camera_ids", "status", "created_by",
           "created_at", "summary")


def _operation(row: RowMapping) -> JointOperation:
    values = {name: row[name] for name in _FIELDS}
    values["status"] = OperationStatus(values["status"])
    for name in ("participants", "unit_ids", "camera_ids"):
        values[name] = list(values[name] or [])
    return JointOperation(**values)


def _row(operation: JointOperation) -> dict[str, Any]:
    row = {name: getattr(operation, name) for name in _FIELDS}
    row["status"] = operation.status.value
    if operation.summary is None:  # SQL NULL, not JSON null: "no summary yet" is queried
        row["summary"] = null()
    return row


class OperationRepository:
    """The ``joint_operations`` table and what a summary reads of alerts and incidents."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, operation: JointOperation) -> None:
        """Insert a new operation."""
        self.session.execute(insert(joint_operations).values(**_row(operation)))

    def save(self, operation: JointOperation) -> None:
        """Write back every field of an existing operation."""
        row = _row(operation)
        del row["id"]
        self.session.execute(update(joint_operations)
                             .where(joint_operations.c.id == operation.id).values(**row))

    def get(self, operation_id: str) -> JointOperation | None:
        """One operation by id."""
        row = self.session.execute(select(joint_operations).where(
            joint_operations.c.id == operation_id)).mappings().first()
        return None if row is None else _operation(row)

    def by_code(self, code: str) -> JointOperation | None:
        """One operation by its code."""
        row = self.session.execute(select(joint_operations).where(
            joint_operations.c.code == code)).mappings().first()
        return None if row is None else _operation(row)

    def all(self, limit: int = 500) -> Sequence[JointOperation]:
        """Operations newest window first. Participants are a JSON list, which the two engines
        do not query alike: the caller filters by agency (operations are few)."""
        rows = self.session.execute(select(joint_operations)
                                    .order_by(joint_operations.c.starts_at.desc())
                                    .limit(limit)).mappings()
        return [_operation(row) for row in rows]

    def running_at(self, at: datetime) -> Sequence[JointOperation]:
        """Operations not cancelled whose window contains ``at``."""
        rows = self.session.execute(select(joint_operations).where(
            joint_operations.c.status != OperationStatus.CANCELLED.value,
            joint_operations.c.starts_at <= at, joint_operations.c.ends_at > at)).mappings()
        return [_operation(row) for row in rows]

    def unsummarised_before(self, at: datetime) -> Sequence[JointOperation]:
        """Operations whose window ended by ``at`` and that have no stored summary yet."""
        rows = self.session.execute(select(joint_operations).where(
            joint_operations.c.ends_at <= at, joint_operations.c.summary.is_(None))).mappings()
        return [_operation(row) for row in rows]

    # ---- what a summary reads ------------------------------------------------------------

    def alerts_in_window(self, agencies: Sequence[str], start: datetime,
                         end: datetime) -> Sequence[RowMapping]:
        """Original alerts (not received copies) of ``agencies`` raised in the window, with a
        place: id, agency, severity, status, position, cameras."""
        query = (select(alerts.c.id, alerts.c.agency_id, alerts.c.severity, alerts.c.status,
                        alerts.c.latitude, alerts.c.longitude, alerts.c.camera_ids)
                 .where(alerts.c.agency_id.in_(list(agencies)),
                        alerts.c.origin_alert_id.is_(None),
                        alerts.c.raised_at >= start, alerts.c.raised_at < end,
                        alerts.c.latitude.is_not(None)))
        return list(self.session.execute(query).mappings())

    def incidents_in_window(self, agencies: Sequence[str], start: datetime, end: datetime,
                            operation_id: str) -> Sequence[RowMapping]:
        """Own incidents (not partners' copies) of ``agencies`` created in the window, or
        linked to the operation: id, number, agency, status, position, created and on-scene
        times."""
        in_window = (incidents.c.agency_id.in_(list(agencies))
                     & incidents.c.origin_incident_id.is_(None)
                     & (incidents.c.created_at >= start) & (incidents.c.created_at < end))
        query = (select(incidents.c.id, incidents.c.number, incidents.c.agency_id,
                        incidents.c.status, incidents.c.latitude, incidents.c.longitude,
                        incidents.c.created_at, incidents.c.on_scene_at,
                        incidents.c.operation_id)
                 .where(in_window | (incidents.c.operation_id == operation_id)))
        return list(self.session.execute(query).mappings())

    def dispatched_units(self, incident_ids: Sequence[str]) -> Sequence[RowMapping]:
        """The dispatches of these incidents: unit, incident, status."""
        if not incident_ids:
            return []
        query = select(dispatches.c.unit_id, dispatches.c.incident_id, dispatches.c.status
                       ).where(dispatches.c.incident_id.in_(list(incident_ids)))
        return list(self.session.execute(query).mappings())

    def count(self) -> int:
        """How many operations are on record."""
        return int(self.session.execute(
            select(func.count()).select_from(joint_operations)).scalar_one())
