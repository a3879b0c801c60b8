"""Route-catalogue cases of alert integrations (ADR 0029): a police user never lists, creates on
or deactivates Segura EP's integrations or destinations; every call is audited.
``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.services import integrations
from sereno.services.accounts import principal_for

Check = Callable[[TestClient, dict[str, str], str], None]
INTEGRATIONS = "/api/v1/integrations"
PATH_IDS = ("{subscription_id}",)


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def _as(platform: Platform, username: str):  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    return principal_for(user, channel="api", address=None)


def segura_destination(platform: Platform) -> str:
    """An approved webhook destination of Segura EP (nothing is sent to it here)."""
    found = platform.bus.handle(commands.RegisterEgressDestination(
        _as(platform, "admin.segura"), "despacho", "webhook", "https://hooks.segura.example/in"))
    platform.bus.handle(commands.ApproveEgressDestination(_as(platform, "auditor.segura"),
                                                          found.id))
    return str(found.id)


def segura_integration(platform: Platform) -> str:
    """An active webhook integration of Segura EP."""
    created = integrations.create_subscription(
        platform.uow(), _as(platform, "admin.segura"), kind="webhook",
        destination_id=segura_destination(platform), target="/in/alertas", categories=[],
        min_severity="Unknown", box=platform.integration_secrets, clock=platform.clock)
    return created.subscription.id


def _active(platform: Platform, subscription_id: str) -> bool:
    with platform.uow() as uow:
        found = uow.subscriptions.get(subscription_id)
    assert found is not None
    return found.active


def _denied(response, *allowed: int) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in (allowed or (403, 404)), response.text
    assert "error" in response.json()


def list_integrations(client: TestClient, headers: dict[str, str], _: str) -> None:
    segura_integration(_platform(client))
    response = client.get(INTEGRATIONS, headers=headers)
    if response.status_code == 200:
        assert response.json() == []  # the police has none; Segura EP's are not shown
    else:
        _denied(response, 403)


def create_integration(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    destination_id = segura_destination(platform)
    _denied(client.post(INTEGRATIONS, headers=headers, json={
        "kind": "webhook", "destination_id": destination_id, "target": "/in/robado"}),
        403, 404)
    with platform.uow() as uow:
        assert uow.subscriptions.for_agency("policia-nacional") == []


def deactivate_integration(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    subscription_id = segura_integration(platform)
    _denied(client.post(f"{INTEGRATIONS}/{subscription_id}/deactivate", headers=headers),
            403, 404)
    assert _active(platform, subscription_id)


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", INTEGRATIONS): list_integrations,
    ("POST", INTEGRATIONS): create_integration,
    ("POST", f"{INTEGRATIONS}/{{subscription_id}}/deactivate"): deactivate_integration,
}

AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", INTEGRATIONS): (
        "admin.segura", lambda c, h, p: c.get(INTEGRATIONS, headers=h), "integration.list"),
    ("POST", INTEGRATIONS): (
        "admin.segura",
        lambda c, h, p: c.post(INTEGRATIONS, headers=h, json={
            "kind": "webhook", "destination_id": segura_destination(p),
            "target": "/in/alertas", "categories": ["Security"], "min_severity": "Severe"}),
        "integration.create"),
    ("POST", f"{INTEGRATIONS}/{{subscription_id}}/deactivate"): (
        "admin.segura",
        lambda c, h, p: c.post(f"{INTEGRATIONS}/{segura_integration(p)}/deactivate",
                               headers=h),
        "integration.deactivate"),
}
