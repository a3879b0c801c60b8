"""The incident lifecycle (every allowed and every illegal transition), versions, notes, merges,
numbering, the type catalogue's reading of alerts, and the cameras-around geometry with the
demo city's cameras."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from sereno.demo.city import CAMERAS
from sereno.demo.incident_types import DEMO_INCIDENT_TYPES
from sereno.domain.alerts import Category, Severity
from sereno.domain.cameras import Camera
from sereno.domain.coverage import cameras_covering, local_xy, offset, sees
from sereno.domain.errors import Conflict, InvalidInput
from sereno.domain.incidents import (
    STAMPS,
    TRANSITIONS,
    EventKind,
    Incident,
    IncidentSource,
    IncidentStatus,
    IncidentType,
    StaleVersion,
    format_number,
    merge,
    number_prefix,
    priority_for,
    type_for_alert,
)

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
S = IncidentStatus
CATALOGUE = [IncidentType.define(agency_id="segura-ep", code=code, name_es=es, name_en=en,
                                 default_priority=priority, category=category)
             for code, es, en, priority, category in DEMO_INCIDENT_TYPES]
ROBO = next(t for t in CATALOGUE if t.code == "robo")


def _incident(number: str = "SEG-2026-000001", incident_id: str = "i-1") -> Incident:
    incident, created = Incident.open_new(
        incident_id=incident_id, agency_id="segura-ep", number=number, kind=ROBO,
        title="Robo en la Bahía", latitude=-2.1989, longitude=-79.8829,
        source=IncidentSource.FORM, by="operator.segura", at=T0)
    assert created.kind is EventKind.CREATED and created.to_status is S.NEW
    return incident


def _path_to(status: IncidentStatus) -> list[IncidentStatus]:
    """A shortest allowed path from new to ``status`` (breadth first over the table)."""
    frontier: list[list[IncidentStatus]] = [[S.NEW]]
    seen = {S.NEW}
    while frontier:
        path = frontier.pop(0)
        if path[-1] is status:
            return path[1:]
        for nxt in sorted(TRANSITIONS[path[-1]], key=lambda s: s.value):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append([*path, nxt])
    raise AssertionError(f"{status} is unreachable")


def _at(status: IncidentStatus) -> Incident:
    incident = _incident()
    for step, to in enumerate(_path_to(status), start=1):
        incident.transition(to, by="dispatcher.segura", by_agency="segura-ep",
                            at=T0 + timedelta(minutes=step), note="motivo de prueba")
    assert incident.status is status
    return incident


ALL_PAIRS = list(itertools.product(list(S), list(S)))
ALLOWED = [(a, b) for a, b in ALL_PAIRS if b in TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in TRANSITIONS[a]]


def test_the_table_is_the_one_the_issue_describes() -> None:
    forward = [S.NEW, S.ACKNOWLEDGED, S.DISPATCHED, S.EN_ROUTE, S.ON_SCENE, S.RESOLVED,
               S.CLOSED]
    for before, after in itertools.pairwise(forward):
        assert after in TRANSITIONS[before]
    for status in S:
        assert (S.CANCELLED in TRANSITIONS[status]) is status.open
    assert TRANSITIONS[S.CLOSED] == TRANSITIONS[S.CANCELLED] == frozenset()
    assert len(ALLOWED) == 16 and len(ALLOWED) + len(ILLEGAL) == 64


@pytest.mark.parametrize(("before", "after"), ALLOWED, ids=lambda s: s.value)
def test_every_allowed_transition_stamps_time_actor_and_agency(
        before: IncidentStatus, after: IncidentStatus) -> None:
    incident = _at(before)
    version = incident.version
    stamp = STAMPS.get(after)
    first_time = stamp is not None and getattr(incident, stamp) is None
    at = T0 + timedelta(hours=1)
    event = incident.transition(after, by="supervisor.segura", by_agency="segura-ep", at=at,
                                note="porque sí")
    assert incident.status is after and incident.version == version + 1
    assert incident.updated_at == at
    assert (event.kind, event.from_status, event.to_status) == (EventKind.TRANSITION, before,
                                                                 after)
    assert (event.by, event.by_agency, event.at) == ("supervisor.segura", "segura-ep", at)
    if stamp is not None:  # stamped now if reached for the first time, kept otherwise
        assert getattr(incident, stamp) == at if first_time else getattr(incident, stamp) < at


@pytest.mark.parametrize(("before", "after"), ILLEGAL, ids=lambda s: s.value)
def test_every_illegal_transition_is_a_conflict_and_changes_nothing(
        before: IncidentStatus, after: IncidentStatus) -> None:
    incident = _at(before)
    snapshot = dict(vars(incident))
    with pytest.raises(Conflict) as raised:
        incident.transition(after, by="x", by_agency="segura-ep", at=T0 + timedelta(hours=1),
                            note="motivo")
    assert incident.number in raised.value.message and after.value in raised.value.message
    assert dict(vars(incident)) == snapshot


def test_cancelling_needs_a_reason_and_dispatching_acknowledges() -> None:
    incident = _incident()
    with pytest.raises(InvalidInput, match="reason"):
        incident.transition(S.CANCELLED, by="x", by_agency="segura-ep", at=T0, note=" ")
    assert incident.status is S.NEW and incident.version == 1
    event = incident.transition(S.DISPATCHED, by="d", by_agency="segura-ep",
                                at=T0 + timedelta(minutes=2))
    assert incident.acknowledged_at == incident.dispatched_at == T0 + timedelta(minutes=2)
    assert event.detail == {"acknowledged": True}
    recalled = incident.transition(S.ACKNOWLEDGED, by="d", by_agency="segura-ep",
                                   at=T0 + timedelta(minutes=3))
    assert recalled.detail == {"recalled": True}
    assert incident.acknowledged_at == T0 + timedelta(minutes=2)  # the first time stays


def test_a_stale_version_is_refused() -> None:
    incident = _incident()
    incident.check_version(1)
    incident.check_version(None)
    incident.add_note("Llamada del guardia", by="o", by_agency="segura-ep", at=T0)
    with pytest.raises(StaleVersion, match="changed since you read it"):
        incident.check_version(1)
    assert isinstance(StaleVersion("x"), Conflict)


def test_creation_rules() -> None:
    base = {"incident_id": "i", "agency_id": "segura-ep", "number": "n", "kind": ROBO,
            "source": IncidentSource.FORM, "by": "o", "at": T0}
    for title, lat, lon, priority, match in (
            ("", -2.1, -79.8, None, "title"), ("x" * 161, -2.1, -79.8, None, "title"),
            ("Robo", None, -79.8, None, "location"), ("Robo", 91.0, -79.8, None, "latitude"),
            ("Robo", -2.1, float("nan"), None, "longitude"),
            ("Robo", -2.1, -79.8, 6, "priority"), ("Robo", -2.1, -79.8, 0, "priority")):
        with pytest.raises(InvalidInput, match=match):
            Incident.open_new(title=title, latitude=lat, longitude=lon, priority=priority,
                              **base)  # type: ignore[arg-type]
    retired = IncidentType.define(agency_id="segura-ep", code="viejo", name_es="Viejo",
                                  name_en="Old", default_priority=3, category="Other",
                                  active=False)
    with pytest.raises(InvalidInput, match="not an active incident type"):
        Incident.open_new(title="x", latitude=-2.1, longitude=-79.8,
                          **{**base, "kind": retired})  # type: ignore[arg-type]
    police = IncidentType.define(agency_id="policia-nacional", code="robo", name_es="Robo",
                                 name_en="Robbery", default_priority=2, category="Security")
    with pytest.raises(InvalidInput, match="not an active incident type of your agency"):
        Incident.open_new(title="x", latitude=-2.1, longitude=-79.8,
                          **{**base, "kind": police})  # type: ignore[arg-type]
    incident = _incident()
    assert incident.priority == 2 and incident.status is S.NEW and incident.version == 1


def test_bad_types_are_refused() -> None:
    for code, priority, category in (("", 3, "Other"), ("con espacio", 3, "Other"),
                                     ("x" * 33, 3, "Other"), ("ok", 9, "Other"),
                                     ("ok", 3, "Nope")):
        with pytest.raises(InvalidInput):
            IncidentType.define(agency_id="a", code=code, name_es="A", name_en="A",
                                default_priority=priority, category=category)


def test_notes_priority_and_links() -> None:
    incident = _incident()
    with pytest.raises(InvalidInput):
        incident.add_note("   ", by="o", by_agency="segura-ep", at=T0)
    event = incident.set_priority(1, by="d", by_agency="segura-ep", at=T0)
    assert event.detail == {"from": 2, "to": 1} and incident.priority == 1
    with pytest.raises(Conflict):
        incident.set_priority(1, by="d", by_agency="segura-ep", at=T0)
    linked = incident.link_alert("a-1", by="o", by_agency="segura-ep", at=T0)
    assert linked.detail["alert_id"] == "a-1" and incident.version == 3
    closed = _at(S.CLOSED)
    with pytest.raises(Conflict, match="closed"):
        closed.link_alert("a-2", by="o", by_agency="segura-ep", at=T0)
    closed.add_note("Informe final", by="s", by_agency="segura-ep", at=T0)  # still allowed


def test_merge_cancels_the_duplicate_and_carries_its_notes() -> None:
    keep, duplicate = _incident(), _incident("SEG-2026-000002", "i-2")
    note = duplicate.add_note("Testigo en la esquina", by="o", by_agency="segura-ep", at=T0)
    made = merge(duplicate, keep, by="s", by_agency="segura-ep", at=T0 + timedelta(minutes=5),
                 carried_notes=[note], carried_alerts=["a-9"])
    assert duplicate.status is S.CANCELLED and duplicate.merged_into == keep.id
    assert duplicate.cancelled_at == T0 + timedelta(minutes=5)
    assert [(e.incident_id, e.kind) for e in made] == [
        ("i-2", EventKind.MERGED), ("i-1", EventKind.MERGED_FROM), ("i-1", EventKind.NOTE)]
    assert made[2].note == "Testigo en la esquina" and made[1].detail["alerts"] == ["a-9"]
    with pytest.raises(Conflict, match="only open incidents"):
        merge(duplicate, keep, by="s", by_agency="segura-ep", at=T0)
    with pytest.raises(Conflict, match="itself"):
        merge(keep, keep, by="s", by_agency="segura-ep", at=T0)
    other = _incident("PN-2026-000001", "i-3")
    other.agency_id = "policia-nacional"
    with pytest.raises(Conflict, match="one agency"):
        merge(other, keep, by="s", by_agency="segura-ep", at=T0)


def test_numbers() -> None:
    assert number_prefix("segura-ep", 2026) == "SEG-2026-"
    assert number_prefix("policia-nacional", 2026) == "POL-2026-"
    assert format_number("SEG-2026-", 123) == "SEG-2026-000123"


def test_alerts_read_as_catalogue_types() -> None:
    def kind(category: Category, *texts: str) -> str | None:
        found = type_for_alert(CATALOGUE, category, *texts)
        return found.code if found else None

    assert kind(Category.SECURITY, "Vehículo en lista de vigilancia", "x") == \
        "vehiculo_vigilancia"
    assert kind(Category.SECURITY, "ROBO a mano armada") == "robo"
    assert kind(Category.SECURITY, "Accidente de transito en la 9 de Octubre") == \
        "accidente_transito"  # accents and case ignored, the name wins over the category
    assert kind(Category.SECURITY, "Intrusión en zona") == "persona_sospechosa"  # generic
    assert kind(Category.MET, "Inundación") == "otro"
    assert type_for_alert([], Category.MET, "x") is None
    assert priority_for(ROBO, Severity.EXTREME) == 1
    assert priority_for(ROBO, Severity.MINOR) == 2


# ---- cameras around -------------------------------------------------------------------------


def _camera(demo_id: str) -> Camera:
    d = next(c for c in CAMERAS if c.id == demo_id)
    return Camera(id=d.id, owner_agency_id=d.agency_id, centre_id=d.centre_id, name=d.name,
                  latitude=d.latitude, longitude=d.longitude, main_stream_url="file:///x",
                  heading_deg=d.heading_deg, fov_deg=d.fov_deg, range_m=d.range_m)


DEMO = [_camera(c.id) for c in CAMERAS]


def test_projection_round_trip() -> None:
    lat, lon = offset(-2.1953, -79.8797, 200, 40)
    x, y = local_xy(lat, lon, -2.1953, -79.8797)
    assert abs((x**2 + y**2) ** 0.5 - 40) < 0.01


def test_a_point_in_front_of_a_camera_is_covered_and_one_behind_it_is_not() -> None:
    seg1 = _camera("SEG-001")  # heading 200, fov 70, range 80
    ahead = offset(seg1.latitude, seg1.longitude, 200, 40)
    view = sees(seg1, *ahead)
    assert view is not None and abs(view.distance_m - 40) < 0.1
    assert abs(view.bearing_deg - 200) < 0.1 and view.off_axis_deg < 0.1
    assert sees(seg1, *offset(seg1.latitude, seg1.longitude, 20, 40)) is None  # behind
    assert sees(seg1, *offset(seg1.latitude, seg1.longitude, 200, 81)) is None  # too far
    edge = offset(seg1.latitude, seg1.longitude, 200 + 34, 60)
    assert sees(seg1, *edge) is not None  # inside the 35° half-angle
    outside = offset(seg1.latitude, seg1.longitude, 200 + 40, 60)
    assert sees(seg1, *outside) is None
    assert sees(seg1, *outside, radius_m=10) is not None  # the disc reaches the sector
    assert sees(seg1, seg1.latitude, seg1.longitude) is not None  # at the camera itself


def test_heading_wraps_around_north() -> None:
    pn1 = _camera("PN-001")  # heading 0, fov 70
    assert sees(pn1, *offset(pn1.latitude, pn1.longitude, 350, 100)) is not None
    assert sees(pn1, *offset(pn1.latitude, pn1.longitude, 30, 100)) is not None
    assert sees(pn1, *offset(pn1.latitude, pn1.longitude, 40, 100)) is None


def test_cameras_around_a_demo_place_nearest_first() -> None:
    seg1, seg2 = _camera("SEG-001"), _camera("SEG-002")
    # A point seen by SEG-002 (heading 270, range 120) 100 m west of it...
    place = offset(seg2.latitude, seg2.longitude, 270, 100)
    found = cameras_covering(DEMO, *place)
    assert [v.camera.id for v in found] == ["SEG-002"]
    # ...and a point 30 m in front of SEG-001: only SEG-001 among the whole demo city.
    near = offset(seg1.latitude, seg1.longitude, 200, 30)
    assert [v.camera.id for v in cameras_covering(DEMO, *near)] == ["SEG-001"]
    # Two cameras looking at one place: nearest first.
    twin = Camera(id="SEG-900", owner_agency_id="segura-ep", centre_id="segura-centro",
                  name="Gemela", latitude=seg1.latitude, longitude=seg1.longitude,
                  main_stream_url="file:///x", heading_deg=200, fov_deg=10, range_m=200)
    far = offset(seg1.latitude, seg1.longitude, 200, 70)
    closer = Camera(id="SEG-901", owner_agency_id="segura-ep", centre_id="segura-centro",
                    name="Cerca", latitude=far[0], longitude=far[1],
                    main_stream_url="file:///x", heading_deg=0, fov_deg=360, range_m=10)
    ordered = cameras_covering([*DEMO, twin, closer], *far)
    assert [v.camera.id for v in ordered] == ["SEG-901", "SEG-001", "SEG-900"]
