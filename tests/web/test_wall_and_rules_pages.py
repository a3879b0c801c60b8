"""Server-rendered video wall, live events panel and rule editor: who gets what, and the audit."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import commands
from sereno.entrypoints.web.console import script_json
from tests.api.test_agency_scoping import _console_login
from tests.conftest import audit_rows


def _json_block(page: str, block_id: str) -> dict:  # type: ignore[type-arg]
    found = re.search(rf'<script type="application/json" id="{block_id}">(.*?)</script>', page,
                      re.S)
    assert found, f"no {block_id} block"
    return json.loads(found.group(1))  # type: ignore[no-any-return]


@pytest.mark.parametrize("username", ["operator.segura", "dispatcher.segura", "analyst.segura",
                                      "supervisor.segura"])
def test_roles_with_live_footage_get_the_wall(client: TestClient, username: str) -> None:
    _console_login(client, username)
    page = client.get("/wall")
    assert page.status_code == 200
    assert 'data-testid="nav-wall"' in page.text and "Muro de video" in page.text
    for n in (1, 4, 9, 16):
        assert f'data-testid="layout-{n}"' in page.text
    listed = set(re.findall(r'data-testid="wall-camera-([A-Z0-9-]+)"', page.text))
    assert listed == {f"SEG-{i:03}" for i in range(1, 11)} | {"PN-001", "PN-002"}
    config = _json_block(page.text, "wall-config")
    assert config["user"] == username and config["layouts"] == [1, 4, 9, 16]
    assert {c["id"] for c in config["cameras"]} == listed
    assert 'id="events-list"' in page.text and "/static/events.js" in page.text


@pytest.mark.parametrize("username", ["auditor.segura", "admin.segura"])
def test_roles_without_live_footage_are_refused_the_wall(client: TestClient, platform: Platform,
                                                         username: str) -> None:
    _console_login(client, username)
    assert 'data-testid="nav-wall"' not in client.get("/map").text
    first_new = len(audit_rows(platform))
    page = client.get("/wall")
    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "Acceso denegado" in page.text and "wall-camera-" not in page.text
    refused = [r for r in audit_rows(platform)[first_new:] if r.action == "page.wall"]
    assert [(r.outcome, r.actor_username, r.channel) for r in refused] == [
        ("denied", username, "web")]


def test_wall_view_is_audited(client: TestClient, platform: Platform) -> None:
    _console_login(client, "operator.segura")
    first_new = len(audit_rows(platform))
    assert client.get("/wall").status_code == 200
    new = [(r.action, r.outcome) for r in audit_rows(platform)[first_new:]]
    assert ("page.wall", "allowed") in new
    assert ("detection.list", "allowed") in new  # the stored events shown with the page


def test_stored_detections_are_rendered_with_the_pages(client: TestClient,
                                                       platform: Platform) -> None:
    event = platform.bus.handle(commands.RecordDetection(
        "SEG-002", None, "line", ("person",), (7,), 0.87, (0.1, 0.1, 0.2, 0.3), 1.8e9,
        snapshot_jpeg=b"\xff\xd8picture\xff\xd9"))
    other = platform.bus.handle(commands.RecordDetection(
        "SEG-001", None, "zone", ("person",), (8,), 0.9, (0.1, 0.1, 0.2, 0.3), 1.8e9 + 1))
    _console_login(client, "operator.segura")
    camera = client.get("/cameras/SEG-002").text
    assert f'data-event-id="{event.event_id}"' in camera
    assert f'data-event-id="{other.event_id}"' not in camera  # only this camera's events
    assert "Cruce de línea" in camera and "persona · 87%" in camera
    assert f"/api/v1/detections/{event.event_id}/snapshot.jpg" in camera
    assert _json_block(camera, "events-config")["camera"] == "SEG-002"
    wall = client.get("/wall").text
    assert wall.index(other.event_id) < wall.index(event.event_id)  # newest first
    assert "Intrusión en zona" in wall
    # An auditor reads the events but gets no footage: no thumbnails.
    _console_login(client, "auditor.segura")
    audited = client.get("/cameras/SEG-002").text
    assert f'data-event-id="{event.event_id}"' in audited
    assert "snapshot.jpg" not in audited


def test_rule_editor_only_for_those_who_may_change_the_camera(client: TestClient) -> None:
    _console_login(client, "supervisor.segura")
    page = client.get("/cameras/SEG-002").text
    assert 'data-testid="rule-form"' in page and 'data-testid="rule-save"' in page
    assert "Carril central" in page and 'class="danger rule-delete"' in page
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert csrf and f'name="csrf" value="{csrf.group(1)}"' in page  # the session's token
    config = _json_block(page, "rules-config")
    assert config["editable"] is True and config["camera"] == "SEG-002"
    assert [r["name"] for r in config["rules"]] == ["Carril central"]
    assert config["rules"][0]["points"] == [[0.05, 0.5], [0.95, 0.5]]
    assert 'viewBox="0 0 1 1" preserveAspectRatio="none"' in page

    _console_login(client, "operator.segura")
    page = client.get("/cameras/SEG-002").text
    assert "Carril central" in page and 'data-testid="rule-overlay"' in page
    assert 'data-testid="rule-form"' not in page and "rule-delete" not in page
    assert 'data-testid="rules-readonly"' in page
    assert _json_block(page, "rules-config")["editable"] is False

    # The admin may change the camera but sees no footage: the editor draws on a blank canvas.
    _console_login(client, "admin.segura")
    page = client.get("/cameras/SEG-002").text
    assert 'data-testid="rule-form"' in page and 'id="snapshot"' not in page
    assert "stage-blank" in page


def test_partners_see_no_rules_of_a_shared_camera(client: TestClient,
                                                  platform: Platform) -> None:
    _console_login(client, "supervisor.policia")
    first_new = len(audit_rows(platform))
    page = client.get("/cameras/SEG-002").text
    assert 'data-testid="rules-partner"' in page
    assert "Carril central" not in page and 'data-testid="rule-form"' not in page
    new = [(r.action, r.outcome) for r in audit_rows(platform)[first_new:]]
    assert ("page.camera", "allowed") in new
    assert not [a for a in new if a[0] == "rule.list"]  # not even asked, so no refusal


def test_camera_page_reads_are_audited(client: TestClient, platform: Platform) -> None:
    _console_login(client, "supervisor.segura")
    first_new = len(audit_rows(platform))
    assert client.get("/cameras/SEG-002").status_code == 200
    new = [(r.action, r.outcome, r.object_id) for r in audit_rows(platform)[first_new:]]
    assert ("page.camera", "allowed", "SEG-002") in new
    assert ("rule.list", "allowed", "SEG-002") in new
    assert ("detection.list", "allowed", "SEG-002") in new


def test_json_blocks_cannot_be_closed_by_data() -> None:
    text = script_json({"name": "</script><script>alert(1)</script>", "q": "a&b"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>", "q": "a&b"}


def test_both_languages_have_the_new_texts() -> None:
    from sereno.entrypoints.web.i18n import MESSAGES

    for key in ("nav.wall", "wall.no_signal", "events.kind.line", "events.kind.zone",
                "events.kind.loiter", "events.kind.crowd", "events.quality.scene_changed",
                "events.status.offline", "rules.save"):
        assert MESSAGES["es"][key] and MESSAGES["en"][key]
    assert MESSAGES["es"]["wall.no_signal"] == "Sin señal"
    assert MESSAGES["en"]["wall.no_signal"] == "No signal"
