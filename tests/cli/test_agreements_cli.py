"""``sereno agreements list|create|revoke`` against the shared demo node."""

from __future__ import annotations

import json
from pathlib import Path

from sereno.entrypoints.cli import app
from tests.cli.conftest import runner


def test_create_list_and_revoke(node: Path) -> None:
    created = runner.invoke(app, [
        "agreements", "create", "policia-nacional", "Incendios", "--as", "admin.segura",
        "--category", "Fire", "--category", "Rescue", "--min-severity", "Moderate",
        "--include-media", "--json"])
    assert created.exit_code == 0, created.output
    agreement = json.loads(created.output)
    assert agreement["categories"] == ["Fire", "Rescue"] and agreement["redact_faces"]
    listed = runner.invoke(app, ["agreements", "list", "--as", "operator.policia", "--json"])
    assert listed.exit_code == 0
    assert agreement["id"] in {a["id"] for a in json.loads(listed.output)}
    refused = runner.invoke(app, ["agreements", "revoke", agreement["id"], "no nos gusta",
                                  "--as", "admin.policia"])  # the receiver does not revoke
    assert refused.exit_code == 1 and "giving agency" in refused.output
    revoked = runner.invoke(app, ["agreements", "revoke", agreement["id"], "fin del convenio",
                                  "--as", "admin.segura"])
    assert revoked.exit_code == 0, revoked.output
    bad = runner.invoke(app, ["agreements", "create", "policia-nacional", "Nada", "--as",
                              "admin.segura", "--category", "Fire", "--valid-until",
                              "mañana"])
    assert bad.exit_code == 1 and "ISO 8601" in bad.output
