"""Route-catalogue cases of joint operations: a police user never lists, reads, changes,
cancels or summarises an operation of Segura EP in which the police take no part, nor is
offered its cameras, and cannot plan one in Segura EP's name; every call is audited.
``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain.agencies import Agency, AgencyKind
from sereno.services import operations
from sereno.services.accounts import principal_for

Check = Callable[[TestClient, dict[str, str], str], None]
OPERATIONS = "/api/v1/operations"
PATH_IDS = ("{operation_id}",)
FIREFIGHTERS = "bomberos-gye"
MALECON: dict[str, Any] = {"type": "Polygon", "coordinates": [[
    [-79.8850, -2.2000], [-79.8760, -2.2000], [-79.8760, -2.1900], [-79.8850, -2.1900],
    [-79.8850, -2.2000]]]}


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def _firefighters(platform: Platform) -> None:
    """A third agency on the node (the demo city has two)."""
    with platform.uow() as uow:
        if uow.agencies.get(FIREFIGHTERS) is None:
            uow.agencies.add(Agency(FIREFIGHTERS, "Benemérito Cuerpo de Bomberos",
                                    AgencyKind.OTHER))
            uow.commit()


def segura_operation(platform: Platform, *, with_police: bool = False) -> str:
    """An active operation led by Segura EP: with the police, or with a third agency only."""
    _firefighters(platform)
    with platform.uow() as uow:
        user = uow.users.by_username("supervisor.segura")
    assert user is not None
    lead = principal_for(user, channel="api", address=None)
    now = platform.clock()
    partner = "policia-nacional" if with_police else FIREFIGHTERS
    return operations.create_operation(platform.uow(), lead, operations.OperationDraft(
        title="Operativo Malecón", participants=["segura-ep", partner], area=MALECON,
        starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=3),
        camera_ids=["SEG-001", "SEG-006"]), platform.clock).id


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def _unchanged(platform: Platform, operation_id: str) -> None:
    with platform.uow() as uow:
        operation = uow.operations.get(operation_id)
    assert operation is not None
    assert operation.status.value == "active" and operation.title == "Operativo Malecón"


def list_operations(client: TestClient, headers: dict[str, str], _: str) -> None:
    operation_id = segura_operation(_platform(client))
    response = client.get(OPERATIONS, headers=headers)
    if response.status_code == 200:
        assert operation_id not in {o["id"] for o in response.json()}
    else:
        _denied(response, 403)


def create_operation(client: TestClient, headers: dict[str, str], _: str) -> None:
    _firefighters(_platform(client))
    now = _platform(client).clock()
    response = client.post(OPERATIONS, headers=headers, json={
        "title": "Operativo ajeno", "participants": ["segura-ep", FIREFIGHTERS],
        "area": MALECON, "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat()})
    if response.status_code == 201:  # a police supervisor plans one led by the police
        created = response.json()
        assert created["lead_agency"] == "policia-nacional"
        assert "policia-nacional" in created["participants"]
    else:
        _denied(response, 403, 422)


def active_operations(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_operation(_platform(client))
    response = client.get(f"{OPERATIONS}/active", headers=headers)
    if response.status_code == 200:
        assert response.json() == []
    else:
        _denied(response, 403)


def read_operation(client: TestClient, headers: dict[str, str], _: str) -> None:
    operation_id = segura_operation(_platform(client))
    _denied(client.get(f"{OPERATIONS}/{operation_id}", headers=headers), 403, 404)


def update_operation(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    for with_police in (False, True):  # a participant does not change the lead's plan
        operation_id = segura_operation(platform, with_police=with_police)
        _denied(client.patch(f"{OPERATIONS}/{operation_id}", headers=headers,
                             json={"title": "Tomado"}), 403, 404)
        _unchanged(platform, operation_id)


def cancel_operation(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    for with_police in (False, True):
        operation_id = segura_operation(platform, with_police=with_police)
        _denied(client.post(f"{OPERATIONS}/{operation_id}/cancel", headers=headers,
                            json={"reason": "no va"}), 403, 404)
        _unchanged(platform, operation_id)


def operation_summary(client: TestClient, headers: dict[str, str], _: str) -> None:
    operation_id = segura_operation(_platform(client))
    _denied(client.get(f"{OPERATIONS}/{operation_id}/summary", headers=headers), 403, 404)


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", OPERATIONS): list_operations,
    ("POST", OPERATIONS): create_operation,
    ("GET", f"{OPERATIONS}/active"): active_operations,
    ("GET", f"{OPERATIONS}/{{operation_id}}"): read_operation,
    ("PATCH", f"{OPERATIONS}/{{operation_id}}"): update_operation,
    ("POST", f"{OPERATIONS}/{{operation_id}}/cancel"): cancel_operation,
    ("GET", f"{OPERATIONS}/{{operation_id}}/summary"): operation_summary,
}


def _create(c: TestClient, h: dict[str, str], p: Platform) -> Any:
    now = p.clock()
    return c.post(OPERATIONS, headers=h, json={
        "title": "Operativo Malecón", "participants": ["policia-nacional"], "area": MALECON,
        "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat(),
        "camera_ids": ["SEG-001"]})


AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", OPERATIONS): ("operator.segura", lambda c, h, p: c.get(OPERATIONS, headers=h),
                          "operation.list"),
    ("POST", OPERATIONS): ("supervisor.segura", _create, "operation.create"),
    ("GET", f"{OPERATIONS}/active"): (
        "operator.segura", lambda c, h, p: c.get(f"{OPERATIONS}/active", headers=h),
        "operation.active"),
    ("GET", f"{OPERATIONS}/{{operation_id}}"): (
        "operator.segura",
        lambda c, h, p: c.get(f"{OPERATIONS}/{segura_operation(p)}", headers=h),
        "operation.read"),
    ("PATCH", f"{OPERATIONS}/{{operation_id}}"): (
        "supervisor.segura",
        lambda c, h, p: c.patch(f"{OPERATIONS}/{segura_operation(p)}", headers=h,
                                json={"objectives": "Presencia disuasiva"}),
        "operation.update"),
    ("POST", f"{OPERATIONS}/{{operation_id}}/cancel"): (
        "supervisor.segura",
        lambda c, h, p: c.post(f"{OPERATIONS}/{segura_operation(p)}/cancel", headers=h,
                               json={"reason": "lluvia intensa"}),
        "operation.cancel"),
    ("GET", f"{OPERATIONS}/{{operation_id}}/summary"): (
        "analyst.segura",
        lambda c, h, p: c.get(f"{OPERATIONS}/{segura_operation(p)}/summary", headers=h),
        "operation.summary"),
}
