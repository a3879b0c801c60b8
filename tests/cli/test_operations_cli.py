"""``sereno operations list|create|cancel|summary`` and ``sereno demo operation`` against the
shared demo node."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sereno.entrypoints.cli import app
from tests.cli.conftest import runner

AREA = {"type": "Polygon", "coordinates": [[
    [-79.8850, -2.2000], [-79.8760, -2.2000], [-79.8760, -2.1900], [-79.8850, -2.1900],
    [-79.8850, -2.2000]]]}


def test_plan_list_summarise_and_cancel(node: Path) -> None:
    area = node / "malecon.geojson"
    area.write_text(json.dumps(AREA), encoding="utf-8")
    now = datetime.now(UTC)
    window = ["--starts-at", now.isoformat(), "--ends-at", (now + timedelta(hours=2)).isoformat()]
    created = runner.invoke(app, [
        "operations", "create", "Operativo Malecón", "--as", "supervisor.segura", "--area",
        str(area), *window, "--participant", "policia-nacional", "--camera", "SEG-001",
        "--code", "op-prueba", "--json"])
    assert created.exit_code == 0, created.output
    operation = json.loads(created.output)
    assert operation["code"] == "OP-PRUEBA" and operation["status"] == "active"
    listed = runner.invoke(app, ["operations", "list", "--as", "operator.policia", "--json"])
    assert listed.exit_code == 0, listed.output
    assert operation["id"] in {o["id"] for o in json.loads(listed.output)}
    summary = runner.invoke(app, ["operations", "summary", operation["id"], "--as",
                                  "analyst.policia"])
    assert summary.exit_code == 0, summary.output
    assert json.loads(summary.output)["alerts"]["total"] == 0
    refused = runner.invoke(app, ["operations", "cancel", operation["id"], "--as",
                                  "supervisor.policia", "--reason", "no es nuestra"])
    assert refused.exit_code == 1 and "lead agency" in refused.output
    cancelled = runner.invoke(app, ["operations", "cancel", operation["id"], "--as",
                                    "supervisor.segura", "--reason", "lluvia intensa"])
    assert cancelled.exit_code == 0, cancelled.output
    bad = runner.invoke(app, ["operations", "create", "Nada", "--as", "supervisor.segura",
                              "--area", str(area), "--starts-at", "mañana", "--ends-at",
                              "pasado", "--participant", "policia-nacional"])
    assert bad.exit_code == 1 and "ISO 8601" in bad.output


def test_the_demo_operation_is_planned_once(node: Path) -> None:
    first = runner.invoke(app, ["demo", "operation"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["demo", "operation"])
    assert again.exit_code == 0 and again.output == first.output
    listed = runner.invoke(app, ["operations", "list", "--as", "operator.segura", "--json"])
    [demo] = json.loads(listed.output)
    assert demo["title"] == "Operativo Malecón 2000 seguro" and demo["status"] == "active"
    assert demo["participants"] == ["policia-nacional", "segura-ep"]
