"""The console's retention page: periods, legal holds and purge reports, as far as the role
reaches; both languages."""

from __future__ import annotations

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from sereno.domain import commands
from tests.api.retention_cases import _who, segura_detection, segura_hold
from tests.api.test_agency_scoping import _console_login


def test_auditors_see_holds_and_purge_reports(client: TestClient, platform: Platform) -> None:
    hold_id = segura_hold(platform)
    segura_detection(platform, days_old=400)
    platform.bus.handle(commands.PurgeExpired(_who(platform, "admin.segura")))
    _console_login(client, "auditor.segura")
    page = client.get("/retention")
    assert page.status_code == 200
    assert 'data-testid="nav-retention"' in page.text
    assert f'data-hold-id="{hold_id}"' in page.text and "FGE-2026-000123" in page.text
    assert "Plazos de conservación" in page.text and "Grabación continua" in page.text
    purges = page.text.split('data-testid="retention-purges"')[1]
    assert "admin.segura" in purges
    assert "bitácora sellada" in page.text
    client.get("/lang/en")
    assert "Legal holds" in client.get("/retention").text


def test_administrators_see_periods_but_no_cases(client: TestClient,
                                                 platform: Platform) -> None:
    segura_hold(platform)
    _console_login(client, "admin.segura")
    page = client.get("/retention")
    assert page.status_code == 200
    assert 'data-testid="retention-policies"' in page.text
    assert "FGE-2026-000123" not in page.text  # case references are not the admin's business


def test_roles_without_retention_get_no_page(client: TestClient) -> None:
    _console_login(client, "operator.segura")
    assert 'data-testid="nav-retention"' not in client.get("/map").text
    assert client.get("/retention").status_code == 403
