"""The incident console's pages (ADR 0034) as the server renders them: Spanish by default,
what each role is offered (acting, dispatching, creating an incident from an alert), the
lifecycle the page's script is given, and the map's incident and unit layers."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain.incidents import TRANSITIONS, IncidentStatus
from tests.api.incident_console_cases import make_incident
from tests.api.test_agency_scoping import _console_login


def _config(page: str, block: str) -> dict:  # type: ignore[type-arg]
    return json.loads(page.split(f'id="{block}">')[1].split("</script>")[0])  # type: ignore[no-any-return]


def test_board_speaks_spanish_and_switches_to_english(client: TestClient) -> None:
    _console_login(client, "dispatcher.segura")
    page = client.get("/incidents")
    assert page.status_code == 200
    assert "Incidentes abiertos" in page.text and 'data-testid="nav-incidents"' in page.text
    config = _config(page.text, "incidents-config")
    assert config["canUnits"] is True and config["types"]["robo"] == "Robo"
    client.get("/lang/en?next=/incidents")
    english = client.get("/incidents").text
    assert "Open incidents" in english
    assert _config(english, "incidents-config")["types"]["robo"] == "Robbery"


def test_incident_page_gives_its_script_the_lifecycle_and_the_caller_s_powers(
        client: TestClient, platform: Platform) -> None:
    incident = make_incident(platform, title="Riña frente al mercado")
    _console_login(client, "dispatcher.segura")
    page = client.get(f"/incidents/{incident.id}")
    assert page.status_code == 200
    assert incident.number in page.text and "Riña frente al mercado" in page.text
    assert "Despacho" in page.text and "Cámaras alrededor" in page.text
    config = _config(page.text, "incident-config")
    assert config["id"] == incident.id and config["user"] == "dispatcher.segura"
    assert config["canWrite"] and config["canDispatch"] and config["canUnits"]
    assert config["transitions"]["new"] == sorted(s.value for s in TRANSITIONS[IncidentStatus.NEW])
    assert config["transitions"]["closed"] == []
    assert config["typeName"] == "Riña"  # the catalogue's name, not the code
    texts = _config(page.text, "incident-texts")
    assert texts["incidents.dispatch_unit"] == "Despachar"


def test_an_analyst_reads_but_is_not_offered_to_act(client: TestClient,
                                                    platform: Platform) -> None:
    incident = make_incident(platform)
    _console_login(client, "analyst.segura")
    config = _config(client.get(f"/incidents/{incident.id}").text, "incident-config")
    assert not config["canWrite"] and not config["canDispatch"]
    assert 'data-testid="action-incident"' not in client.get("/alerts").text


def test_unknown_incident_is_not_found(client: TestClient) -> None:
    _console_login(client, "operator.segura")
    assert client.get("/incidents/no-such-incident").status_code == 404


def test_an_admin_has_no_board(client: TestClient) -> None:
    _console_login(client, "admin.segura")  # administers types, does not read incidents
    assert client.get("/incidents").status_code == 403
    assert 'data-testid="nav-incidents"' not in client.get("/map").text


def test_alert_detail_offers_to_create_an_incident(client: TestClient) -> None:
    _console_login(client, "operator.segura")
    page = client.get("/alerts").text
    assert 'data-testid="action-incident"' in page and "Crear incidente" in page


def test_map_has_incident_and_unit_layers_for_the_watch(client: TestClient) -> None:
    _console_login(client, "operator.policia")
    config = _config(client.get("/map").text, "map-config")
    assert config["incidents"] is True and config["units"] is True
    assert _config(client.get("/map").text, "map-texts")["map.units"] == "Unidades"
