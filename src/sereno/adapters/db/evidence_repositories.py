"""Repositories of evidence exports and of the forensic-watermark registry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sereno.adapters.db import tables
from sereno.domain.evidence import EvidenceExport, ExportStatus, IssueKind, WatermarkIssue


class EvidenceExportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, export: EvidenceExport) -> None:
        self.session.add(export)

    def get(self, export_id: str) -> EvidenceExport | None:
        return self.session.get(EvidenceExport, export_id)

    def for_agency(self, agency_id: str, *, status: ExportStatus | None = None,
                   limit: int = 200) -> Sequence[EvidenceExport]:
        c = tables.evidence_exports.c
        query = select(EvidenceExport).where(c.agency_id == agency_id)
        if status is not None:
            query = query.where(c.status == status)
        return self.session.scalars(query.order_by(c.requested_at.desc()).limit(limit)).all()


class WatermarkRegistry:
    """Issued payloads; a payload is never reused."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, issue: WatermarkIssue) -> None:
        self.session.add(issue)
        self.session.flush()

    def get(self, payload: int) -> WatermarkIssue | None:
        return self.session.get(WatermarkIssue, payload)

    def recent(self, user_id: str, camera_id: str, kind: IssueKind,
               since: datetime) -> WatermarkIssue | None:
        """The newest payload issued to ``user_id`` for ``camera_id`` since ``since``."""
        c = tables.watermark_issues.c
        return self.session.scalars(
            select(WatermarkIssue).where(c.user_id == user_id, c.camera_id == camera_id,
                                         c.kind == kind, c.issued_at >= since)
            .order_by(c.issued_at.desc()).limit(1)).first()

    def payloads_for(self, agency_id: str, limit: int = 200_000) -> list[int]:
        """Payloads issued to or about ``agency_id`` (newest first): the candidates a damaged
        picture is matched against when it cannot be decoded blind."""
        c = tables.watermark_issues.c
        return [int(p) for p in self.session.scalars(
            select(c.payload).where((c.agency_id == agency_id) | (c.owner_agency_id == agency_id))
            .order_by(c.issued_at.desc()).limit(limit))]
