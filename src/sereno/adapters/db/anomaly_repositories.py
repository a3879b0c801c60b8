"""Repositories of the access-anomaly scan (shifts, daily counts, findings, scan position) and the
audit-log reads it needs. Plain Core rows: the scan works on many records in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from sereno.adapters.db.tables import (
    access_daily_counts,
    anomaly_findings,
    anomaly_scan_state,
    audit_records,
    cameras,
    shift_schedules,
)
from sereno.domain.anomalies import Category, ShiftAssignment, ShiftSubject

STATE_ROW = 1
SCAN_COLUMNS = [audit_records.c[name] for name in (
    "id", "at", "action", "outcome", "actor_user_id", "actor_username", "actor_agency_id",
    "actor_roles", "object_type", "object_id", "object_agency_id", "detail")]


class ShiftRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_agency(self, agency_id: str) -> list[ShiftAssignment]:
        rows = self.session.execute(
            select(shift_schedules).where(shift_schedules.c.agency_id == agency_id)
            .order_by(shift_schedules.c.subject_type, shift_schedules.c.subject)).mappings()
        return [_shift(r) for r in rows]

    def all(self) -> list[ShiftAssignment]:
        return [_shift(r) for r in self.session.execute(select(shift_schedules)).mappings()]

    def put(self, shift: ShiftAssignment) -> None:
        self.remove(shift.agency_id, shift.subject_type, shift.subject)
        self.session.execute(insert(shift_schedules).values(
            agency_id=shift.agency_id, subject_type=shift.subject_type.value,
            subject=shift.subject, schedule=shift.schedule, updated_by=shift.updated_by,
            updated_at=shift.updated_at))

    def remove(self, agency_id: str, subject_type: ShiftSubject, subject: str) -> bool:
        result = self.session.execute(delete(shift_schedules).where(
            shift_schedules.c.agency_id == agency_id,
            shift_schedules.c.subject_type == subject_type.value,
            shift_schedules.c.subject == subject))
        return bool(getattr(result, "rowcount", 0))


def _shift(row: Any) -> ShiftAssignment:
    return ShiftAssignment(agency_id=row["agency_id"],
                           subject_type=ShiftSubject(row["subject_type"]),
                           subject=row["subject"], schedule=row["schedule"],
                           updated_by=row["updated_by"], updated_at=row["updated_at"])


class AnomalyRepository:
    """The scan's own state, and what it reads from the audit log (never writes there)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- scan position ------------------------------------------------------------------------

    def last_scanned(self, *, lock: bool = False) -> int:
        """The id of the last audit record scanned (0 before the first scan). ``lock`` holds the
        row until the transaction ends, so that two scanners take turns."""
        query = select(anomaly_scan_state.c.last_record_id).where(
            anomaly_scan_state.c.id == STATE_ROW)
        if lock:
            query = query.with_for_update()
        value = self.session.scalar(query)
        return int(value or 0)

    def set_last_scanned(self, record_id: int, at: datetime) -> None:
        table = anomaly_scan_state
        if self.session.scalar(select(table.c.id).where(table.c.id == STATE_ROW)) is None:
            self.session.execute(insert(table).values(id=STATE_ROW, last_record_id=record_id,
                                                      scanned_at=at))
        else:
            self.session.execute(update(table).where(table.c.id == STATE_ROW).values(
                last_record_id=record_id, scanned_at=at))

    # -- the audit log, read --------------------------------------------------------------------

    def records_after(self, record_id: int, limit: int) -> list[dict[str, Any]]:
        """The next audit records to scan, by id."""
        query = (select(*SCAN_COLUMNS).where(audit_records.c.id > record_id)
                 .order_by(audit_records.c.id).limit(limit))
        return [dict(r) for r in self.session.execute(query).mappings()]

    def user_records(self, user_id: str, *, actions: Iterable[str] | None = None,
                     action_prefix: str | None = None, outcome: str, after: datetime,
                     until: datetime, max_id: int) -> list[tuple[int, datetime, str]]:
        """(id, at, action) of one user's records with ``outcome`` in (after, until], ids up to
        ``max_id``; ``actions`` and ``action_prefix`` narrow the actions (either matches)."""
        c = audit_records.c
        query = select(c.id, c.at, c.action).where(
            c.actor_user_id == user_id, c.outcome == outcome, c.at > after, c.at <= until,
            c.id <= max_id)
        narrowing: list[ColumnElement[bool]] = []
        if actions is not None:
            narrowing.append(c.action.in_(list(actions)))
        if action_prefix is not None:
            narrowing.append(c.action.startswith(action_prefix, autoescape=True))
        if narrowing:
            query = query.where(or_(*narrowing))
        return [(int(r.id), r.at, r.action) for r in self.session.execute(query)]

    def camera_centres(self) -> dict[str, str]:
        """Every camera's centre (the assignment check)."""
        return {r.id: r.centre_id for r in
                self.session.execute(select(cameras.c.id, cameras.c.centre_id))}

    # -- daily counts (baselines) ---------------------------------------------------------------

    def add_counts(self, counts: dict[tuple[str, str, date, Category], int]) -> None:
        """Add ``(user_id, agency_id, day, category) → n`` to the stored daily counts."""
        table = access_daily_counts
        for (user_id, agency_id, day, category), n in counts.items():
            where = (table.c.user_id == user_id, table.c.day == day.isoformat(),
                     table.c.category == category.value)
            stored = self.session.scalar(select(table.c.records).where(*where))
            if stored is None:
                self.session.execute(insert(table).values(
                    user_id=user_id, day=day.isoformat(), category=category.value,
                    agency_id=agency_id, records=n))
            else:
                self.session.execute(update(table).where(*where).values(records=stored + n))

    def daily_counts(self, user_ids: Sequence[str], first: date,
                     last: date) -> dict[str, dict[date, dict[Category, int]]]:
        """user → local day → category → records, for days in [first, last]."""
        table = access_daily_counts
        found: dict[str, dict[date, dict[Category, int]]] = {}
        if not user_ids:
            return found
        rows = self.session.execute(select(table).where(
            table.c.user_id.in_(list(user_ids)), table.c.day >= first.isoformat(),
            table.c.day <= last.isoformat())).mappings()
        for r in rows:
            days = found.setdefault(r["user_id"], {})
            days.setdefault(date.fromisoformat(r["day"]), {})[Category(r["category"])] = int(
                r["records"])
        return found

    # -- findings -----------------------------------------------------------------------------

    def active_until(self, key: str, at: datetime) -> datetime | None:
        """The end of a finding with ``key`` still covering ``at``, if any."""
        table = anomaly_findings
        value: datetime | None = self.session.scalar(
            select(table.c.until).where(table.c.dedup_key == key, table.c.until > at,
                                        table.c.at <= at)
            .order_by(table.c.until.desc()).limit(1))
        return value

    def add_finding(self, *, key: str, detector: str, agency_id: str, user_id: str,
                    at: datetime, until: datetime, alert_id: str) -> None:
        self.session.execute(insert(anomaly_findings).values(
            dedup_key=key, detector=detector, agency_id=agency_id, user_id=user_id, at=at,
            until=until, alert_id=alert_id))
