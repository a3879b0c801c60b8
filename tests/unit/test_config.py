"""Settings: profiles, environment and TOML sources, secrets masked."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sereno.config import Profile, Settings, mask_url


def test_embedded_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.profile is Profile.EMBEDDED
    assert settings.db_url == "sqlite:///var/sereno.db"
    assert settings.bus.kind == "inprocess"
    assert settings.media_root == Path("var/media")
    assert settings.media.allowed_file_roots == [Path("var/media/sources")]


def test_production_needs_a_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SERENO_PROFILE", "production")
    with pytest.raises(ValidationError, match="SERENO_DATABASE_URL"):
        Settings()
    monkeypatch.setenv("SERENO_DATABASE_URL", "postgresql+psycopg://svc:s3cret@db/sereno")
    settings = Settings()
    assert settings.bus.kind == "nats"
    assert settings.masked()["database_url"] == "postgresql+psycopg://svc:***@db/sereno"
    assert "s3cret" not in str(settings.masked())


def test_toml_file_and_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text('node_name = "municipal"\n[http]\nport = 9090\n'
                      '[console]\ndefault_language = "en"\n')
    monkeypatch.setenv("SERENO_CONFIG", str(config))
    monkeypatch.setenv("SERENO_HTTP__PORT", "9191")  # the environment wins over the file
    settings = Settings()
    assert settings.node_name == "municipal"
    assert settings.http.port == 9191
    assert settings.console.default_language == "en"


def test_unknown_settings_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "node.toml"
    config.write_text("datbase_url = 'typo'\n")
    monkeypatch.setenv("SERENO_CONFIG", str(config))
    with pytest.raises(ValidationError, match="datbase_url"):
        Settings()


def test_mask_url() -> None:
    assert mask_url("rtsp://op:pw@10.0.0.1/s") == "rtsp://op:***@10.0.0.1/s"
    assert mask_url("sqlite:///var/sereno.db") == "sqlite:///var/sereno.db"
