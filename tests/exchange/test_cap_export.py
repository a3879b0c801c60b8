"""Exporting alerts as CAP 1.2: every message passes the strict check, whatever the alert's
source, category, severity or state; the route serves the caller's own alerts (Private) and a
partner's only as an agreement in force lets them through (Restricted), audited."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from sereno.bootstrap import Platform
from sereno.domain.alerts import Alert, AlertSource, Category, Severity
from sereno.exchange.cap.export import Audience, export_alert, message_type
from sereno.exchange.cap.validation import NS, check_cap
from tests.conftest import audit_rows, bearer
from tests.support.cap import agreement, raise_alert, who

AT = datetime(2026, 11, 25, 8, 30, 15, 123456, tzinfo=UTC)
PRIVATE = Audience("Private", addresses="segura-ep")
AREA = {"type": "Polygon", "coordinates": [[[-79.92, -2.20], [-79.90, -2.20], [-79.90, -2.22],
                                            [-79.92, -2.22], [-79.92, -2.20]]]}


def _alert(source: AlertSource = AlertSource.DETECTION, category: str = "Security",
           severity: str = "Severe", **extra: object) -> Alert:
    place = {"latitude": -2.1894, "longitude": -79.8891, "camera_ids": ["SEG-001"]}
    place.update(extra)  # type: ignore[arg-type]
    return Alert.raise_new(
        alert_id="5b0f6a8e-2d1c-4c55-9a53-0f4f1b6f7e21", agency_id="segura-ep", source=source,
        category=category, severity=severity, urgency="Immediate", certainty="Likely",
        event="Intrusión en zona", headline="Intrusión en zona: Malecón & <Av. 9 de Octubre>",
        description="Regla zone; clases: person; confianza 0.91", at=AT, by="system:alerts",
        **place)


def _export(alert: Alert, audience: Audience = PRIVATE) -> bytes:
    return export_alert(alert, node="sereno", agency_name="Segura EP", audience=audience,
                        console_url="https://sereno.example/")


def _strict(xml: bytes) -> etree._Element:
    result = check_cap(xml, strict=True)
    assert result.errors == [], result.errors
    return result.root


def _text(root: etree._Element, path: str) -> str | None:
    found = root.find(path, NS)
    return None if found is None else found.text


COMBINATIONS = [(list(AlertSource)[i % len(AlertSource)], category, severity)
                for i, (category, severity) in enumerate(itertools.product(Category, Severity))]


@pytest.mark.parametrize(("source", "category", "severity"), COMBINATIONS,
                         ids=lambda v: getattr(v, "value", v))
def test_every_source_category_and_severity_exports_strictly_valid(
        source: AlertSource, category: Category, severity: Severity) -> None:
    root = _strict(_export(_alert(source, category.value, severity.value)))
    assert _text(root, "cap:msgType") == "Alert"
    assert _text(root, "cap:info/cap:category") == category.value
    assert _text(root, "cap:info/cap:severity") == severity.value


def test_the_message_says_who_when_and_where() -> None:
    root = _strict(_export(_alert()))
    assert _text(root, "cap:identifier") == "urn:sereno:sereno:5b0f6a8e-2d1c-4c55-9a53-0f4f1b6f7e21"
    assert _text(root, "cap:sender") == "sereno@segura-ep.sereno"
    assert _text(root, "cap:sent") == "2026-11-25T03:30:15-05:00"  # Ecuador, no fractions
    assert (_text(root, "cap:status"), _text(root, "cap:scope")) == ("Actual", "Private")
    assert _text(root, "cap:addresses") == "segura-ep"
    assert _text(root, "cap:info/cap:language") == "es-EC"
    assert _text(root, "cap:info/cap:senderName") == "Segura EP"
    assert _text(root, "cap:info/cap:headline") == ("Intrusión en zona: Malecón & "
                                                     "<Av. 9 de Octubre>")
    assert _text(root, "cap:info/cap:area/cap:circle") == "-2.189400,-79.889100 0.2"
    assert _text(root, "cap:info/cap:web") == (
        "https://sereno.example/alerts#5b0f6a8e-2d1c-4c55-9a53-0f4f1b6f7e21")


def test_an_area_exports_as_a_closed_polygon_and_no_position_as_no_area() -> None:
    root = _strict(_export(_alert(area=AREA)))
    polygon = _text(root, "cap:info/cap:area/cap:polygon") or ""
    assert polygon.split()[0] == polygon.split()[-1] == "-2.200000,-79.920000"
    bare = _strict(_export(_alert(latitude=None, longitude=None, camera_ids=[])))
    assert bare.find("cap:info/cap:area", NS) is None
    broken = dict(AREA, coordinates=[[[-79.92, -2.20], [-79.90, -2.20]]])  # not a ring
    root = _strict(_export(_alert(area=broken)))
    assert root.find("cap:info/cap:area/cap:polygon", NS) is None


@pytest.mark.parametrize(("change", "kind", "note"), [
    (lambda a, at: a.acknowledge("operator.segura", at), "Update", None),
    (lambda a, at: a.escalate("supervisor.segura", at), "Update", None),
    (lambda a, at: a.repeat(at, "det-2", None), "Update", None),
    (lambda a, at: a.close("operator.segura", at, "Patrulla en el sitio"), "Update",
     "Cerrada: Patrulla en el sitio"),
    (lambda a, at: a.dismiss("operator.segura", at, "Era un vendedor"), "Cancel",
     "Descartada como falsa alarma: Era un vendedor"),
    (lambda a, at: a.cancel(at), "Cancel", "Cancelada por su origen"),
])
def test_changed_and_cancelled_alerts_reference_the_first_message(change, kind, note) -> None:  # type: ignore[no-untyped-def]
    alert = _alert()
    first = _strict(_export(alert))
    change(alert, AT + timedelta(minutes=3))
    assert message_type(alert) == kind
    root = _strict(_export(alert))
    assert _text(root, "cap:msgType") == kind
    assert _text(root, "cap:identifier") == f"{_text(first, 'cap:identifier')}:{alert.version}"
    assert _text(root, "cap:sent") == "2026-11-25T03:33:15-05:00"
    assert _text(root, "cap:references") == ",".join(
        [_text(first, "cap:sender") or "", _text(first, "cap:identifier") or "",
         _text(first, "cap:sent") or ""])
    assert _text(root, "cap:note") == note
    if alert.count > 1:
        assert _text(root, "cap:info/cap:parameter/cap:value") == "2"


def test_restricted_export_names_the_agreement() -> None:
    audience = Audience("Restricted", restriction="Acuerdo de intercambio «X» (a-1)")
    root = _strict(_export(_alert(), audience))
    assert _text(root, "cap:scope") == "Restricted"
    assert _text(root, "cap:restriction") == "Acuerdo de intercambio «X» (a-1)"
    assert root.find("cap:addresses", NS) is None


def test_texts_at_their_longest_still_export() -> None:
    alert = _alert()
    alert.headline, alert.event, alert.description = "H" * 160, "E" * 160, "x" * 2000
    _strict(_export(alert))


# ---- the route --------------------------------------------------------------------------------


def test_the_route_exports_the_callers_own_alert_audited(client: TestClient,
                                                         platform: Platform) -> None:
    alert = raise_alert(platform)
    response = client.get(f"/api/v1/alerts/{alert.id}/cap",
                          headers=bearer(client, "operator.segura"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/cap+xml")
    root = _strict(response.content)
    assert _text(root, "cap:scope") == "Private"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-05:00", _text(root, "cap:sent") or "")
    assert _text(root, "cap:info/cap:web") == f"http://testserver/alerts#{alert.id}"
    mine = [r for r in audit_rows(platform) if r.action == "alert.cap.export"]
    assert mine[-1].outcome == "allowed" and mine[-1].object_id == alert.id


def test_a_partner_gets_only_what_an_agreement_lets_through(client: TestClient,
                                                            platform: Platform) -> None:
    _revoke_all(platform)
    severe = raise_alert(platform, severity="Severe")
    minor = raise_alert(platform, severity="Minor")
    police = bearer(client, "operator.policia")
    assert client.get(f"/api/v1/alerts/{severe.id}/cap", headers=police).status_code == 404
    agreement_id = agreement(platform, min_severity="Moderate")
    response = client.get(f"/api/v1/alerts/{severe.id}/cap", headers=police)
    assert response.status_code == 200, response.text
    root = _strict(response.content)
    assert _text(root, "cap:scope") == "Restricted"
    assert agreement_id in (_text(root, "cap:restriction") or "")
    assert client.get(f"/api/v1/alerts/{minor.id}/cap", headers=police).status_code == 404
    refused = [r for r in audit_rows(platform) if r.action == "alert.cap.export"
               and r.outcome == "denied"]
    assert refused[-1].object_id == minor.id and "no agreement" in refused[-1].reason


def test_analysts_read_and_admins_do_not(client: TestClient, platform: Platform) -> None:
    alert = raise_alert(platform)
    assert client.get(f"/api/v1/alerts/{alert.id}/cap",
                      headers=bearer(client, "analyst.segura")).status_code == 200
    assert client.get(f"/api/v1/alerts/{alert.id}/cap",
                      headers=bearer(client, "admin.segura")).status_code == 403
    assert who(platform, "admin.segura").agency_id == "segura-ep"


def _revoke_all(platform: Platform) -> None:
    with platform.uow() as uow:
        for agency in ("segura-ep", "policia-nacional"):
            for existing in uow.agreements.active_from(agency):
                existing.revoke("admin.segura", platform.clock(), "pruebas sin acuerdos")
        uow.commit()
