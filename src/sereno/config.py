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
    lockout_max_failures: int = Field(5, ge=1, description="failed logins (wrong password or "
                                      "one-time code) within the window that lock an account")
    lockout_window_minutes: int = Field(15, ge=1)
    lockout_minutes: int = Field(10, ge=1, description="how long a lockout lasts")
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65_536, ge=8)
    password_min_length: int = Field(12, ge=8, le=64)
    password_max_length: int = Field(128, ge=64, le=256)
    totp_issuer: str = Field("Sereno", min_length=1, max_length=60,
                             description="the name authenticator apps show")
    totp_key: SecretStr | None = Field(
        default=None, description="key sealing the TOTP secrets in the database (32 bytes, "
        "url-safe base64); default: <data_dir>/secrets/totp.key, made on first start "
        "(embedded profile only: production must set it)")


class BusSettings(BaseModel):
    kind: Literal["inprocess", "nats"] | None = None
    nats_url: str = "nats://127.0.0.1:4222"
    stream: str = "SERENO"
    subject_root: str = Field("sereno", pattern=r"^[A-Za-z0-9_-]{1,32}$",
                              description="every subject of the node starts with it")
    relay_events: bool | None = Field(
        default=None, description="publish alert events on the transport and relay other "
        "processes' into this one's consoles (default: on for production, off for embedded, "
        "where one process serves everything)")


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
    audit_seal_interval_seconds: float = Field(10.0, ge=1, description="how often new audit "
                                               "records are sealed and a tree head signed")
    witness_interval_seconds: float = Field(300.0, ge=5, description="how often the signed "
                                            "head is sent to each peer node to countersign")
    federation_interval_seconds: float = Field(
        1.0, gt=0, le=300, description="how often the federation sender looks for messages "
        "to peer nodes (an enqueue in the same process wakes it at once)")
    federation_batch: int = Field(200, ge=1, le=1000, description="envelopes per POST")
    federation_max_body_bytes: int = Field(
        8 * 1024 * 1024, ge=65_536, le=64 * 1024 * 1024, description="largest federation "
        "batch sent or accepted (the same on both nodes)")
    federation_timeout_seconds: float = Field(10.0, gt=0, le=120)
    federation_retry_cap_seconds: float = Field(
        30.0, ge=1, le=3600, description="longest wait between two attempts to a peer that "
        "does not answer (exponential backoff from 0.5 s, with jitter)")


class RetentionSettings(BaseModel):
    in_server: bool | None = Field(
        default=None, description="run the retention purge inside `sereno serve` (default: "
                                  "on the embedded profile or wherever the video workers run)")
    interval_seconds: float = Field(60.0, ge=5, description="how often the purge runs")
    batch: int = Field(2000, ge=10, le=100_000,
                       description="rows per data class per run (the next run continues)")


class AnomalySettings(BaseModel):
    """The access-anomaly scan (ADR 0015). Floors are records per window: never fewer trigger a
    bulk-pull alert, whatever the user's baseline."""

    in_server: bool = Field(True, description="run the anomaly scan inside `sereno serve`")
    interval_seconds: float = Field(60.0, ge=5, description="how often the scan runs")
    lookback_days: int = Field(14, ge=1, le=90, description="days a baseline is computed from")
    min_history_days: int = Field(3, ge=1, description="active days before a user has a "
                                                        "baseline of their own (else: the floor)")
    sigma: float = Field(3.0, gt=0, description="spreads above the mean that make a bulk pull")
    window_minutes: int = Field(60, ge=1, le=1440)
    floor_view: int = Field(20_000, ge=1)
    floor_playback: int = Field(30, ge=1)
    floor_export: int = Field(10, ge=1)
    floor_download: int = Field(150, ge=1)
    denials: int = Field(5, ge=2, description="refusals of one user within the denial window")
    denial_window_minutes: int = Field(10, ge=1, le=1440)
    shift_grace_minutes: int = Field(30, ge=0, le=240)
    settle_seconds: float = Field(5.0, ge=0, le=300, description="records younger than this "
                                  "wait for the next scan (transactions still committing)")


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


class EgressSettings(BaseModel):
    """The outbound client (``sereno.governance.egress``); destinations live in the database."""

    allow_plain_http_loopback: bool = Field(
        False, description="allow plain http to loopback destinations (tests, local tools); "
                           "anything else always needs https")
    timeout_seconds: float = Field(15.0, gt=0, le=300)
    max_response_bytes: int = Field(16 * 1024 * 1024, ge=1024)


class IntegrationSettings(BaseModel):
    """Alert integrations (webhooks, MQTT; ADR 0029): the sender in ``sereno serve``."""

    in_server: bool = Field(True, description="run the webhook/MQTT sender in sereno serve")
    sweep_seconds: float = Field(15.0, gt=0, le=3600,
                                 description="look for due retries this often (an enqueued "
                                             "message wakes the sender at once)")
    retry_base_seconds: float = Field(2.0, gt=0, le=300)
    retry_cap_seconds: float = Field(300.0, gt=0, le=3600)
    timeout_seconds: float = Field(10.0, gt=0, le=120)
    console_url: str = Field("", description="the console's public address, for the link in "
                                             "each message (empty: a path only)")


class DemoSettings(BaseModel):
    """The demo city's extras (ADR 0032): the simulated fleet moving in ``sereno serve``."""

    simulate_fleet: bool | None = Field(
        None, description="move the demo units (default: on in the embedded profile)")
    fleet_step_seconds: float = Field(2.0, gt=0, le=60)
    fleet_speedup: float = Field(3.0, gt=0, le=20,
                                 description="simulated units drive this many times faster")
    fleet_clear_after_seconds: float = Field(90.0, ge=0, le=3600)


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
    node_agency_id: str = Field("segura-ep", description="the agency that operates this node: "
                                "its admins publish the node's access policies and peers")
    data_dir: Path = Path("var")
    database_url: SecretStr | None = None
    http: HttpSettings = HttpSettings()
    auth: AuthSettings = AuthSettings()
    bus: BusSettings = BusSettings()
    media: MediaSettings = MediaSettings()
    console: ConsoleSettings = ConsoleSettings()
    workers: WorkerSettings = WorkerSettings()
    video: VideoSettings = VideoSettings()
    egress: EgressSettings = EgressSettings()
    retention: RetentionSettings = RetentionSettings()
    anomalies: AnomalySettings = AnomalySettings()
    integrations: IntegrationSettings = IntegrationSettings()
    demo: DemoSettings = DemoSettings()

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
        if self.bus.relay_events is None:
            self.bus.relay_events = self.profile is Profile.PRODUCTION
        if self.video.models_dir is None:
            self.video.models_dir = self.data_dir / "models"
        if self.video.enabled is None:
            self.video.enabled = self.profile is Profile.EMBEDDED
        if self.workers.stream_health_in_server is None:
            self.workers.stream_health_in_server = self.profile is Profile.EMBEDDED
        if self.demo.simulate_fleet is None:
            self.demo.simulate_fleet = self.profile is Profile.EMBEDDED
        if self.retention.in_server is None:
            # Recordings fill the disk wherever the video workers run: purge there too.
            self.retention.in_server = (self.profile is Profile.EMBEDDED
                                        or bool(self.video.enabled))
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
    def node_key_path(self) -> Path:
        """The node's Ed25519 signing key (tree heads, countersignatures, evidence manifests)."""
        return self.data_dir / "keys" / "node-ed25519.pem"

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
