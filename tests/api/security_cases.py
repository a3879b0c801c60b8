"""Route-catalogue cases of the security routes (alerts, egress registry, breaches, impact
assessments): the scoping checks (a police user never sees or changes Segura EP's) and the
audited calls. ``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
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


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", "/api/v1/security-alerts"): list_alerts,
    ("POST", "/api/v1/security-alerts/{alert_id}/acknowledge"): acknowledge_alert,
    ("POST", "/api/v1/security-alerts/{alert_id}/close"): close_alert,
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
}

PATH_IDS = ("{alert_id}", "{destination_id}", "{case_id}", "{kind}", "{assessment_id}")
