"""``sereno retention``: periods, legal holds and the purge from the command line, with the same
roles and audit as the API."""

from __future__ import annotations

import json
from pathlib import Path

from sereno.entrypoints.cli import app
from tests.cli.conftest import runner


def test_periods_holds_and_purge_from_the_command_line(node: Path) -> None:
    listed = runner.invoke(app, ["retention", "policies", "--as", "auditor.segura", "--json"])
    assert listed.exit_code == 0, listed.output
    assert {p["data_class"]: p["period_days"] for p in json.loads(listed.output)}["audit"] == 1825
    refused = runner.invoke(app, ["retention", "set-policy", "--as", "supervisor.segura",
                                  "snapshot", "7"])
    assert refused.exit_code == 1 and "forbidden" in refused.output
    changed = runner.invoke(app, ["retention", "set-policy", "--as", "admin.segura",
                                  "recording", "14", "--camera", "SEG-006"])
    assert changed.exit_code == 0 and "recording for SEG-006: 14 days" in changed.output
    negative = runner.invoke(app, ["retention", "set-policy", "--as", "admin.segura",
                                   "snapshot", "--", "-3"])
    assert negative.exit_code == 1 and "1 to 3650 days" in negative.output

    bad = runner.invoke(app, ["retention", "holds", "place", "--as", "supervisor.segura",
                              "--case", "caso-7", "--reason", "pedido de la Fiscalía",
                              "--camera", "SEG-006", "--start", "2026-11-25T10:00:00Z",
                              "--end", "2026-11-25T11:00:00Z"])
    assert bad.exit_code == 1 and "not a case reference" in bad.output
    placed = runner.invoke(app, ["retention", "holds", "place", "--as", "supervisor.segura",
                                 "--case", "FGE-2026-000123", "--reason",
                                 "pedido de la Fiscalía", "--camera", "SEG-006", "--start",
                                 "2026-11-25T10:00:00Z", "--end", "2026-11-25T11:00:00Z"])
    assert placed.exit_code == 0, placed.output
    holds = json.loads(runner.invoke(app, ["retention", "holds", "list", "--as",
                                           "auditor.segura", "--json"]).output)
    assert [h["case_reference"] for h in holds] == ["FGE-2026-000123"]
    released = runner.invoke(app, ["retention", "holds", "release", "--as", "approver.segura",
                                   holds[0]["id"], "--reason", "caso archivado"])
    assert released.exit_code == 0, released.output

    denied = runner.invoke(app, ["retention", "purge", "--as", "operator.segura"])
    assert denied.exit_code == 1 and "forbidden" in denied.output
    dry = runner.invoke(app, ["retention", "purge", "--as", "system", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    reports = json.loads(dry.output)
    assert {r["agency"] for r in reports} == {"segura-ep", "policia-nacional"}
    assert all(r["dry_run"] and r["audit"].startswith("kept") for r in reports)
    table = runner.invoke(app, ["retention", "purge", "--as", "admin.policia"])
    assert table.exit_code == 0 and "Purge of policia-nacional" in table.output
