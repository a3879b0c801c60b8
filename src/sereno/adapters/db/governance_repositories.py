"""Repositories of the policy door: policy versions, access profiles, cases, break-glass."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from sereno.adapters.db import tables
from sereno.domain.governance import (
    AccessProfile,
    BreakGlassAccess,
    InvestigationCase,
    PolicyVersion,
)


class PolicyRepository:
    """Published versions of the access policies; exactly one is active."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def active(self) -> PolicyVersion | None:
        return self.session.scalars(
            select(PolicyVersion).where(tables.policy_versions.c.active.is_(True))).first()

    def history(self) -> Sequence[PolicyVersion]:
        return self.session.scalars(
            select(PolicyVersion).order_by(tables.policy_versions.c.version.desc())).all()

    def publish(self, version: PolicyVersion) -> None:
        """Add ``version`` as the active one (the previous one stays, inactive)."""
        self.session.execute(update(tables.policy_versions).values(active=False))
        self.session.add(version)
        self.session.flush()

    def next_version(self) -> int:
        latest = self.session.scalar(select(func.max(tables.policy_versions.c.version)))
        return int(latest or 0) + 1


class AccessProfileRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: str) -> AccessProfile | None:
        return self.session.get(AccessProfile, user_id)

    def put(self, profile: AccessProfile) -> None:
        self.session.merge(profile)


class CaseRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, agency_id: str, reference: str) -> InvestigationCase | None:
        return self.session.get(InvestigationCase, (agency_id, reference))

    def for_agency(self, agency_id: str) -> Sequence[InvestigationCase]:
        return self.session.scalars(
            select(InvestigationCase)
            .where(tables.investigation_cases.c.agency_id == agency_id)
            .order_by(tables.investigation_cases.c.opened_at.desc())).all()

    def add(self, case: InvestigationCase) -> None:
        self.session.add(case)


class BreakGlassRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, access: BreakGlassAccess) -> None:
        self.session.add(access)

    def get(self, access_id: str) -> BreakGlassAccess | None:
        return self.session.get(BreakGlassAccess, access_id)

    def for_agency(self, agency_id: str, *, pending_only: bool = False,
                   due_before: datetime | None = None) -> Sequence[BreakGlassAccess]:
        table = tables.break_glass_accesses
        query = select(BreakGlassAccess).where(table.c.agency_id == agency_id)
        if pending_only:
            query = query.where(table.c.reviewed_at.is_(None))
        if due_before is not None:
            query = query.where(table.c.review_due < due_before)
        return self.session.scalars(query.order_by(table.c.at.desc()).limit(500)).all()


class PeerRepository:
    """Other agencies' nodes and their pinned keys (Core rows: no domain class needed)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, peer: dict[str, Any]) -> None:
        self.session.execute(insert(tables.peer_nodes).values(**peer))

    def get(self, node_id: str) -> dict[str, Any] | None:
        row = self.session.execute(select(tables.peer_nodes).where(
            tables.peer_nodes.c.node_id == node_id)).mappings().first()
        return dict(row) if row else None

    def list(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.session.execute(
            select(tables.peer_nodes).order_by(tables.peer_nodes.c.node_id)).mappings()]
