"""Route-catalogue cases of the incident console (ADR 0034): the board's push stream and the
two pages. A police user's stream never carries Segura EP's incidents, the board never lists
them, and Segura's incident page answers "not found" to the police; opening any of them is
audited. ``test_agency_scoping``, ``test_audit`` and ``test_auth`` merge them in."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain.incidents import Incident
from sereno.services import incidents
from sereno.services.accounts import principal_for
from tests.api.alert_stream_cases import read_stream

Check = Callable[[TestClient, dict[str, str], str], None]
STREAM = "/api/v1/incidents/stream"
PATH_IDS = ("{incident_id}",)
CONSOLE = {("GET", "/incidents"), ("GET", "/incidents/{incident_id}")}


def _platform(client: TestClient) -> Platform:
    platform: Platform = client.app.state.platform  # type: ignore[attr-defined]
    return platform


def make_incident(platform: Platform, username: str = "operator.segura",
                  title: str = "Riña en la Bahía") -> Incident:
    """An incident of ``username``'s agency, opened from the call-taker's form (published, as
    the API does, so that streams see it)."""
    with platform.uow() as uow:
        user = uow.users.by_username(username)
    assert user is not None
    who = principal_for(user, channel="test", address=None)
    return incidents.create(
        platform.uow(), who,
        incidents.NewIncident("rina", title, -2.1894, -79.8891, "dos grupos"),
        clock=platform.clock, publish=platform.bus.publish)


def incident_stream(client: TestClient, headers: dict[str, str], _: str) -> None:
    platform = _platform(client)
    segura: list[str] = []

    def trigger() -> None:
        segura.append(make_incident(platform).id)  # never on a police stream
        make_incident(platform, "operator.policia", "Robo en la Av. 9 de Octubre")

    status, received = read_stream(
        client, headers, trigger,
        lambda got: any(i["agency"] == "policia-nacional" for _, i in got), timeout_s=20,
        path=STREAM)
    if status == 200:
        assert received, "the police's own incident never arrived"
        assert {i["agency"] for _, i in received} == {"policia-nacional"}
        assert segura[0] not in {i["id"] for _, i in received}
        assert {name for name, _ in received} <= {"IncidentCreated", "IncidentChanged"}
    else:
        assert status == 403  # roles without INCIDENT_READ (admins)


def incidents_page(client: TestClient, headers: dict[str, str], _: str) -> None:
    incident = make_incident(_platform(client))
    response = client.get("/incidents", headers={"Accept": "text/html"})
    assert response.status_code in (200, 403), response.text
    assert incident.id not in response.text and incident.number not in response.text


def incident_page(client: TestClient, headers: dict[str, str], _: str) -> None:
    incident = make_incident(_platform(client))
    response = client.get(f"/incidents/{incident.id}", headers={"Accept": "text/html"})
    assert response.status_code in (403, 404), response.text
    assert incident.title not in response.text and incident.number not in response.text


SCOPING: dict[tuple[str, str], Check] = {
    ("GET", STREAM): incident_stream,
    ("GET", "/incidents"): incidents_page,
    ("GET", "/incidents/{incident_id}"): incident_page,
}


def _open_stream(client: TestClient, headers: dict[str, str], platform: Platform) -> object:
    status, _ = read_stream(client, headers, lambda: make_incident(platform),
                            lambda got: bool(got), path=STREAM)

    class Done:
        status_code = status
        text = ""

    return Done()


def _open_page(client: TestClient, headers: dict[str, str], platform: Platform) -> object:
    return client.get(f"/incidents/{make_incident(platform).id}")


AUDITED: dict[tuple[str, str], tuple[str, Callable[..., object], str]] = {
    ("GET", STREAM): ("operator.segura", _open_stream, "incident.stream"),
    ("GET", "/incidents"): ("operator.segura", lambda c, h, p: c.get("/incidents"),
                            "page.incidents"),
    ("GET", "/incidents/{incident_id}"): ("operator.segura", _open_page, "page.incident"),
}
