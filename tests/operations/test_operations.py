"""Joint operations on both engines: planning by the lead's supervisors (audited, refusals
too), cameras offered while active, alerts inside raised one level and routed to every
participant (under an agreement or under the operation), and the summary afterwards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sereno.bootstrap import Platform
from sereno.domain import commands, events
from sereno.domain.access import Principal
from sereno.domain.agencies import Agency, AgencyKind
from sereno.domain.alerts import ActionKind, Alert, AlertAction
from sereno.domain.errors import AccessDenied, Conflict, InvalidInput, NotFound
from sereno.domain.operations import OperationStatus
from sereno.services import operations
from sereno.services.accounts import principal_for
from tests.conftest import FakeClock, audit_rows
from tests.support.evidence import jpeg

SEGURA, POLICE = "segura-ep", "policia-nacional"
MALECON: dict[str, Any] = {"type": "Polygon", "coordinates": [[
    [-79.8850, -2.2000], [-79.8760, -2.2000], [-79.8760, -2.1900], [-79.8850, -2.1900],
    [-79.8850, -2.2000]]]}
INSIDE: dict[str, Any] = {"latitude": -2.1950, "longitude": -79.8800}
OUTSIDE: dict[str, Any] = {"latitude": -2.1561, "longitude": -79.8936}


def _user(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
        assert user is not None
        return principal_for(user, channel="api", address=None)


def _plan(platform: Platform, username: str = "supervisor.segura", *,
          start_in: timedelta = timedelta(0), **changes: Any) -> Any:
    now = platform.clock()
    values: dict[str, Any] = {
        "title": "Operativo Malecón 2000 seguro", "participants": [SEGURA, POLICE],
        "area": MALECON, "starts_at": now + start_in,
        "ends_at": now + start_in + timedelta(hours=4), "objectives": "Presencia",
        "camera_ids": ["SEG-001", "SEG-003", "SEG-006"]}
    values.update(changes)
    return operations.create_operation(platform.uow(), _user(platform, username),
                                       operations.OperationDraft(**values), platform.clock)


def _raise(platform: Platform, username: str, category: str = "Security",
           severity: str = "Minor", **place: Any) -> Alert:
    alert: Alert = platform.bus.handle(commands.RaiseAlert(
        _user(platform, username), category, severity, "Immediate", "Observed", "Riña",
        "Riña en el malecón", **place))
    return alert


def _alert(platform: Platform, alert_id: str) -> Alert:
    with platform.uow() as uow:
        found = uow.alerts.get(alert_id)
        assert found is not None
        return found


def _copy(platform: Platform, agency: str, origin: Alert) -> Alert | None:
    with platform.uow() as uow:
        return uow.alerts.received_copy(agency, origin.agency_id, origin.id)


def _actions(platform: Platform, action: str) -> list[Any]:
    return [r for r in audit_rows(platform) if r.action == action]


def test_the_lead_plans_and_others_are_refused_with_an_audit(platform: Platform) -> None:
    created = _plan(platform)
    assert created.status is OperationStatus.ACTIVE and created.lead_agency_id == SEGURA
    assert _actions(platform, "operation.create")[-1].outcome == "allowed"
    with pytest.raises(AccessDenied):
        _plan(platform, "operator.segura", code="OP-OTRO")  # no operations:write
    police = _user(platform, "supervisor.policia")
    with pytest.raises(AccessDenied, match="lead agency"):
        operations.cancel_operation(platform.uow(), police, created.id, "no", platform.clock)
    with pytest.raises(AccessDenied, match="lead agency"):
        operations.update_operation(platform.uow(), police, created.id,
                                    operations.OperationChanges(title="Tomado"),
                                    platform.clock)
    refused = [r for r in audit_rows(platform) if r.outcome == "denied"
               and r.action in ("operation.create", "operation.cancel", "operation.update")]
    assert len(refused) == 3
    # the police take part: they read it; the plan is unchanged
    read = operations.get_operation(platform.uow(), police, created.id, platform.clock)
    assert read.title == "Operativo Malecón 2000 seguro"
    assert [o.code for o in operations.list_operations(platform.uow(), police,
                                                       platform.clock)] == [created.code]


@pytest.mark.parametrize(("changes", "error", "message"), [
    ({"participants": [SEGURA, "nadie"]}, InvalidInput, "unknown agencies"),
    ({"camera_ids": ["NO-EXISTE"]}, InvalidInput, "no camera"),
    ({"unit_ids": ["PN-FANTASMA"]}, InvalidInput, "no unit"),
    ({"participants": [SEGURA]}, InvalidInput, "at least two"),
    ({"ends_at": None}, InvalidInput, "end after"),
])
def test_bad_plans_store_nothing(platform: Platform, changes: dict[str, Any],
                                 error: type[Exception], message: str) -> None:
    if changes.get("ends_at", 1) is None:
        changes["ends_at"] = platform.clock() - timedelta(hours=1)
    with pytest.raises(error, match=message):
        _plan(platform, **changes)
    with platform.uow() as uow:
        assert uow.operations.count() == 0
    assert _actions(platform, "operation.create")[-1].outcome == "rejected"


def test_a_code_is_unique(platform: Platform) -> None:
    _plan(platform, code="OP-MALECON")
    with pytest.raises(Conflict, match="exists already"):
        _plan(platform, code="op-malecon")


def test_an_agency_outside_the_operation_does_not_see_it(platform: Platform) -> None:
    created = _plan(platform)
    with platform.uow() as uow:
        uow.agencies.add(Agency("bomberos", "Cuerpo de Bomberos", AgencyKind.OTHER))
        uow.commit()
    outsider = Principal(user_id="u-bomberos", username="op.bomberos", agency_id="bomberos",
                         roles=_user(platform, "operator.segura").roles)
    with pytest.raises(NotFound):
        operations.get_operation(platform.uow(), outsider, created.id, platform.clock)
    assert operations.active_operations(platform.uow(), outsider, platform.clock) == []


def test_active_cameras_are_offered_only_as_the_caller_may_see_them(
        platform: Platform, clock: FakeClock) -> None:
    _plan(platform, start_in=timedelta(hours=1))
    police = _user(platform, "operator.policia")
    assert operations.active_operations(platform.uow(), police, platform.clock) == []
    clock.advance(hours=2)
    [active] = operations.active_operations(platform.uow(), police, platform.clock)
    # SEG-006 is Segura's private camera: offered to Segura's operators, not to the police
    assert [c.id for c in active.cameras] == ["SEG-001", "SEG-003"]
    [own] = operations.active_operations(platform.uow(), _user(platform, "operator.segura"),
                                         platform.clock)
    assert [c.id for c in own.cameras] == ["SEG-001", "SEG-003", "SEG-006"]
    clock.advance(hours=4)
    assert operations.active_operations(platform.uow(), police, platform.clock) == []


def test_an_alert_inside_is_raised_one_level_and_reaches_the_partner(
        platform: Platform) -> None:
    operation = _plan(platform)
    alert = _raise(platform, "operator.segura", severity="Minor", **INSIDE)
    raised = _alert(platform, alert.id)
    assert raised.severity.value == "Moderate"
    [prioritised] = _actions(platform, "alert.prioritise")
    assert prioritised.object_id == alert.id
    assert prioritised.detail["operations"] == [operation.code]
    with platform.uow() as uow:
        timeline = list(uow.alerts.actions(alert.id))
    assert any(a.kind.value == "updated" and a.detail.get("operation") == operation.code
               for a in timeline)
    # Segura → Police has an agreement: the sharing point delivered and forwarded the change
    copy = _copy(platform, POLICE, alert)
    assert copy is not None and copy.severity.value == "Moderate"


def test_a_participant_without_an_agreement_receives_it_under_the_operation(
        platform: Platform) -> None:
    operation = _plan(platform)
    # Police → Segura shares only Security from Moderate: a Safety alert is not covered
    alert = _raise(platform, "operator.policia", category="Safety", severity="Minor",
                   **INSIDE)
    copy = _copy(platform, SEGURA, alert)
    assert copy is not None
    assert copy.severity.value == "Moderate"
    shares = [r for r in _actions(platform, "alert.share")
              if r.object_id == alert.id and r.outcome == "allowed"]
    assert [r.detail["operation"] for r in shares] == [operation.code]
    assert shares[0].detail["delivery"] == "local"
    assert shares[0].detail["media"] == "not included by the agreement"  # nor by operations
    assert copy.snapshot_key is None


def test_alerts_outside_the_area_or_window_are_left_alone(platform: Platform,
                                                           clock: FakeClock) -> None:
    _plan(platform, start_in=timedelta(hours=1))
    before = _raise(platform, "operator.policia", category="Safety", **INSIDE)
    clock.advance(hours=2)
    outside = _raise(platform, "operator.policia", category="Safety", **OUTSIDE)
    for alert in (before, outside):
        assert _alert(platform, alert.id).severity.value == "Minor"
        assert _copy(platform, SEGURA, alert) is None
    assert _actions(platform, "alert.prioritise") == []


def test_a_detection_on_an_operation_camera_is_prioritised(platform: Platform) -> None:
    _plan(platform)
    platform.bus.handle(commands.RecordDetection(
        "SEG-001", None, "zone", ("person",), (1,), 0.9, (0.1, 0.1, 0.2, 0.3),
        platform.clock().timestamp(), snapshot_jpeg=jpeg(), detail={}))
    with platform.uow() as uow:
        [alert] = list(uow.alerts.queue(SEGURA))
    assert alert.severity.value == "Severe"  # a zone intrusion is Moderate


def test_the_summary_is_stored_when_the_operation_has_finished(platform: Platform,
                                                               clock: FakeClock) -> None:
    operation = _plan(platform)
    _raise(platform, "operator.segura", severity="Minor", **INSIDE)
    _raise(platform, "operator.policia", category="Safety", severity="Severe", **INSIDE)
    _raise(platform, "operator.segura", severity="Minor", **OUTSIDE)
    police = _user(platform, "analyst.policia")
    running = operations.operation_summary(platform.uow(), police, operation.id,
                                           platform.clock)
    assert running["alerts"]["total"] == 2
    assert running["alerts"]["by_severity"] == {"Moderate": 1, "Extreme": 1}
    assert running["alerts"]["by_agency"] == {SEGURA: 1, POLICE: 1}
    assert running["cameras"]["planned"] == ["SEG-001", "SEG-003", "SEG-006"]
    with platform.uow() as uow:
        assert uow.operations.get(operation.id).summary is None  # type: ignore[union-attr]
    clock.advance(hours=5)
    final = operations.operation_summary(platform.uow(), police, operation.id,
                                         platform.clock)
    assert final["status"] == "finished" and final["alerts"]["total"] == 2
    with platform.uow() as uow:
        stored = uow.operations.get(operation.id)
        assert stored is not None and stored.summary == final
        assert stored.status is OperationStatus.FINISHED
    _raise(platform, "operator.segura", **INSIDE)  # after the window: not in it
    again = operations.operation_summary(platform.uow(), police, operation.id, platform.clock)
    assert again == final
    assert operations.summarise_finished(platform.uow(), platform.clock) == []


def test_cancel_needs_a_reason_and_is_final(platform: Platform, clock: FakeClock) -> None:
    operation = _plan(platform)
    lead = _user(platform, "supervisor.segura")
    with pytest.raises(InvalidInput, match="reason"):
        operations.cancel_operation(platform.uow(), lead, operation.id, "", platform.clock)
    clock.advance(minutes=30)
    cancelled = operations.cancel_operation(platform.uow(), lead, operation.id,
                                            "lluvia intensa", platform.clock)
    assert cancelled.status is OperationStatus.CANCELLED
    with pytest.raises(Conflict, match="already cancelled"):
        operations.cancel_operation(platform.uow(), lead, operation.id, "otra vez",
                                    platform.clock)
    alert = _raise(platform, "operator.segura", **INSIDE)
    assert _alert(platform, alert.id).severity.value == "Minor"
    assert operations.summarise_finished(platform.uow(), platform.clock) == [operation.code]


def test_the_summary_counts_incidents_and_their_time_to_on_scene(platform: Platform,
                                                                 clock: FakeClock) -> None:
    from sereno.services import incidents

    operation = _plan(platform)
    dispatcher = _user(platform, "dispatcher.policia")

    def open_incident(place: dict[str, Any]) -> str:
        return str(incidents.create(platform.uow(), dispatcher, incidents.NewIncident(
            type_code="rina", title="Riña", **place), clock=platform.clock).id)

    inside, outside = open_incident(INSIDE), open_incident(OUTSIDE)
    for to, minutes in (("dispatched", 2), ("on_scene", 7)):
        clock.advance(minutes=minutes)
        for incident_id in (inside, outside):
            with platform.uow() as uow:
                seen = uow.incidents.get(incident_id)
                assert seen is not None
                version = seen.version
            incidents.transition(platform.uow(), dispatcher, incident_id, to, version=version,
                                 clock=platform.clock)
    summary = operations.operation_summary(platform.uow(), _user(platform, "analyst.segura"),
                                           operation.id, platform.clock)
    assert summary["incidents"]["total"] == 1  # the one outside the area is not in it
    assert summary["incidents"]["by_status"] == {"on_scene": 1}
    assert summary["incidents"]["on_scene_median_s"] == 540.0
    assert summary["incidents"]["reached_on_scene"] == 1


def test_later_changes_follow_to_participants_under_the_operation(platform: Platform,
                                                                  clock: FakeClock) -> None:
    _plan(platform)
    # a police detection-like flow: a Safety alert the police raise by hand, then cancel
    alert = _raise(platform, "operator.policia", category="Safety", severity="Minor", **INSIDE)
    copy = _copy(platform, SEGURA, alert)
    assert copy is not None and copy.status.value == "open"
    clock.advance(minutes=1)
    with platform.uow() as uow:
        origin = uow.alerts.get(alert.id)
        assert origin is not None
        origin.cancel(platform.clock())
        uow.alerts.add_action(AlertAction(origin.id, ActionKind.CANCELLED, "system",
                                          platform.clock()))
        uow.emit(events.AlertChanged(origin.id, origin.agency_id, "cancelled",
                                     origin.status.value, origin.version, platform.clock()))
        uow.commit()
        pending = list(uow.collect_new_events())
    for event in pending:
        platform.bus.publish(event)
    copy = _copy(platform, SEGURA, alert)
    assert copy is not None and copy.status.value == "cancelled"
    forwarded = [r for r in _actions(platform, "alert.share") if r.object_id == alert.id
                 and r.outcome == "allowed" and r.detail.get("change") == "cancelled"]
    assert len(forwarded) == 1 and forwarded[0].detail["operation"]
