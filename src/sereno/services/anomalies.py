"""Access anomalies: the scan over the audit log, the users' baselines, and shifts (ADR 0015).

``scan`` reads the audit records it has not read yet (by id, in batches, each batch one
transaction): it adds the footage accesses to the users' daily counts (their baselines), runs the
four detectors over the fresh ones (``domain/anomalies.py``) and raises one ``access_anomaly``
security alert per new finding for the user's agency, with the evidence (counts, record ids).
A finding is remembered with the end of its window, so the same finding is not raised twice.
The position, the counts, the findings and the alerts commit together: a scan that fails
leaves nothing half done, and the next one starts where the last good one ended.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sereno.domain.access import Permission, Principal, Role
from sereno.domain.anomalies import (
    FOOTAGE_ACTIONS,
    Baseline,
    Category,
    Detector,
    Finding,
    ShiftAssignment,
    ShiftSubject,
    Thresholds,
    baseline,
    category_of,
    effective_shift,
    evidence_ids,
    has_assignment,
    in_assignment,
    local_zone,
    on_shift,
    parse_shift,
    peak_window,
    shift_resumes,
    shift_text,
)
from sereno.domain.errors import InvalidInput, NotFound
from sereno.domain.events import Event
from sereno.domain.governance import AccessProfile
from sereno.domain.security import AlertKind
from sereno.services.audit import Clock, record, refuse, require
from sereno.services.security import raise_security_alert
from sereno.services.unit_of_work import UnitOfWork, UnitOfWorkFactory

SCAN_BATCH = 2_000
MAX_BATCHES = 50  # per call: a long backlog is caught up over several calls


@dataclass(frozen=True)
class Access:
    """One audit record as the detectors see it."""

    record_id: int
    at: datetime
    user_id: str
    username: str
    agency_id: str
    roles: tuple[str, ...]
    action: str
    outcome: str
    category: Category | None
    camera_id: str | None


@dataclass
class ScanReport:
    scanned: int = 0
    last_record_id: int = 0
    findings: list[Finding] = field(default_factory=list)
    alert_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"scanned": self.scanned, "last_record_id": self.last_record_id,
                "alerts": len(self.alert_ids),
                "findings": [{"detector": f.detector.value, "agency": f.agency_id,
                              "user": f.username, "summary": f.summary}
                             for f in self.findings]}


def _access(row: dict[str, Any]) -> Access | None:
    user_id = row["actor_user_id"]
    if not user_id or user_id.startswith("system:") or not row["actor_agency_id"]:
        return None  # anonymous refusals and Sereno's own work are not a person's access
    detail = row["detail"] if isinstance(row["detail"], dict) else {}
    camera = (row["object_id"] if row["object_type"] == "camera"
              else detail.get("camera_id") if isinstance(detail.get("camera_id"), str)
              else None)
    return Access(record_id=int(row["id"]), at=row["at"], user_id=user_id,
                  username=row["actor_username"] or user_id, agency_id=row["actor_agency_id"],
                  roles=tuple(r for r in (row["actor_roles"] or "").split(",") if r),
                  action=row["action"], outcome=row["outcome"],
                  category=category_of(row["action"]), camera_id=camera)


def local_day(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date()


def scan(uow_factory: UnitOfWorkFactory, thresholds: Thresholds, clock: Clock, *,
         batch: int = SCAN_BATCH, publish: Callable[[Event], None] | None = None,
         max_batches: int = MAX_BATCHES) -> ScanReport:
    """Scan what is new in the audit log (up to ``max_batches`` batches); publish the alerts'
    events after each batch commits."""
    report = ScanReport()
    for _ in range(max_batches):
        scanned, raised = _scan_batch(uow_factory(), thresholds, clock(), batch, report)
        for event in raised:
            if publish is not None:
                publish(event)
        if scanned < batch:
            break
    return report


def _scan_batch(uow: UnitOfWork, thresholds: Thresholds, now: datetime, batch: int,
                report: ScanReport) -> tuple[int, list[Event]]:
    with uow:
        last = uow.anomalies.last_scanned(lock=True)
        cutoff = now - thresholds.settle
        rows: list[dict[str, Any]] = []
        for row in uow.anomalies.records_after(last, batch):
            if row["at"] > cutoff:
                break  # too young: its neighbours by id may not have committed yet
            rows.append(row)
        if not rows:
            report.last_record_id = last
            return 0, []
        max_id = int(rows[-1]["id"])
        accesses = [a for a in (_access(r) for r in rows) if a is not None]
        _count(uow, accesses)
        fresh = [a for a in accesses if a.at >= now - thresholds.stale_after]
        detectors = _Detectors(uow, thresholds, max_id)
        findings = (detectors.bulk_pulls(fresh) + detectors.off_shift(fresh)
                    + detectors.outside_assignment(fresh) + detectors.many_denials(fresh))
        for finding in findings:
            alert = raise_security_alert(
                uow, agency_id=finding.agency_id, kind=AlertKind.ACCESS_ANOMALY.value,
                severity=finding.severity, summary=finding.summary,
                detail=finding.alert_detail(), now=now)
            for key in finding.keys:
                uow.anomalies.add_finding(key=key, detector=finding.detector.value,
                                          agency_id=finding.agency_id,
                                          user_id=finding.user_id, at=finding.at,
                                          until=finding.until, alert_id=alert.id)
            report.alert_ids.append(alert.id)
        uow.anomalies.set_last_scanned(max_id, now)
        raised = list(uow.collect_new_events())
        uow.commit()
    report.scanned += len(rows)
    report.last_record_id = max_id
    report.findings.extend(findings)
    return len(rows), raised


def _count(uow: UnitOfWork, accesses: Iterable[Access]) -> None:
    counts: Counter[tuple[str, str, date, Category]] = Counter()
    for a in accesses:
        if a.category is not None and a.outcome == "allowed":
            counts[(a.user_id, a.agency_id, local_day(a.at), a.category)] += 1
    uow.anomalies.add_counts(dict(counts))


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


class _Detectors:
    """The four detectors over one batch's fresh accesses, with what they look up."""

    def __init__(self, uow: UnitOfWork, thresholds: Thresholds, max_id: int) -> None:
        self.uow, self.t, self.max_id = uow, thresholds, max_id
        self._profiles: dict[str, AccessProfile | None] = {}
        self._centres: dict[str, str] | None = None
        self._shifts: dict[str, list[ShiftAssignment]] | None = None

    def _active(self, key: str, at: datetime) -> bool:
        return self.uow.anomalies.active_until(key, at) is not None

    # -- bulk pull ------------------------------------------------------------------------

    def bulk_pulls(self, fresh: Sequence[Access]) -> list[Finding]:
        groups: dict[tuple[str, Category], list[Access]] = defaultdict(list)
        for a in fresh:
            if a.category is not None and a.outcome == "allowed":
                groups[(a.user_id, a.category)].append(a)
        findings = []
        for (user_id, category), mine in groups.items():
            start = min(a.at for a in mine) - self.t.window
            end = max(a.at for a in mine)
            actions = [k for k, v in FOOTAGE_ACTIONS.items() if v is category]
            rows = self.uow.anomalies.user_records(
                user_id, actions=actions,
                action_prefix="evidence." if category is Category.EXPORT else None,
                outcome="allowed", after=start, until=end, max_id=self.max_id)
            records = [(i, at) for i, at, action in rows if category_of(action) is category]
            peak = peak_window(records, {a.record_id for a in mine}, self.t.window)
            if peak is None:
                continue
            day = local_day(peak.end)
            daily = self.uow.anomalies.daily_counts(
                [user_id], day - timedelta(days=self.t.lookback_days), day).get(user_id, {})
            usual = baseline(category, daily, day, self.t)
            limit = usual.threshold(self.t)
            key = f"{Detector.BULK_PULL.value}:{user_id}:{category.value}"
            if peak.count < limit or self._active(key, peak.end):
                continue
            who = mine[-1]
            usual_text = ("new user" if usual.new_user
                          else f"usually {usual.mean:.0f}±{usual.spread:.0f} a day")
            findings.append(Finding(
                detector=Detector.BULK_PULL, agency_id=who.agency_id, user_id=user_id,
                username=who.username, subjects=(category.value,), at=peak.end,
                until=peak.end + self.t.window,
                summary=(f"{who.username}: {peak.count} {category.value} accesses within "
                         f"{_minutes(self.t.window)} min ({usual_text}; threshold {limit})"),
                evidence={"category": category.value, "window_minutes": _minutes(self.t.window),
                          "threshold": limit, "baseline": usual.as_dict(),
                          "first_at": peak.start.isoformat(), "last_at": peak.end.isoformat(),
                          **evidence_ids(peak.record_ids)}))
        return findings

    # -- outside shift --------------------------------------------------------------------

    def _shifts_of(self, agency_id: str) -> list[ShiftAssignment]:
        if self._shifts is None:
            self._shifts = defaultdict(list)
            for shift in self.uow.shifts.all():
                self._shifts[shift.agency_id].append(shift)
        return self._shifts.get(agency_id, [])

    def off_shift(self, fresh: Sequence[Access]) -> list[Finding]:
        by_user: dict[str, list[Access]] = defaultdict(list)
        for a in fresh:
            if a.category is not None and a.outcome == "allowed":
                by_user[a.user_id].append(a)
        findings = []
        for user_id, mine in by_user.items():
            mine.sort(key=lambda a: (a.at, a.record_id))
            schedule = effective_shift(user_id, mine[-1].roles,
                                       self._shifts_of(mine[-1].agency_id))
            if schedule is None:
                continue
            key = f"{Detector.OFF_SHIFT.value}:{user_id}:"
            periods: list[tuple[list[Access], datetime]] = []
            covered_until: datetime | None = None
            for a in mine:
                if on_shift(schedule, a.at, self.t.shift_grace):
                    continue
                if periods and a.at < periods[-1][1]:
                    periods[-1][0].append(a)
                    continue
                if covered_until is not None and a.at < covered_until:
                    continue
                covered_until = self.uow.anomalies.active_until(key, a.at)
                if covered_until is None:  # else an earlier scan reported this period
                    periods.append(([a], shift_resumes(schedule, a.at, self.t.shift_grace)))
            for period, until in periods:
                first = period[0]
                local = first.at.astimezone(local_zone(schedule.timezone))
                kinds = Counter(a.category.value for a in period if a.category)
                findings.append(Finding(
                    detector=Detector.OFF_SHIFT, agency_id=first.agency_id, user_id=user_id,
                    username=first.username, subjects=("",), at=first.at, until=until,
                    summary=(f"{first.username}: footage accessed outside their shift "
                             f"({local:%a %H:%M}; shift {shift_text(schedule)})"),
                    evidence={"shift": shift_text(schedule),
                              "local_time": local.isoformat(timespec="minutes"),
                              "categories": dict(kinds), "first_at": first.at.isoformat(),
                              "last_at": period[-1].at.isoformat(),
                              **evidence_ids([a.record_id for a in period])}))
        return findings

    # -- outside the assignment -----------------------------------------------------------

    def _profile(self, user_id: str) -> AccessProfile | None:
        if user_id not in self._profiles:
            self._profiles[user_id] = self.uow.access_profiles.get(user_id)
        return self._profiles[user_id]

    def _centre(self, camera_id: str) -> str | None:
        if self._centres is None:
            self._centres = self.uow.anomalies.camera_centres()
        return self._centres.get(camera_id)

    def outside_assignment(self, fresh: Sequence[Access]) -> list[Finding]:
        outside: dict[str, dict[str, list[Access]]] = defaultdict(lambda: defaultdict(list))
        for a in fresh:
            if a.category is None or a.outcome != "allowed" or a.camera_id is None:
                continue
            profile = self._profile(a.user_id)
            if not has_assignment(profile):
                continue
            if not in_assignment(profile, a.camera_id, self._centre(a.camera_id)):
                outside[a.user_id][a.camera_id].append(a)
        findings = []
        for user_id, by_camera in outside.items():
            new = {camera: mine for camera, mine in sorted(by_camera.items())
                   if not self._active(
                       f"{Detector.OUTSIDE_ASSIGNMENT.value}:{user_id}:{camera}", mine[0].at)}
            if not new:
                continue
            every = sorted((a for mine in new.values() for a in mine),
                           key=lambda a: (a.at, a.record_id))
            who, profile = every[-1], self._profile(user_id)
            assert profile is not None
            findings.append(Finding(
                detector=Detector.OUTSIDE_ASSIGNMENT, agency_id=who.agency_id, user_id=user_id,
                username=who.username, subjects=tuple(new), at=every[0].at,
                until=every[0].at + self.t.assignment_quiet,
                summary=(f"{who.username}: footage of {len(new)} camera(s) outside their "
                         f"assignment ({', '.join(list(new)[:5])})"),
                evidence={"cameras": {c: len(m) for c, m in new.items()},
                          "assigned_centres": list(profile.centre_ids),
                          "assigned_cameras": list(profile.camera_ids),
                          "roles": list(who.roles),
                          "first_at": every[0].at.isoformat(),
                          "last_at": every[-1].at.isoformat(),
                          **evidence_ids([a.record_id for a in every])}))
        return findings

    # -- many denials ---------------------------------------------------------------------

    def many_denials(self, fresh: Sequence[Access]) -> list[Finding]:
        by_user: dict[str, list[Access]] = defaultdict(list)
        for a in fresh:
            if a.outcome == "denied":
                by_user[a.user_id].append(a)
        findings = []
        window = self.t.denial_window
        for user_id, mine in by_user.items():
            rows = self.uow.anomalies.user_records(
                user_id, outcome="denied", after=min(a.at for a in mine) - window,
                until=max(a.at for a in mine), max_id=self.max_id)
            peak = peak_window([(i, at) for i, at, _ in rows], {a.record_id for a in mine},
                               window)
            key = f"{Detector.MANY_DENIALS.value}:{user_id}:"
            if peak is None or peak.count < self.t.denials or self._active(key, peak.end):
                continue
            actions = Counter(action for i, _, action in rows if i in set(peak.record_ids))
            who = mine[-1]
            findings.append(Finding(
                detector=Detector.MANY_DENIALS, agency_id=who.agency_id, user_id=user_id,
                username=who.username, subjects=("",), at=peak.end, until=peak.end + window,
                summary=(f"{who.username}: {peak.count} refused requests within "
                         f"{_minutes(window)} min"),
                evidence={"window_minutes": _minutes(window), "threshold": self.t.denials,
                          "actions": dict(actions.most_common(10)),
                          "first_at": peak.start.isoformat(), "last_at": peak.end.isoformat(),
                          **evidence_ids(peak.record_ids)}))
        return findings


# -- what auditors see: the users' baselines ---------------------------------------------------

@dataclass(frozen=True)
class UserBaseline:
    user_id: str
    username: str
    roles: tuple[str, ...]
    shift: str | None
    assignment: AccessProfile | None
    baselines: dict[Category, Baseline]
    thresholds: dict[Category, int]
    today: dict[Category, int]


def user_baselines(uow: UnitOfWork, who: Principal, thresholds: Thresholds,
                   now: datetime) -> list[UserBaseline]:
    """Every user of the caller's agency with their usual daily volumes, today's counts, their
    bulk-pull thresholds, shift and assignment (auditors)."""
    action = "anomaly.baselines.read"
    with uow:
        require(uow, who, who.can(Permission.SECURITY_READ), action, object_type="user")
        day = local_day(now)
        users = list(uow.users.list_for_agency(who.agency_id))
        daily = uow.anomalies.daily_counts([u.id for u in users],
                                           day - timedelta(days=thresholds.lookback_days), day)
        shifts = uow.shifts.for_agency(who.agency_id)
        found = []
        for user in sorted(users, key=lambda u: u.username):
            mine = daily.get(user.id, {})
            usual = {c: baseline(c, mine, day, thresholds) for c in Category}
            schedule = effective_shift(user.id, [str(r) for r in user.roles], shifts)
            found.append(UserBaseline(
                user_id=user.id, username=user.username,
                roles=tuple(str(r) for r in user.roles),
                shift=shift_text(schedule) if schedule is not None else None,
                assignment=uow.access_profiles.get(user.id), baselines=usual,
                thresholds={c: b.threshold(thresholds) for c, b in usual.items()},
                today={c: mine.get(day, {}).get(c, 0) for c in Category}))
        record(uow, who, action, object_type="user", object_agency_id=who.agency_id,
               detail={"users": len(found)})
        uow.commit()
        return found


# -- shifts -------------------------------------------------------------------------------------

def list_shifts(uow: UnitOfWork, who: Principal) -> list[ShiftAssignment]:
    """The caller's agency's shifts (whoever may read its users: admins, supervisors,
    auditors)."""
    action = "shift.list"
    with uow:
        require(uow, who, who.can(Permission.USER_READ), action, object_type="shift")
        found = uow.shifts.for_agency(who.agency_id)
        record(uow, who, action, object_type="shift", object_agency_id=who.agency_id,
               detail={"count": len(found)})
        uow.commit()
        return found


def _subject(uow: UnitOfWork, who: Principal, action: str, role: str | None,
             username: str | None) -> tuple[ShiftSubject, str, str]:
    """(type, stored subject, name to show) of a shift's subject, refused when unknown."""
    if (role is None) == (username is None):
        refuse(uow, who, action, InvalidInput("name a role or a user, not both"),
               object_type="shift")
    if role is not None:
        try:
            return ShiftSubject.ROLE, Role(role).value, role
        except ValueError:
            refuse(uow, who, action, InvalidInput(f"unknown role {role[:40]!r}"),
                   object_type="shift", object_id=role[:64])
    assert username is not None
    user = uow.users.by_username(username)
    if user is None or user.agency_id != who.agency_id:
        refuse(uow, who, action, NotFound(f"no user {username[:64]!r}"), object_type="shift",
               object_id=username[:64],
               object_agency_id=user.agency_id if user else None)
    return ShiftSubject.USER, user.id, user.username


def set_shift(uow: UnitOfWork, who: Principal, *, role: str | None = None,
              username: str | None = None, text: str, clock: Clock) -> ShiftAssignment | None:
    """Set (or with ``"none"`` remove) the weekly shift of a role or a user of the caller's
    agency (administrators). Returns the stored shift, ``None`` when removed."""
    action = "shift.set"
    with uow:
        require(uow, who, who.can(Permission.USER_WRITE), action, object_type="shift")
        kind, subject, shown = _subject(uow, who, action, role, username)
        target = f"{kind.value}:{shown}"
        if text.strip().lower() == "none":
            removed = uow.shifts.remove(who.agency_id, kind, subject)
            record(uow, who, action, object_type="shift", object_id=target,
                   object_agency_id=who.agency_id, detail={"shift": None, "removed": removed})
            uow.commit()
            return None
        try:
            schedule = parse_shift(text)
        except InvalidInput as error:
            refuse(uow, who, action, error, object_type="shift", object_id=target)
        shift = ShiftAssignment(who.agency_id, kind, subject, schedule, who.username, clock())
        uow.shifts.put(shift)
        record(uow, who, action, object_type="shift", object_id=target,
               object_agency_id=who.agency_id, detail={"shift": shift_text(schedule)})
        uow.commit()
        return shift

