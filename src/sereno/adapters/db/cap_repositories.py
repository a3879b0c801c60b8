"""The registered CAP sources of each agency (table ``cap_sources``); retired, never deleted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import cap_sources
from sereno.domain.cap_sources import CapSource


def _source(row: Any) -> CapSource:
    return CapSource(**dict(row._mapping))


class CapSourceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, source: CapSource) -> None:
        values = {column.name: getattr(source, column.name) for column in cap_sources.columns}
        self.session.execute(insert(cap_sources).values(**values))

    def active(self, agency_id: str, sender: str) -> CapSource | None:
        """The source ``agency_id`` registered for ``sender`` and has not retired."""
        row = self.session.execute(
            select(cap_sources).where(cap_sources.c.agency_id == agency_id,
                                      cap_sources.c.sender == sender,
                                      cap_sources.c.retired_at.is_(None))
            .order_by(cap_sources.c.registered_at.desc()).limit(1)).first()
        return _source(row) if row else None

    def of_agency(self, agency_id: str) -> Sequence[CapSource]:
        """The agency's sources still in use, by sender."""
        rows = self.session.execute(
            select(cap_sources).where(cap_sources.c.agency_id == agency_id,
                                      cap_sources.c.retired_at.is_(None))
            .order_by(cap_sources.c.sender)).all()
        return [_source(row) for row in rows]

    def retire(self, source_id: str, by: str, at: datetime) -> None:
        self.session.execute(update(cap_sources).where(cap_sources.c.id == source_id)
                             .values(retired_by=by, retired_at=at))
