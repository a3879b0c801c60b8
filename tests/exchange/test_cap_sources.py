"""Registered CAP sources: administrators register a sender and pin its certificate (API and
CLI); re-registering replaces the pin; bad certificates and impossible settings are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from sereno.bootstrap import Platform
from sereno.entrypoints.cli import app
from sereno.exchange.cap import signature
from tests.conftest import TEST_TOTP_KEY, bearer
from tests.support.cap import signing_pair

SOURCES = "/api/v1/cap/sources"


def test_admins_register_and_re_pin_a_source(client: TestClient, platform: Platform) -> None:
    admin = bearer(client, "admin.segura")
    _, first = signing_pair("uno")
    _, second = signing_pair("dos")
    body = {"sender": "alertas@riesgos.gob.ec", "name": "Secretaría de Gestión de Riesgos",
            "certificate_pem": first.decode(), "require_signature": True}
    created = client.post(SOURCES, headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["fingerprint"] == signature.fingerprint(
        signature.load_certificate(first.decode()))
    again = client.post(SOURCES, headers=admin, json={**body, "certificate_pem": second.decode()})
    assert again.status_code == 201
    listed = client.get(SOURCES, headers=admin).json()
    assert [s["id"] for s in listed] == [again.json()["id"]]  # the first one is retired
    with platform.uow() as uow:
        active = uow.cap_sources.active("segura-ep", "alertas@riesgos.gob.ec")
    assert active is not None and active.certificate_pem == second.decode().strip()


@pytest.mark.parametrize(("body", "reason"), [
    ({"sender": "a b@x", "name": "Con espacios"}, "spaces"),
    ({"sender": "a@x", "name": "Sin certificado", "require_signature": True}, "pinned"),
    ({"sender": "a@x", "name": "Certificado roto", "certificate_pem": "-----BEGIN x"}, "PEM"),
])
def test_bad_sources_are_refused(client: TestClient, body: dict[str, object],
                                 reason: str) -> None:
    response = client.post(SOURCES, headers=bearer(client, "admin.segura"), json=body)
    assert response.status_code == 422 and reason in response.json()["error"]["message"]


def test_only_admins_manage_sources(client: TestClient) -> None:
    for username in ("supervisor.segura", "auditor.segura"):
        assert client.get(SOURCES, headers=bearer(client, username)).status_code == 403


def test_cli_sources_add_and_list(platform: Platform, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SERENO_DATA_DIR", str(platform.settings.data_dir))
    monkeypatch.setenv("SERENO_DATABASE_URL", platform.settings.db_url)
    monkeypatch.setenv("SERENO_AUTH__TOTP_KEY", TEST_TOTP_KEY)
    monkeypatch.setenv("SERENO_VIDEO__ENABLED", "false")
    _, certificate = signing_pair()
    pem = tmp_path / "riesgos.pem"
    pem.write_bytes(certificate)
    runner = CliRunner()
    added = runner.invoke(app, ["cap", "sources", "add", "alertas@riesgos.gob.ec",
                                "Gestión de Riesgos", "--certificate", str(pem),
                                "--require-signature", "--as", "admin.segura"])
    assert added.exit_code == 0, added.output
    fingerprint = signature.fingerprint(signature.load_certificate(certificate.decode()))
    assert fingerprint in added.output
    listed = runner.invoke(app, ["cap", "sources", "list", "--json", "--as", "admin.segura"])
    assert listed.exit_code == 0 and fingerprint in listed.output
    refused = runner.invoke(app, ["cap", "sources", "list", "--as", "operator.segura"])
    assert refused.exit_code == 1
