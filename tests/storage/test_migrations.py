"""The Alembic migrations build exactly the schema the code maps, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from sereno.adapters.db import migrate
from sereno.adapters.db.engine import build_engine
from sereno.adapters.db.mapping import start_mappers
from sereno.adapters.db.tables import metadata
from tests.conftest import ENGINES, PG_URL_PREFIX, TEST_TOTP_KEY, _pg_admin, bearer


@pytest.fixture(params=ENGINES)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield engine
        engine.dispose()
        return
    name = f"sereno_m_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = build_engine(f"{PG_URL_PREFIX}/{name}")
    try:
        yield engine
    finally:
        engine.dispose()
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_match_the_mapped_schema(empty_engine: Engine) -> None:
    start_mappers()
    migrate.upgrade(empty_engine)
    assert migrate.current_revision(empty_engine) == migrate.head_revision()
    with empty_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
    tables = set(inspect(empty_engine).get_table_names())
    assert {"agencies", "monitoring_centres", "cameras", "users", "api_tokens", "web_sessions",
            "audit_records"} <= tables


def test_upgrade_is_idempotent_and_downgrade_works(empty_engine: Engine) -> None:
    migrate.upgrade(empty_engine)
    migrate.upgrade(empty_engine)
    config = migrate.alembic_config(empty_engine)
    from alembic import command

    with empty_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert "cameras" not in inspect(empty_engine).get_table_names()
    migrate.upgrade(empty_engine)
    assert "cameras" in inspect(empty_engine).get_table_names()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_timestamps_come_back_as_utc_on_every_engine(platform) -> None:  # type: ignore[no-untyped-def]
    with platform.uow() as uow:
        camera = uow.cameras.get("SEG-001")
    assert camera is not None and camera.created_at is not None
    assert camera.created_at.utcoffset() is not None
    assert camera.created_at.utcoffset().total_seconds() == 0


def test_audit_log_has_no_update_or_delete_path() -> None:
    from sereno.adapters.db.repositories import AuditRepository

    public = {name for name in dir(AuditRepository) if not name.startswith("_")}
    assert public == {"add", "count", "for_agency"}


def test_database_going_away_is_reported_by_healthz(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    platform = client.app.state.platform
    original = platform.engine
    platform.engine = build_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                                   connect_args={"connect_timeout": 1})
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json() == {"status": "degraded", "database": "unreachable"}
    finally:
        platform.engine.dispose()
        platform.engine = original
    with original.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1


def test_requests_while_the_database_is_away_get_a_clear_503(client) -> None:  # type: ignore[no-untyped-def]
    headers = bearer(client, "operator.segura")
    platform = client.app.state.platform
    gone = build_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                        connect_args={"connect_timeout": 1})
    platform.session_factory.configure(bind=gone)
    try:
        response = client.get("/api/v1/cameras", headers=headers)
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "database_unavailable"
        assert response.headers["retry-after"] == "5"
    finally:
        platform.session_factory.configure(bind=platform.engine)
        gone.dispose()
    assert client.get("/api/v1/cameras", headers=headers).status_code == 200


@pytest.mark.postgres
def test_production_profile_runs_on_postgresql(tmp_path: Path) -> None:
    """The production profile bootstraps on the real PostgreSQL and serves the API."""
    from fastapi.testclient import TestClient

    from sereno.bootstrap import bootstrap
    from sereno.config import Profile, Settings
    from sereno.entrypoints.api.app import create_app

    name = f"sereno_p_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        keyless = Settings(profile=Profile.PRODUCTION, data_dir=tmp_path,
                           database_url=f"{PG_URL_PREFIX}/{name}")
        with pytest.raises(ValueError, match="SERENO_AUTH__TOTP_KEY"):
            bootstrap(keyless, run_migrations=False)  # no key file is made up in production
        settings = Settings(profile=Profile.PRODUCTION, data_dir=tmp_path,
                            database_url=f"{PG_URL_PREFIX}/{name}",
                            auth={"totp_key": TEST_TOTP_KEY})
        assert settings.bus.kind == "nats" and settings.media.allowed_file_roots == []
        platform = bootstrap(settings)
        with TestClient(create_app(platform)) as client:
            assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
            assert client.get("/api/v1/cameras").status_code == 401
        assert migrate.current_revision(platform.engine) == migrate.head_revision()
        platform.close()
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
