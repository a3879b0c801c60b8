"""``sereno anomalies scan`` and ``sereno shifts`` against a fresh embedded node."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sereno.bootstrap import bootstrap
from sereno.config import load_settings
from sereno.domain.audit import AuditRecord, Outcome
from sereno.entrypoints.cli import app
from tests.cli.conftest import runner


@pytest.fixture
def node(node: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared demo node, with the anomaly scan taking even the records just written."""
    monkeypatch.setenv("SERENO_ANOMALIES__SETTLE_SECONDS", "0")
    return node


def _scan() -> dict[str, object]:
    result = runner.invoke(app, ["anomalies", "scan", "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(result.output)
    return report


def test_shifts_and_a_scan(node: Path) -> None:
    listed = runner.invoke(app, ["shifts", "list", "--as", "auditor.segura"])
    assert listed.exit_code == 0 and "operator" in listed.output
    assert "daily 07:00-19:00" in listed.output  # the demo's day shift
    changed = runner.invoke(app, ["shifts", "set", "--as", "admin.segura", "--user",
                                  "analyst.segura", "sat,sun 08:00-20:00"])
    assert changed.exit_code == 0 and "sat,sun 08:00-20:00" in changed.output
    refused = runner.invoke(app, ["shifts", "set", "--as", "auditor.segura", "--role",
                                  "operator", "always"])
    assert refused.exit_code == 1 and "forbidden" in refused.output
    first = _scan()
    assert first["alerts"] == 0 and int(str(first["scanned"])) > 0
    platform = bootstrap(load_settings())
    with platform.uow() as uow:
        user = uow.users.by_username("dispatcher.segura")
        assert user is not None
        now = datetime.now(UTC) - timedelta(seconds=30)
        for n in range(6):
            uow.audit.add(AuditRecord(
                at=now + timedelta(seconds=n), action="camera.update", outcome=Outcome.DENIED,
                actor_user_id=user.id, actor_username=user.username,
                actor_agency_id=user.agency_id, actor_roles="dispatcher", object_type="camera",
                object_id="SEG-001", object_agency_id="segura-ep", reason="forbidden"))
        uow.commit()
    platform.close()
    report = _scan()
    assert report["scanned"] == 6 and report["alerts"] == 1
    [finding] = report["findings"]  # type: ignore[misc]
    assert finding["detector"] == "many_denials" and finding["user"] == "dispatcher.segura"
    again = _scan()  # only the alert's own audit record is new: nothing twice
    assert again["scanned"] == 1 and again["alerts"] == 0
    assert _scan()["scanned"] == 0
