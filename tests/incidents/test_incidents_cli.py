"""``sereno incidents``: create, list, show, transition and note, scoped to the acting user's
agency, with exit 1 and the reason for a refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sereno.bootstrap import Platform
from sereno.entrypoints.cli import app
from tests.conftest import TEST_TOTP_KEY, audit_rows

runner = CliRunner()


def test_cli_incident_lifecycle(platform: Platform, tmp_path: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SERENO_DATA_DIR", str(platform.settings.data_dir))
    monkeypatch.setenv("SERENO_DATABASE_URL", platform.settings.db_url)
    monkeypatch.setenv("SERENO_AUTH__TOTP_KEY", TEST_TOTP_KEY)
    monkeypatch.setenv("SERENO_VIDEO__ENABLED", "false")
    created = runner.invoke(app, [
        "incidents", "create", "--as", "operator.segura", "--type", "rina",
        "--title", "Riña en la Bahía", "--lat", "-2.1989", "--lon", "-79.8829", "--json"])
    assert created.exit_code == 0, created.output
    incident = json.loads(created.output)
    assert incident["priority"] == 3 and incident["status"] == "new"
    number = incident["number"]
    listed = runner.invoke(app, ["incidents", "list", "--as", "operator.segura", "--json"])
    assert [i["number"] for i in json.loads(listed.output)] == [number]
    police = runner.invoke(app, ["incidents", "list", "--as", "operator.policia", "--json"])
    # The police see their partner copy (the demo agreement), never Segura EP's number.
    assert [i["number"] for i in json.loads(police.output)] != [number]
    assert all(i["number"].startswith("POL-") for i in json.loads(police.output))
    hidden = runner.invoke(app, ["incidents", "show", number, "--as", "operator.policia"])
    assert hidden.exit_code == 1 and "not_found" in hidden.output
    moved = runner.invoke(app, ["incidents", "transition", number, "acknowledged",
                                "--version", "1", "--as", "operator.segura"])
    assert moved.exit_code == 0, moved.output
    stale = runner.invoke(app, ["incidents", "transition", number, "dispatched",
                                "--version", "1", "--as", "dispatcher.segura"])
    assert stale.exit_code == 1 and "stale_version" in stale.output
    illegal = runner.invoke(app, ["incidents", "transition", number, "closed",
                                  "--as", "dispatcher.segura"])
    assert illegal.exit_code == 1 and "cannot go from acknowledged to closed" in illegal.output
    noted = runner.invoke(app, ["incidents", "note", number, "Llegó la ambulancia",
                                "--as", "operator.segura"])
    assert noted.exit_code == 0, noted.output
    shown = runner.invoke(app, ["incidents", "show", number, "--as", "operator.segura",
                                "--json"])
    detail = json.loads(shown.output)
    assert [e["kind"] for e in detail["timeline"]] == ["created", "transition", "note"]
    assert detail["acknowledged_at"] is not None
    text = runner.invoke(app, ["incidents", "show", number, "--as", "operator.segura"])
    assert "Llegó la ambulancia" in text.output and "new→acknowledged" in text.output
    cli_records = [r for r in audit_rows(platform) if r.action.startswith("incident.")
                   and r.channel == "cli"]
    assert {r.action for r in cli_records} >= {"incident.create", "incident.list",
                                               "incident.transition", "incident.note",
                                               "incident.read"}
