"""Server-rendered console pages: language, filters, errors, security headers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sereno.entrypoints.web.i18n import MESSAGES
from tests.api.test_agency_scoping import _console_login


def test_both_languages_have_every_text() -> None:
    assert set(MESSAGES["es"]) == set(MESSAGES["en"])


def test_spanish_by_default_english_on_request(client: TestClient) -> None:
    page = client.get("/login")
    assert 'lang="es"' in page.text and "Iniciar sesión" in page.text
    switched = client.get("/lang/en?next=/login", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    english = client.get("/login")
    assert 'lang="en"' in english.text and "Log in" in english.text
    assert client.get("/lang/fr?next=/login").text == english.text  # unknown: unchanged


def test_unauthenticated_pages_redirect_to_login(client: TestClient) -> None:
    response = client.get("/cameras?status=online", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/cameras"


def test_camera_list_filters(client: TestClient) -> None:
    _console_login(client, "operator.policia")
    page = client.get("/cameras?agency=policia-nacional")
    assert page.status_code == 200
    rows = page.text.count("data-camera-id=")
    assert rows == 4
    online = client.get("/cameras?status=maintenance").text
    assert "SEG-009" not in online  # Segura's private camera in maintenance is invisible
    assert "Ninguna cámara coincide" in online


def test_camera_page_has_a_refreshing_snapshot(client: TestClient) -> None:
    _console_login(client, "operator.segura")
    page = client.get("/cameras/SEG-001")
    assert page.status_code == 200
    assert 'data-src="/api/v1/cameras/SEG-001/snapshot.jpg"' in page.text
    assert "Malecón 2000" in page.text


def test_footage_is_not_offered_to_roles_without_it(client: TestClient) -> None:
    _console_login(client, "auditor.segura")
    page = client.get("/cameras/SEG-001")
    assert "snapshot.jpg" not in page.text
    assert "Su rol no permite ver imágenes" in page.text


def test_unknown_camera_page_is_a_page_not_json(client: TestClient) -> None:
    _console_login(client, "operator.segura")
    page = client.get("/cameras/NOPE")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No encontrado" in page.text and "no camera &#39;NOPE&#39;" in page.text


def test_security_headers(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]


def test_failed_console_login_says_so_without_detail(client: TestClient) -> None:
    page = client.get("/login")
    csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": "operator.segura", "password": "nope",
                                           "csrf": csrf})
    assert response.status_code == 401
    assert "Usuario o contraseña incorrectos" in response.text
