"""Route-catalogue cases of the security routes (alerts, egress registry, breaches, impact
assessments): the scoping checks (a police user never sees or changes Segura EP's) and the
audited calls. ``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.domain.access import Principal
from sereno.services.accounts import principal_for
from sereno.services.breaches import open_breach_case
from sereno.services.security import raise_security_alert

Check = Callable[[TestClient, dict[str, str], str], None]
SEGURA = "segura-ep"


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def segura_alert(platform: Platform) -> str:
    """An open security alert of Segura EP."""
    with platform.uow() as uow:
        alert = raise_security_alert(uow, agency_id=SEGURA, kind="egress_blocked",
                                     severity="high", summary="blocked transfer (test)",
                                     detail={"host": "exfil.example"})
        uow.commit()
    return alert.id


def _as(platform: Platform, username: str) -> Principal:
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return principal_for(user, channel="api", address=None)


def segura_destination(platform: Platform, *, approve: bool = False) -> str:
    """A destination of Segura EP, pending unless ``approve``."""
    destination = platform.bus.handle(commands.RegisterEgressDestination(
        _as(platform, "admin.segura"), "Nodo Policía", "federation_peer",
        "https://nodo.policia.example/api"))
    if approve:
        platform.bus.handle(commands.ApproveEgressDestination(
            _as(platform, "auditor.segura"), destination.id))
    return str(destination.id)


def segura_breach(platform: Platform) -> str:
    """An open breach case of Segura EP."""
    with platform.uow() as uow:
        case = open_breach_case(uow, agency_id=SEGURA, trigger="manual",
                                description="test case", data_classes=["media"])
        uow.commit()
    return case.id


ASSESSMENT = {"title": "EIPD prueba", "processing": "video", "necessity": "seguridad",
              "risks": "observación", "measures": "máscaras", "legal_basis": "COOTAD"}


def segura_draft(platform: Platform) -> str:
    """A draft impact assessment of Segura EP's centre."""
    draft = platform.bus.handle(commands.RecordImpactAssessment(
        _as(platform, "admin.segura"), "segura-centro", dict(ASSESSMENT)))
    return str(draft.id)


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def _only_police(response, key: str = "agency") -> None:  # type: ignore[no-untyped-def]
    if response.status_code == 200:
        assert all(item[key] == "policia-nacional" for item in response.json())
    else:
        _denied(response, 403)


# -- security alerts ---------------------------------------------------------------------------

def list_alerts(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_alert(_platform(client))
    _only_police(client.get("/api/v1/security-alerts", headers=headers))


def acknowledge_alert(client: TestClient, headers: dict[str, str], _: str) -> None:
    alert_id = segura_alert(_platform(client))
    _denied(client.post(f"/api/v1/security-alerts/{alert_id}/acknowledge", json={},
                        headers=headers))
    with _platform(client).uow() as uow:
        alert = uow.security_alerts.get(alert_id)
        assert alert is not None and alert.status.value == "open"


def close_alert(client: TestClient, headers: dict[str, str], _: str) -> None:
    alert_id = segura_alert(_platform(client))
    _denied(client.post(f"/api/v1/security-alerts/{alert_id}/close", json={"note": "x"},
                        headers=headers))
    with _platform(client).uow() as uow:
        alert = uow.security_alerts.get(alert_id)
        assert alert is not None and alert.status.value == "open"


# -- egress destinations -----------------------------------------------------------------------

def list_destinations(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_destination(_platform(client))
    _only_police(client.get("/api/v1/egress/destinations", headers=headers))


def register_destination(client: TestClient, headers: dict[str, str], _: str) -> None:
    body = {"name": "x", "purpose": "webhook", "url": "https://hook.example/x"}
    _denied(client.post("/api/v1/egress/destinations", json={**body, "agency": SEGURA},
                        headers=headers), 403, 422)
    response = client.post("/api/v1/egress/destinations", json=body, headers=headers)
    if response.status_code == 201:
        assert response.json()["agency"] == "policia-nacional"
        assert response.json()["state"] == "pending"
    else:
        _denied(response, 403)


def _state(client: TestClient, destination_id: str) -> str:
    with _platform(client).uow() as uow:
        destination = uow.egress_destinations.get(destination_id)
    assert destination is not None
    return destination.state.value


def approve_destination(client: TestClient, headers: dict[str, str], _: str) -> None:
    destination_id = segura_destination(_platform(client))
    _denied(client.post(f"/api/v1/egress/destinations/{destination_id}/approve",
                        headers=headers))
    assert _state(client, destination_id) == "pending"


def revoke_destination(client: TestClient, headers: dict[str, str], _: str) -> None:
    destination_id = segura_destination(_platform(client), approve=True)
    _denied(client.post(f"/api/v1/egress/destinations/{destination_id}/revoke",
                        json={"reason": "sabotage"}, headers=headers))
    assert _state(client, destination_id) == "approved"


# -- breaches ----------------------------------------------------------------------------------

def list_breaches(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_breach(_platform(client))
    _only_police(client.get("/api/v1/breaches", headers=headers))


def open_breach(client: TestClient, headers: dict[str, str], _: str) -> None:
    _denied(client.post("/api/v1/breaches", json={"description": "x", "agency": SEGURA},
                        headers=headers), 403, 422)
    _denied(client.post("/api/v1/breaches", json={"description": "x",
                                                   "camera_ids": ["SEG-006"]},
                        headers=headers))


def get_breach(client: TestClient, headers: dict[str, str], _: str) -> None:
    case_id = segura_breach(_platform(client))
    _denied(client.get(f"/api/v1/breaches/{case_id}", headers=headers))


def mark_notice(client: TestClient, headers: dict[str, str], _: str) -> None:
    case_id = segura_breach(_platform(client))
    _denied(client.post(f"/api/v1/breaches/{case_id}/notices/authority",
                        json={"reference": "forged"}, headers=headers))
    with _platform(client).uow() as uow:
        case = uow.breaches.get(case_id)
        assert case is not None and case.authority_sent_at is None


def close_breach(client: TestClient, headers: dict[str, str], _: str) -> None:
    case_id = segura_breach(_platform(client))
    _denied(client.post(f"/api/v1/breaches/{case_id}/close", json={"note": "hidden"},
                        headers=headers))
    with _platform(client).uow() as uow:
        case = uow.breaches.get(case_id)
        assert case is not None and case.status.value == "open"


# -- impact assessments ------------------------------------------------------------------------

def list_assessments(client: TestClient, headers: dict[str, str], _: str) -> None:
    _only_police(client.get("/api/v1/impact-assessments", headers=headers))


def record_assessment(client: TestClient, headers: dict[str, str], _: str) -> None:
    _denied(client.post("/api/v1/impact-assessments",
                        json={**ASSESSMENT, "centre_id": "segura-centro"}, headers=headers))


def approve_assessment(client: TestClient, headers: dict[str, str], _: str) -> None:
    draft_id = segura_draft(_platform(client))
    _denied(client.post(f"/api/v1/impact-assessments/{draft_id}/approve", json={},
                        headers=headers))
    with _platform(client).uow() as uow:
        draft = uow.impact_assessments.get(draft_id)
        assert draft is not None and draft.status.value == "draft"


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", "/api/v1/security-alerts"): list_alerts,
    ("POST", "/api/v1/security-alerts/{alert_id}/acknowledge"): acknowledge_alert,
    ("POST", "/api/v1/security-alerts/{alert_id}/close"): close_alert,
    ("GET", "/api/v1/egress/destinations"): list_destinations,
    ("POST", "/api/v1/egress/destinations"): register_destination,
    ("POST", "/api/v1/egress/destinations/{destination_id}/approve"): approve_destination,
    ("POST", "/api/v1/egress/destinations/{destination_id}/revoke"): revoke_destination,
    ("GET", "/api/v1/breaches"): list_breaches,
    ("POST", "/api/v1/breaches"): open_breach,
    ("GET", "/api/v1/breaches/{case_id}"): get_breach,
    ("POST", "/api/v1/breaches/{case_id}/notices/{kind}"): mark_notice,
    ("POST", "/api/v1/breaches/{case_id}/close"): close_breach,
    ("GET", "/api/v1/impact-assessments"): list_assessments,
    ("POST", "/api/v1/impact-assessments"): record_assessment,
    ("POST", "/api/v1/impact-assessments/{assessment_id}/approve"): approve_assessment,
}

# route -> (acting user, the call, the audit action it must record)
AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", "/api/v1/security-alerts"): (
        "auditor.segura", lambda c, h, p: c.get("/api/v1/security-alerts", headers=h),
        "security.alert.list"),
    ("POST", "/api/v1/security-alerts/{alert_id}/acknowledge"): (
        "auditor.segura",
        lambda c, h, p: c.post(f"/api/v1/security-alerts/{segura_alert(p)}/acknowledge",
                               json={"note": "mirando"}, headers=h),
        "security.alert.acknowledge"),
    ("POST", "/api/v1/security-alerts/{alert_id}/close"): (
        "auditor.segura",
        lambda c, h, p: c.post(f"/api/v1/security-alerts/{segura_alert(p)}/close",
                               json={"note": "falso positivo"}, headers=h),
        "security.alert.close"),
    ("GET", "/api/v1/egress/destinations"): (
        "admin.segura", lambda c, h, p: c.get("/api/v1/egress/destinations", headers=h),
        "egress.destination.list"),
    ("POST", "/api/v1/egress/destinations"): (
        "admin.segura",
        lambda c, h, p: c.post("/api/v1/egress/destinations", headers=h, json={
            "name": "Webhook ECU 911", "purpose": "webhook",
            "url": "https://ecu911.example/hooks"}),
        "egress.destination.register"),
    ("POST", "/api/v1/egress/destinations/{destination_id}/approve"): (
        "auditor.segura",
        lambda c, h, p: c.post(f"/api/v1/egress/destinations/{segura_destination(p)}/approve",
                               headers=h),
        "egress.destination.approve"),
    ("POST", "/api/v1/egress/destinations/{destination_id}/revoke"): (
        "admin.segura",
        lambda c, h, p: c.post(f"/api/v1/egress/destinations/{segura_destination(p)}/revoke",
                               json={"reason": "ya no se usa"}, headers=h),
        "egress.destination.revoke"),
    ("GET", "/api/v1/breaches"): (
        "auditor.segura", lambda c, h, p: c.get("/api/v1/breaches", headers=h), "breach.list"),
    ("POST", "/api/v1/breaches"): (
        "auditor.segura",
        lambda c, h, p: c.post("/api/v1/breaches", headers=h, json={
            "description": "Denuncia de imágenes publicadas", "data_classes": ["media"],
            "camera_ids": ["SEG-001"]}),
        "breach.open"),
    ("GET", "/api/v1/breaches/{case_id}"): (
        "auditor.segura",
        lambda c, h, p: c.get(f"/api/v1/breaches/{segura_breach(p)}", headers=h),
        "breach.read"),
    ("POST", "/api/v1/breaches/{case_id}/notices/{kind}"): (
        "auditor.segura",
        lambda c, h, p: c.post(f"/api/v1/breaches/{segura_breach(p)}/notices/authority",
                               json={"reference": "SPDP-2026-001"}, headers=h),
        "breach.notice"),
    ("POST", "/api/v1/breaches/{case_id}/close"): (
        "auditor.segura",
        lambda c, h, p: c.post(f"/api/v1/breaches/{segura_breach(p)}/close",
                               json={"note": "falsa alarma"}, headers=h),
        "breach.close"),
    ("GET", "/api/v1/impact-assessments"): (
        "admin.segura", lambda c, h, p: c.get("/api/v1/impact-assessments", headers=h),
        "impact.list"),
    ("POST", "/api/v1/impact-assessments"): (
        "admin.segura",
        lambda c, h, p: c.post("/api/v1/impact-assessments", headers=h,
                               json={**ASSESSMENT, "centre_id": "segura-norte"}),
        "impact.record"),
    ("POST", "/api/v1/impact-assessments/{assessment_id}/approve"): (
        "auditor.segura",
        lambda c, h, p: c.post(f"/api/v1/impact-assessments/{segura_draft(p)}/approve",
                               json={"note": "ok"}, headers=h),
        "impact.approve"),
}

PATH_IDS = ("{alert_id}", "{destination_id}", "{case_id}", "{kind}", "{assessment_id}")
