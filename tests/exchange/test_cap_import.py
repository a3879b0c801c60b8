"""Importing CAP 1.2: valid messages from registered sources become alerts (Update and Cancel
act on the alert their references name, only the same sender's), repeated messages never make
a second alert, every accepted message is kept as received, invalid and hostile XML is refused
with the validator's reasons, and everything is audited. Through the API and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from sereno.adapters.db.tables import alerts, cap_messages
from sereno.bootstrap import Platform
from sereno.domain.alerts import ActionKind
from sereno.entrypoints.cli import app
from sereno.exchange.cap.importer import read_message
from sereno.exchange.cap.validation import MAX_BYTES, parse_cap
from tests.conftest import TEST_TOTP_KEY, audit_rows, bearer
from tests.support.cap import CAP, RIESGOS, message, raise_alert, register

CORPUS = Path(__file__).parent / "cap_corpus"
VALID = sorted((CORPUS / "valid").glob("*.xml"))
SIGNED = [p for p in VALID if b"xmldsig#" in p.read_bytes()]
UNSIGNED = [p for p in VALID if p not in SIGNED]
INVALID = sorted((CORPUS / "invalid").glob("*.xml"))


def _count(platform: Platform, table) -> int:  # type: ignore[no-untyped-def]
    with platform.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def _post(client: TestClient, body: bytes, username: str = "dispatcher.segura",
          content_type: str = "application/cap+xml"):  # type: ignore[no-untyped-def]
    return client.post(CAP, content=body, headers={**bearer(client, username),
                                                  "Content-Type": content_type})


@pytest.mark.parametrize("path", UNSIGNED, ids=lambda p: p.name)
def test_every_valid_corpus_message_is_accepted_and_kept_as_received(
        client: TestClient, platform: Platform, path: Path) -> None:
    data = path.read_bytes()
    sent = read_message(parse_cap(data))
    register(platform, sent.sender)
    response = _post(client, data)
    assert response.status_code in (200, 201), response.text
    body = response.json()
    assert body["msg_type"] == sent.msg_type and body["duplicate"] is False
    if sent.msg_type in ("Alert", "Update"):  # nothing known to update: a new alert
        assert body["outcome"] == "created" and response.status_code == 201
        with platform.uow() as uow:
            alert = uow.alerts.get(body["alert_id"])
        assert alert is not None and alert.agency_id == "segura-ep"
        assert alert.source.value == "external" and alert.cap_identifier == sent.identifier
        assert alert.headline and alert.event
    else:
        assert body["alert_id"] is None and body["outcome"] == "recorded"
    with platform.engine.connect() as connection:
        kept = connection.execute(select(cap_messages.c.xml, cap_messages.c.msg_type)).one()
    encoding = "iso-8859-1" if b"ISO-8859-1" in data[:100].upper() else "utf-8"
    assert kept.xml == data.decode(encoding) and kept.msg_type == sent.msg_type


@pytest.mark.parametrize("path", SIGNED, ids=lambda p: p.name)
def test_signed_corpus_messages_are_refused_without_a_pinned_certificate(
        client: TestClient, platform: Platform, path: Path) -> None:
    register(platform, read_message(parse_cap(path.read_bytes())).sender)
    response = _post(client, path.read_bytes())
    assert response.status_code == 422
    assert "no certificate is pinned" in response.json()["error"]["message"]
    assert _count(platform, cap_messages) == 0


def test_spanish_info_position_and_area_are_taken(client: TestClient,
                                                   platform: Platform) -> None:
    register(platform)
    body = _post(client, message()).json()
    with platform.uow() as uow:
        alert = uow.alerts.get(body["alert_id"])
    assert alert is not None
    assert (alert.category.value, alert.severity.value) == ("Met", "Severe")
    assert alert.headline == "Inundación en el Suburbio"
    assert alert.latitude == pytest.approx(-2.21) and alert.longitude == pytest.approx(-79.91)
    assert alert.area is not None and alert.area["type"] == "Polygon"
    assert alert.raised_at.isoformat() == "2026-11-25T08:00:00+00:00"


def test_a_repeated_message_returns_the_first_result(client: TestClient,
                                                      platform: Platform) -> None:
    register(platform)
    first = _post(client, message())
    again = _post(client, message(headline="Otra cosa"), username="supervisor.segura")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["alert_id"] == first.json()["alert_id"]
    assert _count(platform, cap_messages) == 1
    with platform.uow() as uow:
        assert len([a for a in uow.alerts.queue("segura-ep") if a.cap_sender == RIESGOS]) == 1


def test_update_and_cancel_act_on_the_referenced_alert(client: TestClient,
                                                       platform: Platform) -> None:
    register(platform)
    first = _post(client, message()).json()
    reference = f"{RIESGOS},SNGR-2026-0001,2026-11-25T03:00:00-05:00"
    update = _post(client, message("SNGR-2026-0002", msg_type="Update", references=reference,
                                   sent="2026-11-25T04:00:00-05:00",
                                   headline="Inundación se extiende", severity="Extreme"))
    assert update.status_code == 200 and update.json()["outcome"] == "updated"
    assert update.json()["alert_id"] == first["alert_id"]
    # A later update may name the previous update only.
    cancel = _post(client, message(
        "SNGR-2026-0003", msg_type="Cancel", sent="2026-11-25T05:00:00-05:00",
        references=f"{RIESGOS},SNGR-2026-0002,2026-11-25T04:00:00-05:00"))
    assert cancel.json()["outcome"] == "cancelled"
    with platform.uow() as uow:
        alert = uow.alerts.get(first["alert_id"])
        timeline = [a.kind for a in uow.alerts.actions(first["alert_id"])]
    assert alert is not None
    assert (alert.headline, alert.severity.value, alert.status.value) == (
        "Inundación se extiende", "Extreme", "cancelled")
    assert timeline == [ActionKind.RAISED, ActionKind.UPDATED, ActionKind.CANCELLED]
    assert _count(platform, cap_messages) == 3


def test_one_source_never_changes_anothers_alert(client: TestClient,
                                                 platform: Platform) -> None:
    register(platform)
    register(platform, "intruso@example.org")
    first = _post(client, message()).json()
    forged = _post(client, message(
        "X-1", sender="intruso@example.org", msg_type="Cancel",
        references=f"{RIESGOS},SNGR-2026-0001,2026-11-25T03:00:00-05:00"))
    assert forged.status_code == 200 and forged.json()["outcome"] == "recorded"
    with platform.uow() as uow:
        alert = uow.alerts.get(first["alert_id"])
    assert alert is not None and alert.status.value == "open"


def test_an_ack_of_our_own_message_is_noted_on_the_alert(client: TestClient,
                                                        platform: Platform) -> None:
    alert = raise_alert(platform)
    exported = client.get(f"/api/v1/alerts/{alert.id}/cap",
                          headers=bearer(client, "operator.segura")).content
    ours = read_message(parse_cap(exported))
    register(platform, "cap@policia.gob.ec")
    ack = message("PN-ACK-1", sender="cap@policia.gob.ec", msg_type="Ack",
                  references=f"{ours.sender},{ours.identifier},{ours.sent}")
    response = _post(client, ack)
    assert response.json()["outcome"] == "acknowledged"
    assert response.json()["alert_id"] == alert.id
    error = message("PN-ERR-1", sender="cap@policia.gob.ec", msg_type="Error",
                    references=f"{ours.sender},{ours.identifier},{ours.sent}")
    assert _post(client, error).json()["outcome"] == "recorded"
    with platform.uow() as uow:
        timeline = uow.alerts.actions(alert.id)
        assert uow.alerts.get(alert.id).status.value == "open"  # type: ignore[union-attr]
    assert timeline[-1].kind is ActionKind.PARTNER_ACKNOWLEDGED
    assert timeline[-1].by == "cap:cap@policia.gob.ec"


def test_our_export_round_trips_into_a_partner_queue(client: TestClient,
                                                     platform: Platform) -> None:
    """Segura EP's export, imported by the police: the Update after an acknowledgement and the
    Cancel after a dismissal act on the police's one copy."""
    alert = raise_alert(platform)
    segura = bearer(client, "operator.segura")
    register(platform, "sereno@segura-ep.sereno", admin="admin.policia")
    first = _post(client, client.get(f"/api/v1/alerts/{alert.id}/cap", headers=segura).content,
                  username="dispatcher.policia").json()
    assert first["outcome"] == "created"
    client.post(f"/api/v1/alerts/{alert.id}/dismiss", headers=segura,
                json={"note": "Era un vendedor ambulante"})
    cancel = _post(client, client.get(f"/api/v1/alerts/{alert.id}/cap", headers=segura).content,
                   username="dispatcher.policia").json()
    assert (cancel["msg_type"], cancel["outcome"]) == ("Cancel", "cancelled")
    assert cancel["alert_id"] == first["alert_id"]
    with platform.uow() as uow:
        copy = uow.alerts.get(first["alert_id"])
    assert copy is not None and copy.agency_id == "policia-nacional"
    assert copy.status.value == "cancelled"


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_corpus_messages_are_refused_with_the_reasons(
        client: TestClient, platform: Platform, path: Path) -> None:
    before = _count(platform, alerts)
    response = _post(client, path.read_bytes())
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["message"].startswith("not a valid CAP 1.2 message")
    assert error["details"] and all("problem" in d for d in error["details"])
    assert _count(platform, alerts) == before and _count(platform, cap_messages) == 0
    refused = [r for r in audit_rows(platform) if r.action == "cap.import"]
    assert refused[-1].outcome == "rejected"


HOSTILE = {
    "xxe": b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>""",
    "billion-laughs": b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><note>&lol3;</note></alert>""",
    "deep-nesting": (b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
                     + b"<x>" * 5000 + b"</x>" * 5000 + b"</alert>"),  # libxml2 stops at 256
    "nesting": (b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
                + b"<x>" * 40 + b"</x>" * 40 + b"</alert>"),  # Sereno's own limit
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused_through_the_api(client: TestClient, platform: Platform,
                                                name: str) -> None:
    response = _post(client, HOSTILE[name], content_type="application/xml")
    assert response.status_code == 422, response.text
    message_text = response.json()["error"]["message"]
    assert ("DOCTYPE" in message_text) if "nesting" not in name else (
        "deep" in message_text or "depth" in message_text)
    assert "root:" not in response.text  # nothing of /etc/passwd
    assert _count(platform, cap_messages) == 0


def test_oversized_messages_are_refused_with_413(client: TestClient,
                                                 platform: Platform) -> None:
    register(platform)
    padding = b"<!-- " + b"x" * MAX_BYTES + b" -->"
    response = _post(client, message().replace(b"<status>", padding + b"<status>"))
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    refused = [r for r in audit_rows(platform) if r.action == "cap.import"]
    assert refused[-1].outcome == "rejected" and "bytes" in refused[-1].reason


def test_who_may_import(client: TestClient, platform: Platform) -> None:
    assert _post(client, message()).status_code == 403  # not a registered source
    register(platform)
    for username in ("analyst.segura", "admin.segura", "auditor.segura"):
        assert _post(client, message(), username=username).status_code == 403, username
    assert _post(client, message(), content_type="application/json").status_code == 415
    assert _post(client, message(), username="operator.segura").status_code == 201
    long_sender = _post(client, message(sender="x" * 1000 + "@example.org"))
    assert long_sender.status_code == 403  # refused and audited, however long the sender
    assert [r for r in audit_rows(platform) if r.action == "cap.import"][-1].outcome == "denied"


# ---- the command line --------------------------------------------------------------------------

runner = CliRunner()


def test_cli_import_exit_codes(platform: Platform, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no sereno.toml of the checkout
    monkeypatch.setenv("SERENO_DATA_DIR", str(platform.settings.data_dir))
    monkeypatch.setenv("SERENO_DATABASE_URL", platform.settings.db_url)
    monkeypatch.setenv("SERENO_AUTH__TOTP_KEY", TEST_TOTP_KEY)
    monkeypatch.setenv("SERENO_VIDEO__ENABLED", "false")
    register(platform)
    good = tmp_path / "good.xml"
    good.write_bytes(message())
    result = runner.invoke(app, ["cap", "import", str(good), "--as", "dispatcher.segura"])
    assert result.exit_code == 0, result.output
    with platform.uow() as uow:
        created = [a for a in uow.alerts.queue("segura-ep") if a.cap_sender == RIESGOS]
    assert len(created) == 1 and created[0].id in result.output
    again = runner.invoke(app, ["cap", "import", str(good), "--as", "dispatcher.segura"])
    assert again.exit_code == 0 and "already received" in again.output
    bad = CORPUS / "invalid" / "google-invalid-schema.xml"
    refused = runner.invoke(app, ["cap", "import", str(bad), "--as", "dispatcher.segura"])
    assert refused.exit_code == 1 and "not a valid CAP 1.2 message" in refused.output
    missing = runner.invoke(app, ["cap", "import", str(tmp_path / "nope.xml"),
                                  "--as", "dispatcher.segura"])
    assert missing.exit_code == 2 and "cannot read" in missing.output
