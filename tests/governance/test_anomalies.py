"""Access anomalies: each detector fires on a crafted audit history and stays quiet on normal
use; findings are deduplicated, alerts go to the user's agency only, the scan is incremental."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from sereno.bootstrap import Platform
from sereno.domain.access import Principal
from sereno.domain.anomalies import (
    Baseline,
    Category,
    Thresholds,
    baseline,
    on_shift,
    parse_shift,
    peak_window,
    shift_resumes,
    shift_text,
)
from sereno.domain.audit import AuditRecord, Outcome
from sereno.domain.errors import InvalidInput, NotFound
from sereno.domain.security import SecurityAlert
from sereno.services import accounts, anomalies, governance, security
from sereno.services.cameras import authorize_live_view
from tests.conftest import FakeClock

# A Wednesday, 10:00 in Guayaquil (UTC-5): on every demo day shift.
WEDNESDAY_10 = datetime(2030, 1, 9, 15, 0, tzinfo=UTC)
TEST = Thresholds(floors={Category.VIEW: 20, Category.PLAYBACK: 5, Category.EXPORT: 3,
                          Category.DOWNLOAD: 10}, settle=timedelta(0))


def _who(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return accounts.principal_for(user, channel="api", address="198.51.100.7")


def _scan(platform: Platform) -> anomalies.ScanReport:
    return anomalies.scan(platform.uow, TEST, platform.clock, publish=platform.bus.publish)


def _history(platform: Platform, who: Principal, action: str, per_day: int, days: int,
             camera: str = "SEG-001") -> None:
    """``per_day`` allowed records a day on each of the ``days`` days before the clock's."""
    now = platform.clock()
    with platform.uow() as uow:
        for day in range(1, days + 1):
            for n in range(per_day):
                uow.audit.add(AuditRecord.for_principal(
                    who, at=now - timedelta(days=day, minutes=n), action=action,
                    outcome=Outcome.ALLOWED, object_type="camera", object_id=camera,
                    object_agency_id="segura-ep"))
        uow.commit()


def _views(platform: Platform, clock: FakeClock, who: Principal, count: int,
           camera: str = "SEG-001") -> None:
    for _ in range(count):
        authorize_live_view(platform.uow(), who, camera)
        clock.advance(seconds=20)


def _alerts(platform: Platform, agency: str) -> list[SecurityAlert]:
    with platform.uow() as uow:
        return list(uow.security_alerts.for_agency(agency, kind="access_anomaly"))


@pytest.fixture
def quiet(platform: Platform, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Platform:
    """The clock on a weekday morning, the audit records stamped by it (reads record the
    wall-clock time otherwise), and the seeded history already scanned."""
    clock.now = WEDNESDAY_10
    monkeypatch.setattr("sereno.services.audit.utcnow", clock)
    _scan(platform)
    return platform


# -- pure parts -----------------------------------------------------------------------------------

def test_shift_text_round_trip_and_checks() -> None:
    shift = parse_shift("Mon-Fri 07:00-19:00; sat 8:00-13:00")
    assert shift_text(shift) == "mon,tue,wed,thu,fri 07:00-19:00; sat 08:00-13:00"
    assert shift_text(parse_shift("daily 19:00-07:00")) == "daily 19:00-07:00"
    assert shift_text(parse_shift("fri-mon 22:00-06:00")) == "mon,fri,sat,sun 22:00-06:00"
    for bad in ("", "weekdays 07:00-19:00", "mon 25:00-26:00", "mon 07:00-07:00", "mon"):
        with pytest.raises(InvalidInput):
            parse_shift(bad)
    night = parse_shift("daily 19:00-07:00")
    grace = timedelta(minutes=30)
    local = {h: datetime(2030, 1, 9, h, 0, tzinfo=UTC) + timedelta(hours=5) for h in range(24)}
    assert on_shift(night, local[23], grace) and on_shift(night, local[3], grace)
    assert not on_shift(night, local[12], grace)
    assert on_shift(night, local[7] + timedelta(minutes=20), grace)  # within the grace
    resumes = shift_resumes(night, local[12], grace)
    assert resumes.astimezone(UTC) == local[18] + timedelta(minutes=30)
    assert on_shift(parse_shift("always"), local[12], timedelta(0))


def test_baseline_and_peak_window() -> None:
    day = datetime(2030, 1, 9).date()
    daily = {day - timedelta(days=d): {Category.PLAYBACK: n} for d, n in
             ((1, 4), (2, 6), (3, 4), (4, 6), (20, 900))}  # day 20 is outside the lookback
    daily[day] = {Category.PLAYBACK: 500}  # today never counts toward its own baseline
    usual = baseline(Category.PLAYBACK, daily, day, TEST)
    assert (usual.mean, usual.spread, usual.days, usual.new_user) == (5.0, 1.0, 4, False)
    assert usual.threshold(TEST) == 8  # ceil(5 + 3 × 1) above the floor of 5
    assert Baseline(Category.PLAYBACK, 1, 0, 2, True).threshold(TEST) == 5  # new user: floor
    start = datetime(2030, 1, 9, tzinfo=UTC)
    records = [(i, start + timedelta(minutes=i)) for i in range(1, 11)]
    records += [(100 + i, start + timedelta(hours=3, seconds=i)) for i in range(6)]
    peak = peak_window(records, {103, 104, 105}, timedelta(minutes=60))
    assert peak is not None and peak.count == 6 and peak.record_ids[0] == 100
    assert peak_window(records, {5}, timedelta(minutes=3)) == peak_window(
        records, {5}, timedelta(minutes=3))
    only_old = peak_window(records, {5}, timedelta(minutes=3))
    assert only_old is not None and only_old.record_ids == (3, 4, 5)


# -- the detectors, on real audit records ---------------------------------------------------------

def test_normal_use_raises_nothing(quiet: Platform, clock: FakeClock) -> None:
    operator = _who(quiet, "operator.segura")
    heavy = _who(quiet, "supervisor.segura")
    _history(quiet, operator, "footage.live", per_day=10, days=7)
    _history(quiet, heavy, "footage.live", per_day=60, days=7)
    _views(quiet, clock, operator, 12)  # fewer than the floor
    _views(quiet, clock, heavy, 25)  # above the floor, but this user does more every day
    report = _scan(quiet)
    assert report.findings == [] and report.scanned > 37
    with quiet.uow() as uow:
        counts = uow.anomalies.daily_counts([heavy.user_id], clock.now.date() - timedelta(8),
                                            clock.now.date())
    assert sum(day.get(Category.VIEW, 0) for day in counts[heavy.user_id].values()) == 445


def test_bulk_pull_fires_once_per_window(quiet: Platform, clock: FakeClock) -> None:
    operator = _who(quiet, "operator.segura")
    _history(quiet, operator, "footage.live", per_day=10, days=7)
    _scan(quiet)
    first_new = _last_id(quiet)
    _views(quiet, clock, operator, 22)
    report = _scan(quiet)
    assert [f.detector.value for f in report.findings] == ["bulk_pull"]
    [alert] = _alerts(quiet, "segura-ep")
    assert alert.severity.value == "high" and "operator.segura" in alert.summary
    evidence = alert.detail
    assert evidence["detector"] == "bulk_pull" and evidence["category"] == "view"
    assert evidence["count"] == 22 and evidence["threshold"] == 20
    assert evidence["baseline"] == {"mean": 10.0, "spread": 0.0, "days": 7, "new_user": False}
    assert all(i > first_new for i in evidence["record_ids"])
    _views(quiet, clock, operator, 10)  # still within the hour: the same pull
    assert _scan(quiet).findings == []
    clock.advance(minutes=61)
    _views(quiet, clock, operator, 21)
    assert [f.detector.value for f in _scan(quiet).findings] == ["bulk_pull"]
    assert len(_alerts(quiet, "segura-ep")) == 2


def _last_id(platform: Platform) -> int:
    with platform.uow() as uow:
        return uow.anomalies.last_scanned()


def test_access_outside_shift(quiet: Platform, clock: FakeClock) -> None:
    admin = _who(quiet, "admin.segura")
    anomalies.set_shift(quiet.uow(), admin, role="operator", text="mon-fri 07:00-19:00",
                        clock=quiet.clock)
    operator = _who(quiet, "operator.segura")
    _views(quiet, clock, operator, 2)  # Wednesday 10:00: on shift
    clock.now = WEDNESDAY_10 + timedelta(hours=9, minutes=20)  # 19:20: within the grace
    _views(quiet, clock, operator, 1)
    assert _scan(quiet).findings == []
    clock.now = WEDNESDAY_10 + timedelta(hours=13)  # 23:00
    _views(quiet, clock, operator, 2)
    report = _scan(quiet)
    assert [f.detector.value for f in report.findings] == ["off_shift"]
    [alert] = _alerts(quiet, "segura-ep")
    assert alert.detail["shift"] == "mon,tue,wed,thu,fri 07:00-19:00"
    assert alert.detail["local_time"].startswith("2030-01-09T23:00")
    assert alert.detail["count"] == 2 and alert.detail["categories"] == {"view": 2}
    clock.advance(hours=3)  # 02:00, the same night: the same finding
    _views(quiet, clock, operator, 1)
    assert _scan(quiet).findings == []
    clock.now = WEDNESDAY_10 + timedelta(days=1, hours=12)  # Thursday 22:00: another night
    _views(quiet, clock, operator, 1)
    assert [f.detector.value for f in _scan(quiet).findings] == ["off_shift"]
    # A user's own shift replaces the role's: the night operator is fine at 23:00.
    night = _who(quiet, "operator.policia")
    clock.now = WEDNESDAY_10 + timedelta(hours=13)
    _views(quiet, clock, night, 2, camera="PN-001")
    assert _scan(quiet).findings == []


def test_footage_outside_the_assignment(quiet: Platform, clock: FakeClock) -> None:
    admin = _who(quiet, "admin.segura")
    supervisor = _who(quiet, "supervisor.segura")
    governance.set_access_profile(quiet.uow(), admin, supervisor.user_id, 1, ["segura-norte"],
                                  [])
    _views(quiet, clock, supervisor, 2, camera="SEG-007")  # in the assigned centre
    assert _scan(quiet).findings == []
    _views(quiet, clock, supervisor, 2, camera="SEG-001")  # allowed to a supervisor: flagged
    [finding] = _scan(quiet).findings
    assert finding.detector.value == "outside_assignment" and finding.subjects == ("SEG-001",)
    [alert] = _alerts(quiet, "segura-ep")
    assert alert.detail["cameras"] == {"SEG-001": 2}
    assert alert.detail["assigned_centres"] == ["segura-norte"]
    _views(quiet, clock, supervisor, 1, camera="SEG-001")  # the same camera, the same day
    _views(quiet, clock, supervisor, 1, camera="SEG-002")  # a new one
    [finding] = _scan(quiet).findings
    assert finding.subjects == ("SEG-002",)


def test_many_denials_alert_the_users_own_agency(quiet: Platform, clock: FakeClock) -> None:
    police = _who(quiet, "operator.policia")
    for _ in range(4):
        with pytest.raises(NotFound):
            authorize_live_view(quiet.uow(), police, "SEG-006")  # Segura's private camera
        clock.advance(minutes=1)
    assert _scan(quiet).findings == []
    with pytest.raises(NotFound):
        authorize_live_view(quiet.uow(), police, "SEG-006")
    [finding] = _scan(quiet).findings
    assert finding.detector.value == "many_denials" and finding.agency_id == "policia-nacional"
    assert _alerts(quiet, "segura-ep") == []
    [alert] = _alerts(quiet, "policia-nacional")
    assert alert.detail["count"] == 5 and alert.detail["actions"] == {"footage.live": 5}
    # Only the police auditors see it.
    seen = security.list_alerts(quiet.uow(), _who(quiet, "auditor.segura"),
                                kind="access_anomaly")
    assert seen == []
    seen = security.list_alerts(quiet.uow(), _who(quiet, "auditor.policia"),
                                kind="access_anomaly")
    assert [a.id for a in seen] == [alert.id]
    with pytest.raises(NotFound):  # a sixth refusal in the same window: no second alert
        authorize_live_view(quiet.uow(), police, "SEG-006")
    assert _scan(quiet).findings == []


def test_scan_is_incremental_and_old_records_only_feed_baselines(
        platform: Platform, clock: FakeClock) -> None:
    clock.now = WEDNESDAY_10
    first = _scan(platform)
    assert first.scanned > 0 and first.findings == []
    again = _scan(platform)
    assert again.scanned == 0 and again.last_record_id == first.last_record_id
    # A burst two days old, seen for the first time: counted, never alerted.
    operator = _who(platform, "operator.segura")
    with platform.uow() as uow:
        for n in range(40):
            uow.audit.add(AuditRecord.for_principal(
                operator, at=WEDNESDAY_10 - timedelta(days=2, seconds=n),
                action="footage.playback", outcome=Outcome.ALLOWED, object_type="camera",
                object_id="SEG-001", object_agency_id="segura-ep"))
        uow.commit()
    report = _scan(platform)
    assert report.scanned == 40 and report.findings == []
    usual = anomalies.user_baselines(platform.uow(), _who(platform, "auditor.segura"), TEST,
                                     clock.now)
    mine = next(u for u in usual if u.username == "operator.segura")
    assert mine.baselines[Category.PLAYBACK].mean == 40 and mine.shift == "daily 07:00-19:00"
    # One active day is not a history yet (min_history_days): the floor applies.
    assert mine.baselines[Category.PLAYBACK].new_user and mine.thresholds[Category.PLAYBACK] == 5


def test_records_too_young_wait_for_the_next_scan(quiet: Platform, clock: FakeClock) -> None:
    settled = Thresholds(floors=TEST.floors, settle=timedelta(seconds=5))
    _views(quiet, clock, _who(quiet, "operator.segura"), 1)
    clock.now -= timedelta(seconds=20)  # the record is 0 s old
    assert anomalies.scan(quiet.uow, settled, clock).scanned == 0
    clock.advance(seconds=6)
    assert anomalies.scan(quiet.uow, settled, clock).scanned >= 1


def test_shifts_are_set_by_admins_only(quiet: Platform) -> None:
    from sereno.domain.errors import AccessDenied

    auditor = _who(quiet, "auditor.segura")
    with pytest.raises(AccessDenied):
        anomalies.set_shift(quiet.uow(), auditor, role="operator", text="always",
                            clock=quiet.clock)
    admin = _who(quiet, "admin.policia")
    with pytest.raises(NotFound):  # another agency's user
        anomalies.set_shift(quiet.uow(), admin, username="operator.segura", text="always",
                            clock=quiet.clock)
    shift = anomalies.set_shift(quiet.uow(), admin, username="analyst.policia",
                                text="sat,sun 08:00-20:00", clock=quiet.clock)
    assert shift is not None and shift.schedule.windows[0].start == time(8, 0)
    listed = anomalies.list_shifts(quiet.uow(), auditor)
    assert {s.agency_id for s in listed} == {"segura-ep"}
    assert anomalies.set_shift(quiet.uow(), admin, username="analyst.policia", text="none",
                               clock=quiet.clock) is None
