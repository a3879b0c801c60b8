"""``sereno egress``, ``sereno breaches`` and ``sereno dpia`` against a fresh embedded node."""

from __future__ import annotations

import json
from pathlib import Path

from sereno.entrypoints.cli import app
from tests.cli.conftest import runner


def _json(args: list[str]) -> list[dict[str, object]]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.output)
    return rows


def test_egress_register_approve_revoke(node: Path) -> None:
    added = runner.invoke(app, ["egress", "add", "--as", "admin.segura", "--name", "ECU 911",
                                "--purpose", "webhook", "--url", "https://ecu911.example/h"])
    assert added.exit_code == 0, added.output
    [row] = _json(["egress", "list", "--as", "auditor.segura"])
    assert row["state"] == "pending" and row["url"] == "https://ecu911.example/h"
    own = runner.invoke(app, ["egress", "approve", "--as", "admin.segura", str(row["id"])])
    assert own.exit_code == 1 and "forbidden" in own.output
    approved = runner.invoke(app, ["egress", "approve", "--as", "auditor.segura",
                                   str(row["id"])])
    assert approved.exit_code == 0, approved.output
    revoked = runner.invoke(app, ["egress", "revoke", "--as", "admin.segura", str(row["id"]),
                                  "--reason", "fin del convenio"])
    assert revoked.exit_code == 0, revoked.output
    assert _json(["egress", "list", "--as", "admin.segura"])[0]["state"] == "revoked"
    plain = runner.invoke(app, ["egress", "add", "--as", "admin.segura", "--name", "x",
                                "--purpose", "webhook", "--url", "http://203.0.113.5/h"])
    assert plain.exit_code == 1 and "https" in plain.output


def test_breaches_open_list_notice_draft(node: Path) -> None:
    opened = runner.invoke(app, ["breaches", "open", "--as", "auditor.segura",
                                 "--description", "Clip filtrado", "--data-class", "media",
                                 "--camera", "SEG-001"])
    assert opened.exit_code == 0, opened.output
    [case] = _json(["breaches", "list", "--as", "auditor.segura"])
    assert case["trigger"] == "manual" and case["overdue"] is None
    draft = runner.invoke(app, ["breaches", "draft", "--as", "auditor.segura", str(case["id"]),
                                "authority"])
    assert "Superintendencia de Protección de Datos Personales" in draft.output
    sent = runner.invoke(app, ["breaches", "notice", "--as", "auditor.segura", str(case["id"]),
                               "authority", "--reference", "SPDP-1"])
    assert sent.exit_code == 0, sent.output
    assert _json(["breaches", "list", "--as", "auditor.segura"])[0]["authority_sent"]
    denied = runner.invoke(app, ["breaches", "list", "--as", "admin.segura"])
    assert denied.exit_code == 1


def test_dpia_list_shows_the_demo_assessments(node: Path) -> None:
    rows = _json(["dpia", "list", "--as", "auditor.segura"])
    assert {r["centre"] for r in rows} == {"segura-centro", "segura-norte"}
    assert all(r["in_force"] for r in rows)
