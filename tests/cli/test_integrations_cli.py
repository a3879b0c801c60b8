"""``sereno integrations`` against a fresh embedded node: an MQTT integration on an approved
broker, listed and deactivated; refusals exit 1 with the reason."""

from __future__ import annotations

import json
from pathlib import Path

from sereno.entrypoints.cli import app
from tests.cli.conftest import runner


def _json(args: list[str]) -> object:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _broker() -> str:
    added = runner.invoke(app, ["egress", "add", "--as", "admin.segura", "--name", "Node-RED",
                                "--purpose", "mqtt", "--url", "mqtt://127.0.0.1:1883/sereno"])
    assert added.exit_code == 0, added.output
    rows = _json(["egress", "list", "--as", "auditor.segura"])
    assert isinstance(rows, list)
    return str(rows[0]["id"])


def test_integrations_add_list_deactivate(node: Path) -> None:
    broker = _broker()
    pending = runner.invoke(app, ["integrations", "add", "--as", "admin.segura", "--kind",
                                  "mqtt", "--destination", broker, "--target", "sereno/alertas"])
    assert pending.exit_code == 1 and "pending" in pending.output  # not approved yet
    assert runner.invoke(app, ["egress", "approve", "--as", "auditor.segura",
                               broker]).exit_code == 0
    outside = runner.invoke(app, ["integrations", "add", "--as", "admin.segura", "--kind",
                                  "mqtt", "--destination", broker, "--target", "otro/tema"])
    assert outside.exit_code == 1 and "outside" in outside.output
    added = _json(["integrations", "add", "--as", "admin.segura", "--kind", "mqtt",
                   "--destination", broker, "--target", "sereno/alertas", "--category", "Fire",
                   "--category", "Security", "--min-severity", "Severe"])
    assert isinstance(added, dict) and len(str(added["secret"])) >= 32
    [row] = _json(["integrations", "list", "--as", "admin.segura"])  # type: ignore[misc]
    assert row["categories"] == ["Fire", "Security"] and row["active"] is True
    assert "secret" not in row
    denied = runner.invoke(app, ["integrations", "list", "--as", "operator.segura"])
    assert denied.exit_code == 1
    done = runner.invoke(app, ["integrations", "deactivate", "--as", "admin.segura",
                               str(added["id"])])
    assert done.exit_code == 0, done.output
    [row] = _json(["integrations", "list", "--as", "admin.segura"])  # type: ignore[misc]
    assert row["active"] is False
