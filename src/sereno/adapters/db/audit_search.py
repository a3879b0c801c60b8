"""The auditors' search of the audit log (read only, like everything that touches the log)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import audit_records
from sereno.domain.audit import AuditQuery, AuditRecord


def _like(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


class AuditSearchRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def search(self, agency_id: str, query: AuditQuery) -> Sequence[AuditRecord]:
        """Records concerning ``agency_id`` (its people acted, or its object was acted on) that
        match ``query``, newest first, one page."""
        c = audit_records.c
        found = select(AuditRecord).where(
            or_(c.actor_agency_id == agency_id, c.object_agency_id == agency_id))
        if query.user:
            found = found.where(or_(c.actor_username == query.user,
                                    c.actor_user_id == query.user))
        if query.action:
            if query.action.endswith("*"):
                found = found.where(c.action.startswith(query.action[:-1], autoescape=True))
            else:
                found = found.where(c.action == query.action)
        if query.outcome is not None:
            found = found.where(c.outcome == query.outcome.value)
        if query.object_id:
            found = found.where(c.object_id == query.object_id)
        if query.object_type:
            found = found.where(c.object_type == query.object_type)
        if query.start is not None:
            found = found.where(c.at >= query.start)
        if query.end is not None:
            found = found.where(c.at <= query.end)
        if query.text:
            pattern = _like(query.text)
            found = found.where(or_(*(
                func.lower(column).like(pattern, escape="\\")
                for column in (c.action, c.actor_username, c.object_id, c.reason, c.purpose,
                               cast(c.detail, String)))))
        if query.before_id is not None:
            found = found.where(c.id < query.before_id)
        return self.session.scalars(found.order_by(c.id.desc()).limit(query.limit)).all()
