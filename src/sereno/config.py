"""One settings object for the whole platform.

Sources, strongest first: constructor arguments, environment variables (``SERENO_*``, nested with
``__``), the TOML file named by ``SERENO_CONFIG`` (default ``./sereno.toml`` when present), then the
defaults of the chosen profile.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Profile(StrEnum):
    """``embedded``: one process, SQLite, local files. ``production``: PostgreSQL, NATS."""

    EMBEDDED = "embedded"
    PRODUCTION = "production"


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    max_body_bytes: int = Field(1_048_576, ge=1024, description="JSON and form bodies")
    max_upload_bytes: int = Field(10_485_760, ge=1024, description="camera import files")
    trusted_proxies: list[str] = Field(default_factory=list)


class AuthSettings(BaseModel):
    session_idle_minutes: int = Field(30, ge=1)
    session_max_hours: int = Field(12, ge=1)
    token_ttl_minutes: int = Field(60, ge=1)
    token_max_ttl_minutes: int = Field(720, ge=1)
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    lockout_max_failures: int = Field(5, ge=1)
    lockout_window_minutes: int = Field(15, ge=1)
    lockout_minutes: int = Field(15, ge=1)
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65_536, ge=8)


class BusSettings(BaseModel):
    kind: Literal["inprocess", "nats"] | None = None
    nats_url: str = "nats://127.0.0.1:4222"
    stream: str = "SERENO"


class MediaSettings(BaseModel):
    root: Path | None = None
    allowed_file_roots: list[Path] = Field(
        default_factory=list,
        description="folders that file:// camera URLs may point into (demo clips)",
    )
    snapshot_refresh_seconds: int = Field(5, ge=1)


class WorkerSettings(BaseModel):
    stream_health_interval_seconds: float = Field(30.0, ge=1)
    stream_health_in_server: bool | None = Field(
        default=None, description="run the stream health worker inside `sereno serve` "
                                  "(default: yes on the embedded profile)")


class VideoSettings(BaseModel):
    enabled: bool | None = Field(default=None, description="run the ingest and analytics "
                                 "workers inside `sereno serve` (default: embedded profile)")
    analytics_fps: float = Field(2.0, gt=0, le=30, description="frames analysed per second")
    detect_fps: float = Field(1.0, gt=0, le=30, description="detector runs per second at most")
    cameras_per_process: int = Field(8, ge=1, le=64)
    rtsp_transport: Literal["tcp", "udp"] = "tcp"
    record: bool = Field(True, description="record every active camera's main stream")
    retention_max_hours: float = Field(24.0, gt=0)
    retention_max_mb_per_camera: float = Field(200.0, gt=0)
    event_clip_pre_s: float = Field(5.0, ge=0, le=120)
    event_clip_post_s: float = Field(5.0, ge=0, le=120)
    models_dir: Path | None = Field(default=None, description="operators' ONNX detector "
                                    "models (default: <data_dir>/models)")


class ConsoleSettings(BaseModel):
    default_language: Literal["es", "en"] = "es"
    map_tile_url: str = ""
    map_tile_attribution: str = ""
    map_center: tuple[float, float] = (-2.1894, -79.8891)
    map_zoom: int = 13


class Settings(BaseSettings):
    """Effective configuration; build with ``Settings()`` or ``load_settings()``."""

    model_config = SettingsConfigDict(
        env_prefix="SERENO_", env_nested_delimiter="__", extra="forbid"
    )

    profile: Profile = Profile.EMBEDDED
    node_name: str = "sereno"
    data_dir: Path = Path("var")
    database_url: SecretStr | None = None
    http: HttpSettings = HttpSettings()
    auth: AuthSettings = AuthSettings()
    bus: BusSettings = BusSettings()
    media: MediaSettings = MediaSettings()
    console: ConsoleSettings = ConsoleSettings()
    workers: WorkerSettings = WorkerSettings()
    video: VideoSettings = VideoSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("SERENO_CONFIG", "sereno.toml"))
        toml = TomlConfigSettingsSource(settings_cls, toml_file=toml_path)
        return (init_settings, env_settings, toml)

    @model_validator(mode="after")
    def _profile_defaults(self) -> Settings:
        if self.bus.kind is None:
            self.bus.kind = "inprocess" if self.profile is Profile.EMBEDDED else "nats"
        if self.video.models_dir is None:
            self.video.models_dir = self.data_dir / "models"
        if self.video.enabled is None:
            self.video.enabled = self.profile is Profile.EMBEDDED
        if self.workers.stream_health_in_server is None:
            self.workers.stream_health_in_server = self.profile is Profile.EMBEDDED
        if self.media.root is None:
            self.media.root = self.data_dir / "media"
        if not self.media.allowed_file_roots and self.profile is Profile.EMBEDDED:
            # The embedded profile plays local clips as cameras; only from this folder.
            self.media.allowed_file_roots = [self.media.root / "sources"]
        if self.database_url is None:
            if self.profile is Profile.PRODUCTION:
                raise ValueError("the production profile needs SERENO_DATABASE_URL (PostgreSQL)")
            self.database_url = SecretStr(f"sqlite:///{self.data_dir / 'sereno.db'}")
        return self

    @property
    def db_url(self) -> str:
        """The database URL in clear, for the engine only."""
        assert self.database_url is not None
        return self.database_url.get_secret_value()

    @property
    def recordings_root(self) -> Path:
        """Where continuous recording segments live (per camera, with their index)."""
        return self.media_root / "recordings"

    @property
    def media_root(self) -> Path:
        """Where snapshots and clips live on the local disk."""
        assert self.media.root is not None
        return self.media.root

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data with every secret masked."""
        data = self.model_dump(mode="json")
        data["database_url"] = mask_url(self.db_url)
        return data


def mask_url(url: str) -> str:
    """Hide the password of a URL: ``postgresql://u:***@host/db``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def load_settings(**overrides: Any) -> Settings:
    """Build the settings; ``overrides`` win over every other source."""
    return Settings(**overrides)
