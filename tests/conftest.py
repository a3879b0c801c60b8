"""Shared fixtures: a seeded platform on SQLite and on the real PostgreSQL, clients, clocks.

Each engine gets one seeded template per test session; every test then works on its own copy
(a file copy for SQLite, ``CREATE DATABASE … TEMPLATE`` for PostgreSQL) and drops it afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from sereno.adapters.totp import code_at, step_at
from sereno.bootstrap import Platform, bootstrap
from sereno.config import Settings
from sereno.demo.city import DEMO_PASSWORD, USERS, demo_totp_secret
from sereno.demo.media import prepare_sources
from sereno.demo.seed import seed_demo_city
from sereno.entrypoints.api.app import create_app

PG_ADMIN_DSN = os.environ.get("SERENO_TEST_PG_DSN", "host=127.0.0.1 port=5432 user=postgres "
                                                    "dbname=postgres")
PG_URL_PREFIX = os.environ.get("SERENO_TEST_PG_URL",
                               "postgresql+psycopg://postgres@127.0.0.1:5432")
ENGINES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
# One key seals the TOTP secrets of every test node: the seeded templates are copied into each
# test's own data folder, so a key file per folder would not open them.
TEST_TOTP_KEY = "c2VyZW5vLXRlc3QtdG90cC1rZXktMzItYnl0ZXMhISE="
SECOND_FACTOR_USERS = frozenset(u.username for u in USERS if u.needs_second_factor)


class FakeClock:
    """A clock tests can move forward."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def test_settings(data_dir: Path, database_url: str, media_root: Path,
                  **overrides: Any) -> Settings:
    """Settings for a test node: cheap Argon2 (the hashing itself is tested separately)."""
    # Each node gets its own media folder (snapshots, recordings, clips); the sample clips the
    # cameras play are prepared once per session and shared read-only.
    return Settings(
        data_dir=data_dir, database_url=database_url,
        media={"root": data_dir / "media", "allowed_file_roots": [media_root / "sources"]},
        auth={"argon2_time_cost": 1, "argon2_memory_kib": 1024, "totp_key": TEST_TOTP_KEY},
        **overrides,
    )


@pytest.fixture(scope="session")
def media_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("media")
    prepare_sources(root / "sources")
    return root


def _pg_admin() -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if os.environ.get("SERENO_SKIP_POSTGRES") == "1":
            pytest.skip("PostgreSQL not reachable and SERENO_SKIP_POSTGRES=1")
        pytest.fail(f"PostgreSQL is not reachable ({error}); start it (.ci/run does) or set "
                    "SERENO_SKIP_POSTGRES=1 to skip its half of the suite")


@dataclass
class Template:
    engine: str
    location: str  # SQLite file path or PostgreSQL database name


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory,
              media_root: Path) -> Iterator[dict[str, Template]]:
    made: dict[str, Template] = {}
    yield made
    for template in made.values():
        if template.engine == "postgresql":
            with _pg_admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{template.location}" WITH (FORCE)')


def _template_for(engine: str, templates: dict[str, Template], base: Path,
                  media_root: Path) -> Template:
    if engine in templates:
        return templates[engine]
    if engine == "sqlite":
        path = base / "template.db"
        url = f"sqlite:///{path}"
        location = str(path)
    else:
        location = f"sereno_tpl_{uuid.uuid4().hex[:10]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{location}"')
        url = f"{PG_URL_PREFIX}/{location}"
    platform = bootstrap(test_settings(base, url, media_root))
    seed_demo_city(platform)
    platform.close()
    templates[engine] = Template(engine, location)
    return templates[engine]


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, templates: dict[str, Template],
                 tmp_path_factory: pytest.TempPathFactory, media_root: Path) -> Iterator[str]:
    """A freshly seeded demo-city database of the parametrised engine, dropped afterwards."""
    engine: str = request.param
    template = _template_for(engine, templates, tmp_path_factory.mktemp(f"tpl-{engine}"),
                             media_root)
    if engine == "sqlite":
        path = tmp_path / "sereno.db"
        shutil.copyfile(template.location, path)
        yield f"sqlite:///{path}"
        return
    name = f"sereno_t_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template.location}"')
    try:
        yield f"{PG_URL_PREFIX}/{name}"
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def platform(database_url: str, tmp_path: Path, media_root: Path,
             clock: FakeClock) -> Iterator[Platform]:
    built = bootstrap(test_settings(tmp_path, database_url, media_root), clock=clock)
    yield built
    built.close()


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient]:
    with TestClient(create_app(platform), base_url="http://testserver") as test_client:
        yield test_client


def demo_code(platform: Platform, username: str) -> str:
    """The code a demo user's authenticator app shows now (the platform's clock). When this
    30-second step's code was already used (a second login within the step), the fake clock
    moves on to the next step, as a person would wait for the next code."""
    clock = platform.clock
    with platform.uow() as uow:
        user = uow.users.by_username(username)
        last = user.totp_last_step if user is not None else None
    if last is not None and step_at(clock()) <= last:
        assert isinstance(clock, FakeClock), "a real clock cannot wait for the next code here"
        clock.advance(seconds=(last + 1 - step_at(clock())) * 30)
    return code_at(demo_totp_secret(username), clock())


def bearer(client: TestClient, username: str, password: str = DEMO_PASSWORD,
           **form: str) -> dict[str, str]:
    """Log in through the API and return the Authorization header (with the current one-time
    code for the demo users who need one)."""
    if username in SECOND_FACTOR_USERS and "otp" not in form:
        form["otp"] = demo_code(client.app.state.platform, username)  # type: ignore[attr-defined]
    response = client.post("/api/v1/auth/token",
                           data={"username": username, "password": password, **form})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def audit_rows(platform: Platform) -> list[Any]:
    """Every audit record, oldest first."""
    from sqlalchemy import select

    from sereno.adapters.db.tables import audit_records

    with platform.engine.connect() as connection:
        return list(connection.execute(select(audit_records).order_by(audit_records.c.id)))
