"""The console's map tiles come only from an approved ``map_tiles`` egress destination: the tile
URL reaches the page and the Content-Security-Policy only while the registry allows it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sereno.bootstrap import Platform, bootstrap
from sereno.domain import commands
from sereno.entrypoints.api.app import create_app
from tests.api.security_cases import _as
from tests.api.test_agency_scoping import _console_login
from tests.conftest import FakeClock
from tests.conftest import test_settings as settings_for

TILES = "https://tiles.example.org/osm/{z}/{x}/{y}.png"


@pytest.fixture
def tiled(database_url: str, tmp_path: Path, media_root: Path,
          clock: FakeClock) -> Iterator[tuple[Platform, TestClient]]:
    platform = bootstrap(settings_for(tmp_path, database_url, media_root,
                                      console={"map_tile_url": TILES}), clock=clock)
    with TestClient(create_app(platform)) as client:
        yield platform, client
    platform.close()


def _map(client: TestClient) -> tuple[str, str]:
    page = client.get("/map")
    assert page.status_code == 200
    return page.text, page.headers["content-security-policy"]


def test_tiles_follow_the_egress_registry(tiled: tuple[Platform, TestClient]) -> None:
    platform, client = tiled
    _console_login(client, "operator.segura")
    text, policy = _map(client)
    assert "tiles.example.org" not in text and "tiles.example.org" not in policy
    admin, auditor = _as(platform, "admin.segura"), _as(platform, "auditor.segura")
    # a webhook registration of the same host does not count: the purpose must be map_tiles
    hook = platform.bus.handle(commands.RegisterEgressDestination(
        admin, "not tiles", "webhook", "https://tiles.example.org/osm"))
    platform.bus.handle(commands.ApproveEgressDestination(auditor, hook.id))
    assert "tiles.example.org" not in _map(client)[0]
    tiles = platform.bus.handle(commands.RegisterEgressDestination(
        admin, "OSM tiles", "map_tiles", "https://tiles.example.org/osm"))
    assert "tiles.example.org" not in _map(client)[0]  # pending
    platform.bus.handle(commands.ApproveEgressDestination(auditor, tiles.id))
    text, policy = _map(client)
    assert TILES in text and "img-src 'self' data: blob: https://tiles.example.org" in policy
    platform.bus.handle(commands.RevokeEgressDestination(admin, tiles.id, "end of contract"))
    text, policy = _map(client)
    assert "tiles.example.org" not in text and "tiles.example.org" not in policy
