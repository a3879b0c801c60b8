"""The wall offers the cameras of the joint operations active now, only those the caller may
see (the API and the console page agree)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from sereno.bootstrap import Platform
from tests.api.operation_cases import segura_operation
from tests.api.test_agency_scoping import _console_login
from tests.conftest import FakeClock, bearer


def _offered(page: str) -> set[str]:
    return set(re.findall(r'data-testid="wall-op-camera-([A-Z0-9-]+)"', page))


def test_active_operation_cameras_on_the_wall(client: TestClient, platform: Platform,
                                              clock: FakeClock) -> None:
    segura_operation(platform, with_police=True)  # SEG-001 (shared), SEG-006 (private)
    police = client.get("/api/v1/operations/active", headers=bearer(client, "operator.policia"))
    assert police.status_code == 200, police.text
    [active] = police.json()
    assert [c["id"] for c in active["cameras"]] == ["SEG-001"]
    _console_login(client, "operator.policia")
    page = client.get("/wall").text
    assert 'data-testid="wall-operations"' in page and "Operativos conjuntos" in page
    assert _offered(page) == {"SEG-001"}
    with TestClient(client.app) as segura:
        _console_login(segura, "operator.segura")
        assert _offered(segura.get("/wall").text) == {"SEG-001", "SEG-006"}
        clock.advance(hours=4)  # the operation is over: nothing offered
        assert 'data-testid="wall-operations"' not in segura.get("/wall").text
