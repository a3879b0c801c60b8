"""Route-catalogue cases of the audit search API and the auditor's console (audit search,
break-glass reviews, access anomalies, integrity): a police user never sees or changes Segura
EP's, and every call is audited. ``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge
them in."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from sereno.adapters.db import tables
from sereno.bootstrap import Platform
from sereno.domain.governance import BreakGlassAccess
from sereno.services.security import raise_security_alert

Check = Callable[[TestClient, dict[str, str], str], None]
SEGURA = "segura-ep"
PATH_IDS = ("{access_id}", "{alert_id}")
CONSOLE = {("GET", "/audit"), ("GET", "/audit/break-glass"),
           ("POST", "/audit/break-glass/{access_id}/review"), ("GET", "/audit/anomalies"),
           ("POST", "/audit/anomalies/{alert_id}/acknowledge"),
           ("POST", "/audit/anomalies/{alert_id}/close"), ("GET", "/audit/integrity")}
SECRET = "persecución por el parque privado"  # only in Segura's break-glass justification


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def segura_break_glass(platform: Platform, username: str = "dispatcher.segura") -> str:
    """A pending break-glass access of a Segura EP user."""
    with platform.uow() as uow:
        user = uow.users.by_username(username)
        assert user is not None
        now = platform.clock()
        access = BreakGlassAccess(
            id=str(uuid.uuid4()), agency_id=user.agency_id, user_id=user.id,
            username=user.username, action="footage.playback", object_type="camera",
            object_id="SEG-006", justification=SECRET, at=now,
            review_due=now + timedelta(hours=24))
        uow.break_glass.add(access)
        uow.commit()
    return access.id


def segura_anomaly(platform: Platform) -> str:
    """An open access-anomaly alert of Segura EP."""
    with platform.uow() as uow:
        alert = raise_security_alert(
            uow, agency_id=SEGURA, kind="access_anomaly", severity="high",
            summary="analyst.segura: 40 download accesses within 60 min",
            detail={"detector": "bulk_pull", "user": "analyst.segura", "count": 40,
                    "record_ids": [1, 2, 3]})
        uow.commit()
    return alert.id


def _csrf(client: TestClient) -> str:
    page = client.get("/map").text
    return page.split('name="csrf" value="')[1].split('"')[0]


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text


# -- the search API --------------------------------------------------------------------------

def search_records(client: TestClient, headers: dict[str, str], _: str) -> None:
    response = client.get("/api/v1/audit/records?limit=500", headers=headers)
    if response.status_code != 200:
        _denied(response, 403)
        return
    for item in response.json()["items"]:
        assert "policia-nacional" in (item["actor_agency_id"], item["object_agency_id"])
    for query in ("user=operator.segura", "object=SEG-006", "q=segura"):
        found = client.get(f"/api/v1/audit/records?{query}", headers=headers).json()["items"]
        assert all("policia-nacional" in (i["actor_agency_id"], i["object_agency_id"])
                   for i in found)


# -- the console -----------------------------------------------------------------------------

def search_page(client: TestClient, headers: dict[str, str], _: str) -> None:
    for query in ("", "?user=operator.segura", "?q=segura", "?object=SEG-006"):
        response = client.get(f"/audit{query}")
        assert response.status_code in (200, 403), response.text
        if response.status_code == 403:
            return
        results = response.text.split('data-testid="audit-filters"')[1].split("</form>", 1)[1]
        assert not re.search(r"<td>[a-z]+\.segura<br>", results), query  # no Segura EP actor
        assert "Parque Centenario" not in results


def break_glass_page(client: TestClient, headers: dict[str, str], _: str) -> None:
    access_id = segura_break_glass(_platform(client))
    response = client.get("/audit/break-glass")
    assert response.status_code in (200, 403), response.text
    assert access_id not in response.text and SECRET not in response.text


def review_break_glass(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    access_id = segura_break_glass(platform)
    _denied(client.post(f"/audit/break-glass/{access_id}/review",
                        data={"verdict": "justified", "note": "todo en orden",
                              "csrf": _csrf(client)}))
    with platform.uow() as uow:
        access = uow.break_glass.get(access_id)
        assert access is not None and access.reviewed_at is None


def anomalies_page(client: TestClient, headers: dict[str, str], _: str) -> None:
    alert_id = segura_anomaly(_platform(client))
    response = client.get("/audit/anomalies")
    assert response.status_code in (200, 403), response.text
    assert alert_id not in response.text and "analyst.segura" not in response.text


def _unchanged(platform: Platform, alert_id: str) -> None:
    with platform.uow() as uow:
        alert = uow.security_alerts.get(alert_id)
        assert alert is not None and alert.status.value == "open"


def acknowledge_anomaly(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    alert_id = segura_anomaly(platform)
    _denied(client.post(f"/audit/anomalies/{alert_id}/acknowledge", data={"csrf": _csrf(client)}))
    _unchanged(platform, alert_id)


def close_anomaly(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    alert_id = segura_anomaly(platform)
    _denied(client.post(f"/audit/anomalies/{alert_id}/close",
                        data={"csrf": _csrf(client), "note": "cerrada desde fuera"}))
    _unchanged(platform, alert_id)


def integrity_page(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    platform.audit_log.sign_head()
    leaves, records = tables.audit_leaves, tables.audit_records
    with platform.engine.connect() as connection:
        leaf = connection.scalar(
            select(leaves.c.leaf_index).join(records, records.c.id == leaves.c.record_id)
            .where(records.c.actor_username == "operator.segura").limit(1))
    response = client.get("/audit/integrity" + (f"?index={leaf}" if leaf is not None else ""))
    assert response.status_code in (200, 403), response.text
    assert "operator.segura" not in response.text


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", "/api/v1/audit/records"): search_records,
    ("GET", "/audit"): search_page,
    ("GET", "/audit/break-glass"): break_glass_page,
    ("POST", "/audit/break-glass/{access_id}/review"): review_break_glass,
    ("GET", "/audit/anomalies"): anomalies_page,
    ("POST", "/audit/anomalies/{alert_id}/acknowledge"): acknowledge_anomaly,
    ("POST", "/audit/anomalies/{alert_id}/close"): close_anomaly,
    ("GET", "/audit/integrity"): integrity_page,
}

# route -> (acting user, the call, the audit action it must record)
AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", "/api/v1/audit/records"): (
        "auditor.segura",
        lambda c, h, p: c.get("/api/v1/audit/records?action=auth.*&outcome=allowed", headers=h),
        "audit.search"),
    ("GET", "/audit"): ("auditor.segura", lambda c, h, p: c.get("/audit?q=login"),
                        "page.audit"),
    ("GET", "/audit/break-glass"): ("supervisor.segura",
                                    lambda c, h, p: c.get("/audit/break-glass"),
                                    "break_glass.list"),
    ("POST", "/audit/break-glass/{access_id}/review"): (
        "supervisor.segura",
        lambda c, h, p: c.post(f"/audit/break-glass/{segura_break_glass(p)}/review",
                               data={"verdict": "justified", "csrf": h["csrf"],
                                     "note": "incendio confirmado por el ECU 911"},
                               follow_redirects=False),
        "break_glass.review"),
    ("GET", "/audit/anomalies"): ("auditor.segura", lambda c, h, p: c.get("/audit/anomalies"),
                                  "security.alert.list"),
    ("POST", "/audit/anomalies/{alert_id}/acknowledge"): (
        "auditor.segura",
        lambda c, h, p: c.post(f"/audit/anomalies/{segura_anomaly(p)}/acknowledge",
                               data={"csrf": h["csrf"], "note": "revisando"},
                               follow_redirects=False),
        "security.alert.acknowledge"),
    ("POST", "/audit/anomalies/{alert_id}/close"): (
        "auditor.segura",
        lambda c, h, p: c.post(f"/audit/anomalies/{segura_anomaly(p)}/close",
                               data={"csrf": h["csrf"], "note": "exportación autorizada"},
                               follow_redirects=False),
        "security.alert.close"),
    ("GET", "/audit/integrity"): ("auditor.segura", lambda c, h, p: c.get("/audit/integrity"),
                                  "audit.verify"),
}
